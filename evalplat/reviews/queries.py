"""Scoped reads of the reviewer's workspace: the inbox, the case page, calibration and rubric versions.

Every read of a reviewer's data is scoped in the query to the reviewer's own assignments. A reviewer's
pages never read another reviewer's review; the calibration comparison reads the group's per-item means
only after the reviewer has submitted.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import Campaign, CampaignRubric, Sample
from evalplat.cases.models import Case, CaseRedaction, RedactionStatus
from evalplat.cases.queries import offer_visible
from evalplat.db import DbSession
from evalplat.organisations.models import ReviewerProfile
from evalplat.reviews.models import CalibrationReference, Review, ReviewItem, ReviewState, RubricVersion
from forms.review import ItemEntry
from forms.rubrics import Rubric


class InboxStatus(enum.StrEnum):
    TO_ACCEPT = "to_accept"
    TO_SCORE = "to_score"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    OVERDUE = "overdue"


def format_total(total: float | None) -> str:
    """A stored total as people see it: one decimal, rounded half-up (the rubric's rounding rule)."""
    if total is None:
        return "—"
    return str(Decimal(repr(float(total))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class InboxRow:
    assignment_id: int
    code: str
    case_type: str
    round: AssignmentRound
    campaign: str
    due_at: datetime | None
    status: InboxStatus
    is_training: bool


def status_of(state: AssignmentState, review_state: ReviewState | None, due_at: datetime | None,
              now: datetime) -> InboxStatus:
    """The status a reviewer sees for one assignment."""
    if state == AssignmentState.SUBMITTED or review_state == ReviewState.SUBMITTED:
        return InboxStatus.SUBMITTED
    if due_at is not None and due_at < now:
        return InboxStatus.OVERDUE
    if state == AssignmentState.OFFERED:
        return InboxStatus.TO_ACCEPT
    return InboxStatus.DRAFT if review_state == ReviewState.DRAFT else InboxStatus.TO_SCORE


def inbox(session: DbSession, profile: ReviewerProfile | None, *, now: datetime) -> list[InboxRow]:
    """The reviewer's open and submitted assignments (declined and withdrawn ones left out), in one query.

    An offer of a case whose redaction is not approved yet waits: it is left out until the approval.

    Ordered: unfinished first, by due date (none last), then by case code.
    """
    if profile is None:
        return []
    stmt = (sa.select(Assignment.id, Sample.code, Case.case_type, Assignment.round, Campaign.name,
                      Assignment.due_at, Assignment.state, Review.state, Sample.is_training)
            .join(Sample, Sample.id == Assignment.sample_id)
            .join(Case, Case.id == Sample.case_id)
            .join(Campaign, Campaign.id == Sample.campaign_id)
            .outerjoin(Review, Review.assignment_id == Assignment.id)
            .where(Assignment.reviewer_id == profile.id,
                   Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED,
                                         AssignmentState.SUBMITTED]),
                   offer_visible())
            .order_by((Assignment.state == AssignmentState.SUBMITTED).asc(), Assignment.due_at.is_(None),
                      Assignment.due_at, Sample.code))
    rows = []
    for ident, code, case_type, round_, campaign, due_at, state, review_state, training in session.execute(stmt):
        rows.append(InboxRow(ident, code, case_type.value, round_, campaign, due_at,
                             status_of(state, review_state, due_at, now), training))
    return rows


def remaining(rows: list[InboxRow]) -> int:
    """How many of the inbox's assignments are still to be submitted."""
    return sum(row.status != InboxStatus.SUBMITTED for row in rows)


# --- the case page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    label: str  # a code: applied_to_assigned, assigned_to_first_meeting, assigned_to_closed
    days: int


@dataclass(frozen=True)
class CaseFacts:
    """What a reviewer may know of a case: never its number, agency, lawyer, firm, region or parties.

    ``cause``, ``stage_reached`` and ``result`` are the approved redacted texts of those fields (empty
    until the case's redaction is approved), never the imported values.
    """

    code: str
    case_type: str
    cause: str
    stage_reached: str
    result: str
    applied_on: date | None
    assigned_on: date | None
    first_meeting_on: date | None
    closed_on: date | None
    intervals: tuple[Interval, ...]


def _days(start: date | None, end: date | None) -> int | None:
    return (end - start).days if start is not None and end is not None else None


#: The columns of a case a reviewer may read (see :class:`CaseFacts`); its free text only redacted.
FACT_COLUMNS = (Case.case_type, Case.applied_on, Case.assigned_on, Case.first_meeting_on, Case.closed_on)


def _approved_fields(row: CaseRedaction | None) -> dict[str, Any]:
    return dict(row.fields or {}) if row is not None and row.status == RedactionStatus.APPROVED else {}


def case_facts(session: DbSession, sample_id: int) -> CaseFacts:
    """The facts that matter for judging the sampled case (only the columns listed are read)."""
    code, *facts, fields = session.execute(
        sa.select(Sample.code, *FACT_COLUMNS, CaseRedaction.fields).join(Case, Case.id == Sample.case_id)
        .outerjoin(CaseRedaction, sa.and_(CaseRedaction.case_id == Case.id,
                                          CaseRedaction.status == RedactionStatus.APPROVED))
        .where(Sample.id == sample_id)).one()
    return _facts(code, fields or {}, *facts)


def facts_of(sample: Sample) -> CaseFacts:
    """The facts of a sample loaded by :func:`case_assignment` (its case holds only :data:`FACT_COLUMNS`)."""
    case = sample.case
    return _facts(sample.code, _approved_fields(case.facts_redaction),
                  *(getattr(case, column.key) for column in FACT_COLUMNS))


def _facts(code: str, fields: dict[str, Any], case_type: Any, applied: date | None,
           assigned: date | None, first: date | None, closed: date | None) -> CaseFacts:
    intervals = []
    for label, start, end in (("applied_to_assigned", applied, assigned),
                              ("assigned_to_first_meeting", assigned, first),
                              ("assigned_to_closed", assigned, closed)):
        days = _days(start, end)
        if days is not None:
            intervals.append(Interval(label, days))
    return CaseFacts(code, case_type.value, str(fields.get("cause") or ""), str(fields.get("stage_reached") or ""),
                     str(fields.get("result") or ""), applied, assigned, first, closed, tuple(intervals))


def case_assignment(session: DbSession, assignment_id: int) -> Assignment | None:
    """An assignment with everything its case page and its scoring need, in one query.

    Joined: the sample, its campaign, the case (only :data:`FACT_COLUMNS`, never names or numbers), the
    review with its rubric version (the definition left unloaded: :func:`~evalplat.reviews.rubrics.rubric_of`
    reads it only when its cache does not already hold that version) and the review's items.
    """
    review = joinedload(Assignment.review)
    stmt = (sa.select(Assignment).where(Assignment.id == assignment_id)
            .options(joinedload(Assignment.sample).joinedload(Sample.campaign),
                     joinedload(Assignment.sample).joinedload(Sample.case).load_only(*FACT_COLUMNS)
                     .joinedload(Case.facts_redaction),
                     review.joinedload(Review.rubric_version).defer(RubricVersion.definition),
                     review.joinedload(Review.items)))
    return session.scalars(stmt).unique().one_or_none()


def review_items(session: DbSession, review_id: int) -> list[ReviewItem]:
    return list(session.scalars(sa.select(ReviewItem).where(ReviewItem.review_id == review_id)
                                .order_by(ReviewItem.id)))


# --- calibration ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemComparison:
    code: str
    label: Any
    max_points: float
    mine: float | None  # None: N/A
    group_mean: float | None
    group_n: int
    reference: float | None
    reference_na: bool


@dataclass(frozen=True)
class CalibrationComparison:
    items: tuple[ItemComparison, ...]
    my_total: float | None
    group_total_mean: float | None
    group_n: int
    reference_total: float | None
    reference_grade: str | None


def calibration_comparison(session: DbSession, *, assignment: Assignment, rubric: Rubric) -> CalibrationComparison | None:
    """The reviewer's scores next to the group's per-item means and the organiser's reference.

    Only for a submitted calibration review of the reviewer; ``None`` otherwise (nobody sees the group's
    figures before submitting their own).
    """
    review = assignment.review
    if (assignment.round != AssignmentRound.CALIBRATION or review is None
            or review.state != ReviewState.SUBMITTED):
        return None
    submitted = (sa.select(Review.id).join(Assignment, Assignment.id == Review.assignment_id)
                 .where(Assignment.sample_id == assignment.sample_id, Assignment.round == AssignmentRound.CALIBRATION,
                        Review.state == ReviewState.SUBMITTED, Review.rubric_version_id == review.rubric_version_id))
    means = {code: (mean, n) for code, mean, n in session.execute(
        sa.select(ReviewItem.item_code, sa.func.avg(ReviewItem.points), sa.func.count(ReviewItem.points))
        .where(ReviewItem.review_id.in_(submitted.scalar_subquery()), ReviewItem.not_applicable.is_(False))
        .group_by(ReviewItem.item_code))}
    total_mean, group_n = session.execute(
        sa.select(sa.func.avg(Review.total), sa.func.count(Review.id)).where(Review.id.in_(submitted.scalar_subquery()))
    ).one()
    mine = {row.item_code: row for row in review_items(session, review.id)}
    reference = session.scalar(sa.select(CalibrationReference)
                               .where(CalibrationReference.sample_id == assignment.sample_id))
    ref_items = reference.items if reference is not None and reference.rubric_version_id == review.rubric_version_id \
        else {}
    items = []
    for item in rubric.items:
        own = mine.get(item.code)
        mean, n = means.get(item.code, (None, 0))
        ref = ref_items.get(item.code) or {}
        items.append(ItemComparison(
            code=item.code, label=item.label, max_points=item.max_points,
            mine=None if own is None or own.not_applicable else own.points,
            group_mean=None if mean is None else float(mean), group_n=int(n),
            reference=ref.get("points"), reference_na=bool(ref.get("na"))))
    has_reference = bool(ref_items)
    return CalibrationComparison(
        items=tuple(items), my_total=review.total,
        group_total_mean=None if total_mean is None else float(total_mean), group_n=int(group_n or 0),
        reference_total=reference.total if has_reference and reference is not None else None,
        reference_grade=reference.grade.value if has_reference and reference is not None else None)


@dataclass(frozen=True)
class TrainingRow:
    sample: Sample
    case_type: str
    offered: int
    submitted: int
    reference_total: float | None


def training_samples(session: DbSession, campaign_id: int) -> list[TrainingRow]:
    """The campaign's training cases with their calibration progress and reference total (two queries)."""
    samples = session.execute(
        sa.select(Sample, Case.case_type, CalibrationReference.total)
        .join(Case, Case.id == Sample.case_id)
        .outerjoin(CalibrationReference, CalibrationReference.sample_id == Sample.id)
        .where(Sample.campaign_id == campaign_id, Sample.is_training.is_(True)).order_by(Sample.code)).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"offered": 0, "submitted": 0})
    for sample_id, state, n in session.execute(
            sa.select(Assignment.sample_id, Assignment.state, sa.func.count())
            .join(Sample, Sample.id == Assignment.sample_id)
            .where(Sample.campaign_id == campaign_id, Assignment.round == AssignmentRound.CALIBRATION)
            .group_by(Assignment.sample_id, Assignment.state)):
        if state != AssignmentState.DECLINED and state != AssignmentState.WITHDRAWN:
            counts[sample_id]["offered"] += n
        if state == AssignmentState.SUBMITTED:
            counts[sample_id]["submitted"] += n
    return [TrainingRow(sample, case_type.value, counts[sample.id]["offered"], counts[sample.id]["submitted"], total)
            for sample, case_type, total in samples]


