"""Appeals: accepted and re-reviewed, rejected, too late, another agency's case, state rules."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.appeals.models import Appeal, AppealState
from evalplat.appeals.operations import file_appeal, reject_appeal
from evalplat.audit.models import AuditEvent
from evalplat.errors import DomainError, InvalidTransition
from evalplat.params import opaque_id
from evalplat.results.models import Result, ResultKind


@pytest.fixture
def published(db: Any, flow: Any, fs: Any) -> Any:
    fs.finish_and_publish(db, flow, closes=fs.NOW + timedelta(days=3650))
    return flow


def _own_sample(db: Any, fs: Any, flow: Any, agency_index: int = 0) -> Any:
    return next(s for s in fs.samples(db, flow.campaign) if s.case.agency_id == flow.agencies[agency_index].id)


def _filed_appeal(db: Any, fs: Any, flow: Any, app: Any, login: Any) -> tuple[Appeal, Any]:
    """An appeal the first agency filed against its own case, and the organiser's signed-in client."""
    appeal = file_appeal(db.session, actor=flow.staff[0], sample=_own_sample(db, fs, flow), reason="不服",
                         contested_items=["total"], attachments=[], storage=None, now=fs.NOW + timedelta(days=4))
    db.session.commit()
    organiser = app.test_client()
    login(organiser, flow.organiser)
    return appeal, organiser


def test_appeal_accepted_and_re_reviewed(db: Any, published: Any, fs: Any, app: Any, login: Any) -> None:
    flow = published
    sample = _own_sample(db, fs, flow)
    before = fs.current(db, sample)
    agency = app.test_client()
    login(agency, flow.staff[0])
    sent = agency.post(f"/appeals/new/{sample.id}", data={
        "items": ["total"], "reason": "会见笔录遗漏，已补充",
        "attachments": [(io.BytesIO("补充会见笔录\n".encode()), "补充.txt")]}, content_type="multipart/form-data")
    assert sent.status_code == 302
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.sample_id == sample.id))
    assert appeal.state == AppealState.FILED
    assert [a.original_filename for a in appeal.attachments] == ["补充.txt"]
    assert agency.get(f"/appeals/{appeal.id}/attachments/{appeal.attachments[0].id}").data == "补充会见笔录\n".encode()

    organiser = app.test_client()
    login(organiser, flow.organiser)
    assert organiser.post(f"/appeals/{appeal.id}/accept", data={"note": "受理"}).status_code == 302
    db.session.expire_all()
    assert appeal.state == AppealState.ACCEPTED
    re_review = fs.decision_assignment(db, sample, "appeal")
    seen = {a.reviewer_id for a in fs.initial_assignments(db, sample)} | {
        a.reviewer_id for a in [fs.decision_assignment(db, sample)] if a is not None}
    assert re_review is not None
    assert re_review.reviewer_id not in seen

    reviewer = app.test_client()
    login(reviewer, re_review.reviewer.user)
    assert reviewer.post(f"/results/decisions/{opaque_id(re_review.id)}", data={"total": "91", "reasons": "补充材料属实"}
                         ).status_code == 302
    db.session.expire_all()
    now_result = fs.current(db, sample)
    assert now_result.kind == ResultKind.APPEAL
    assert now_result.total == 91
    assert db.session.get(Result, before.id).current is False
    assert appeal.state == AppealState.DECIDED
    assert appeal.decision == "changed"
    page = agency.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert "补充材料属实" in page
    history = agency.get(f"/results/ours/{sample.id}").get_data(as_text=True)
    assert "91.0" in history
    assert f"{before.total:.1f}" in history
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "appeal")))
    assert {"appeal.filed", "appeal.accepted", "appeal.decided"} <= actions


def test_appeal_rejected_with_reasons(db: Any, published: Any, fs: Any, app: Any, login: Any) -> None:
    flow = published
    appeal, organiser = _filed_appeal(db, fs, flow, app, login)
    organiser.post(f"/appeals/{appeal.id}/reject", data={"reasons": ""})
    db.session.expire_all()
    assert appeal.state == AppealState.FILED
    with pytest.raises(DomainError) as no_reasons:
        reject_appeal(db.session, actor=flow.organiser, appeal=appeal, reasons=" ", now=fs.NOW)
    assert no_reasons.value.code == "reasons_required"
    db.session.rollback()
    assert organiser.post(f"/appeals/{appeal.id}/reject", data={"reasons": "评分依据充分"}).status_code == 302
    db.session.expire_all()
    assert appeal.state == AppealState.REJECTED
    assert appeal.decision_reason == "评分依据充分"
    assert organiser.post(f"/appeals/{appeal.id}/accept", data={}).status_code == 302  # refused: flashed
    db.session.expire_all()
    assert appeal.state == AppealState.REJECTED
    agency = app.test_client()
    login(agency, flow.staff[0])
    assert "评分依据充分" in agency.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    with pytest.raises(InvalidTransition):
        file_appeal(db.session, actor=flow.staff[0], sample=_own_sample(db, fs, flow), reason="再次", contested_items=["total"],
                    attachments=[], storage=None, now=fs.NOW + timedelta(days=5))


