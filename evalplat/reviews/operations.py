"""The write path of the reviewer's workspace: accept, decline, save a draft, submit, calibration.

Every function takes the session and the actor explicitly, checks the state, changes rows and writes its
audit event in the caller's transaction; the view or the CLI commits once.

Concurrency: ``Review`` and ``Assignment`` carry version columns (optimistic locking). Two submits of the
same review at the same time both read version *n*; the first to flush moves it to *n + 1* and the other's
``UPDATE … WHERE version = n`` matches nothing, so SQLAlchemy raises ``StaleDataError`` (shown as "someone
else changed this") and its transaction rolls back: exactly one submit wins. Two first saves racing to
create the review collide on the unique ``assignment_id`` and are reported the same way.

Other domains react to a submitted review through the ``review_submitted`` signal
(:mod:`evalplat.signals`), connected by the factory, or with :func:`on_review_submitted`::

    on_review_submitted(consolidate_when_complete)  # consolidate_when_complete(session, *, review, actor, now)

Receivers run inside the submitting transaction, after the review is stored; an exception in one rolls
the submit back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from evalplat.accounts.models import User
from evalplat.assignments import states as assignment_states
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState, Conflict, ConflictStatus
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.errors import ConcurrentChange, DomainError, InvalidTransition, NotAllowed
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, ReviewerProfile
from evalplat.reviews.models import (
    CalibrationReference,
    Grade,
    Review,
    ReviewItem,
    ReviewState,
    RubricVersion,
)
from evalplat.reviews.rubrics import freeze, rubric_for_assignment, rubric_of
from evalplat.signals import review_submitted
from forms.review import DRAFT, SUBMIT, ItemEntry, ReviewScores
from forms.rubrics import Rubric, ScoreError

__all__ = [
    "DeclineOutcome",
    "ReviewError",
    "SubmitHook",
    "accept_assignment",
    "decline_assignment",
    "ensure_scorable",
    "on_review_submitted",
    "record_reference",
    "save_draft",
    "start_calibration",
    "submit_review",
    "unregister_submit_hook",
]

#: Campaign states in which each round may be scored.
SCORING_STATES: dict[AssignmentRound, frozenset[CampaignState]] = {
    AssignmentRound.CALIBRATION: frozenset({CampaignState.DRAFT, CampaignState.SAMPLED, CampaignState.ASSIGNED,
                                            CampaignState.SCORING}),
    AssignmentRound.INITIAL: frozenset({CampaignState.SCORING}),
    AssignmentRound.ADJUDICATION: frozenset({CampaignState.SCORING, CampaignState.CONSOLIDATING}),
    AssignmentRound.APPEAL: frozenset({CampaignState.PUBLISHED, CampaignState.APPEALS_CLOSED}),
}


class ReviewError(DomainError):
    code = "review_error"


class SubmitHook(Protocol):
    def __call__(self, session: DbSession, *, review: Review, actor: User, now: datetime) -> Any: ...


def on_review_submitted(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Connect ``hook(session, *, review, actor, now)`` to the ``review_submitted`` signal (strongly).

    Returns the hook unchanged; connecting the same function twice has no effect.
    """
    review_submitted.connect(hook, weak=False)
    return hook


def unregister_submit_hook(hook: Callable[..., Any]) -> None:
    """Disconnect a hook connected with :func:`on_review_submitted`."""
    review_submitted.disconnect(hook)


# --- accept and decline -----------------------------------------------------------------------------------


def _own(assignment: Assignment, actor: User) -> None:
    if not assignment.can_open(actor):
        raise NotAllowed(_l("This assignment is not yours."), code="not_your_assignment")


def accept_assignment(session: DbSession, *, assignment: Assignment, actor: User, now: datetime) -> Assignment:
    """The reviewer accepts an offered assignment (offered → accepted)."""
    _own(assignment, actor)
    assignment_states.accept(assignment, now=now)
    session.flush()
    record(session, actor_id=actor.id, action="assignment.accepted", object_type="assignment",
           object_id=assignment.id, before={"state": "offered"}, after={"state": "accepted"}, at=now)
    return assignment


