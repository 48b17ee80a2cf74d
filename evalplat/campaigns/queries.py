"""Reads for the campaign pages and the CLI (organiser only; aggregate queries, no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentRun, AssignmentState, RunState
from evalplat.campaigns import states
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.organisations.models import Agency, ReviewerProfile


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    samples: int
    assignments: int


def campaign_rows(user: User | None = None) -> list[CampaignRow]:
    """The campaigns the organiser runs (every campaign without a user: the command line), with their sample and
    live-assignment counts (three queries)."""
    from evalplat.organisations.jurisdiction import campaigns_managed_by

    stmt = sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())
    campaigns = list(db.session.scalars(stmt if user is None else stmt.where(campaigns_managed_by(user))))
    samples = dict(db.session.execute(sa.select(Sample.campaign_id, sa.func.count()).group_by(Sample.campaign_id)).all())
    assignments = dict(db.session.execute(
        sa.select(Sample.campaign_id, sa.func.count()).join(Assignment, Assignment.sample_id == Sample.id)
        .where(Assignment.state != AssignmentState.WITHDRAWN).group_by(Sample.campaign_id)).all())
    return [CampaignRow(c, samples.get(c.id, 0), assignments.get(c.id, 0)) for c in campaigns]


def latest_run(campaign: Campaign, state: RunState | None = None) -> AssignmentRun | None:
    stmt = sa.select(AssignmentRun).where(AssignmentRun.campaign_id == campaign.id,
                                          AssignmentRun.round == AssignmentRound.INITIAL)
    if state is not None:
        stmt = stmt.where(AssignmentRun.state == state)
    return db.session.scalar(stmt.order_by(AssignmentRun.id.desc()).limit(1))


def runs(campaign: Campaign) -> list[AssignmentRun]:
    return list(db.session.scalars(sa.select(AssignmentRun).where(AssignmentRun.campaign_id == campaign.id)
                                   .order_by(AssignmentRun.id.desc())))


def published_draw(campaign: Campaign) -> dict[str, Any]:
    """What the campaign publishes so that anyone can re-run the draw: seed, its source, plan, digest, report."""
    params = campaign.plan.params if campaign.plan is not None else {}
    report = []
    strata = (params.get("engine") or {}).get("strata", [])
    for row in params.get("report") or []:
        label = " / ".join(str(row.get(name, "")) for name in strata if row.get(name, "") != "")
        report.append({**row, "label": label})
    return {"seed": campaign.seed, "seed_source": params.get("seed_source"),
            "seed_fixed_at": params.get("seed_fixed_at"), "plan": params.get("engine"),
            "population_digest": campaign.population_digest, "population_size": campaign.population_size,
            "population_frozen_at": campaign.population_frozen_at, "algorithm": params.get("algorithm"),
            "drawn_at": params.get("drawn_at"), "report": report, "risk": params.get("risk")}


def agency_names(codes: list[str]) -> dict[str, str]:
    return dict(db.session.execute(sa.select(Agency.code, Agency.name).where(Agency.code.in_(codes))).all())


def overview(campaign: Campaign) -> dict[str, Any]:
    """Settings, published draw and counts of a campaign (for the show page and ``campaign show``)."""
    live = (sa.select(Assignment.state, sa.func.count()).join(Sample, Sample.id == Assignment.sample_id)
            .where(Sample.campaign_id == campaign.id).group_by(Assignment.state))
    by_state = {str(state): n for state, n in db.session.execute(live)}
    return {
        "code_prefix": campaign.code_prefix, "name": campaign.name, "year": campaign.year,
        "state": campaign.state.value, "scope": {"kind": campaign.scope_kind.value,
                                                 "region_id": campaign.scope_region_id,
                                                 "agency_ids": campaign.scope_agency_ids},
        "reviewers_per_case": campaign.reviewers_per_case, "min_evaluators": campaign.min_evaluators,
        "assignment_rules": campaign.assignment_rules, "disagreement_rules": campaign.disagreement_rules,
        "grade_bands": campaign.grade_bands, "due_days": campaign.due_days,
        "appeal_window": [campaign.appeal_opens_at, campaign.appeal_closes_at],
        "rubrics": {r.case_type: r.rubric_version_id for r in campaign.rubrics},
        "samples": states.sample_count(db.session, campaign), "assignments": by_state,
        "undercovered": states.undercovered_samples(db.session, campaign) if by_state else None,
        "draw": {k: v for k, v in published_draw(campaign).items() if k != "report"},
    }


def waiting(campaign: Campaign) -> dict[str, int]:
    """What the organiser still has to do before assigning: sampled cases whose redaction waits for approval,
    and undecided conflicts touching the sampled cases of the reviewers the campaign draws on (two queries; the
    organiser decides each of them on the conflicts page)."""
    from evalplat.assignments.models import Conflict, ConflictStatus
    from evalplat.organisations.jurisdiction import pools_for_campaign
    from evalplat.organisations.models import ReviewerProfile

    red = _redaction_state()
    pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(Sample).join(red, red.c.case_id == Sample.case_id)
        .where(Sample.campaign_id == campaign.id, red.c.documents > red.c.approved)) or 0
    cases = sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id)
    conflicts = db.session.scalar(sa.select(sa.func.count()).select_from(Conflict).where(
        Conflict.status == ConflictStatus.OPEN, Conflict.case_id.in_(cases),
        Conflict.reviewer_id.in_(sa.select(ReviewerProfile.id).where(pools_for_campaign(campaign))))) or 0
    return {"redaction_pending": pending, "open_conflicts": conflicts}


REDACTION_FILTERS = ("pending", "approved", "none")


def _redaction_state() -> Any:
    """Per case: documents, approved and pending redactions (a subquery keyed by case id)."""
    from evalplat.cases.models import Document, Redaction, RedactionStatus

    return (sa.select(Document.case_id.label("case_id"), sa.func.count(Document.id).label("documents"),
                      sa.func.count(Redaction.id).filter(Redaction.status == RedactionStatus.APPROVED).label("approved"))
            .outerjoin(Redaction, Redaction.document_id == Document.id).group_by(Document.case_id).subquery())


def samples_page(campaign: Campaign, *, page: int, per_page: int, redaction: str = "") -> tuple[list[Any], int]:
    """Samples with their case, agency, redaction state and live initial reviewer count (two queries a page).

    Each row carries the redaction state: ``approved`` (every document approved), ``pending`` (some document
    not yet approved) or ``none`` (no document) — ``redaction`` filters on it — then the case's inclusion
    probability and (risk mode) its risk signals.
    """
    live = (sa.select(Assignment.sample_id, sa.func.count().label("n")).where(
        Assignment.round == AssignmentRound.INITIAL,
        Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED]))
        .group_by(Assignment.sample_id).subquery())
    red = _redaction_state()
    documents = sa.func.coalesce(red.c.documents, 0)
    approved = sa.func.coalesce(red.c.approved, 0)
    state = sa.case((documents == 0, "none"), (approved >= documents, "approved"), else_="pending")
    where = [Sample.campaign_id == campaign.id]
    if redaction in REDACTION_FILTERS:
        where.append(state == redaction)
    stmt = (sa.select(Sample.id, Sample.code, Sample.stratum, Case.case_number, Case.case_type, Agency.name,
                      sa.func.coalesce(live.c.n, 0), Case.id, state.label("redaction"), Sample.inclusion_probability,
                      Sample.risk_signals)
            .join(Case, Case.id == Sample.case_id).join(Agency, Agency.id == Case.agency_id)
            .outerjoin(live, live.c.sample_id == Sample.id).outerjoin(red, red.c.case_id == Case.id).where(*where))
    if redaction in REDACTION_FILTERS:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(Sample.id).join(Case, Case.id == Sample.case_id).outerjoin(red, red.c.case_id == Case.id)
            .where(*where).subquery())) or 0
    else:
        total = states.sample_count(db.session, campaign)
    rows = db.session.execute(stmt.order_by(Sample.code).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


@dataclass(frozen=True)
class RoundProgress:
    round: AssignmentRound
    counts: dict[str, int]

    @property
    def live(self) -> int:
        return sum(n for s, n in self.counts.items() if s in ("offered", "accepted", "submitted"))

    @property
    def submitted(self) -> int:
        return self.counts.get("submitted", 0)

    @property
    def share(self) -> float | None:
        return self.submitted / self.live if self.live else None


def reviewer_label(name: str, username: str, firm: str | None) -> str:
    """A reviewer as organisers see them where names repeat: name (username · firm)."""
    return f"{name}（{username}{' · ' + firm if firm else ''}）"


def _reviewer_columns() -> tuple[Any, ...]:
    from evalplat.accounts.models import User
    from evalplat.organisations.models import Firm

    return (User.display_name, User.username, sa.func.coalesce(Firm.name, ReviewerProfile.organisation))


def _with_reviewer(stmt: Any) -> Any:
    from evalplat.accounts.models import User
    from evalplat.organisations.models import Firm

    return (stmt.join(ReviewerProfile, ReviewerProfile.id == Assignment.reviewer_id)
            .join(User, User.id == ReviewerProfile.user_id).outerjoin(Firm, Firm.id == ReviewerProfile.firm_id))


def progress(campaign: Campaign, *, now: Any) -> dict[str, Any]:
    """Scoring progress: share submitted per round, overdue reviewers, who adjudicates what (four queries)."""
    in_campaign = Sample.campaign_id == campaign.id
    by_round: dict[AssignmentRound, dict[str, int]] = {}
    for rnd, st, n in db.session.execute(
            sa.select(Assignment.round, Assignment.state, sa.func.count()).join(Sample, Sample.id == Assignment.sample_id)
            .where(in_campaign).group_by(Assignment.round, Assignment.state)):
        by_round.setdefault(rnd, {})[str(st)] = n
    rounds = [RoundProgress(r, by_round[r]) for r in AssignmentRound if r in by_round]
    open_states = [AssignmentState.OFFERED, AssignmentState.ACCEPTED]
    overdue = [
        {"reviewer": reviewer_label(name, username, firm), "count": n, "since": since}
        for name, username, firm, n, since in db.session.execute(_with_reviewer(
            sa.select(*_reviewer_columns(), sa.func.count(), sa.func.min(Assignment.due_at))
            .select_from(Assignment).join(Sample, Sample.id == Assignment.sample_id))
            .where(in_campaign, Assignment.state.in_(open_states), Assignment.due_at < now)
            .group_by(*_reviewer_columns()).order_by(sa.func.min(Assignment.due_at)))]
    decisions = [
        {"sample_id": sid, "code": code, "round": rnd, "state": st, "due_at": due,
         "reviewer": reviewer_label(name, username, firm), "overdue": due is not None and due < now}
        for sid, code, rnd, st, due, name, username, firm in db.session.execute(_with_reviewer(
            sa.select(Sample.id, Sample.code, Assignment.round, Assignment.state, Assignment.due_at,
                      *_reviewer_columns()).select_from(Assignment).join(Sample, Sample.id == Assignment.sample_id))
            .where(in_campaign, Assignment.state.in_(open_states),
                   Assignment.round.in_([AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL]))
            .order_by(Assignment.due_at, Sample.code))]
    short = states.undercovered_samples(db.session, campaign) \
        if campaign.state.value in ("assigned", "scoring") else 0
    return {"rounds": rounds, "overdue": overdue, "decisions": decisions, "short": short}


def reviewer_labels(reviewer_ids: Any) -> dict[int, str]:
    """Reviewer id → name (username · firm), one query: two reviewers named 李婷 stay apart."""
    from evalplat.accounts.models import User
    from evalplat.organisations.models import Firm

    ids = list(reviewer_ids)
    if not ids:
        return {}
    return {rid: reviewer_label(name, username, firm) for rid, name, username, firm in db.session.execute(
        sa.select(ReviewerProfile.id, *_reviewer_columns()).join(User, User.id == ReviewerProfile.user_id)
        .outerjoin(Firm, Firm.id == ReviewerProfile.firm_id).where(ReviewerProfile.id.in_(ids)))}
