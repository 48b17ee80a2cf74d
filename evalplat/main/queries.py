"""Figures for each role's first page, each one scoped query."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.campaigns.models import Assignment, AssignmentRound, AssignmentState, Campaign
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.organisations.models import Agency, Lawyer, ReviewerProfile


def organiser_overview() -> dict[str, Any]:
    count = sa.func.count
    return {
        "agencies": db.session.scalar(sa.select(count()).select_from(Agency)) or 0,
        "lawyers": db.session.scalar(sa.select(count()).select_from(Lawyer)) or 0,
        "cases": db.session.scalar(sa.select(count()).select_from(Case)) or 0,
        "reviewers": db.session.scalar(
            sa.select(count()).select_from(ReviewerProfile).where(ReviewerProfile.active.is_(True))) or 0,
        "campaigns": list(db.session.scalars(sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())
                                             .limit(10))),
    }


def agency_overview(user: User) -> dict[str, Any]:
    if user.agency_id is None:
        return {"agency": None, "cases": 0, "by_type": []}
    by_type = db.session.execute(
        sa.select(Case.case_type, sa.func.count()).where(Case.agency_id == user.agency_id)
        .group_by(Case.case_type).order_by(Case.case_type)).all()
    return {"agency": user.agency, "cases": sum(n for _, n in by_type), "by_type": by_type}


def reviewer_overview(user: User) -> dict[str, Any]:
    profile = user.reviewer_profile
    if profile is None:
        return {"profile": None, "counts": {}, "adjudication": 0}
    rows = db.session.execute(
        sa.select(Assignment.round, Assignment.state, sa.func.count())
        .where(Assignment.reviewer_id == profile.id).group_by(Assignment.round, Assignment.state)).all()
    counts: dict[str, int] = {}
    adjudication = 0
    for rnd, state, n in rows:
        counts[state.value] = counts.get(state.value, 0) + n
        if rnd in (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL) and state in (
                AssignmentState.OFFERED, AssignmentState.ACCEPTED):
            adjudication += n
    return {"profile": profile, "counts": counts, "adjudication": adjudication}
