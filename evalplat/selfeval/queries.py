"""Reads of self-evaluations, scoped in the query (the organiser sees every agency, agency staff their own)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.cases.models import Case
from evalplat.closing.models import ClosingReview, ClosingState
from evalplat.db import Cols, DbSession
from evalplat.extensions import db
from evalplat.organisations.models import Agency
from evalplat.selfeval.models import SelfEvaluation


def _scoped(stmt: sa.Select[*Cols], user: User) -> sa.Select[*Cols]:
    from evalplat.organisations.jurisdiction import agency_scope

    return stmt.where(agency_scope(user, Case.agency_id))


def evaluation_list(user: User, *, todo: bool = False, q: str | None = None, page: int = 1,
                    per_page: int = 50) -> tuple[list[Any], int]:
    """Cases with their self-score; ``todo``: closed cases (both closing levels passed) not yet evaluated."""
    stmt = (sa.select(Case.id.label("case_id"), Case.case_number, Case.case_type, Case.closed_on,
                      Agency.name.label("agency"), SelfEvaluation.score, SelfEvaluation.evaluated_at,
                      ClosingReview.state.label("closing_state"))
            .join(Agency, Agency.id == Case.agency_id)
            .outerjoin(SelfEvaluation, SelfEvaluation.case_id == Case.id)
            .outerjoin(ClosingReview, ClosingReview.case_id == Case.id))
    stmt = _scoped(stmt, user)
    if todo:
        stmt = stmt.where(SelfEvaluation.id.is_(None), ClosingReview.state == ClosingState.CLOSED)
    if q:
        stmt = stmt.where(Case.case_number.contains(q.strip(), autoescape=True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(Case.closed_on.desc().nulls_last(), Case.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def evaluation_of_case(case_id: int) -> SelfEvaluation | None:
    return db.session.scalar(sa.select(SelfEvaluation).where(SelfEvaluation.case_id == case_id))


def self_scores(session: DbSession, *, agency_ids: list[int] | None = None) -> dict[str, Any]:
    """Count, mean and the share below 60 of self-scores (all cases, or the given agencies')."""
    stmt = sa.select(sa.func.count(SelfEvaluation.id), sa.func.avg(SelfEvaluation.score),
                     sa.func.sum(sa.case((SelfEvaluation.score < 60, 1), else_=0)))
    if agency_ids is not None:
        stmt = stmt.where(SelfEvaluation.agency_id.in_(agency_ids))
    n, mean, low = session.execute(stmt).one()
    return {"count": int(n or 0), "mean": float(mean) if mean is not None else None, "below_60": int(low or 0)}