@dataclass(frozen=True)
class DeclineOutcome:
    """What happened to a declined case: how many new assignments were made and why not (when none)."""

    reassigned: int | None  # None: not attempted (the campaign is not assigned or scoring)
    problems: tuple[str, ...] = ()


def decline_assignment(session: DbSession, *, assignment: Assignment, actor: User, reason: str, conflict: bool,
                       now: datetime) -> DeclineOutcome:
    """The reviewer declines an offered or accepted assignment, giving the reason.

    A declared conflict of interest is recorded as a conflict with the case (so the case is never offered
    to the reviewer again). The case is then re-assigned to another reviewer while the campaign is assigned
    or scoring; otherwise the organiser re-assigns it.

    Returns
    -------
    DeclineOutcome
    """
    from evalplat.assignments.conflicts import declare_conflict
    from evalplat.assignments.operations import reassign_declined

    _own(assignment, actor)
    text = (reason or "").strip()
    if not text:
        raise ReviewError(_l("Give the reason for declining."), code="decline_reason_required")
    if assignment.state not in (AssignmentState.OFFERED, AssignmentState.ACCEPTED):
        raise InvalidTransition(_l("This assignment can no longer be declined."), code="assignment_not_open")
    review = assignment.review
    if review is not None and review.state == ReviewState.SUBMITTED:
        raise InvalidTransition(_l("The review is submitted; the assignment can no longer be declined."),
                                code="review_submitted")
    before = assignment_states.decline(assignment, reason=text, conflict_declared=bool(conflict), now=now)
    session.flush()
    record(session, actor_id=actor.id, action="assignment.declined", object_type="assignment",
           object_id=assignment.id, before={"state": before},
           after={"state": "declined", "conflict": bool(conflict), "reason": text[:2000]}, at=now)
    if conflict:
        declare_conflict(session, reviewer=assignment.reviewer, case=assignment.sample.case, reason=text,
                         actor=actor, now=now)
    campaign = assignment.sample.campaign
    if campaign.state in (CampaignState.ASSIGNED, CampaignState.SCORING):
        outcome = reassign_declined(session, assignment=assignment, actor=actor, now=now)
        return DeclineOutcome(len(outcome.assignments), tuple(str(p) for p in outcome.problems))
    return DeclineOutcome(None)


# --- drafts and submission ---------------------------------------------------------------------------------


def ensure_scorable(session: DbSession, *, assignment: Assignment, actor: User) -> Review | None:
    """Raise unless ``actor`` may save or submit scores on ``assignment`` now; returns its review, if any.

    Raises
    ------
    NotAllowed
        Not the actor's assignment.
    InvalidTransition
        Not accepted yet, closed, already submitted (locked), or the campaign is not scoring this round.
    """
    return _check_can_score(session, assignment, actor)


def _check_can_score(session: DbSession, assignment: Assignment, actor: User) -> Review | None:
    _own(assignment, actor)
    if assignment.state == AssignmentState.OFFERED:
        raise InvalidTransition(_l("Accept the assignment before scoring it."), code="assignment_not_accepted")
    if assignment.state != AssignmentState.ACCEPTED:
        raise InvalidTransition(_l("This assignment is closed (%(state)s); it can no longer be scored.",
                                   state=assignment.state.value), code="assignment_closed")
    review = assignment.review
    if review is not None and review.state == ReviewState.SUBMITTED:
        raise InvalidTransition(_l("The review is submitted and locked."), code="review_locked")
    campaign = assignment.sample.campaign
    if campaign.state not in SCORING_STATES[assignment.round]:
        raise InvalidTransition(_l("Campaign %(name)s is %(state)s: %(round)s reviews cannot be scored now.",
                                   name=campaign.name, state=campaign.state.value, round=assignment.round.value),
                                code="campaign_not_scoring")
    return review


@contextmanager
def _race() -> Iterator[None]:
    """Report a lost race (stale version, duplicate review) as one clear ConcurrentChange."""
    try:
        yield
    except (IntegrityError, StaleDataError) as error:
        raise ConcurrentChange(_l("This review was changed from another window at the same time; reload the "
                                  "page to see its current state."), code="review_race") from error


