"""Reads that put the post-case sources beside the peer review (scoped by the caller: organiser or own agency)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy import stats

from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, Sample
from evalplat.cases.models import Case
from evalplat.closing.models import CheckLevel, CheckOutcome, ClosingCheck, ClosingReview
from evalplat.db import DbSession
from evalplat.followups.models import (
    SATISFIED,
    AttemptOutcome,
    FollowupAttempt,
    FollowupComplaint,
    FollowupTarget,
    FollowupVisit,
)
from evalplat.organisations.models import Agency
from evalplat.results.models import Result
from evalplat.selfeval.models import SelfEvaluation

LEVEL = 0.95
#: A self-score below this is a risk signal.
LOW_SELF_SCORE = 60.0


def _peer_score() -> Any:
    return sa.func.coalesce(Result.calibrated_total, Result.total)


def _published_results() -> sa.Select[Any]:
    """Current results of published campaigns (calibrated where the campaign has them), with their case."""
    return (sa.select(Sample.case_id, _peer_score().label("peer"))
            .join(Result, Result.sample_id == Sample.id).join(Campaign, Campaign.id == Sample.campaign_id)
            .where(Result.current.is_(True), Campaign.state.in_(PUBLISHED_STATES), Sample.is_training.is_(False)))


@dataclass(frozen=True)
class Leniency:
    """An agency's self-scores against the peer review on the same (sampled) cases: mean self − peer score."""

    agency_id: int
    agency: str
    n: int
    mean_self: float
    mean_peer: float
    difference: float
    low: float | None
    high: float | None


def leniency(session: DbSession, *, agency_ids: list[int] | None = None, level: float = LEVEL) -> list[Leniency]:
    """Each agency's leniency: the mean of (self-score − calibrated peer score) over its cases that have both,
    with a Student-t interval (none for a single case). Positive: the agency rates itself higher than peers."""
    peer = _published_results().subquery()
    stmt = (sa.select(SelfEvaluation.agency_id, Agency.name, SelfEvaluation.score, peer.c.peer)
            .join(peer, peer.c.case_id == SelfEvaluation.case_id).join(Agency, Agency.id == SelfEvaluation.agency_id))
    if agency_ids is not None:
        stmt = stmt.where(SelfEvaluation.agency_id.in_(agency_ids))
    by_agency: dict[int, tuple[str, list[float], list[float]]] = {}
    for agency_id, name, own, peer_score in session.execute(stmt):
        entry = by_agency.setdefault(agency_id, (name, [], []))
        entry[1].append(float(own))
        entry[2].append(float(peer_score))
    out = []
    for agency_id, (name, own, peer_scores) in by_agency.items():
        diff = np.asarray(own) - np.asarray(peer_scores)
        low = high = None
        if len(diff) >= 2 and np.ptp(diff) > 0:
            interval = stats.ttest_1samp(diff, 0.0).confidence_interval(level)
            low, high = float(interval.low), float(interval.high)
        out.append(Leniency(agency_id, name, len(diff), float(np.mean(own)), float(np.mean(peer_scores)),
                            float(diff.mean()), low, high))
    return sorted(out, key=lambda r: (-r.difference, r.agency))


@dataclass(frozen=True)
class Source:
    """One source of the profile: what it measures, its figure and how many observations stand behind it."""

    key: str
    n: int
    value: float | None
    detail: dict[str, Any]


