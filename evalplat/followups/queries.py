"""Reads of follow-ups, scoped in the query: plans, the call list, complaints, contact and satisfaction rates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.cases.models import Case
from evalplat.db import Cols, DbSession
from evalplat.extensions import db
from evalplat.followups.models import (
    SATISFIED,
    AttemptOutcome,
    ComplaintState,
    FollowupAttempt,
    FollowupComplaint,
    FollowupPlan,
    FollowupTarget,
    FollowupVisit,
)
from evalplat.organisations.models import Agency, Lawyer


def _scoped(stmt: sa.Select[*Cols], user: User, column: Any) -> sa.Select[*Cols]:
    from evalplat.organisations.jurisdiction import agency_scope

    return stmt.where(agency_scope(user, column))


def plan_list(user: User) -> list[Any]:
    drawn = (sa.select(FollowupTarget.plan_id, sa.func.count().label("drawn"),
                       sa.func.sum(sa.case((FollowupTarget.attempts > 0, 1), else_=0)).label("called"))
             .group_by(FollowupTarget.plan_id).subquery())
    stmt = (sa.select(FollowupPlan.id, FollowupPlan.year, FollowupPlan.mode, FollowupPlan.share, FollowupPlan.count,
                      FollowupPlan.seed, FollowupPlan.population, Agency.name.label("agency"), drawn.c.drawn,
                      drawn.c.called)
            .join(Agency, Agency.id == FollowupPlan.agency_id).outerjoin(drawn, drawn.c.plan_id == FollowupPlan.id))
    return list(db.session.execute(_scoped(stmt, user, FollowupPlan.agency_id)
                                   .order_by(FollowupPlan.year.desc(), Agency.name)).all())


def call_list(plan: FollowupPlan, *, state: str | None, page: int, per_page: int) -> tuple[list[Any], int]:
    """The plan's targets with case, lawyer and state (the contact is read from the target, for its staff only)."""
    stmt = (sa.select(FollowupTarget, Case.case_number, Case.case_type, Case.closed_on,
                      Lawyer.name.label("lawyer"))
            .join(Case, Case.id == FollowupTarget.case_id).outerjoin(Lawyer, Lawyer.id == FollowupTarget.lawyer_id)
            .where(FollowupTarget.plan_id == plan.id))
    if state:
        stmt = stmt.where(FollowupTarget.state == state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(FollowupTarget.position).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return list(rows), total


def attempts_of(target_id: int) -> list[FollowupAttempt]:
    return list(db.session.scalars(sa.select(FollowupAttempt).where(FollowupAttempt.target_id == target_id)
                                   .order_by(FollowupAttempt.at, FollowupAttempt.id)))


def complaint_list(user: User, *, state: str | None, page: int, per_page: int) -> tuple[list[Any], int]:
    stmt = (sa.select(FollowupComplaint, Case.case_number, Agency.name.label("agency"), Lawyer.name.label("lawyer"))
            .join(Case, Case.id == FollowupComplaint.case_id).join(Agency, Agency.id == FollowupComplaint.agency_id)
            .outerjoin(Lawyer, Lawyer.id == FollowupComplaint.lawyer_id))
    stmt = _scoped(stmt, user, FollowupComplaint.agency_id)
    if state in {s.value for s in ComplaintState}:
        stmt = stmt.where(FollowupComplaint.state == state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(FollowupComplaint.opened_at.desc(), FollowupComplaint.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


@dataclass(frozen=True)
class Rates:
    """Follow-up figures of one agency or lawyer: clients called, reached, visited, satisfied, complaints."""

    key: int | None
    name: str
    called: int
    contacted: int
    visits: int
    satisfied: int
    complaints: int

    @property
    def contact_rate(self) -> float | None:
        return self.contacted / self.called if self.called else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.visits if self.visits else None


def rates(session: DbSession, *, by: str = "agency", agency_ids: list[int] | None = None) -> list[Rates]:
    """Contact rate (clients reached or who answered and refused, of clients called at least once) and
    satisfaction rate (visits rated satisfied or very satisfied, of visits), per agency or per lawyer."""
    key = FollowupTarget.agency_id if by == "agency" else FollowupTarget.lawyer_id
    reached = (sa.select(FollowupAttempt.target_id).where(FollowupAttempt.outcome.in_(
        (AttemptOutcome.REACHED, AttemptOutcome.REFUSED))).distinct().subquery())
    stmt = (sa.select(key.label("key"),
                      sa.func.sum(sa.case((FollowupTarget.attempts > 0, 1), else_=0)),
                      sa.func.count(reached.c.target_id),
                      sa.func.count(FollowupVisit.id),
                      sa.func.sum(sa.case((FollowupVisit.satisfaction >= SATISFIED, 1), else_=0)))
            .outerjoin(reached, reached.c.target_id == FollowupTarget.id)
            .outerjoin(FollowupVisit, FollowupVisit.target_id == FollowupTarget.id)
            .group_by(key))
    complaints_key = FollowupComplaint.agency_id if by == "agency" else FollowupComplaint.lawyer_id
    complaints = sa.select(complaints_key, sa.func.count()).group_by(complaints_key)
    if agency_ids is not None:
        stmt = stmt.where(FollowupTarget.agency_id.in_(agency_ids))
        complaints = complaints.where(FollowupComplaint.agency_id.in_(agency_ids))
    counted = dict(session.execute(complaints).all())
    rows = session.execute(stmt).all()
    model = Agency if by == "agency" else Lawyer
    names = dict(session.execute(sa.select(model.id, model.name).where(model.id.in_([r[0] for r in rows if r[0]]))).all())
    out = [Rates(k, names.get(k, "—"), int(c or 0), int(r or 0), int(v or 0), int(s or 0), int(counted.get(k, 0)))
           for k, c, r, v, s in rows]
    return sorted(out, key=lambda r: (-r.called, r.name))


def totals(items: list[Rates]) -> Rates:
    return Rates(None, "", sum(r.called for r in items), sum(r.contacted for r in items),
                 sum(r.visits for r in items), sum(r.satisfied for r in items), sum(r.complaints for r in items))
