"""Each role's first page is its to-do list: what is waiting, how many, and where to do it.

Every figure is a scoped query (grouped by campaign where it belongs to one), so the page costs a handful of
queries whatever the size of the province. A to-do item carries the page that does the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for

from evalplat.accounts.models import User
from evalplat.appeals.models import Appeal, AppealState
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState, Conflict, ConflictStatus
from evalplat.campaigns import states
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.cases.models import Case, Document, Redaction, RedactionStatus
from evalplat.cases.queries import offer_visible
from evalplat.errors import DomainError
from evalplat.extensions import db
from evalplat.i18n import SafeLazyString
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, Lawyer, ReviewerProfile
from evalplat.reviews.models import Review, ReviewState

OPEN = (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
DECISION_ROUNDS = (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL)
REVIEW_ROUNDS = (AssignmentRound.INITIAL, AssignmentRound.CALIBRATION)
DUE_SOON = timedelta(days=3)
# Campaigns still being worked on (a final campaign has nothing left to do).
ACTIVE = tuple(s for s in CampaignState if s != CampaignState.FINAL)
# The state each campaign state moves forward to (the back edge assigned → sampled is not a next step).
FORWARD = {s: next((t for t in states.EDGES[s] if list(CampaignState).index(t) > list(CampaignState).index(s)), None)
           for s in CampaignState}


@dataclass
class Todo:
    """One thing to do: how many, what, where (the link), and an optional detail line."""

    count: int
    text: str
    url: str
    detail: str = ""


@dataclass
class CampaignTodo:
    campaign: Campaign
    items: list[Todo] = field(default_factory=list)
    next_state: CampaignState | None = None
    blockers: list[str] = field(default_factory=list)


def _grouped(stmt: sa.Select[int, int]) -> dict[int, int]:
    return {cid: n for cid, n in db.session.execute(stmt).all()}


def campaign_counts(campaign_ids: list[int], *, now: datetime) -> dict[str, dict[int, int]]:
    """Per-campaign counts of the organiser's waiting work (one grouped query each)."""
    if not campaign_ids:
        return {}
    in_campaigns = Sample.campaign_id.in_(campaign_ids)
    count = sa.func.count
    return {
        "redaction": _grouped(
            sa.select(Sample.campaign_id, count(sa.distinct(Sample.case_id))).join(Document, Document.case_id == Sample.case_id)
            .join(Redaction, Redaction.document_id == Document.id)
            .where(in_campaigns, Redaction.status == RedactionStatus.PENDING).group_by(Sample.campaign_id)),
        "overdue": _grouped(
            sa.select(Sample.campaign_id, count()).join(Assignment, Assignment.sample_id == Sample.id)
            .where(in_campaigns, Assignment.state.in_(OPEN), Assignment.round.in_(REVIEW_ROUNDS),
                   Assignment.due_at < now).group_by(Sample.campaign_id)),
        "decisions": _grouped(
            sa.select(Sample.campaign_id, count()).join(Assignment, Assignment.sample_id == Sample.id)
            .where(in_campaigns, Assignment.state.in_(OPEN), Assignment.round == AssignmentRound.ADJUDICATION)
            .group_by(Sample.campaign_id)),
        "appeals": _grouped(
            sa.select(Sample.campaign_id, count()).join(Appeal, Appeal.sample_id == Sample.id)
            .where(in_campaigns, Appeal.state == AppealState.FILED).group_by(Sample.campaign_id)),
    }


def next_step(campaign: Campaign, *, now: datetime) -> tuple[CampaignState | None, list[str]]:
    """The state the campaign moves forward to and what still blocks the move (empty: it is ready)."""
    target = FORWARD.get(campaign.state)
    if target is None:
        return None, []
    try:
        return target, states.problems(db.session, campaign, target, now=now)
    except DomainError:  # pragma: no cover - FORWARD lists edges only
        return None, []


# The organiser's per-campaign queues: (count key, text, endpoint, url arguments; None = the campaign's id).
TODO_LINKS: list[tuple[str, SafeLazyString, str, dict[str, Any]]] = [
    ("redaction", _l("sampled cases whose redaction waits for approval"), "campaigns.samples",
     {"campaign_id": None, "redaction": "pending"}),
    ("short", _l("cases without enough reviewers"), "campaigns.progress", {"campaign_id": None, "_anchor": "short"}),
    ("overdue", _l("overdue reviews"), "campaigns.progress", {"campaign_id": None, "_anchor": "overdue"}),
    ("decisions", _l("disagreements waiting for an adjudicator's decision"), "campaigns.progress",
     {"campaign_id": None, "_anchor": "decisions"}),
    ("appeals", _l("appeals to decide"), "appeals.index", {"state": AppealState.FILED.value}),
]


def organiser_todo(user: User, *, now: datetime) -> dict[str, Any]:
    """The organiser's to-do list: per active campaign it runs, and its jurisdiction's queues."""
    from evalplat.organisations.jurisdiction import campaigns_managed_by, conflicts_decidable_by

    campaigns = list(db.session.scalars(sa.select(Campaign).where(Campaign.state.in_(ACTIVE),
                                                                  campaigns_managed_by(user))
                                        .order_by(Campaign.year.desc(), Campaign.id.desc())))
    counts = campaign_counts([c.id for c in campaigns], now=now)
    rows = []
    for c in campaigns:
        row = CampaignTodo(c)
        found = {key: counts[key].get(c.id, 0) for key in counts}
        if c.state in (CampaignState.ASSIGNED, CampaignState.SCORING):
            found["short"] = states.undercovered_samples(db.session, c)
        for key, text, endpoint, args in TODO_LINKS:
            if found.get(key):
                values: dict[str, Any] = {k: (c.id if v is None else v) for k, v in args.items()}
                row.items.append(Todo(found[key], str(text), url_for(endpoint, **values)))
        row.next_state, row.blockers = next_step(c, now=now)
        rows.append(row)
    conflicts = db.session.scalar(sa.select(sa.func.count()).select_from(Conflict)
                                  .join(ReviewerProfile, ReviewerProfile.id == Conflict.reviewer_id)
                                  .where(Conflict.status == ConflictStatus.OPEN, conflicts_decidable_by(user))) or 0
    return {
        "campaigns": rows,
        "ready": [r for r in rows if r.next_state is not None and not r.blockers],
        "conflicts": Todo(conflicts, str(_l("conflicts of interest to decide")),
                          url_for("assignments.conflicts", status=ConflictStatus.OPEN.value)),
    }


