"""The organiser corrects a frozen case's fields (issue 13 items 1 and 3): only with a reason, audited and recorded
like changes to its file; the redaction the changed fields feed is proposed again for approval; reviewers who had
begun scoring the case are told on their case page and notified (in the platform, and by e-mail unless they opted
out), as they are when its file changes. The fields that define the frozen population are not corrected here."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import sign_in

from evalplat import jobs
from evalplat.assignments.models import Assignment
from evalplat.audit.models import AuditEvent
from evalplat.campaigns.models import Sample
from evalplat.cases.models import Case, CaseRedaction, Document, EvidenceChange, RedactionStatus
from evalplat.extensions import db
from evalplat.notifications.models import EmailChoice, Kind, Notification
from evalplat.organisations.models import ReviewerProfile
from evalplat.reviews.models import Review


@dataclass(frozen=True)
class Begun:
    """A frozen case whose review has begun (plain values: requests end the session)."""

    case_id: int
    client_name: str
    assignment_id: int
    reviewer: int
    code: str


def _begun_case(world: Any) -> Begun:
    review = db.session.scalar(
        sa.select(Review).join(Assignment, Assignment.id == Review.assignment_id)
        .join(Sample, Sample.id == Assignment.sample_id)
        .join(Document, Document.case_id == Sample.case_id)
        .where(Sample.campaign_id == world.scoring).order_by(Review.id).limit(1))
    assert review is not None
    case = db.session.get(Case, review.assignment.sample.case_id)
    assert case.evidence_frozen()
    assert case.facts_redaction is not None
    assert case.facts_redaction.status == RedactionStatus.APPROVED
    return Begun(case.id, world.secrets[case.id].name, review.assignment_id, review.assignment.reviewer.user_id,
                 review.assignment.sample.code)


def _form(case_id: int, **changes: str) -> dict[str, str]:
    from evalplat.cases.corrections import current_values

    return {**current_values(db.session.get(Case, case_id)), **changes}


def _token(app: Any, assignment_id: int) -> str:
    from flask import url_for

    with app.test_request_context():
        return url_for("reviews.case", assignment_id=assignment_id).rsplit("/", 1)[-1]


def _scan_finished() -> None:
    backend = jobs.get_backend()
    if isinstance(backend, jobs.InProcessBackend):
        assert backend.wait_idle(timeout=60)
    db.session.remove()


def test_organiser_corrects_a_frozen_cases_fields_only_with_a_reason_audited(world_app: Any, world: Any) -> None:
    case = _begun_case(world)
    organiser = sign_in(world_app, world.organiser)
    organiser.post("/language/en")
    page = organiser.get(f"/cases/{case.case_id}/correct").get_data(as_text=True)
    assert 'id="frozen-correction"' in page
    assert 'id="fixed-fields"' in page  # agency, number, year, sequence, type and closing date stay as imported
    assert 'name="closed_on"' not in page
    refused = organiser.post(f"/cases/{case.case_id}/correct", data=_form(case.case_id, cause="诈骗罪", reason=" "))
    assert refused.status_code == 400
    db.session.remove()
    assert db.session.get(Case, case.case_id).cause == "盗窃罪"
    done = organiser.post(f"/cases/{case.case_id}/correct",
                          data=_form(case.case_id, cause="诈骗罪", assigned_on="2024-03-02",
                                     reason="机构导入时罪名填错，以起诉书为准"))
    assert done.status_code == 302
    db.session.remove()
    corrected = db.session.get(Case, case.case_id)
    assert (corrected.cause, corrected.assigned_on.isoformat()) == ("诈骗罪", "2024-03-02")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.fields_corrected"))
    assert event.before == {"cause": "盗窃罪", "assigned_on": "2024-03-01"}
    assert event.after["fields"] == {"cause": "诈骗罪", "assigned_on": "2024-03-02"}
    assert event.after["reason"] == "机构导入时罪名填错，以起诉书为准"
    assert event.after["frozen"] is True
    change = db.session.scalar(sa.select(EvidenceChange).where(EvidenceChange.case_id == case.case_id))
    assert (change.action, change.fields) == ("fields_corrected", ["cause", "assigned_on"])


@pytest.mark.parametrize(("changes", "said"), [
    ({"assigned_on": "2024-13-40"}, "“2024-13-40” is not a date"),
    ({"assigned_on": "2024-10-01"}, "The assignment date 2024-10-01 is after the closing date 2024-09-01."),
    ({"lawyer": "99999999999999999"}, "No lawyer has licence number “99999999999999999”."),
    ({}, "Nothing was changed"),
])
def test_bad_corrections_are_refused_by_name_and_change_nothing(world_app: Any, world: Any,
                                                                changes: dict[str, str], said: str) -> None:
    case = _begun_case(world)
    organiser = sign_in(world_app, world.organiser)
    organiser.post("/language/en")
    answer = organiser.post(f"/cases/{case.case_id}/correct", data=_form(case.case_id, reason="核对原始卷宗", **changes))
    assert answer.status_code == 400
    assert said in answer.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceChange)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "cases.fields_corrected")) == 0


def test_agency_and_reviewers_cannot_correct_a_cases_fields(world_app: Any, world: Any) -> None:
    case = _begun_case(world)
    staff = world.staff[world.agencies.index(db.session.get(Case, case.case_id).agency_id)]
    for user_id in (staff, case.reviewer):
        client = sign_in(world_app, user_id)
        assert client.get(f"/cases/{case.case_id}/correct").status_code == 403
        assert client.post(f"/cases/{case.case_id}/correct",
                           data=_form(case.case_id, cause="诈骗罪", reason="x")).status_code == 403
    db.session.remove()
    assert db.session.get(Case, case.case_id).cause == "盗窃罪"


def test_a_corrected_field_that_feeds_the_redaction_is_proposed_again_for_approval(world_app: Any,
                                                                                   world: Any) -> None:
    case = _begun_case(world)
    organiser = sign_in(world_app, world.organiser)
    wrong, right = case.client_name, "欧阳振宇"
    answer = organiser.post(f"/cases/{case.case_id}/correct", data=_form(
        case.case_id, client=right, result=f"受援人{right}被判处有期徒刑一年", reason=f"受援人姓名应为{right}"))
    assert answer.status_code == 302
    db.session.remove()
    facts = db.session.scalar(sa.select(CaseRedaction).where(CaseRedaction.case_id == case.case_id))
    assert facts.status == RedactionStatus.APPROVED  # reviewers keep the approved text …
    assert facts.fields["result"] == ""
    assert facts.proposed is not None  # … until the checker approves the new one
    assert right not in facts.proposed["fields"]["result"]
    assert "有期徒刑一年" in facts.proposed["fields"]["result"]
    reviewer_page = sign_in(world_app, case.reviewer).get(f"/reviews/{_token(world_app, case.assignment_id)}")
    text = reviewer_page.get_data(as_text=True)
    assert right not in text
    assert wrong not in text
    assert organiser.post(f"/cases/{case.case_id}/redaction/proposals/accept").status_code == 302
    db.session.remove()
    facts = db.session.scalar(sa.select(CaseRedaction).where(CaseRedaction.case_id == case.case_id))
    assert "有期徒刑一年" in facts.fields["result"]
    assert right not in facts.fields["result"]
    change = db.session.scalar(sa.select(EvidenceChange).where(EvidenceChange.case_id == case.case_id))
    assert wrong not in change.reason_redacted
    assert right not in change.reason_redacted  # the reason is redacted with the old and the new names


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(world_app: Any) -> Iterator[_Inbox]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = _Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    world_app.config["EVALPLAT_SMTP_URL"] = f"smtp://127.0.0.1:{port}?from=evalplat@example.org"
    try:
        yield box
    finally:
        world_app.config["EVALPLAT_SMTP_URL"] = None
        controller.stop()


def _reviewer_email(user_id: int) -> str:
    from evalplat.accounts.models import User

    user = db.session.get(User, user_id)
    user.email = f"reviewer{user_id}@example.org"
    db.session.commit()
    return user.email


def test_reviewers_who_began_scoring_are_notified_when_a_cases_fields_are_corrected(world_app: Any, world: Any,
                                                                                    inbox: _Inbox) -> None:
    case = _begun_case(world)
    address = _reviewer_email(case.reviewer)
    other = db.session.scalar(
        sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == world.scoring, Sample.case_id != case.case_id,
               Assignment.id.in_(sa.select(Review.assignment_id))).limit(1))
    other_user = other.reviewer.user_id
    # earlier tests of this module corrected other cases: only the notices this correction makes count here
    before = set(db.session.scalars(sa.select(Notification.id).where(Notification.kind == Kind.CASE_CHANGED)))
    organiser = sign_in(world_app, world.organiser)
    assert organiser.post(f"/cases/{case.case_id}/correct", data=_form(
        case.case_id, stage_reached="一审、二审", reason=f"{case.client_name}的案件还经过二审")).status_code == 302
    _scan_finished()  # the page queued the scan
    notices = db.session.scalars(sa.select(Notification).where(Notification.kind == Kind.CASE_CHANGED,
                                                               Notification.id.not_in(before))).all()
    # every reviewer of this case who had begun scoring it (one notice each), nobody else
    begun = set(db.session.execute(
        sa.select(ReviewerProfile.user_id, Assignment.id).join(Review, Review.assignment_id == Assignment.id)
        .join(ReviewerProfile, ReviewerProfile.id == Assignment.reviewer_id).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.case_id == case.case_id)).all())
    assert (case.reviewer, case.assignment_id) in begun
    assert sorted((n.user_id, n.params["args"]["assignment_id"]) for n in notices) == sorted(begun)
    assert other_user not in {n.user_id for n in notices}
    assert next(n for n in notices if n.user_id == case.reviewer).emailed_at is not None  # the one with an address
    mailed = [m for m in inbox.messages if m["To"] == address]
    assert len(mailed) == 1
    subject = str(make_header(decode_header(mailed[0]["Subject"])))
    assert case.code in subject
    assert case.client_name not in mailed[0].get_payload(decode=True).decode()
    reviewer = sign_in(world_app, case.reviewer)
    listed = reviewer.get("/notifications").get_data(as_text=True)
    assert case.code in listed
    page = reviewer.get(f"/reviews/{_token(world_app, case.assignment_id)}").get_data(as_text=True)
    assert 'id="evidence-changes"' in page
    assert "的案件还经过二审" in page
    assert case.client_name not in page
    # the label and what follows it read as one phrase: no space after the full-width colon
    panel = page[page.index('id="evidence-changes"'):]
    assert re.search(r"更正了案件信息：[^\s<]", panel), panel[:1500]
    assert re.search(r"理由：[^\s<]", panel), panel[:1500]


def test_reviewers_who_began_scoring_are_notified_when_a_frozen_cases_file_changes(world_app: Any, world: Any,
                                                                                   inbox: _Inbox) -> None:
    case = _begun_case(world)
    address = _reviewer_email(case.reviewer)
    db.session.add(EmailChoice(user_id=case.reviewer, kind=Kind.CASE_CHANGED))  # in the platform only
    db.session.commit()
    document_id = db.session.scalar(sa.select(Document.id).where(Document.case_id == case.case_id))
    organiser = sign_in(world_app, world.organiser)
    assert organiser.post(f"/cases/documents/{document_id}/delete",
                          data={"reason": "机构上传了错误的判决书", "confirmed": "yes"}).status_code == 302
    _scan_finished()
    notice = db.session.scalar(sa.select(Notification).where(Notification.kind == Kind.CASE_CHANGED,
                                                             Notification.user_id == case.reviewer))
    assert notice is not None
    assert notice.emailed_at is None  # the reviewer chose no e-mail for this kind
    assert not [m for m in inbox.messages if m["To"] == address]
    from evalplat.db import utcnow
    from evalplat.notifications import operations

    assert sum(operations.sync(db.session, now=utcnow()).values()) == 0  # once per change
