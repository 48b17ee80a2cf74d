"""Reads for the assignment run and conflict pages (organiser only; joined queries, no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from evalplat.accounts.models import User
from evalplat.assignments.models import AssignmentRun, Conflict, ConflictStatus
from evalplat.campaigns.models import Campaign, Sample
from evalplat.campaigns.queries import reviewer_label, reviewer_labels
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label, register
from evalplat.organisations.jurisdiction import (
    campaigns_managed_by,
    conflicts_decidable_by,
    pools_for_campaign,
)
from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile

REASON_LABELS: dict[str, Any] = register({
    "same_region": _l("Same city as the case's agency (regional avoidance)"),
    "same_firm": _l("Same firm as the handling lawyer"),
    "own_case": _l("The reviewer handled the case"),
    "named_in_file": _l("Named in the case file"),
    "declared": _l("Declared by the reviewer"),
    "case_conflict": _l("A conflict recorded for this case"),
    "type_mismatch": _l("The reviewer does not handle this case type"),
    "over_capacity": _l("Above the reviewer's capacity"),
    "inactive": _l("The reviewer is inactive"),
})


def reason_label(code: str) -> str:
    text = REASON_LABELS.get(code)
    return str(text) if text is not None else code


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer_id: int
    name: str
    kind: str
    city: str
    capacity: int
    load: int
    matched: int

    @property
    def share(self) -> float:
        return self.load / self.capacity if self.capacity else 0.0


def run_loads(run: AssignmentRun) -> list[ReviewerLoad]:
    """Per reviewer of a run's proposed pairs: load, capacity and type matches (three queries)."""

    pairs = run.proposed or []
    if not pairs:
        return []
    sample_type = dict(db.session.execute(sa.select(Sample.id, Case.case_type).join(Case, Case.id == Sample.case_id)
                                          .where(Sample.campaign_id == run.campaign_id)).all())
    reviewer_ids = sorted({r for _s, r in pairs})

    info = {row[0]: (row[0], reviewer_label(row[1], row[6], row[7]), *row[2:6]) for row in db.session.execute(
        sa.select(ReviewerProfile.id, User.display_name, ReviewerProfile.kind, Region.name, ReviewerProfile.capacity,
                  ReviewerProfile.case_types, User.username, sa.func.coalesce(Firm.name, ReviewerProfile.organisation))
        .join(User, User.id == ReviewerProfile.user_id).join(Region, Region.id == ReviewerProfile.city_id)
        .outerjoin(Firm, Firm.id == ReviewerProfile.firm_id)
        .where(ReviewerProfile.id.in_(reviewer_ids)))}
    loads: dict[int, int] = {}
    matched: dict[int, int] = {}
    for sample_id, reviewer_id in pairs:
        loads[reviewer_id] = loads.get(reviewer_id, 0) + 1
        types = (info[reviewer_id][5] or []) if reviewer_id in info else []
        case_type = sample_type.get(sample_id)
        if case_type is not None and case_type.value in types:
            matched[reviewer_id] = matched.get(reviewer_id, 0) + 1
    out = [ReviewerLoad(rid, info[rid][1], str(info[rid][2]), info[rid][3], info[rid][4], loads[rid],
                        matched.get(rid, 0)) for rid in reviewer_ids if rid in info]
    return sorted(out, key=lambda r: (-r.share, r.name))


