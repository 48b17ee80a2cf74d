"""Reads for the reviewer pool and conflict pages (organiser only; joined queries, no N+1)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from evalplat.accounts.models import User
from evalplat.assignments.models import Conflict, ConflictStatus
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import register
from evalplat.organisations.jurisdiction import (
    campaigns_managed_by,
    conflict_targets_within,
    reviewers_within,
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


def cities(user: User) -> list[Region]:
    """The cities a reviewer of the organiser's pools may come from (the reviewer form's list and filter)."""
    from evalplat.organisations.jurisdiction import pool_cities

    return list(db.session.scalars(sa.select(Region).where(pool_cities(user)).order_by(Region.code)))


def reviewers_page(user: User, *, q: str, city_id: int | None, kind: str, active: str, page: int, per_page: int
                   ) -> tuple[list[Any], int]:
    """Reviewers with user, city and firm names (one query per page plus a count)."""
    stmt = (sa.select(ReviewerProfile, User.display_name, User.username, Region.name, Firm.name)
            .join(User, User.id == ReviewerProfile.user_id).join(Region, Region.id == ReviewerProfile.city_id)
            .outerjoin(Firm, Firm.id == ReviewerProfile.firm_id).where(reviewers_within(user)))
    if q:
        stmt = stmt.where(sa.or_(*(column.icontains(q, autoescape=True) for column in (
            User.display_name, User.username, ReviewerProfile.licence_no, Firm.name))))
    if city_id:
        stmt = stmt.where(ReviewerProfile.city_id == city_id)
    if kind in ("peer", "evaluator"):
        stmt = stmt.where(ReviewerProfile.kind == kind)
    if active in ("1", "0"):
        stmt = stmt.where(ReviewerProfile.active.is_(active == "1"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(Region.code, User.display_name)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


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
            # the conflicts of the reviewers the organiser manages, naming only what lies in its jurisdiction
            .where(reviewers_within(user), conflict_targets_within(user)))
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