# --- rubric versions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    version: RubricVersion
    reviews: int
    campaigns: int


def rubric_versions(session: DbSession, user: User) -> list[VersionRow]:
    """The rubric versions the organiser may use (its jurisdiction's and its ancestors'), with how many reviews
    use each and how many campaigns pin it — counted in the campaigns the organiser may read only (one query)."""
    from evalplat.organisations.jurisdiction import campaigns_visible_to, rubric_versions_visible_to

    readable = sa.select(Campaign.id).where(campaigns_visible_to(user))
    reviews = (sa.select(Review.rubric_version_id, sa.func.count().label("n"))
               .join(Assignment, Assignment.id == Review.assignment_id)
               .join(Sample, Sample.id == Assignment.sample_id)
               .where(Sample.campaign_id.in_(readable))
               .group_by(Review.rubric_version_id).subquery())
    pins = (sa.select(CampaignRubric.rubric_version_id, sa.func.count(sa.distinct(CampaignRubric.campaign_id))
                      .label("n")).where(CampaignRubric.campaign_id.in_(readable))
            .group_by(CampaignRubric.rubric_version_id).subquery())
    stmt = (sa.select(RubricVersion, sa.func.coalesce(reviews.c.n, 0), sa.func.coalesce(pins.c.n, 0))
            .where(rubric_versions_visible_to(user))
            .outerjoin(reviews, reviews.c.rubric_version_id == RubricVersion.id)
            .outerjoin(pins, pins.c.rubric_version_id == RubricVersion.id)
            .options(sa.orm.joinedload(RubricVersion.jurisdiction))
            .order_by(RubricVersion.key, RubricVersion.version.desc(), RubricVersion.id.desc()))
    return [VersionRow(row, int(n_reviews), int(n_pins)) for row, n_reviews, n_pins in session.execute(stmt)]