def organiser_overview(user: User) -> dict[str, Any]:
    """Figures of the organiser's jurisdiction: its agencies, the lawyers with cases there (every lawyer for the
    nation), its cases, the active reviewers of its pools."""
    from evalplat.organisations.jurisdiction import (
        agencies_within,
        cases_within,
        is_national_organiser,
        reviewers_within,
    )

    count = sa.func.count
    return {
        "agencies": db.session.scalar(sa.select(count()).select_from(Agency)
                                      .where(Agency.id.in_(agencies_within(user)))) or 0,
        "lawyers": db.session.scalar(sa.select(count()).select_from(Lawyer) if is_national_organiser(user) else
                                     sa.select(count(sa.distinct(Case.lawyer_id))).where(cases_within(user))) or 0,
        "cases": db.session.scalar(sa.select(count()).select_from(Case).where(cases_within(user))) or 0,
        "reviewers": db.session.scalar(
            sa.select(count()).select_from(ReviewerProfile).where(ReviewerProfile.active.is_(True),
                                                                  reviewers_within(user))) or 0,
    }


def agency_overview(user: User, *, now: datetime) -> dict[str, Any]:
    """The agency's to-do list: published results to read, open appeal windows, appeals under way."""
    from evalplat.campaigns.models import PUBLISHED_STATES

    if user.agency_id is None:
        return {"agency": None, "cases": 0, "by_type": [], "published": [], "appeals": {}}
    by_type = db.session.execute(
        sa.select(Case.case_type, sa.func.count()).where(Case.agency_id == user.agency_id)
        .group_by(Case.case_type).order_by(Case.case_type)).all()
    published = db.session.execute(
        sa.select(Campaign, sa.func.count(Sample.id)).join(Sample, Sample.campaign_id == Campaign.id)
        .join(Case, Case.id == Sample.case_id)
        .where(Case.agency_id == user.agency_id, Campaign.state.in_(PUBLISHED_STATES), Sample.is_training.is_(False))
        .group_by(Campaign.id).order_by(Campaign.year.desc(), Campaign.id.desc())).all()
    appeals = {state: n for state, n in db.session.execute(
        sa.select(Appeal.state, sa.func.count()).where(Appeal.agency_id == user.agency_id)
        .group_by(Appeal.state)).all()}
    rows = [{"campaign": c, "cases": n,
             "window_open": c.appeal_closes_at is not None and (c.appeal_opens_at is None or c.appeal_opens_at <= now)
             and now < c.appeal_closes_at} for c, n in published]
    return {"agency": user.agency, "cases": sum(n for _, n in by_type), "by_type": by_type, "published": rows,
            "appeals": {"pending": appeals.get(AppealState.FILED, 0) + appeals.get(AppealState.ACCEPTED, 0),
                        "decided": appeals.get(AppealState.DECIDED, 0) + appeals.get(AppealState.REJECTED, 0)}}


@dataclass(frozen=True)
class OpenAssignment:
    id: int
    code: str
    round: AssignmentRound
    state: AssignmentState
    due_at: datetime | None
    campaign: str
    draft: bool
    overdue: bool
    due_soon: bool

    @property
    def is_decision(self) -> bool:
        return self.round in DECISION_ROUNDS


def reviewer_overview(user: User, *, now: datetime) -> dict[str, Any]:
    """The reviewer's (and adjudicator's) to-do list: every open assignment with its deadline, in one query."""
    profile = user.reviewer_profile
    if profile is None:
        return {"profile": None, "open": [], "counts": {}, "submitted": 0}
    rows = db.session.execute(
        sa.select(Assignment.id, Sample.code, Assignment.round, Assignment.state, Assignment.due_at, Campaign.name,
                  Review.state)
        .join(Sample, Sample.id == Assignment.sample_id).join(Campaign, Campaign.id == Sample.campaign_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.reviewer_id == profile.id, Assignment.state.in_(OPEN),
               offer_visible())  # an offer waits until its case's redaction is approved
        .order_by(Assignment.due_at.is_(None), Assignment.due_at, Sample.code)).all()
    items = [OpenAssignment(aid, code, rnd, state, due, name, review_state == ReviewState.DRAFT,
                            due is not None and due < now, due is not None and now <= due < now + DUE_SOON)
             for aid, code, rnd, state, due, name, review_state in rows]
    submitted = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.reviewer_id == profile.id, Assignment.state == AssignmentState.SUBMITTED)) or 0
    reviews = [i for i in items if not i.is_decision]
    counts = {
        "offers": sum(1 for i in reviews if i.state == AssignmentState.OFFERED),
        "drafts": sum(1 for i in reviews if i.draft),
        "to_score": sum(1 for i in reviews if i.state == AssignmentState.ACCEPTED and not i.draft),
        "due_soon": sum(1 for i in items if i.due_soon),
        "overdue": sum(1 for i in items if i.overdue),
        "decisions": sum(1 for i in items if i.is_decision),
    }
    return {"profile": profile, "open": items, "counts": counts, "submitted": submitted}
