"""Consolidation, adjudication, publication and agency visibility on a small campaign."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.assignments.models import AssignmentRound, AssignmentState
from evalplat.audit.models import AuditEvent
from evalplat.errors import ConcurrentChange, DomainError, InvalidTransition
from evalplat.params import opaque_id
from evalplat.results.models import Result, ResultKind
from evalplat.results.operations import decide, set_official_scores


def test_agreeing_reviews_give_a_consensus_result(db: Any, flow: Any, fs: Any) -> None:
    sample = fs.samples(db, flow.campaign)[0]
    reviews = fs.score(db, sample, [0.8, 0.86])
    result = fs.current(db, sample)
    assert result is not None
    assert result.kind == ResultKind.CONSENSUS
    expected = sum(r.total for r in reviews) / 2
    assert result.total == pytest.approx(expected, abs=0.01)
    assert result.raw_total == pytest.approx(expected, abs=0.01)
    assert result.grade.value == ("good" if expected >= 80 else "pass")
    assert set(result.item_points) == {i.item_code for i in reviews[0].items}
    assert fs.decision_assignment(db, sample) is None


def test_consolidating_by_hand_after_the_automatic_pass_says_nothing_was_left(
        db: Any, flow: Any, fs: Any, client: Any, login: Any) -> None:
    first, second, third = fs.samples(db, flow.campaign)[:3]
    fs.score(db, first, [0.8, 0.86])  # consolidated as the second review came in
    fs.score(db, second, [0.55, 0.9])  # sent to an adjudicator as the second review came in
    fs.score(db, third, [0.8, 0.8])
    waiting = len(fs.samples(db, flow.campaign)) - 3
    login(client, flow.organiser)
    client.post("/language/en")
    page = client.post(f"/results/campaigns/{flow.campaign.id}/consolidate", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert ("Nothing new to consolidate. Cases with a result: 2 (a case is consolidated as soon as its last review "
            f"comes in); with adjudicators: 1; still waiting for reviews: {waiting}.") in text
    assert "0 cases consolidated" not in text


def test_one_review_in_is_not_consolidated(db: Any, flow: Any, fs: Any) -> None:
    sample = fs.samples(db, flow.campaign)[0]
    fs.score(db, sample, [0.8, 0.8])  # both in: result
    other = fs.samples(db, flow.campaign)[1]
    from evalplat.demo.campaigns import review_scores, score_assignment
    from evalplat.reviews.rubrics import rubric_for_assignment

    first = fs.initial_assignments(db, other)[0]
    score_assignment(db.session, first, review_scores(rubric_for_assignment(db.session, first)[1], 0.8), fs.NOW)
    db.session.commit()
    assert fs.current(db, other) is None


def test_disagreement_goes_to_a_new_adjudicator_who_sees_anonymous_reviews(
        db: Any, flow: Any, fs: Any, client: Any, login: Any) -> None:
    sample = fs.samples(db, flow.campaign)[0]
    fs.score(db, sample, [0.55, 0.9])
    assert fs.current(db, sample) is None
    adj = fs.decision_assignment(db, sample)
    assert adj is not None
    assert adj.state == AssignmentState.OFFERED
    initial = fs.initial_assignments(db, sample)
    assert adj.reviewer_id not in {a.reviewer_id for a in initial}
    escalated = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "result.escalated"))
    assert escalated is not None
    assert "spread_above_threshold" in str(escalated.after)

    login(client, adj.reviewer.user)
    page = client.get(f"/results/decisions/{opaque_id(adj.id)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for a in initial:
        assert a.reviewer.user.username not in html
    assert "意见0" in html
    assert "意见1" in html

    refused = client.post(f"/results/decisions/{opaque_id(adj.id)}", data={"total": "77", "reasons": "  "})
    assert refused.status_code == 200
    assert fs.current(db, sample) is None
    with pytest.raises(DomainError) as no_reasons:
        decide(db.session, assignment=adj, actor=adj.reviewer.user, total=77, vetoes=[], reasons="", now=fs.NOW)
    assert no_reasons.value.code == "reasons_required"
    db.session.rollback()

    done = client.post(f"/results/decisions/{opaque_id(adj.id)}", data={"total": "77", "reasons": "会见记录完整，取中间值"})
    assert done.status_code == 302
    db.session.expire_all()
    result = fs.current(db, sample)
    assert result.kind == ResultKind.ADJUDICATED
    assert result.total == 77
    assert result.grade.value == "pass"
    assert result.reasons == "会见记录完整，取中间值"
    assert "spread_above_threshold" in result.disagreement

    other = client.get(f"/results/decisions/{opaque_id(fs.decision_assignment(db, sample).id)}")
    assert other.status_code == 200  # still the adjudicator's own page; deciding again is refused
    again = client.post(f"/results/decisions/{opaque_id(adj.id)}", data={"total": "90", "reasons": "再次"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Result).where(Result.sample_id == sample.id)) == 1


def test_extreme_grades_escalate_when_configured(db: Any, flow: Any, fs: Any) -> None:
    flow.campaign.disagreement_rules = {**flow.campaign.disagreement_rules, "escalate_extremes": True}
    db.session.commit()
    sample = fs.samples(db, flow.campaign)[0]
    fs.score(db, sample, [0.95, 0.96])
    assert fs.current(db, sample) is None
    assert fs.decision_assignment(db, sample) is not None


def test_veto_on_one_side_escalates(db: Any, flow: Any, fs: Any) -> None:
    from evalplat.reviews.rubrics import rubric_for_assignment

    sample = fs.samples(db, flow.campaign)[0]
    rubric = rubric_for_assignment(db.session, fs.initial_assignments(db, sample)[0])[1]
    fs.score(db, sample, [0.82, 0.82], veto=[rubric.veto_items[0].code, None])
    assert fs.current(db, sample) is None
    assert fs.decision_assignment(db, sample) is not None


def test_publishing_with_unfinished_cases_names_them(db: Any, flow: Any, fs: Any) -> None:
    from evalplat.campaigns import operations as ops

    all_samples = fs.samples(db, flow.campaign)
    for sample in all_samples[1:]:
        fs.score(db, sample, [0.8, 0.82])
    ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="consolidating", now=fs.NOW)
    with pytest.raises(InvalidTransition) as refused:
        ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="published", now=fs.NOW)
    assert all_samples[0].code in str(refused.value.message)
    assert all(s.code not in str(refused.value.message) for s in all_samples[1:])


def test_agencies_see_only_their_own_results(app: Any, db: Any, flow: Any, fs: Any, client: Any, login: Any) -> None:
    all_samples = fs.samples(db, flow.campaign)
    before = all_samples[0]
    fs.score(db, before, [0.8, 0.82])
    login(client, flow.staff[0])
    assert f"/results/ours/{before.id}" not in client.get("/results/ours").get_data(as_text=True)
    assert client.get(f"/results/ours/{before.id}").status_code == 404  # not published yet
    fs.finish_and_publish(db, flow, closes=fs.NOW + timedelta(days=30))
    own = [s for s in all_samples if s.case.agency_id == flow.agencies[0].id]
    others = [s for s in all_samples if s.case.agency_id != flow.agencies[0].id]
    html = client.get("/results/ours").get_data(as_text=True)
    for s in own:
        assert s.case.case_number in html
    for s in others:
        assert s.case.case_number not in html
        assert client.get(f"/results/ours/{s.id}").status_code == 404
    detail = client.get(f"/results/ours/{own[0].id}").get_data(as_text=True)
    assert "意见0" in detail
    assert own[0].case.case_number in detail
    for a in fs.initial_assignments(db, own[0]):
        assert a.reviewer.user.username not in detail
    # no circular yet: agencies see no province-wide figures
    assert client.get(f"/results/campaigns/{flow.campaign.id}/circular").status_code == 404
    organiser = app.test_client()
    login(organiser, flow.organiser)
    assert organiser.post(f"/results/campaigns/{flow.campaign.id}/circular", data={"confirmed": "yes"}).status_code == 302
    figures = client.get(f"/results/campaigns/{flow.campaign.id}/circular")
    assert figures.status_code == 200
    assert flow.agencies[1].name in figures.get_data(as_text=True)


def test_official_scores_choice_is_recorded(db: Any, flow: Any, fs: Any) -> None:
    for sample, f in zip(fs.samples(db, flow.campaign), [0.7, 0.75, 0.8, 0.85, 0.78, 0.72, 0.83, 0.76], strict=False):
        fs.score(db, sample, [f, f + 0.03])
    n = set_official_scores(db.session, campaign=flow.campaign, actor=flow.organiser, choice="calibrated", now=fs.NOW)
    db.session.commit()
    results = db.session.scalars(sa.select(Result).where(Result.kind == ResultKind.CONSENSUS)).all()
    assert n == len(results) > 0
    assert all(r.calibrated_total is not None and r.total == pytest.approx(r.calibrated_total) for r in results)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "results.official_scores"))
    assert event.before == {"official_scores": "raw"}
    assert event.after["official_scores"] == "calibrated"
    set_official_scores(db.session, campaign=flow.campaign, actor=flow.organiser, choice="raw", now=fs.NOW)
    assert all(r.total == pytest.approx(r.raw_total) for r in
               db.session.scalars(sa.select(Result).where(Result.kind == ResultKind.CONSENSUS)))


def test_reliability_panel(db: Any, flow: Any, fs: Any, client: Any, login: Any, count_queries: Any) -> None:
    for sample, f in zip(fs.samples(db, flow.campaign), [0.62, 0.7, 0.8, 0.9, 0.75, 0.68, 0.85, 0.77], strict=False):
        fs.score(db, sample, [f, f + 0.02])
    login(client, flow.organiser)
    with count_queries() as q:
        page = client.get(f"/results/campaigns/{flow.campaign.id}/reliability")
    assert page.status_code == 200
    assert q.count < 30
    from evalplat.results.queries import reliability_panel

    panel = reliability_panel(flow.campaign)
    assert panel.cases == 8
    assert panel.reviews == 16
    assert panel.alpha is not None
    assert panel.alpha > 0.9
    assert panel.items
    assert all(i.cases == 8 for i in panel.items)
    assert sum(e.cases for e in panel.effects) == 16


def test_two_adjudicators_cannot_both_decide(app: Any, db: Any, flow: Any, fs: Any) -> None:
    """Two adjudicators decide the same case at the same time (PostgreSQL row lock): exactly one wins."""
    import threading

    from sqlalchemy.orm import Session

    from evalplat.assignments.models import Assignment
    from evalplat.assignments.operations import create_adjudication_assignment

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (EVALPLAT_TEST_DATABASE_URL)")
    sample = fs.samples(db, flow.campaign)[0]
    fs.score(db, sample, [0.55, 0.9])
    first = fs.decision_assignment(db, sample)
    second = create_adjudication_assignment(db.session, sample=sample, round=AssignmentRound.ADJUDICATION,
                                            actor=flow.organiser, now=fs.NOW)
    db.session.commit()
    ids = [first.id, second.id]
    outcomes: dict[int, str] = {}
    locked = threading.Event()

    def run(assignment_id: int, hold: bool) -> None:
        with app.app_context(), Session(db.engine) as s:
            a = s.get(Assignment, assignment_id)
            try:
                decide(s, assignment=a, actor=a.reviewer.user, total=70 if hold else 90, vetoes=[],
                       reasons=f"decision {assignment_id}", now=fs.NOW)
                if hold:
                    locked.set()
                    threading.Event().wait(0.5)
                s.commit()
                outcomes[assignment_id] = "won"
            except ConcurrentChange as exc:
                s.rollback()
                outcomes[assignment_id] = str(exc.message)

    t1 = threading.Thread(target=run, args=(ids[0], True))
    t1.start()
    locked.wait(10)
    t2 = threading.Thread(target=run, args=(ids[1], False))
    t2.start()
    t1.join(20)
    t2.join(20)
    assert outcomes[ids[0]] == "won"
    assert sample.code in outcomes[ids[1]]
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Result).where(Result.sample_id == sample.id)).all()
    assert len(rows) == 1
    assert rows[0].total == 70


def _implied_total(db: Any, assignment: Any, items: dict[str, Any]) -> float:
    """The total the item points give, rescaled over the applicable items as the rubric does."""
    from evalplat.reviews.rubrics import rubric_for_assignment

    rubric = rubric_for_assignment(db.session, assignment)[1]
    maxima = {item.code: float(item.max_points) for item in rubric.items}
    applicable = {c: v for c, v in items.items() if v is not None}
    return sum(applicable.values()) / sum(maxima[c] for c in applicable) * 100


@pytest.mark.parametrize("decided", [77.0, 96.5, 40.0])
def test_item_points_add_up_to_a_decided_total(db: Any, flow: Any, fs: Any, decided: float) -> None:
    """A decision given as a total moves the item points with it, within each item's range (86.0 vs 82.5 before)."""
    from evalplat.reviews.rubrics import rubric_for_assignment

    sample = fs.samples(db, flow.campaign)[0]
    fs.score(db, sample, [0.55, 0.9])
    adj = fs.decision_assignment(db, sample)
    result = decide(db.session, assignment=adj, actor=adj.reviewer.user, total=decided, vetoes=[],
                    reasons="依据卷宗认定", now=fs.NOW)
    db.session.commit()
    assert result.total == decided
    assert abs(_implied_total(db, adj, result.item_points) - decided) < 0.05
    maxima = {i.code: i.max_points for i in rubric_for_assignment(db.session, adj)[1].items}
    assert all(0 <= v <= maxima[c] for c, v in result.item_points.items() if v is not None)
