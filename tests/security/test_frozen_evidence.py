"""A sampled case's evidence is frozen (issue 13 item 1): once its campaign's population is frozen, the agency
can no longer remove, replace or add documents; the organiser can, with a reason, audited, and reviewers who
already scored the case are told on their case page."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from conftest import sign_in

from evalplat.assignments.models import Assignment
from evalplat.audit.models import AuditEvent
from evalplat.campaigns.models import Sample
from evalplat.cases.models import Case, Document, EvidenceChange
from evalplat.extensions import db
from evalplat.reviews.models import Review

TEXT = "补充判决书：本院认为被告人行为应依法处理。".encode()


@dataclass(frozen=True)
class Scored:
    """A case of the campaign in scoring whose review has begun (plain values: requests end the session)."""

    case_id: int
    number: str
    staff: int
    document_id: int
    client_name: str
    assignment_id: int
    reviewer: int


def _scored_case(world: Any) -> Scored:
    review = db.session.scalar(
        sa.select(Review).join(Assignment, Assignment.id == Review.assignment_id)
        .join(Sample, Sample.id == Assignment.sample_id)
        .join(Document, Document.case_id == Sample.case_id)
        .where(Sample.campaign_id == world.scoring).order_by(Review.id).limit(1))
    assert review is not None, "the world's scoring campaign has a begun review of a case with documents"
    case = db.session.get(Case, review.assignment.sample.case_id)
    assert case.evidence_frozen()
    return Scored(case.id, case.case_number, world.staff[world.agencies.index(case.agency_id)], case.documents[0].id,
                  world.secrets[case.id].name, review.assignment_id, review.assignment.reviewer.user_id)


def test_agency_cannot_delete_document_of_frozen_case(world_app: Any, world: Any) -> None:
    case = _scored_case(world)
    document_id = case.document_id
    client = sign_in(world_app, case.staff)
    answer = client.post(f"/cases/documents/{document_id}/delete")
    assert answer.status_code == 403
    assert "冻结" in answer.get_data(as_text=True) or "frozen" in answer.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(Document, document_id) is not None
    page = client.get(f"/cases/{case.case_id}").get_data(as_text=True)
    assert f"/cases/documents/{document_id}/delete" not in page
    assert 'id="frozen-notice"' in page


def test_agency_cannot_add_files_to_frozen_case_on_its_page_or_by_import(world_app: Any, world: Any) -> None:
    case = _scored_case(world)
    client = sign_in(world_app, case.staff)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Document)
                               .where(Document.case_id == case.case_id))
    answer = client.post(f"/cases/{case.case_id}/documents", content_type="multipart/form-data",
                         data={"files": [(io.BytesIO(TEXT), "判决书补充.txt")], "on_bad_file": "skip"})
    assert answer.status_code == 403
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{case.number}/判决书补充.txt", TEXT)
    archive.seek(0)
    csv = "机构,案号\n".encode()  # no rows: the zip alone adds files to existing cases
    client.post("/cases/import", content_type="multipart/form-data",
                data={"cases_file": (io.BytesIO(csv), "cases.csv"), "files_zip": (archive, "files.zip"),
                      "on_bad_file": "skip"})
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)
                             .where(Document.case_id == case.case_id)) == before


def test_organiser_changes_frozen_evidence_only_with_a_reason_audited(world_app: Any, world: Any) -> None:
    case = _scored_case(world)
    document_id = case.document_id
    client = sign_in(world_app, world.organiser)
    refused = client.post(f"/cases/documents/{document_id}/delete", data={"reason": "  ", "confirmed": "yes"})
    assert refused.status_code == 302
    db.session.remove()
    assert db.session.get(Document, document_id) is not None
    assert client.post(f"/cases/documents/{document_id}/delete",
                       data={"reason": "机构上传了错误的判决书", "confirmed": "yes"}).status_code == 302
    assert client.post(f"/cases/{case.case_id}/documents", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(TEXT), "判决书.txt")], "on_bad_file": "skip",
                             "reason": "补交正确的判决书"}).status_code == 302
    db.session.remove()
    assert db.session.get(Document, document_id) is None
    changes = db.session.scalars(sa.select(EvidenceChange).where(EvidenceChange.case_id == case.case_id)
                                 .order_by(EvidenceChange.id)).all()
    assert [(c.action, c.reason) for c in changes] == [("document_removed", "机构上传了错误的判决书"),
                                                       ("document_added", "补交正确的判决书")]
    audited = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "cases.frozen_evidence_changed",
                                                              AuditEvent.object_id == str(case.case_id))).all()
    assert [e.after["reason"] for e in audited] == ["机构上传了错误的判决书", "补交正确的判决书"]


def test_reviewers_who_scored_a_case_are_told_when_its_frozen_file_changes(world_app: Any, world: Any) -> None:
    from flask import url_for

    def assignment_token(assignment_id: int) -> str:
        with world_app.test_request_context():
            return url_for("reviews.case", assignment_id=assignment_id).rsplit("/", 1)[-1]

    case = _scored_case(world)
    untouched = db.session.scalar(
        sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == world.scoring, Sample.case_id != case.case_id,
               Assignment.id.in_(sa.select(Review.assignment_id))).limit(1))
    other_id, other_user = untouched.id, untouched.reviewer.user_id
    organiser = sign_in(world_app, world.organiser)
    assert organiser.post(f"/cases/documents/{case.document_id}/delete",
                          data={"reason": f"受援人{case.client_name}的判决书有误", "confirmed": "yes"}).status_code == 302
    reviewer = sign_in(world_app, case.reviewer)
    page = reviewer.get(f"/reviews/{assignment_token(case.assignment_id)}").get_data(as_text=True)
    assert 'id="evidence-changes"' in page
    assert "判决书有误" in page
    assert case.client_name not in page  # the reason is redacted like the files
    other = sign_in(world_app, other_user)
    other_page = other.get(f"/reviews/{assignment_token(other_id)}").get_data(as_text=True)
    assert 'id="evidence-changes"' not in other_page


def test_agency_still_changes_documents_of_cases_not_sampled(world_app: Any, world: Any) -> None:
    from datetime import date

    agency_id = world.agencies[0]
    from evalplat.organisations.models import CaseType

    case = Case(agency_id=agency_id, case_number="安援〔2024〕第9001号", year=2024, sequence_no=9001,
                case_type=CaseType.CRIMINAL, cause="盗窃罪", assigned_on=date(2024, 3, 1), closed_on=date(2024, 9, 1))
    db.session.add(case)
    db.session.commit()
    case_id = case.id
    client = sign_in(world_app, world.staff[0])
    assert client.post(f"/cases/{case_id}/documents", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(TEXT), "判决书.txt")], "on_bad_file": "skip"}).status_code == 302
    db.session.remove()
    added = db.session.scalar(sa.select(Document).where(Document.case_id == case_id))
    assert added is not None
    assert client.post(f"/cases/documents/{added.id}/delete", data={"confirmed": "yes"}).status_code == 302
    db.session.remove()
    assert db.session.get(Document, added.id) is None