def pinnable_versions(session: DbSession, campaign: Campaign) -> list[RubricVersion]:
    """The versions a campaign may pin (its jurisdiction's and its ancestors'), newest first per key."""
    from evalplat.organisations.jurisdiction import rubric_versions_for_region

    return list(session.scalars(sa.select(RubricVersion).where(rubric_versions_for_region(campaign.jurisdiction_id))
                                .options(sa.orm.joinedload(RubricVersion.jurisdiction))
                                .order_by(RubricVersion.key, RubricVersion.version.desc(), RubricVersion.id.desc())))


def campaigns_for_calibration(session: DbSession, user: User) -> list[Campaign]:
    """The campaigns the organiser runs."""
    from evalplat.organisations.jurisdiction import campaigns_managed_by

    return list(session.scalars(sa.select(Campaign).where(campaigns_managed_by(user))
                                .order_by(Campaign.year.desc(), Campaign.name)))


def reference_entries(reference: CalibrationReference) -> list[ItemEntry]:
    """The stored reference scores as form entries (to edit them)."""
    return [ItemEntry(code=code, level=v.get("level"), points=v.get("points"), not_applicable=bool(v.get("na")),
                      veto=bool(v.get("veto")), comment=v.get("comment") or "")
            for code, v in (reference.items or {}).items()]


def case_search(session: DbSession, text: str, *, limit: int = 30) -> list[Any]:
    """Closed cases whose number, cause or agency contains ``text`` (the calibration case picker), newest first."""
    from evalplat.organisations.models import Agency, Region

    like = f"%{text.replace('%', '').replace('_', '')}%"
    return list(session.execute(
        sa.select(Case.id, Case.case_number, Case.case_type, Case.cause, Agency.name, Region.name, Case.closed_on)
        .join(Agency, Agency.id == Case.agency_id).join(Region, Region.id == Agency.city_id)
        .where(sa.or_(Case.case_number.ilike(like), Case.cause.ilike(like), Agency.name.ilike(like)))
        .order_by(Case.closed_on.desc().nulls_last(), Case.id.desc()).limit(limit)).all())