def _item_rows(review_id: int, rubric: Rubric, entries: Mapping[str, ItemEntry]) -> list[dict[str, Any]]:
    rows = []
    for item in rubric.items:
        entry = entries.get(item.code)
        if entry is None:
            continue
        if not (entry.filled or entry.points is not None or entry.level or entry.comment or entry.veto):
            continue
        rows.append({"review_id": review_id, "item_code": item.code, "level": entry.level,
                     "points": None if entry.points is None else float(entry.points),
                     "not_applicable": entry.not_applicable, "veto": entry.veto, "comment": entry.comment})
    return rows


def _store(session: DbSession, *, assignment: Assignment, actor: User, data: ReviewScores, now: datetime
           ) -> tuple[Review, RubricVersion, Rubric]:
    """Create or update the review and replace its items in bulk (shared by draft and submit)."""
    review = _check_can_score(session, assignment, actor)
    row, rubric = rubric_for_assignment(session, assignment)
    unknown = sorted(set(data.entries) - {item.code for item in rubric.items})
    if unknown:
        raise ReviewError(_l("Unknown items for this rubric: %(items)s.", items=", ".join(unknown)),
                          code="unknown_items")
    with _race():
        if review is None:
            review = Review(assignment_id=assignment.id, rubric_version_id=row.id, state=ReviewState.DRAFT,
                            started_at=now, updated_at=now)
            session.add(review)
            session.flush()
            freeze(session, row, actor=actor, now=now)
            stored: list[ReviewItem] = []
        else:
            review.updated_at = now  # bumps the version: a concurrent change fails here
            session.flush()
            # The items as read with the review: had another save changed them since, the version check
            # of this flush would have failed, so they are the stored items this save replaces.
            stored = list(review.items)
    if _replace_items(session, review.id, stored, _item_rows(review.id, rubric, data.entries)):
        session.expire(review, ["items"])
    return review, row, rubric


_ITEM_VALUES = ("level", "points", "not_applicable", "veto", "comment")


def _replace_items(session: DbSession, review_id: int, stored: Iterable[ReviewItem],
                   rows: list[dict[str, Any]]) -> bool:
    """Make the review's items equal to ``rows``, writing only the items that changed; True when any did."""
    old = {item.item_code: item for item in stored}
    changed = [row for row in rows if (item := old.get(row["item_code"])) is None
               or any(getattr(item, name) != row[name] for name in _ITEM_VALUES)]
    wanted = {row["item_code"] for row in rows}
    gone = [item.id for code, item in old.items() if code not in wanted]
    gone += [old[row["item_code"]].id for row in changed if row["item_code"] in old]
    if gone:
        session.execute(sa.delete(ReviewItem).where(ReviewItem.review_id == review_id, ReviewItem.id.in_(gone)))
    if changed:
        session.execute(sa.insert(ReviewItem), changed)
    return bool(gone or changed)


def save_draft(session: DbSession, *, assignment: Assignment, actor: User, data: ReviewScores, now: datetime) -> Review:
    """Save what the reviewer has entered so far (anything may be missing); the review stays a draft.

    Parameters
    ----------
    assignment : Assignment
        An accepted assignment of ``actor``.
    data : ReviewScores
        The validated form (:meth:`forms.review.ReviewForm.scores`).

    Raises
    ------
    NotAllowed, InvalidTransition, ConcurrentChange
        Not the reviewer's assignment; not accepted, closed or submitted; saved elsewhere at the same time.
    """
    review, _row, _rubric = _store(session, assignment=assignment, actor=actor, data=data, now=now)
    review.total = None
    review.grade = None
    review.vetoes = list(data.vetoes)
    session.flush()
    record(session, actor_id=actor.id, action="review.draft_saved", object_type="review", object_id=review.id,
           after={"assignment_id": assignment.id, "filled": sum(e.filled for e in data.entries.values())}, at=now)
    return review


