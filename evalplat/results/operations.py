"""Consolidation, adjudication, official scores and publication: the write path of results.

When the last initial review of a sampled case is submitted (:func:`consolidate_on_submit`, a receiver of
the ``review_submitted`` signal connected by the factory), the case's
reviews are combined with :mod:`scoring.consensus` under the campaign's rules. Agreeing reviews give a
``Result(kind=consensus)``; a disagreement creates an adjudication assignment for a new reviewer who obeys the
same conflict rules and has never had the case. The adjudicator's decision (:func:`decide`) — always with
reasons — becomes ``Result(kind=adjudicated)``; an appeal re-review becomes ``Result(kind=appeal)``. Older
results stay as history (``current`` is False).

Concurrency: :func:`decide` locks the sample row (``SELECT … FOR UPDATE`` on PostgreSQL) before it checks
whether the case is still undecided, so of two adjudicators deciding the same case at the same time exactly
one wins; the other gets a :class:`~evalplat.errors.ConcurrentChange` naming the case.

Every function takes the session and the actor, writes its audit events in the caller's transaction and
never commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments import states as assignment_states
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.audit.operations import record
from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, CampaignState, Sample
from evalplat.db import DbSession
from evalplat.errors import ConcurrentChange, DomainError, InvalidTransition, NotAllowed
from evalplat.i18n import lazy_gettext as _l
from evalplat.results.models import Result, ResultKind
from evalplat.results.rules import Rules
from evalplat.reviews.models import Grade, Review, ReviewItem, ReviewState
from scoring import Ratings
from scoring.calibration import fit_rater_effects

log = logging.getLogger(__name__)

__all__ = [
    "DECISION_STATES",
    "OFFICIAL_CHOICES",
    "Consolidation",
    "ResultError",
    "consolidate",
    "consolidate_on_submit",
    "decide",
    "escalate",
    "publish_circular",
    "set_official_scores",
    "unfinished_samples",
]

OPEN = (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
LIVE = (AssignmentState.OFFERED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED)
OFFICIAL_CHOICES = ("raw", "calibrated")
#: Campaign states in which each decision round may be decided.
DECISION_STATES: dict[AssignmentRound, frozenset[CampaignState]] = {
    AssignmentRound.ADJUDICATION: frozenset({CampaignState.SCORING, CampaignState.CONSOLIDATING}),
    AssignmentRound.APPEAL: frozenset({CampaignState.PUBLISHED, CampaignState.APPEALS_CLOSED}),
}
_CHUNK = 5000


class ResultError(DomainError):
    code = "result_error"


# --- reading the initial reviews -------------------------------------------------------------------------


@dataclass
class _SampleReviews:
    open: int = 0
    review_ids: list[int] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    vetoes: list[list[str]] = field(default_factory=list)


def _initial_reviews(session: DbSession, campaign: Campaign, sample_ids: Collection[int] | None
                     ) -> dict[int, _SampleReviews]:
    """Open initial assignments and submitted initial reviews per sample (one query)."""
    stmt = (sa.select(Assignment.sample_id, Assignment.state, Review.id, Review.total, Review.vetoes)
            .join(Sample, Sample.id == Assignment.sample_id)
            .outerjoin(Review, sa.and_(Review.assignment_id == Assignment.id, Review.state == ReviewState.SUBMITTED))
            .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
                   Assignment.round == AssignmentRound.INITIAL, Assignment.state.in_(LIVE))
            .order_by(Assignment.sample_id, Assignment.id))
    if sample_ids is not None:
        stmt = stmt.where(Assignment.sample_id.in_(list(sample_ids)))
    out: dict[int, _SampleReviews] = defaultdict(_SampleReviews)
    for sample_id, state, review_id, total, vetoes in session.execute(stmt):
        entry = out[sample_id]
        if state in OPEN:
            entry.open += 1
        elif review_id is not None and total is not None:
            entry.review_ids.append(review_id)
            entry.totals.append(float(total))
            entry.vetoes.append(list(vetoes or []))
    return out


def _item_means_by_sample(session: DbSession, groups: dict[int, list[int]]) -> dict[int, dict[str, float | None]]:
    """Sample id → item code → mean points over its reviews (None when every review marked it N/A)."""
    owner = {rid: sid for sid, rids in groups.items() for rid in rids}
    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    ids = sorted(owner)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = session.execute(sa.select(ReviewItem.review_id, ReviewItem.item_code, ReviewItem.points,
                                         ReviewItem.not_applicable).where(ReviewItem.review_id.in_(chunk)))
        for review_id, code, points, na in rows:
            values = sums[owner[review_id]][code]
            if not na and points is not None:
                values.append(float(points))
    return {sid: {code: (round(sum(v) / len(v), 2) if v else None) for code, v in items.items()}
            for sid, items in sums.items()}


def _sample_item_means(session: DbSession, sample_id: int) -> dict[str, float | None]:
    ids = list(session.scalars(
        sa.select(Review.id).join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.sample_id == sample_id, Assignment.round == AssignmentRound.INITIAL,
               Review.state == ReviewState.SUBMITTED)))
    return _item_means_by_sample(session, {sample_id: ids}).get(sample_id, {})


# --- consolidation -----------------------------------------------------------------------------------------


@dataclass
class Consolidation:
    """What one consolidation pass did.

    Attributes
    ----------
    consensus : list of int
        Samples that received a consensus result.
    escalated : list of int
        Samples sent to adjudication (an adjudication assignment was created).
    unassigned : list of str
        Codes of disagreeing samples for which no adjudicator could be found (retry with :func:`escalate`).
    problems : list of str
        Why adjudicators could not be found.
    waiting : int
        Samples still waiting for initial reviews.
    """

    consensus: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    waiting: int = 0


def _pending_sample_ids(session: DbSession, campaign: Campaign, sample_ids: Collection[int] | None) -> set[int]:
    """Non-training samples with no current result and no live adjudication assignment."""
    has_result = sa.select(Result.sample_id).where(Result.current.is_(True), Result.sample_id == Sample.id).exists()
    adjudicating = sa.select(Assignment.id).where(
        Assignment.sample_id == Sample.id, Assignment.round == AssignmentRound.ADJUDICATION,
        Assignment.state.in_(LIVE)).exists()
    stmt = sa.select(Sample.id).where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
                                      ~has_result, ~adjudicating)
    if sample_ids is not None:
        stmt = stmt.where(Sample.id.in_(list(sample_ids)))
    return set(session.scalars(stmt))


def consolidate(session: DbSession, *, campaign: Campaign, actor: User | None, now: datetime,
                sample_ids: Collection[int] | None = None, require_full: bool = True,
                create_assignments: bool = True) -> Consolidation:
    """Consolidate every sample whose initial reviews are all in.

    A sample is ready when no initial assignment is still open and (``require_full``) it has the campaign's
    number of submitted reviews — or, with ``require_full=False`` (the organiser's "consolidate what is
    complete"), at least one. Agreeing samples get a consensus result (bulk insert); disagreeing samples get
    an adjudication assignment (one assignment solve for all of them).

    Parameters
    ----------
    campaign : Campaign
    actor : User or None
    now : datetime
    sample_ids : collection of int, optional
        Limit to these samples (the submit hook passes one).
    require_full : bool
    create_assignments : bool
        False leaves disagreeing samples unassigned (listed in ``unassigned``).

    Returns
    -------
    Consolidation
    """
    if campaign.state not in (CampaignState.SCORING, CampaignState.CONSOLIDATING):
        raise InvalidTransition(_l("Cases are consolidated while the campaign is scoring or consolidating."),
                                code="consolidate_wrong_state")
    rules = Rules.of(campaign)
    pending = _pending_sample_ids(session, campaign, sample_ids)
    reviews = _initial_reviews(session, campaign, sample_ids)
    needed = campaign.reviewers_per_case if require_full else 1
    out = Consolidation()
    agreeing: dict[int, tuple[_SampleReviews, Any]] = {}
    disagreeing: dict[int, tuple[str, ...]] = {}
    for sample_id in sorted(pending):
        entry = reviews.get(sample_id)
        if entry is None or entry.open or len(entry.totals) < needed:
            out.waiting += 1
            continue
        found = rules.disagreement(entry.totals, entry.vetoes)
        if found.escalate:
            disagreeing[sample_id] = found.codes
        else:
            agreeing[sample_id] = (entry, found)
    if agreeing:
        means = _item_means_by_sample(session, {sid: e.review_ids for sid, (e, _f) in agreeing.items()})
        rows = []
        for sample_id, (entry, _found) in agreeing.items():
            vetoes = rules.standing_vetoes(entry.vetoes)
            total, grade = rules.combined(entry.totals, vetoes)
            rows.append({"sample_id": sample_id, "kind": ResultKind.CONSENSUS, "total": round(total, 2),
                         "grade": Grade(grade), "raw_total": round(total, 2), "calibrated_total": None,
                         "item_points": means.get(sample_id, {}), "vetoes": vetoes, "method": rules.method,
                         "disagreement": [], "reasons": "", "decided_by_id": None, "current": True,
                         "created_at": now})
        for start in range(0, len(rows), _CHUNK):
            session.execute(sa.insert(Result), rows[start:start + _CHUNK])
        out.consensus = sorted(agreeing)
        record(session, actor_id=actor.id if actor else None, action="result.consensus", object_type="campaign",
               object_id=campaign.id, at=now,
               after={"count": len(rows), "method": rules.method,
                      "results": [[r["sample_id"], r["total"], r["grade"]] for r in rows]})
    if disagreeing:
        record(session, actor_id=actor.id if actor else None, action="result.escalated", object_type="campaign",
               object_id=campaign.id, at=now,
               after={"count": len(disagreeing), "samples": [[s, list(c)] for s, c in sorted(disagreeing.items())]})
        if create_assignments:
            made, problems = _assign_adjudicators(session, campaign, set(disagreeing), actor=actor, now=now)
            out.escalated = sorted(made)
            missing = set(disagreeing) - made
            out.problems = problems
        else:
            missing = set(disagreeing)
        if missing:
            out.unassigned = list(session.scalars(sa.select(Sample.code).where(Sample.id.in_(sorted(missing)))
                                                  .order_by(Sample.code)))
    if out.consensus or disagreeing:
        log.info("consolidation, campaign %s: %d consensus, %d escalated, %d unassigned, %d waiting", campaign.id,
                 len(out.consensus), len(out.escalated), len(out.unassigned), out.waiting)
    return out


def _assign_adjudicators(session: DbSession, campaign: Campaign, sample_ids: set[int], *, actor: User | None,
                         now: datetime) -> tuple[set[int], list[str]]:
    """One adjudication assignment per sample, all in one solve of the assignment engine."""
    from evalplat.assignments.operations import reassign_samples

    if len(sample_ids) == 1:
        from evalplat.assignments.operations import AssignmentError, create_adjudication_assignment

        sample = session.get(Sample, next(iter(sample_ids)))
        assert sample is not None
        try:
            create_adjudication_assignment(session, sample=sample, round=AssignmentRound.ADJUDICATION, actor=actor,
                                           now=now)
        except AssignmentError as error:
            return set(), [str(error.message)]
        return set(sample_ids), []
    result = reassign_samples(session, campaign, sample_ids, AssignmentRound.ADJUDICATION, set(), actor=actor,
                               now=now, per_case=1, min_evaluators=0)
    return {a.sample_id for a in result.assignments}, list(result.problems)


def escalate(session: DbSession, *, campaign: Campaign, actor: User | None, now: datetime) -> Consolidation:
    """Retry finding adjudicators for disagreeing samples that have none (after the pool grew)."""
    return consolidate(session, campaign=campaign, actor=actor, now=now, require_full=False)


def consolidate_on_submit(session: DbSession, *, review: Review, actor: User, now: datetime) -> None:
    """Hook: consolidate a sample when its last initial review arrives; record a decision submitted as a review.

    An adjudication or appeal assignment scored with the ordinary review form becomes that round's decision,
    with the review's total, vetoes and summary comment as the reasons (required).
    """
    assignment = review.assignment
    if assignment.round == AssignmentRound.INITIAL:
        sample = assignment.sample
        if sample.is_training:
            return
        campaign = sample.campaign
        outcome = consolidate(session, campaign=campaign, actor=None, now=now, sample_ids={sample.id})
        if outcome.unassigned:
            record(session, actor_id=None, action="result.adjudicator_missing", object_type="sample",
                   object_id=sample.id, at=now, after={"problems": outcome.problems})
    elif assignment.round in DECISION_STATES:
        decide(session, assignment=assignment, actor=actor, total=float(review.total or 0.0),
               vetoes=list(review.vetoes or []), reasons=review.summary_comment, now=now, via_review=True)


# --- decisions ---------------------------------------------------------------------------------------------


def _lock_sample(session: DbSession, sample_id: int) -> Sample:
    """Lock the sample row for the rest of the transaction (PostgreSQL; SQLite serialises writers anyway)."""
    return session.execute(sa.select(Sample).where(Sample.id == sample_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def current_result(session: DbSession, sample_id: int) -> Result | None:
    """The current result of a sample, or None."""
    return session.scalar(sa.select(Result).where(Result.sample_id == sample_id, Result.current.is_(True))
                          .order_by(Result.id.desc()).limit(1))


def _veto_codes(session: DbSession, assignment: Assignment) -> set[str]:
    from evalplat.reviews.rubrics import rubric_for_assignment

    _row, rubric = rubric_for_assignment(session, assignment)
    return {item.code for item in rubric.veto_items}


def _decided_items(session: DbSession, assignment: Assignment, items: dict[str, float | None], total: float, *,
                   via_review: bool) -> dict[str, float | None]:
    """Item points of a decision that add up to the decided total.

    A decision scored on the review form keeps the decider's own item points. A decision given as a total moves
    the earlier item points towards it: up, each item by the same share of its headroom to the maximum; down,
    each item by the same factor (items marked not applicable stay so). Either way the items, rescaled over the
    applicable ones as the rubric does, give the decided total.
    """
    from evalplat.reviews.rubrics import rubric_for_assignment

    if via_review and assignment.review is not None:
        return {item.item_code: (None if item.not_applicable or item.points is None else float(item.points))
                for item in assignment.review.items}
    _row, rubric = rubric_for_assignment(session, assignment)
    maxima = {item.code: float(item.max_points) for item in rubric.items}
    applicable = {code: float(v) for code, v in items.items() if v is not None and code in maxima}
    possible = sum(maxima[code] for code in applicable)
    if not applicable or possible <= 0:
        return items
    target = total / 100.0 * possible
    current = sum(applicable.values())
    if target >= current:
        share = (target - current) / (possible - current) if possible > current else 0.0
        moved = {c: v + (maxima[c] - v) * share for c, v in applicable.items()}
    else:
        moved = {c: v * target / current for c, v in applicable.items()}
    rounded = {c: round(v, 2) for c, v in moved.items()}
    # put the rounding remainder on the item with the most room, so the sum is exact to the cent
    remainder = round(target - sum(rounded.values()), 2)
    if remainder:
        room = max(rounded, key=lambda c: (maxima[c] - rounded[c]) if remainder > 0 else rounded[c])
        rounded[room] = round(rounded[room] + remainder, 2)
    return {**items, **rounded}


def decide(session: DbSession, *, assignment: Assignment, actor: User, total: float, vetoes: Iterable[str],
           reasons: str, now: datetime, via_review: bool = False) -> Result:
    """Record an adjudicator's (or appeal re-reviewer's) decision on a case: the case's new result.

    Parameters
    ----------
    assignment : Assignment
        An adjudication or appeal assignment of ``actor``.
    total : float
        The decided total, 0–100.
    vetoes : iterable of str
        Veto items the decision upholds (they force 不合格).
    reasons : str
        Why; required.
    via_review : bool
        The decision arrives as a submitted review (the assignment is already submitted).

    Returns
    -------
    Result
        The new current result (kind adjudicated or appeal).

    Raises
    ------
    ResultError
        No reasons, a total outside 0–100, an unknown veto item.
    NotAllowed, InvalidTransition
        Not the actor's assignment; the wrong round or campaign state; the assignment is closed.
    ConcurrentChange
        Someone else decided the case first.
    """
    # appeals depends on results (an appeal contests a result); results reaches appeals' operations only here,
    # at call time, for the appeal a re-review decides.
    from evalplat.appeals import operations as appeal_ops

    text = (reasons or "").strip()
    if not text:
        raise ResultError(_l("Give the reasons for the decision."), code="reasons_required")
    try:
        value = float(total)
    except (TypeError, ValueError):
        raise ResultError(_l("The decided total must be a number between 0 and 100."), code="bad_total") from None
    if not (np.isfinite(value) and 0.0 <= value <= 100.0):
        raise ResultError(_l("The decided total must be a number between 0 and 100."), code="bad_total")
    round_ = assignment.round
    if round_ not in DECISION_STATES:
        raise InvalidTransition(_l("Only adjudication and appeal assignments decide a case."), code="not_decision")
    if not assignment.can_open(actor):
        raise NotAllowed(_l("This assignment is not yours."), code="not_your_assignment")
    wanted = sorted(set(vetoes))
    unknown = sorted(set(wanted) - _veto_codes(session, assignment))
    if unknown:
        raise ResultError(_l("Not veto items of this rubric: %(items)s.", items=", ".join(unknown)),
                          code="unknown_veto")
    sample = _lock_sample(session, assignment.sample_id)
    session.refresh(assignment)
    campaign = sample.campaign
    session.refresh(campaign)
    if campaign.state not in DECISION_STATES[round_]:
        raise InvalidTransition(_l("Campaign %(name)s is %(state)s: %(round)s decisions cannot be recorded now.",
                                   name=campaign.name, state=campaign.state.value, round=round_.value),
                                code="decision_wrong_state")
    already = _l("Case %(code)s has already been decided by someone else; your decision was not recorded.",
                 code=sample.code)
    expected = (AssignmentState.SUBMITTED,) if via_review else OPEN
    if assignment.state not in expected:
        if assignment.state == AssignmentState.WITHDRAWN:
            raise ConcurrentChange(already, code="already_decided")
        raise InvalidTransition(_l("This assignment is closed (%(state)s).", state=assignment.state.value),
                                code="assignment_closed")
    previous = current_result(session, sample.id)
    appeal = None
    if round_ == AssignmentRound.ADJUDICATION:
        if previous is not None:
            raise ConcurrentChange(already, code="already_decided")
    else:
        appeal = appeal_ops.accepted_appeal(session, sample.id)
        if appeal is None:
            raise ConcurrentChange(already, code="already_decided")
    rules = Rules.of(campaign)
    entry = _initial_reviews(session, campaign, {sample.id}).get(sample.id, _SampleReviews())
    found = rules.disagreement(entry.totals, entry.vetoes) if entry.totals else None
    if previous is not None:
        raw_total, items = previous.raw_total, dict(previous.item_points or {})
        previous.current = False
    else:
        raw_total = round(rules.combined(entry.totals, rules.standing_vetoes(entry.vetoes))[0], 2) \
            if entry.totals else None
        items = _sample_item_means(session, sample.id)
    items = _decided_items(session, assignment, items, value, via_review=via_review)
    kind = ResultKind.ADJUDICATED if round_ == AssignmentRound.ADJUDICATION else ResultKind.APPEAL
    result = Result(sample_id=sample.id, kind=kind, total=round(value, 2), grade=Grade(rules.grade(value, wanted)),
                    raw_total=raw_total, calibrated_total=None, item_points=items, vetoes=wanted,
                    method="adjudicated" if kind == ResultKind.ADJUDICATED else "appeal",
                    disagreement=list(found.codes) if found is not None else [], reasons=text[:8000],
                    decided_by_id=actor.id, current=True, created_at=now)
    session.add(result)
    if not via_review:
        assignment_states.submit(assignment, now=now)
    others = session.scalars(sa.select(Assignment).where(
        Assignment.sample_id == sample.id, Assignment.round == round_, Assignment.id != assignment.id,
        Assignment.state.in_(OPEN))).all()
    for other in others:
        assignment_states.withdraw(other, now=now)
    session.flush()
    record(session, actor_id=actor.id, action="result.adjudicated" if kind == ResultKind.ADJUDICATED
           else "result.appeal", object_type="sample", object_id=sample.id, at=now,
           before={"result_id": previous.id, "total": previous.total, "grade": previous.grade}
           if previous is not None else None,
           after={"result_id": result.id, "assignment_id": assignment.id, "total": result.total,
                  "grade": result.grade, "vetoes": wanted, "reasons": text[:2000],
                  "withdrawn": [o.id for o in others], "appeal_id": appeal.id if appeal else None})
    if appeal is not None:
        appeal_ops.decide_appeal(session, appeal=appeal, result=result, previous=previous, reasons=text, actor=actor,
                                 now=now)
    return result


# --- official scores ---------------------------------------------------------------------------------------


def campaign_ratings(session: DbSession, campaign: Campaign) -> Ratings | None:
    """Initial-round totals of a campaign in long format (sample id, reviewer id, total); None if empty."""
    rows = session.execute(
        sa.select(Assignment.sample_id, Assignment.reviewer_id, Review.total)
        .join(Review, Review.assignment_id == Assignment.id).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
               Assignment.round == AssignmentRound.INITIAL, Review.state == ReviewState.SUBMITTED,
               Review.total.is_not(None))).all()
    if not rows:
        return None
    units, raters, totals = zip(*rows, strict=True)  # by column: numpy on Row objects probes each for arrays
    return Ratings.from_long(np.asarray(units, dtype=np.int64), np.asarray(raters, dtype=np.int64),
                             np.asarray(totals, dtype=np.float64))


def calibrated_scores(session: DbSession, campaign: Campaign) -> dict[int, float]:
    """Sample id → bias-corrected total (rater-effects model over the campaign's initial reviews)."""
    ratings = campaign_ratings(session, campaign)
    if ratings is None:
        return {}
    fit = fit_rater_effects(ratings)
    return {int(u): float(min(100.0, max(0.0, s)))
            for u, s in zip(fit.unit_labels, fit.unit_score, strict=True) if np.isfinite(s)}


def set_official_scores(session: DbSession, *, campaign: Campaign, actor: User | None, choice: str,
                        now: datetime) -> int:
    """Choose which consensus totals are official for the campaign: ``raw`` or ``calibrated`` (bias-corrected).

    The bias-corrected totals are (re)computed and stored on every current consensus result
    (``calibrated_total``); the official ``total`` and ``grade`` follow the choice. Adjudicated and appeal
    results are decisions and keep their totals. Allowed until the campaign is published; audited.

    Returns
    -------
    int
        Number of results updated.
    """
    if choice not in OFFICIAL_CHOICES:
        raise ResultError(_l("Choose raw or bias-corrected scores."), code="bad_official_choice")
    if campaign.state not in (CampaignState.SCORING, CampaignState.CONSOLIDATING):
        raise InvalidTransition(_l("The official scores are chosen before publication."),
                                code="official_after_publication")
    rules = Rules.of(campaign)
    calibrated = calibrated_scores(session, campaign)
    rows = session.execute(
        sa.select(Result.id, Result.sample_id, Result.raw_total, Result.vetoes).join(Sample, Sample.id == Result.sample_id)
        .where(Sample.campaign_id == campaign.id, Result.current.is_(True),
               Result.kind == ResultKind.CONSENSUS)).all()
    updates = []
    for rid, sample_id, raw_total, vetoes in rows:
        cal = calibrated.get(sample_id)
        official = cal if choice == "calibrated" and cal is not None else raw_total
        assert official is not None  # a consensus result always has its raw total
        updates.append({"id": rid, "calibrated_total": None if cal is None else round(cal, 2),
                        "total": round(float(official), 2), "grade": Grade(rules.grade(float(official), vetoes or []))})
    for start in range(0, len(updates), _CHUNK):
        session.execute(sa.update(Result), updates[start:start + _CHUNK])
    before = campaign.official_scores
    campaign.official_scores = choice
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="results.official_scores", object_type="campaign",
           object_id=campaign.id, at=now, before={"official_scores": before},
           after={"official_scores": choice, "results": len(updates), "calibrated": len(calibrated)})
    return len(updates)


