"""The checker's side: the campaign's redaction queue, flags, bulk approval, proposals, and offers that wait."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from redaction_scene import CLIENTS, build_scene, samples
from tests_support import csrf_token

from evalplat.assignments.models import Assignment, AssignmentState
from evalplat.campaigns.models import Sample
from evalplat.cases import operations, queue
from evalplat.cases.models import Case, CaseParty, Document, PartyRole, RedactionStatus
from evalplat.params import opaque_id


@pytest.fixture
def scene(db: Any, make_region: Any, make_agency: Any, make_firm: Any, make_lawyer: Any, make_case: Any,
          make_reviewer: Any, make_user: Any) -> Any:
    """The campaign with every case redacted and none approved yet (offers made, all waiting)."""
    return build_scene(db, make_region, make_agency, make_firm, make_lawyer, make_case, make_reviewer, make_user,
                       approve=False)


def _token(client: Any, url: str) -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def _offered(db: Any, case_id: int) -> Assignment:
    return db.session.scalars(sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                              .where(Sample.case_id == case_id,
                                     Assignment.state == AssignmentState.OFFERED)).first()


def _add_unknown_witness(db: Any, case: Case) -> Document:
    """A document naming a witness the case record does not know, after a role word."""
    from evalplat.cases import importer
    from evalplat.services import get_storage

    text = "证人笔录\n证人：皇甫嵩岳，住址不详。\n证人皇甫嵩岳称其当晚在场。\n"
    document = importer.add_document(db.session, case_id=case.id, data=text.encode(), filename="证人笔录.txt",
                                     storage=get_storage())
    db.session.flush()
    operations.process_document(db.session, document.id)
    return document


def test_offer_waits_until_the_case_redaction_is_approved(app: Any, db: Any, scene: Any, login: Any) -> None:
    case = scene.cases[0]
    assignment = _offered(db, case.id)
    reviewer = assignment.reviewer.user
    client = app.test_client()
    login(client, reviewer)
    inbox = client.get("/reviews/").get_data(as_text=True)
    code = db.session.get(Sample, assignment.sample_id).code
    assert code not in inbox
    assert client.get(f"/reviews/{opaque_id(assignment.id)}").status_code == 404
    assert client.post(f"/reviews/{opaque_id(assignment.id)}/accept",
                       data={"csrf_token": _token(client, "/reviews/")}).status_code == 404

    operations.approve_redaction(db.session, actor=scene.organiser, case=db.session.get(Case, case.id))
    db.session.commit()
    assert code in client.get("/reviews/").get_data(as_text=True)
    page = client.get(f"/reviews/{opaque_id(assignment.id)}")
    assert page.status_code == 200
    assert "当事人" in page.get_data(as_text=True)  # the redacted cause and result, with placeholders


def test_offer_notification_waits_until_the_case_redaction_is_approved(db: Any, scene: Any) -> None:
    from redaction_scene import later

    from evalplat.notifications import operations as notifications
    from evalplat.notifications.models import Kind, Notification

    case = scene.cases[0]
    assignment = _offered(db, case.id)

    def offers() -> set[int]:
        return set(db.session.scalars(sa.select(Notification.object_id).where(Notification.kind == Kind.OFFER)))

    notifications.sync(db.session, now=later(1), send_mail=False)
    db.session.commit()
    assert assignment.id not in offers()
    operations.approve_redaction(db.session, actor=scene.organiser, case=db.session.get(Case, case.id))
    db.session.commit()
    notifications.sync(db.session, now=later(1), send_mail=False)
    db.session.commit()
    assert assignment.id in offers()


def test_reviewer_reads_cause_and_result_redacted_with_the_case_known_names(app: Any, db: Any, scene: Any,
                                                                            login: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    operations.approve_redaction(db.session, actor=scene.organiser, case=case)
    db.session.commit()
    assert CLIENTS[0] in case.cause
    assert case.facts_redaction.status == RedactionStatus.APPROVED
    assert CLIENTS[0] not in case.facts_redaction.fields["cause"]
    assert "盗窃罪" in case.facts_redaction.fields["cause"]  # the legal substance stays
    assignment = _offered(db, case.id)
    client = app.test_client()
    login(client, assignment.reviewer.user)
    page = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
    assert case.facts_redaction.fields["result"] in page
    assert CLIENTS[0] not in page
    assert "江门市" not in page


def test_rerun_of_the_redactor_proposes_and_never_replaces_approved_text(db: Any, scene: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    operations.approve_redaction(db.session, actor=scene.organiser, case=case)
    db.session.commit()
    judgment = case.documents[0]
    approved_text = judgment.redacted_text
    assert "周建国" not in approved_text
    witness = "被害人周建国"  # a known party's name in the judgment: make the record know one more name
    assert witness in judgment.extracted_text
    party = CaseParty(case_id=case.id, role=PartyRole.WITNESS)
    party.name = "当庭认罪"  # an odd "name" the checker would not want: the re-run proposes redacting it
    db.session.add(party)
    db.session.flush()

    operations.redact_case(db.session, case.id)
    db.session.commit()
    db.session.refresh(judgment)
    redaction = judgment.redaction
    assert redaction.status == RedactionStatus.APPROVED
    assert judgment.redacted_text == approved_text  # what reviewers read is unchanged
    assert redaction.proposed_spans is not None
    assert "当庭认罪" not in redaction.proposed_text

    assert operations.settle_proposals(db.session, actor=scene.organiser, case=case, accept=False) >= 1
    db.session.commit()
    assert judgment.redacted_text == approved_text
    assert redaction.proposed_spans is None

    operations.redact_case(db.session, case.id)
    operations.settle_proposals(db.session, actor=scene.organiser, case=case, accept=True)
    db.session.commit()
    assert "当庭认罪" not in judgment.redacted_text
    assert redaction.status == RedactionStatus.APPROVED
    assert redaction.approved_by_id == scene.organiser.id


def test_flags_name_unredacted_names_identifiers_and_missed_repeats_without_their_text() -> None:
    from evalplat.cases.suspicion import flags_for

    text = "证人：皇甫嵩岳称其在场。被告人认为无罪。身份证号440103199001011234。广东星河所代理，广东星河所出庭。"
    first = text.index("广东星河所")
    flags = flags_for(text, [{"start": first, "end": first + 5, "source": "auto"}])
    found = {(text[f["start"]:f["end"]], f["reason"]) for f in flags}
    assert ("广东星河所", "repeat") in found  # the second occurrence, left unredacted
    assert ("440103199001011234", "identifier_number") in found
    assert any("皇甫" in t for t, _ in found)
    assert all("认为" not in t for t, _ in found)
    assert all(set(f) == {"start", "end", "reason"} for f in flags)  # offsets only: flags are not encrypted


def test_review_page_marks_each_open_flag_in_the_original_text(app: Any, db: Any, scene: Any, login: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    document = _add_unknown_witness(db, case)
    text = document.extracted_text
    start = text.index("住址")
    document.redaction.flags = [{"start": start, "end": start + 4, "reason": "name_like"}]
    document.redaction.open_flags = 1
    db.session.commit()
    client = app.test_client()
    login(client, scene.organiser)
    page = client.get(f"/cases/{case.id}/redaction").get_data(as_text=True)
    assert '<mark class="flag" title="' in page
    assert ">住址不详</mark>" in page


def test_checker_dismisses_a_flag_and_the_case_leaves_the_flagged_filter(app: Any, db: Any, scene: Any,
                                                                        login: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    document = case.documents[0]
    document.redaction.flags = [{"start": 0, "end": 2, "reason": "name_like"}]
    document.redaction.open_flags = 1
    db.session.commit()
    campaign_id = scene.campaign.id
    rows, _ = queue.queue(campaign_id, flags="open")
    assert [r.case_id for r in rows] == [case.id]
    client = app.test_client()
    login(client, scene.organiser)
    token = _token(client, f"/cases/{case.id}/redaction")
    response = client.post(f"/cases/{case.id}/redaction/flags/dismiss",
                           data={"csrf_token": token, "target": f"document:{document.id}", "start": 0, "end": 2})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, document.id).redaction.open_flags == 0
    assert queue.queue(campaign_id, flags="open")[0] == []


def test_queue_shows_state_per_sampled_case_and_next_case_goes_to_one_to_check(app: Any, db: Any, scene: Any,
                                                                              login: Any) -> None:
    first = db.session.get(Case, scene.cases[0].id)
    operations.approve_redaction(db.session, actor=scene.organiser, case=first)
    db.session.commit()
    counts = queue.queue_counts(scene.campaign.id)
    assert counts["approved"] == 1
    assert counts["to_check"] == len(scene.cases) - 1
    client = app.test_client()
    login(client, scene.organiser)
    page = client.get(f"/cases/campaigns/{scene.campaign.id}/redaction?state=approved").get_data(as_text=True)
    codes = {s.case_id: s.code for s in samples(db, scene.campaign)}
    assert codes[first.id] in page
    assert all(codes[c.id] not in page for c in scene.cases[1:])
    response = client.get(f"/cases/campaigns/{scene.campaign.id}/redaction/next?after={first.id}")
    assert response.status_code == 302
    target = int(response.headers["Location"].split("/cases/")[1].split("/")[0])
    assert target != first.id
    assert target in {c.id for c in scene.cases}


def test_bulk_approval_needs_confirmation_and_leaves_flagged_cases_to_the_checker(app: Any, db: Any, scene: Any,
                                                                                 login: Any) -> None:
    flagged = db.session.get(Case, scene.cases[1].id)
    flagged.documents[0].redaction.flags = [{"start": 0, "end": 2, "reason": "identifier_number"}]
    flagged.documents[0].redaction.open_flags = 1
    db.session.commit()
    campaign_id = scene.campaign.id
    approvable = queue.bulk_approvable(campaign_id)
    assert flagged.id not in approvable
    assert approvable
    client = app.test_client()
    login(client, scene.organiser)
    url = f"/cases/campaigns/{campaign_id}/redaction/approve"
    confirm = client.get(url)
    assert confirm.status_code == 200
    token = _token(client, url)
    unconfirmed = client.post(url, data={"csrf_token": token, "expected": len(approvable)})
    assert unconfirmed.status_code == 422
    assert queue.queue_counts(campaign_id)["approved"] == 0
    done = client.post(url, data={"csrf_token": token, "expected": len(approvable), "confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    counts = queue.queue_counts(campaign_id)
    assert counts["approved"] == len(approvable)
    assert counts["to_check"] == 1
    assert db.session.get(Case, flagged.id).facts_redaction.status == RedactionStatus.PENDING


def test_bulk_approval_refuses_when_the_queue_changed_since_the_confirmation(app: Any, db: Any, scene: Any,
                                                                            login: Any) -> None:
    campaign_id = scene.campaign.id
    approvable = queue.bulk_approvable(campaign_id)
    client = app.test_client()
    login(client, scene.organiser)
    url = f"/cases/campaigns/{campaign_id}/redaction/approve"
    token = _token(client, url)
    response = client.post(url, data={"csrf_token": token, "expected": len(approvable) + 1, "confirm": "y"})
    assert response.status_code == 422
    assert queue.queue_counts(campaign_id)["approved"] == 0


@pytest.mark.redis
def test_campaign_redaction_fans_out_in_chunks_that_rq_workers_share(app: Any, db: Any, scene: Any,
                                                                     redis_url: str) -> None:
    import os
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    from cases_support import DATA_KEYS

    from evalplat import jobs
    from evalplat.audit.models import AuditEvent
    from evalplat.cases.models import CaseRedaction, DocumentStatus, Redaction
    from evalplat.jobs.models import JobRecord, JobState
    from evalplat.jobs.rq_backend import RQBackend
    from evalplat.jobs.tracking import submit_job

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite:///:memory:"):
        pytest.skip("the workers need a database they can reach")
    # forget the redaction the scene computed: the campaign's job must do it all again
    db.session.execute(sa.delete(Redaction))
    db.session.execute(sa.delete(CaseRedaction))
    db.session.execute(sa.update(Document).values(status=DocumentStatus.EXTRACTED, redacted_text=None))
    db.session.commit()
    queue_name = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue_name))
    try:
        parent = submit_job(db.session, "cases.redact_campaign", actor_id=scene.organiser.id,
                            object_type="campaign", object_id=scene.campaign.id, args=(scene.campaign.id,))
        db.session.commit()  # the job is queued once its record is committed
        env = {**os.environ, "EVALPLAT_DATABASE_URL": database, "EVALPLAT_DATA_KEYS": DATA_KEYS,
               "EVALPLAT_STORAGE_URL": app.config["EVALPLAT_STORAGE_URL"], "EVALPLAT_ENV": "testing",
               "EVALPLAT_SECRET_KEY": app.config["SECRET_KEY"], "EVALPLAT_JOBS_URL": redis_url,
               "EVALPLAT_JOBS_QUEUE": queue_name, "EVALPLAT_REDACTION_CHUNK": "3"}  # 8 cases: 3 chunks
        command = [sys.executable, "-m", "evalplat.jobs.worker", "--url", redis_url, "--queue", queue_name,
                   "--burst"]
        cwd = Path(__file__).resolve().parents[2]
        # the first worker runs the campaign job (which queues the chunks); then two workers share the chunks
        for count in (1, 2):
            workers = [subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,  # noqa: S603
                                        stderr=subprocess.PIPE, text=True) for _ in range(count)]
            try:
                for worker in workers:
                    _out, err = worker.communicate(timeout=600)
                    assert worker.returncode == 0, err[-2000:]
            finally:  # a timed-out or failed run leaves no worker behind for the next test
                for worker in workers:
                    if worker.poll() is None:
                        worker.kill()
                        worker.communicate()
    finally:
        jobs.set_backend(previous)
    db.session.expire_all()
    record = db.session.get(JobRecord, parent)
    parts = db.session.scalars(sa.select(JobRecord).where(JobRecord.parent_id == parent)).all()
    assert len(parts) == 3
    assert {p.state for p in parts} == {JobState.DONE}
    assert (record.state, record.progress) == (JobState.DONE, 1.0), record.error
    documents = db.session.scalars(sa.select(Document)).all()
    assert {d.status for d in documents} == {DocumentStatus.REDACTED}
    assert all(CLIENTS[0] not in (d.redacted_text or "") for d in documents)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseRedaction)) == len(scene.cases)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.redact_campaign"))
    assert event.after["chunks"] == 3
    assert event.after["redacted"] == len(documents)