def profile(session: DbSession, *, agency_id: int | None = None, lawyer_id: int | None = None,
            within: Any = None) -> list[Source]:
    """Every source for one agency or one lawyer, each with its count: peer review (calibrated), self-evaluation,
    follow-up contact and satisfaction, breaches reported, closing-review pass rate at each level.
    ``within``: a select of agency ids the figures are limited to (a jurisdiction's); None for all."""
    if (agency_id is None) == (lawyer_id is None):
        raise ValueError("give exactly one of agency_id, lawyer_id")
    case_ids = (sa.select(Case.id).where(Case.agency_id == agency_id) if agency_id is not None
                else sa.select(Case.id).where(Case.lawyer_id == lawyer_id))
    if within is not None:
        case_ids = case_ids.where(Case.agency_id.in_(within))

    def cases(column: Any) -> Any:
        return column.in_(case_ids)

    peer = _published_results().subquery()
    n_peer, mean_peer = session.execute(sa.select(sa.func.count(), sa.func.avg(peer.c.peer))
                                        .where(cases(peer.c.case_id))).one()
    n_self, mean_self = session.execute(sa.select(sa.func.count(), sa.func.avg(SelfEvaluation.score))
                                        .where(cases(SelfEvaluation.case_id))).one()
    reached = (sa.select(FollowupAttempt.target_id).where(FollowupAttempt.outcome.in_(
        (AttemptOutcome.REACHED, AttemptOutcome.REFUSED))).distinct().subquery())
    called, contacted = session.execute(
        sa.select(sa.func.count(), sa.func.count(reached.c.target_id))
        .select_from(FollowupTarget).outerjoin(reached, reached.c.target_id == FollowupTarget.id)
        .where(cases(FollowupTarget.case_id), FollowupTarget.attempts > 0)).one()
    visits, satisfied = session.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((FollowupVisit.satisfaction >= SATISFIED, 1), else_=0)))
        .join(FollowupTarget, FollowupTarget.id == FollowupVisit.target_id)
        .where(cases(FollowupTarget.case_id))).one()
    complaints = session.scalar(sa.select(sa.func.count(FollowupComplaint.id))
                                .where(cases(FollowupComplaint.case_id))) or 0
    checks = dict(((int(level), outcome), n) for level, outcome, n in session.execute(
        sa.select(ClosingCheck.level, ClosingCheck.outcome, sa.func.count())
        .join(ClosingReview, ClosingReview.id == ClosingCheck.review_id)
        .where(cases(ClosingReview.case_id)).group_by(ClosingCheck.level, ClosingCheck.outcome)))

    def level(lv: CheckLevel) -> Source:
        total = sum(n for (k, _), n in checks.items() if k == lv)
        passed = checks.get((lv, CheckOutcome.PASSED), 0)
        return Source(f"closing_level_{int(lv)}", total, passed / total if total else None,
                      {"passed": passed, "returned": total - passed})

    def ratio(a: Any, b: Any) -> float | None:
        return float(a) / float(b) if b else None

    return [
        Source("peer_review", int(n_peer), float(mean_peer) if mean_peer is not None else None, {}),
        Source("self_evaluation", int(n_self), float(mean_self) if mean_self is not None else None, {}),
        Source("followup_contact", int(called), ratio(contacted, called), {"contacted": int(contacted)}),
        Source("followup_satisfaction", int(visits), ratio(satisfied or 0, visits), {"satisfied": int(satisfied or 0)}),
        Source("followup_breaches", int(visits), float(complaints), {"complaints": int(complaints)}),
        level(CheckLevel.FIRST), level(CheckLevel.SECOND),
    ]


def risk_signals(session: DbSession, *, year: int | None = None, cases: sa.Select[Any] | None = None,
                 low_self_score: float = LOW_SELF_SCORE) -> dict[str, int]:
    """Risk signals per case (case id as text → count) of ``year``'s cases or of the ``cases`` select of case ids:
    returned at the second level of the closing review, a self-score below ``low_self_score``, a breach
    reported in a follow-up. One count per kind, so a case has 0–3."""
    if (year is None) == (cases is None):
        raise ValueError("give exactly one of year, cases")
    signals: dict[str, int] = {}

    def add(ids: Any) -> None:
        for case_id in ids:
            signals[str(case_id)] = signals.get(str(case_id), 0) + 1

    chosen = sa.select(Case.id).where(Case.year == year) if cases is None else cases
    add(session.scalars(sa.select(ClosingReview.case_id).distinct()
                        .join(ClosingCheck, ClosingCheck.review_id == ClosingReview.id)
                        .where(ClosingCheck.level == CheckLevel.SECOND, ClosingCheck.outcome == CheckOutcome.RETURNED,
                               ClosingReview.case_id.in_(chosen))))
    add(session.scalars(sa.select(SelfEvaluation.case_id).where(SelfEvaluation.score < low_self_score,
                                                                SelfEvaluation.case_id.in_(chosen))))
    add(session.scalars(sa.select(FollowupComplaint.case_id).distinct()
                        .where(FollowupComplaint.case_id.in_(chosen))))
    return signals