def run_pairs_page(run: AssignmentRun, *, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """A page of a run's proposed pairs grouped by sample code (two queries per page)."""

    by_sample: dict[int, list[int]] = {}
    for sample_id, reviewer_id in run.proposed or []:
        by_sample.setdefault(sample_id, []).append(reviewer_id)
    ids = sorted(by_sample)
    chosen = ids[(page - 1) * per_page: page * per_page]
    samples = {row[0]: row for row in db.session.execute(
        sa.select(Sample.id, Sample.code, Case.case_type).join(Case, Case.id == Sample.case_id)
        .where(Sample.id.in_(chosen)))}
    reviewer_ids = {r for s in chosen for r in by_sample[s]}
    names = reviewer_labels(reviewer_ids)
    rows = [{"sample_id": s, "code": samples[s][1], "case_type": samples[s][2],
             "reviewers": [(r, names.get(r, str(r))) for r in by_sample[s]]} for s in chosen if s in samples]
    return rows, len(ids)


def run_sample_choices(run: AssignmentRun) -> list[tuple[str, str]]:
    """Every case of the run's campaign for the override picker, by code: its type and the reviewers the run
    proposes for it (two queries)."""
    by_sample: dict[int, list[int]] = {}
    for sample_id, reviewer_id in run.proposed or []:
        by_sample.setdefault(sample_id, []).append(reviewer_id)
    names = reviewer_labels({r for reviewers in by_sample.values() for r in reviewers})
    rows = db.session.execute(sa.select(Sample.id, Sample.code, Case.case_type).join(Case, Case.id == Sample.case_id)
                              .where(Sample.campaign_id == run.campaign_id).order_by(Sample.code))
    return [(code, f"{code} · {label(case_type)} · "
                   f"{'、'.join(names.get(r, str(r)) for r in by_sample.get(sample_id, [])) or '—'}")
            for sample_id, code, case_type in rows]


def active_reviewer_choices(campaign: Campaign) -> list[tuple[int, str]]:
    """Active reviewers of the pools the campaign may draw on, for the override picker."""

    return [(rid, f"{reviewer_label(name, username, firm)} · {city}") for rid, name, username, firm, city in
            db.session.execute(
        sa.select(ReviewerProfile.id, User.display_name, User.username,
                  sa.func.coalesce(Firm.name, ReviewerProfile.organisation), Region.name)
        .join(User, User.id == ReviewerProfile.user_id).outerjoin(Firm, Firm.id == ReviewerProfile.firm_id)
        .join(Region, Region.id == ReviewerProfile.city_id)
        .where(ReviewerProfile.active.is_(True), pools_for_campaign(campaign))
        .order_by(Region.name, User.display_name, User.username))]


def conflicts_page(user: User, *, campaign_id: int | None, status: str, reason: str, page: int, per_page: int
                   ) -> tuple[list[Any], int]:
    """Conflicts with reviewer name and target names; with a campaign, only those touching its samples."""
    target_agency = aliased(Agency)
    case_agency = aliased(Agency)
    stmt = (sa.select(Conflict, User.display_name, User.username, Case.case_number, case_agency.name, target_agency.name,
                      Firm.name, Lawyer.name)
            .join(ReviewerProfile, ReviewerProfile.id == Conflict.reviewer_id)
            .join(User, User.id == ReviewerProfile.user_id)
            .outerjoin(Case, Case.id == Conflict.case_id)
            .outerjoin(case_agency, case_agency.id == Case.agency_id)
            .outerjoin(target_agency, target_agency.id == Conflict.agency_id)
            .outerjoin(Firm, Firm.id == Conflict.firm_id).outerjoin(Lawyer, Lawyer.id == Conflict.lawyer_id)
            # its pools' reviewers and those its campaigns draw on, naming only what lies in its jurisdiction
            .where(conflicts_decidable_by(user)))
    if campaign_id:  # of a campaign it runs (another's sample is not told)
        cases = (sa.select(Sample.case_id).join(Campaign, Campaign.id == Sample.campaign_id)
                 .where(Sample.campaign_id == campaign_id, campaigns_managed_by(user)))
        agencies = sa.select(Case.agency_id).where(Case.id.in_(cases))
        firms = sa.select(Case.firm_id).where(Case.id.in_(cases))
        lawyers = sa.select(Case.lawyer_id).where(Case.id.in_(cases))
        stmt = stmt.where(sa.or_(Conflict.case_id.in_(cases), Conflict.agency_id.in_(agencies),
                                 Conflict.firm_id.in_(firms), Conflict.lawyer_id.in_(lawyers)))
    if status in {s.value for s in ConflictStatus}:
        stmt = stmt.where(Conflict.status == status)
    if reason in REASON_LABELS:
        stmt = stmt.where(Conflict.reason == reason)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(Conflict.status.desc(), Conflict.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
