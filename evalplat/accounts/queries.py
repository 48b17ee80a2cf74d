"""Scoped reads for accounts."""

from __future__ import annotations

import sqlalchemy as sa

from evalplat.accounts.models import Role, User, UserRole
from evalplat.extensions import db
from evalplat.organisations.jurisdiction import agencies_within, regions_within, users_within
from evalplat.organisations.models import Agency, Region


def agencies(user: User) -> list[Agency]:
    """The agencies of the organiser's jurisdiction."""
    return list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(agencies_within(user)))
                                   .order_by(Agency.code)))


def agency(agency_id: int, user: User) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.id == agency_id, Agency.id.in_(agencies_within(user))))


def regions(user: User) -> list[Region]:
    """The regions of the organiser's jurisdiction, the jurisdiction first, then by code."""
    return list(db.session.scalars(sa.select(Region).where(regions_within(user))
                                   .order_by(Region.id != user.jurisdiction_id, Region.code)))


def region(region_id: int, user: User) -> Region | None:
    return db.session.scalar(sa.select(Region).where(Region.id == region_id, regions_within(user)))


def can_manage_user(actor: User, user: User) -> bool:
    """An organiser administers the accounts of its subtree (see :func:`users_within`), nobody else's."""
    return actor.can_manage_users() and bool(db.session.scalar(sa.select(sa.exists().where(
        User.id == user.id, users_within(actor)))))


def users_page(user: User, *, q: str, role: str, page: int, per_page: int) -> tuple[list[User], int]:
    stmt = sa.select(User).where(users_within(user))
    if q:
        stmt = stmt.where(sa.or_(User.username.icontains(q, autoescape=True),
                                 User.display_name.icontains(q, autoescape=True)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role(role))))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(User.username).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
