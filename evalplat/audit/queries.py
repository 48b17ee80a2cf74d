"""Scoped reads of the audit log (organisers only)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.audit.models import AuditEvent
from evalplat.extensions import db


def events_page(viewer: User, *, action: str = "", object_type: str = "", object_id: str = "", actor: str = "",
                since: datetime | None = None, until: datetime | None = None, page: int = 1,
                per_page: int = 50) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """A page of events, newest first, with the actor's username (one query, no N+1).

    An organiser reads the events of the accounts it administers (its subtree's organisers, its agencies'
    staff, its pools' reviewers); events without an actor (the command line, background jobs) only an
    organiser of the nation."""
    from evalplat.organisations.jurisdiction import is_national_organiser, users_within

    stmt = sa.select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if not is_national_organiser(viewer):
        stmt = stmt.where(AuditEvent.actor_id.in_(sa.select(User.id).where(users_within(viewer))))
    wanted = [part.strip() for part in action.split(",") if part.strip()]
    if wanted:  # codes or prefixes ("campaign."), any of them
        stmt = stmt.where(sa.or_(*(AuditEvent.action.startswith(part, autoescape=True) for part in wanted)))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor:
        stmt = stmt.where(User.username == actor)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [(event, username) for event, username in rows], total


def object_types() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))
