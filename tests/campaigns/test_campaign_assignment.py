"""Assignment operations on the database: preview, commit, undo, overrides, re-assignment, adjudication."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.assignments import operations as assigning
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentRun, AssignmentState, RunState
from evalplat.audit.models import AuditEvent
from evalplat.campaigns.models import CampaignState, Sample
from evalplat.errors import DomainError
from evalplat.organisations.models import ReviewerProfile


def _pairs_obey_rules(db: Any, campaign: Any) -> list[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Sample.id, Assignment.reviewer_id, ReviewerProfile.city_id, ReviewerProfile.kind,
                  ReviewerProfile.firm_id, ReviewerProfile.lawyer_id, Sample.case_id)
        .join(Assignment, Assignment.sample_id == Sample.id)
        .join(ReviewerProfile, ReviewerProfile.id == Assignment.reviewer_id)
        .where(Sample.campaign_id == campaign.id, Assignment.state.in_(assigning.LIVE))).all()
    from evalplat.cases.models import Case

    for sample_id, _rid, city, _kind, firm, lawyer, case_id in rows:
        case = db.session.get(Case, case_id)
        assert city != case.agency.city_id, f"sample {sample_id}: regional avoidance broken"
        assert firm is None or firm != case.firm_id
        assert lawyer is None or lawyer != case.lawyer_id
    per_sample = Counter(r[0] for r in rows)
    evaluators = Counter(r[0] for r in rows if r[3] == "evaluator")
    assert set(per_sample.values()) == {campaign.reviewers_per_case}
    assert all(evaluators[s] >= campaign.min_evaluators for s in per_sample)
    return [(r[0], r[1]) for r in rows]


def _commit(db: Any, campaign: Any, organiser: Any, now: Any) -> AssignmentRun:
    run = assigning.preview_run(db.session, campaign=campaign, actor=organiser, now=now)
    assigning.commit_run(db.session, run=run, actor=organiser, now=now)
    db.session.commit()
    return run


def test_preview_stores_pairs_without_assignments_then_commit_offers_them(db: Any, sampled_campaign: Any,
                                                                        province: Any, now: Any) -> None:
    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    db.session.commit()
    assert run.state == RunState.PREVIEW
    assert len(run.proposed) == 24
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    count = assigning.commit_run(db.session, run=run, actor=province.organiser, now=now)
    db.session.commit()
    assert count == 24
    assert sampled_campaign.state == CampaignState.ASSIGNED
    pairs = _pairs_obey_rules(db, sampled_campaign)
    assert sorted(pairs) == sorted(tuple(p) for p in run.proposed)
    states = set(db.session.scalars(sa.select(Assignment.state)))
    assert states == {AssignmentState.OFFERED}
    due = db.session.scalar(sa.select(Assignment.due_at).limit(1))
    assert (due - now).days == sampled_campaign.due_days


def test_commit_twice_is_refused(db: Any, sampled_campaign: Any, province: Any, now: Any) -> None:
    run = _commit(db, sampled_campaign, province.organiser, now)
    with pytest.raises(DomainError):
        assigning.commit_run(db.session, run=run, actor=province.organiser, now=now)


def test_undo_removes_assignments_and_returns_to_sampled_only_before_reviews(db: Any, sampled_campaign: Any,
                                                                           province: Any, now: Any) -> None:
    run = _commit(db, sampled_campaign, province.organiser, now)
    removed = assigning.undo_run(db.session, run=run, actor=province.organiser, now=now)
    db.session.commit()
    assert removed == 24
    assert sampled_campaign.state == CampaignState.SAMPLED
    assert run.state == RunState.UNDONE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    # commit a new run, start one review, and undo is refused
    run2 = _commit(db, sampled_campaign, province.organiser, now)
    from evalplat.reviews.models import Review, RubricVersion

    version = RubricVersion(key="k", version=1, case_types=["criminal"], definition={}, content_hash="h" * 64,
                            jurisdiction_id=sampled_campaign.jurisdiction_id)
    db.session.add(version)
    db.session.flush()
    db.session.add(Review(assignment_id=db.session.scalar(sa.select(Assignment.id).limit(1)),
                          rubric_version_id=version.id))
    db.session.commit()
    with pytest.raises(DomainError, match="Reviews have started"):
        assigning.undo_run(db.session, run=run2, actor=province.organiser, now=now)


def test_infeasible_rules_are_explained_on_the_run(db: Any, sampled_campaign: Any, province: Any, now: Any) -> None:
    sampled_campaign.min_evaluators = 2
    db.session.commit()
    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    problems = run.summary["problems"]
    assert problems
    assert not run.proposed
    assert any("evaluator" in p["en"] for p in problems)
    assert all(p["zh"] for p in problems)
    with pytest.raises(DomainError, match="no assignment to commit"):
        assigning.commit_run(db.session, run=run, actor=province.organiser, now=now)


def test_override_needs_a_reason_and_warns_about_a_broken_conflict(db: Any, sampled_campaign: Any, province: Any,
                                                                  now: Any) -> None:
    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    sample_id, old_reviewer = run.proposed[0]
    sample = db.session.get(Sample, sample_id)
    same_city = next(r for r in province.reviewers if r.city_id == sample.case.agency.city_id and r.kind == "peer")
    old = db.session.get(ReviewerProfile, old_reviewer)
    with pytest.raises(DomainError, match="reason"):
        assigning.override_pair(db.session, run=run, sample=sample, remove=old, add=same_city, reason=" ",
                                actor=province.organiser, now=now)
    with pytest.raises(DomainError, match="same_region"):
        assigning.override_pair(db.session, run=run, sample=sample, remove=old, add=same_city, reason="专家回避不足",
                                actor=province.organiser, now=now)
    check = assigning.override_pair(db.session, run=run, sample=sample, remove=old, add=same_city,
                                    reason="专家回避不足", actor=province.organiser, now=now, accept_conflict=True)
    assert check.conflicts == ["same_region"]
    assigning.commit_run(db.session, run=run, actor=province.organiser, now=now)
    db.session.commit()
    row = db.session.scalar(sa.select(Assignment).where(Assignment.sample_id == sample_id,
                                                        Assignment.reviewer_id == same_city.id))
    assert row.override_reason == "专家回避不足"
    assert not db.session.scalar(sa.select(Assignment).where(Assignment.sample_id == sample_id,
                                                             Assignment.reviewer_id == old_reviewer))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "assignment.overridden"))
    assert event.after["conflicts"] == ["same_region"]
    assert event.after["reason"] == "专家回避不足"


def test_decline_reassigns_only_that_case(db: Any, sampled_campaign: Any, province: Any, now: Any,
                                          make_reviewer: Any, make_region: Any) -> None:
    _commit(db, sampled_campaign, province.organiser, now)
    spare = make_reviewer("peer", city=make_region("外市", "city"), capacity=5)
    before = set(_pairs_obey_rules(db, sampled_campaign))
    declined = db.session.scalar(sa.select(Assignment).order_by(Assignment.id).limit(1))
    declined.state = AssignmentState.DECLINED
    result = assigning.reassign_declined(db.session, assignment=declined, actor=None, now=now)
    db.session.commit()
    assert len(result.assignments) == 1
    assert not result.problems
    new = result.assignments[0]
    assert new.sample_id == declined.sample_id
    assert new.reviewer_id != declined.reviewer_id
    after = set(_pairs_obey_rules(db, sampled_campaign))
    assert after - before == {(new.sample_id, new.reviewer_id)}
    assert before - after == {(declined.sample_id, declined.reviewer_id)}
    assert spare.id is not None


def test_deactivating_a_reviewer_moves_only_their_cases(db: Any, sampled_campaign: Any, province: Any, now: Any,
                                                        make_reviewer: Any, make_region: Any) -> None:
    from evalplat.organisations.operations import set_reviewer_active

    _commit(db, sampled_campaign, province.organiser, now)
    make_reviewer("evaluator", city=make_region("外市", "city"), capacity=10,
                  case_types=("criminal", "civil", "administrative"))
    before = set(_pairs_obey_rules(db, sampled_campaign))
    leaving = Counter(r for _s, r in before).most_common(1)[0][0]
    reviewer = db.session.get(ReviewerProfile, leaving)
    made = set_reviewer_active(db.session, actor=province.organiser, reviewer=reviewer, active=False, now=now)
    db.session.commit()
    after = set(_pairs_obey_rules(db, sampled_campaign))
    moved = {p for p in before if p[1] == leaving}
    assert before - after == moved
    assert {(a.sample_id, a.reviewer_id) for a in made} == after - before
    assert {s for s, _r in after - before} == {s for s, _r in moved}


def test_adjudication_assignment_obeys_conflicts_and_picks_someone_new(db: Any, sampled_campaign: Any,
                                                                       province: Any, now: Any) -> None:
    from evalplat.assignments.conflicts import declare_conflict

    _commit(db, sampled_campaign, province.organiser, now)
    sample = db.session.scalar(sa.select(Sample).order_by(Sample.id).limit(1))
    seen = set(db.session.scalars(sa.select(Assignment.reviewer_id).where(Assignment.sample_id == sample.id)))
    city = sample.case.agency.city_id
    candidates = [r for r in province.reviewers if r.city_id != city and r.id not in seen]
    # every candidate but one declares a conflict: only that one may adjudicate
    for reviewer in candidates[1:]:
        declare_conflict(db.session, reviewer=reviewer, case=sample.case, reason="认识当事人", actor=None, now=now)
    made = assigning.create_adjudication_assignment(db.session, sample=sample, round="adjudication",
                                                    actor=province.organiser, now=now)
    db.session.commit()
    assert made.reviewer_id == candidates[0].id
    assert made.round == AssignmentRound.ADJUDICATION
    with pytest.raises(DomainError, match="No eligible reviewer"):
        assigning.create_adjudication_assignment(db.session, sample=sample, round="adjudication",
                                                 actor=province.organiser, now=now)


@pytest.mark.skipif(not os.environ.get("EVALPLAT_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="row locking needs PostgreSQL")
def test_two_organisers_committing_the_same_run_at_once_exactly_one_wins(app: Any, db: Any, sampled_campaign: Any,
                                                                         province: Any, now: Any) -> None:
    import threading

    from sqlalchemy.orm import Session

    from evalplat.campaigns.models import Campaign

    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    db.session.commit()
    run_id, campaign_id = run.id, sampled_campaign.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    engine = db.engine

    def commit() -> None:
        with app.app_context(), Session(engine) as session:
            the_run = session.get(AssignmentRun, run_id)
            session.get(Campaign, campaign_id)
            barrier.wait()
            try:
                assigning.commit_run(session, run=the_run, actor=None, now=now)
                session.commit()
                outcomes.append("won")
            except Exception as exc:  # noqa: BLE001 - the loser's error kind is what we record
                session.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ConcurrentChange", "won"], outcomes
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 24