def submit_review(session: DbSession, *, assignment: Assignment, actor: User, data: ReviewScores, now: datetime
                  ) -> Review:
    """Submit the review: every item scored or N/A, total and grade computed here, the review locked.

    The total comes from the rubric's :meth:`~forms.rubrics.Rubric.evaluate` with the campaign's grade
    bands; the assignment becomes submitted; registered hooks (:func:`on_review_submitted`) run last.

    Raises
    ------
    ReviewError
        When the scores are incomplete or invalid (the message names the item).
    NotAllowed, InvalidTransition, ConcurrentChange
        As for :func:`save_draft`; a second submit of the same review always fails.
    """
    if data.mode != SUBMIT:
        raise ReviewError(_l("Use the submit button to submit the review."), code="not_submit_mode")
    missing = [code for code, entry in data.entries.items() if not entry.filled]
    if missing:
        raise ReviewError(_l("Score every item or mark it not applicable first: %(items)s.",
                             items=", ".join(missing)), code="review_incomplete")
    review, row, rubric = _store(session, assignment=assignment, actor=actor, data=data, now=now)
    campaign = assignment.sample.campaign
    try:
        evaluation = rubric.evaluate(data.points, data.vetoes, bands=campaign.grade_bands or None)
    except ScoreError as error:
        raise ReviewError(_l("%(item)s: %(problem)s", item=error.item, problem=error.message.get(_locale())),
                          code=f"score_{error.code}") from error
    review.state = ReviewState.SUBMITTED
    review.total = evaluation.total
    review.grade = Grade(evaluation.grade)
    review.vetoes = list(evaluation.vetoes)
    review.submitted_at = now
    assignment_states.submit(assignment, now=now)
    with _race():
        session.flush()
    record(session, actor_id=actor.id, action="review.submitted", object_type="review", object_id=review.id,
           before={"state": "draft"},
           after={"assignment_id": assignment.id, "round": assignment.round, "rubric_version_id": row.id,
                  "content_hash": row.content_hash, "total": evaluation.total, "grade": evaluation.grade,
                  "vetoes": list(evaluation.vetoes), "not_applicable": list(evaluation.not_applicable)}, at=now)
    review_submitted.send(session, review=review, actor=actor, now=now)
    return review


def _locale() -> str:
    from forms.review import current_language

    return current_language()


# --- calibration -------------------------------------------------------------------------------------------


def start_calibration(session: DbSession, *, actor: User, campaign: Campaign, case_ids: Iterable[int],
                      due_at: datetime | None, now: datetime) -> list[Assignment]:
    """Give every active reviewer the same training cases (a calibration round).

    Each case becomes a training sample of the campaign (``Sample.is_training``, code ``PREFIX-Tnnn``) and is
    offered to every active reviewer whose case types include it, except reviewers with a conflict with the
    case (declared or computed, not dismissed) and the case's own lawyer.

    Raises
    ------
    ReviewError
        When no case is given, a case does not exist or is already part of the campaign.
    """
    ids = list(dict.fromkeys(int(i) for i in case_ids))
    if not ids:
        raise ReviewError(_l("Choose at least one training case."), code="no_training_cases")
    if campaign.state not in SCORING_STATES[AssignmentRound.CALIBRATION]:
        raise InvalidTransition(_l("A calibration round runs before the live cases are scored."),
                                code="calibration_too_late")
    from evalplat.organisations.jurisdiction import in_subtree, pools_for_campaign

    # cases of the campaign's jurisdiction only (another's case is as unknown as a missing one)
    cases = {c.id: c for c in session.scalars(sa.select(Case).join(Agency, Agency.id == Case.agency_id).where(
        Case.id.in_(ids), in_subtree(Agency.region_id, campaign.jurisdiction_id, session)))}
    missing = [str(i) for i in ids if i not in cases]
    if missing:
        raise ReviewError(_l("No case with id %(ids)s.", ids=", ".join(missing)), code="unknown_case")
    taken = session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id,
                                                            Sample.case_id.in_(ids))).all()
    if taken:
        raise ReviewError(_l("Cases %(ids)s are already part of this campaign.", ids=", ".join(map(str, taken))),
                          code="case_already_sampled")
    existing = session.scalar(sa.select(sa.func.count()).select_from(Sample).where(
        Sample.campaign_id == campaign.id, Sample.is_training.is_(True))) or 0
    reviewers = session.scalars(sa.select(ReviewerProfile).where(ReviewerProfile.active.is_(True),
                                                                 pools_for_campaign(campaign))
                                .order_by(ReviewerProfile.id)).all()
    conflicts = set(session.execute(sa.select(Conflict.reviewer_id, Conflict.case_id).where(
        Conflict.case_id.in_(ids), Conflict.status != ConflictStatus.DISMISSED)).all())
    made: list[Assignment] = []
    for number, case_id in enumerate(ids, start=existing + 1):
        case = cases[case_id]
        sample = Sample(campaign_id=campaign.id, case_id=case_id, code=f"{campaign.code_prefix}-T{number:03d}",
                        stratum="training", is_training=True, drawn_at=now)
        session.add(sample)
        session.flush()
        for reviewer in reviewers:
            if case.case_type.value not in (reviewer.case_types or []):
                continue
            if (reviewer.id, case_id) in conflicts or (case.lawyer_id and reviewer.lawyer_id == case.lawyer_id):
                continue
            assignment = Assignment(sample_id=sample.id, reviewer_id=reviewer.id, round=AssignmentRound.CALIBRATION,
                                    state=AssignmentState.OFFERED, due_at=due_at, created_at=now, updated_at=now)
            session.add(assignment)
            made.append(assignment)
    session.flush()
    record(session, actor_id=actor.id, action="calibration.started", object_type="campaign", object_id=campaign.id,
           after={"cases": ids, "assignments": len(made)}, at=now)
    return made


