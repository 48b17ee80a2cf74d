"""Scoped reads for accounts."""

from __future__ import annotations

import sqlalchemy as sa

from evalplat.accounts.models import Role, User, UserRole
from evalplat.extensions import db
from evalplat.organisations.models import Agency


def agencies() -> list[Agency]:
    return list(db.session.scalars(sa.select(Agency).order_by(Agency.code)))


def agency(agency_id: int) -> Agency | None:
    return db.session.get(Agency, agency_id)


def users_page(*, q: str, role: str, page: int, per_page: int) -> tuple[list[User], int]:
    stmt = sa.select(User)
    if q:
        stmt = stmt.where(sa.or_(User.username.icontains(q, autoescape=True),
                                 User.display_name.icontains(q, autoescape=True)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role(role))))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(User.username).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
