"""A small province with a campaign in scoring, and helpers to score, decide and publish (results and appeals tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Flow:
    organiser: Any
    agencies: list[Any]
    staff: list[Any]
    reviewers: list[Any]
    campaign: Any
    cases: list[Any] = field(default_factory=list)


def build_flow(db: Any, make_region: Any, make_agency: Any, make_case: Any, make_reviewer: Any, make_user: Any,
               *, rules: dict[str, Any] | None = None) -> Flow:
    """4 cities × 1 agency × 2 criminal cases; 3 peers per city; census campaign, 2 reviewers per case, scoring."""
    from evalplat.accounts.models import Role

    organiser = make_user(Role.ORGANISER)
    cities = [make_region(f"城{i}", "city") for i in range(4)]
    agencies = [make_agency(f"法援中心{i}", city=c) for i, c in enumerate(cities)]
    cases = [make_case(agency=a, case_type="criminal") for a in agencies for _ in range(2)]
    reviewers = [make_reviewer("peer", city=c, capacity=10) for c in cities for _ in range(3)]
    staff = [make_user(Role.AGENCY_STAFF, agency=a) for a in agencies]
    campaign = campaign_in_scoring(db.session, organiser, rules=rules)
    return Flow(organiser, agencies, staff, reviewers, campaign, cases)


def campaign_in_scoring(s: Any, organiser: Any, *, name: str = "2024 测试评估", code_prefix: str = "T2024",
                        rules: dict[str, Any] | None = None) -> Any:
    """A census campaign of every case, 2 reviewers per case, assigned and in scoring (committed)."""
    from evalplat.assignments import operations as assigning
    from evalplat.campaigns import operations as ops

    campaign = ops.create_campaign(s, actor=organiser, name=name, year=2024, code_prefix=code_prefix,
                                   reviewers_per_case=2, min_evaluators=0)
    campaign.disagreement_rules = {"max_spread": 15, "max_band_gap": 1, "veto_one_side": True,
                                   "escalate_extremes": False, **(rules or {})}
    ops.set_plan(s, actor=organiser, campaign=campaign, plan={"mode": "census", "fold_administrative": True})
    ops.fix_seed(s, actor=organiser, campaign=campaign, seed="seed-1", source="test", now=NOW)
    ops.freeze_population(s, actor=organiser, campaign=campaign, now=NOW)
    ops.draw_sample(s, actor=organiser, campaign=campaign, now=NOW)
    ops.pin_rubrics(s, actor=organiser, campaign=campaign)
    run = assigning.preview_run(s, campaign=campaign, actor=organiser, now=NOW)
    assert run.proposed, run.summary
    assigning.commit_run(s, run=run, actor=organiser, now=NOW)
    ops.transition(s, actor=organiser, campaign=campaign, to_state="scoring", now=NOW)
    s.commit()
    return campaign


def samples(db: Any, campaign: Any) -> list[Any]:
    from evalplat.campaigns.models import Sample

    return list(db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id)))


def initial_assignments(db: Any, sample: Any) -> list[Any]:
    from evalplat.assignments.models import Assignment, AssignmentRound

    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.sample_id == sample.id, Assignment.round == AssignmentRound.INITIAL).order_by(Assignment.id)))


def score(db: Any, sample: Any, fractions: list[float], *, veto: list[str | None] | None = None) -> list[Any]:
    """Submit one initial review per fraction (every item at that share of its maximum); commit."""
    from evalplat.demo.campaigns import review_scores, score_assignment
    from evalplat.reviews.rubrics import rubric_for_assignment

    out = []
    for i, (assignment, f) in enumerate(zip(initial_assignments(db, sample), fractions, strict=True)):
        _row, rubric = rubric_for_assignment(db.session, assignment)
        scores = review_scores(rubric, f, veto=(veto or [None] * len(fractions))[i], comment=f"意见{i}")
        out.append(score_assignment(db.session, assignment, scores, NOW + timedelta(days=1), summary=f"总评{i}"))
    db.session.commit()
    return out


def decision_assignment(db: Any, sample: Any, round_: str = "adjudication") -> Any:
    from evalplat.assignments.models import Assignment, AssignmentRound

    return db.session.scalar(sa.select(Assignment).where(Assignment.sample_id == sample.id,
                                                         Assignment.round == AssignmentRound(round_)))


def current(db: Any, sample: Any) -> Any:
    from evalplat.results.operations import current_result

    return current_result(db.session, sample.id)


def finish_and_publish(db: Any, flow: Flow, *, closes: datetime) -> None:
    """Score every remaining sample in agreement, decide adjudications, set the window, publish."""
    from evalplat.campaigns import operations as ops
    from evalplat.results.operations import decide

    for sample in samples(db, flow.campaign):
        if current(db, sample) is None and decision_assignment(db, sample) is None:
            score(db, sample, [0.8, 0.82])
        pending = decision_assignment(db, sample)
        if current(db, sample) is None and pending is not None:
            decide(db.session, assignment=pending, actor=pending.reviewer.user, total=75, vetoes=[],
                   reasons="裁定", now=NOW + timedelta(days=2))
    ops.update_settings(db.session, actor=flow.organiser, campaign=flow.campaign,
                        appeal_opens_at=NOW + timedelta(days=3), appeal_closes_at=closes)
    ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="consolidating",
                   now=NOW + timedelta(days=3))
    ops.transition(db.session, actor=flow.organiser, campaign=flow.campaign, to_state="published",
                   now=NOW + timedelta(days=3))
    db.session.commit()