def record_reference(session: DbSession, *, actor: User, sample: Sample, rubric_row: RubricVersion,
                     data: ReviewScores, note: str, now: datetime) -> CalibrationReference:
    """Record (or replace) the organiser's reference scores for a training case.

    Raises
    ------
    ReviewError
        When the sample is not a training case or the scores are incomplete or invalid.
    """
    if not sample.is_training:
        raise ReviewError(_l("Reference scores are kept only for training cases."), code="not_training")
    rubric = rubric_of(rubric_row)
    try:
        evaluation = rubric.evaluate(data.points, data.vetoes, bands=sample.campaign.grade_bands or None)
    except ScoreError as error:
        raise ReviewError(_l("%(item)s: %(problem)s", item=error.item, problem=error.message.get(_locale())),
                          code=f"score_{error.code}") from error
    items = {code: {"level": e.level, "points": e.points, "na": e.not_applicable, "veto": e.veto,
                    "comment": e.comment} for code, e in data.entries.items()}
    reference = session.scalar(sa.select(CalibrationReference).where(CalibrationReference.sample_id == sample.id))
    before = None
    if reference is None:
        reference = CalibrationReference(sample_id=sample.id)
        session.add(reference)
    else:
        before = {"total": reference.total, "grade": reference.grade}
    reference.rubric_version_id = rubric_row.id
    reference.items = items
    reference.vetoes = list(evaluation.vetoes)
    reference.total = evaluation.total
    reference.grade = Grade(evaluation.grade)
    reference.note = (note or "").strip()
    reference.recorded_by_id = actor.id
    reference.recorded_at = now
    session.flush()
    record(session, actor_id=actor.id, action="calibration.reference_recorded", object_type="sample",
           object_id=sample.id, before=before,
           after={"total": evaluation.total, "grade": evaluation.grade, "rubric_version_id": rubric_row.id}, at=now)
    return reference


def scores_from_items(rubric: Rubric, rows: Iterable[ReviewItem], mode: str = DRAFT) -> ReviewScores:
    """Rebuild :class:`ReviewScores` from stored review items (to resume a draft or re-check a review)."""
    entries = {row.item_code: ItemEntry(code=row.item_code, level=row.level,
                                        points=None if row.points is None else _number(row.points),
                                        not_applicable=row.not_applicable, veto=row.veto, comment=row.comment)
               for row in rows}
    ordered = {item.code: entries.get(item.code, ItemEntry(item.code, None, None, False, False, ""))
               for item in rubric.items}
    points = {code: e.points for code, e in ordered.items() if e.filled or e.points is not None}
    vetoes = tuple(code for code, e in ordered.items() if e.veto)
    return ReviewScores(mode=mode, entries=ordered, points=points, vetoes=vetoes)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