# --- publication -------------------------------------------------------------------------------------------


def unfinished_samples(session: DbSession, campaign: Campaign) -> list[str]:
    """Codes of the campaign's (non-training) samples without a current result, in code order."""
    has_result = sa.select(Result.id).where(Result.current.is_(True), Result.sample_id == Sample.id).exists()
    return list(session.scalars(sa.select(Sample.code).where(
        Sample.campaign_id == campaign.id, Sample.is_training.is_(False), ~has_result).order_by(Sample.code)))


def _listed(codes: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def every_sample_has_a_result(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    """Publishing needs a current result for every sampled case; the message names the unfinished ones."""
    missing = unfinished_samples(session, campaign)
    if missing:
        return _l("%(n)d cases have no result yet: %(codes)s.", n=len(missing), codes=_listed(missing))
    return None


def calibrated_scores_are_current(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    """With bias-corrected official scores, every consensus result must carry its corrected total."""
    if campaign.official_scores != "calibrated":
        return None
    stale = session.scalar(sa.select(sa.func.count()).select_from(Result).join(Sample, Sample.id == Result.sample_id)
                           .where(Sample.campaign_id == campaign.id, Result.current.is_(True),
                                  Result.kind == ResultKind.CONSENSUS, Result.calibrated_total.is_(None))) or 0
    if stale:
        return _l("%(n)d results have no bias-corrected total yet; apply the official-score choice again.", n=stale)
    return None


def publish_circular(session: DbSession, *, campaign: Campaign, actor: User, now: datetime) -> Campaign:
    """Publish the province-wide figures (the circular, 通报): agencies then see every agency's aggregates."""
    if campaign.state not in PUBLISHED_STATES:
        raise InvalidTransition(_l("Publish the campaign's results before the circular."),
                                code="circular_before_results")
    if campaign.circular_published_at is not None:
        raise InvalidTransition(_l("The circular is already published."), code="circular_published")
    campaign.circular_published_at = now
    session.flush()
    record(session, actor_id=actor.id, action="results.circular_published", object_type="campaign",
           object_id=campaign.id, at=now, before={"circular_published_at": None},
           after={"circular_published_at": now})
    log.info("campaign %s: circular published", campaign.id)
    return campaign