def test_appeal_filed_too_late(db: Any, flow: Any, fs: Any, client: Any, login: Any) -> None:
    fs.finish_and_publish(db, flow, closes=fs.NOW + timedelta(days=4))
    sample = _own_sample(db, fs, flow)
    login(client, flow.staff[0])
    response = client.post(f"/appeals/new/{sample.id}", data={"items": ["total"], "reason": "迟到的异议"})
    assert response.status_code in (200, 302)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 0
    with pytest.raises(InvalidTransition) as late:
        file_appeal(db.session, actor=flow.staff[0], sample=sample, reason="迟到", contested_items=["total"],
                    attachments=[], storage=None, now=fs.NOW + timedelta(days=5))
    assert late.value.code == "appeal_window"
    assert "2025-03-05" in str(late.value.message)


def test_appeal_on_another_agencys_case_is_404(db: Any, published: Any, fs: Any, client: Any, login: Any) -> None:
    flow = published
    theirs = _own_sample(db, fs, flow, agency_index=1)
    login(client, flow.staff[0])
    assert client.get(f"/appeals/new/{theirs.id}").status_code == 404
    assert client.post(f"/appeals/new/{theirs.id}", data={"items": ["total"], "reason": "x"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == 0
    mine = file_appeal(db.session, actor=flow.staff[1], sample=theirs, reason="不服", contested_items=["total"],
                       attachments=[], storage=None, now=fs.NOW + timedelta(days=4))
    db.session.commit()
    assert client.get(f"/appeals/{mine.id}").status_code == 404
    assert f"/appeals/{mine.id}" not in client.get("/appeals/").get_data(as_text=True)


def test_campaign_is_final_only_without_open_appeals(db: Any, published: Any, fs: Any) -> None:
    from evalplat.campaigns import operations as ops

    flow = published
    sample = _own_sample(db, fs, flow)
    file_appeal(db.session, actor=flow.staff[0], sample=sample, reason="不服", contested_items=["total"],
                attachments=[], storage=None, now=fs.NOW + timedelta(days=4))
    flow.campaign.appeal_closes_at = fs.NOW + timedelta(days=5)
    db.session.commit()
    ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="appeals_closed",
                   now=fs.NOW + timedelta(days=6))
    with pytest.raises(InvalidTransition) as refused:
        ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="final",
                       now=fs.NOW + timedelta(days=6))
    assert sample.code in str(refused.value.message)


def test_re_reviewer_reads_the_agencys_reasons_and_attachment_anonymised(db: Any, published: Any, fs: Any, app: Any,
                                                                         login: Any) -> None:
    flow = published
    sample = _own_sample(db, fs, flow)
    agency_name = flow.agencies[0].name
    lawyer = sample.case.lawyer.name
    agency = app.test_client()
    login(agency, flow.staff[0])
    sent = agency.post(f"/appeals/new/{sample.id}", data={
        "items": ["total"], "reason": f"{agency_name}指派的{lawyer}律师已按期会见",
        "attachments": [(io.BytesIO(f"补充会见笔录：{lawyer}于三日内会见当事人\n".encode()), "补充.txt")]},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.sample_id == sample.id))
    organiser = app.test_client()
    login(organiser, flow.organiser)
    assert organiser.post(f"/appeals/{appeal.id}/accept", data={"note": "受理"}).status_code == 302
    re_review = fs.decision_assignment(db, sample, "appeal")
    reviewer = app.test_client()
    login(reviewer, re_review.reviewer.user)
    page = reviewer.get(f"/results/decisions/{opaque_id(re_review.id)}").get_data(as_text=True)
    assert "已按期会见" in page  # the reasons
    assert "于三日内会见当事人" in page  # the attachment's text
    assert lawyer not in page
    assert agency_name not in page
    assert "补充.txt" not in page  # the file name may name people too; the attachment is numbered
    assert "异议评分项: 总分" in page  # the contested item by its label, not its code


def test_reject_and_accept_forms_are_validated_before_anything_changes(db: Any, published: Any, fs: Any, app: Any,
                                                                        login: Any) -> None:
    flow = published
    appeal, organiser = _filed_appeal(db, fs, flow, app, login)
    too_long = organiser.post(f"/appeals/{appeal.id}/reject", data={"reasons": "理" * 8001}, follow_redirects=True)
    assert "8000" in too_long.get_data(as_text=True)  # the form's length rule names its limit
    empty = organiser.post(f"/appeals/{appeal.id}/reject", data={"reasons": ""}, follow_redirects=True)
    page = empty.get_data(as_text=True)
    assert "请填写不予受理的理由。" in page or "Give the reasons for rejecting the appeal." in page
    long_note = organiser.post(f"/appeals/{appeal.id}/accept", data={"note": "注" * 2001})
    assert long_note.status_code == 302
    db.session.expire_all()
    assert appeal.state == AppealState.FILED
    assert appeal.decision_reason is None
