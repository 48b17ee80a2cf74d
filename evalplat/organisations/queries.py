"""Reads for the reviewer pool pages (organiser only; joined queries, no N+1). Conflicts: evalplat.assignments.queries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.extensions import db
from evalplat.organisations.jurisdiction import reviewers_within
from evalplat.organisations.models import Firm, Region, ReviewerProfile


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
