"""Reads of appeals: the list (organiser: all; agency staff: their own agency's) in one joined query per page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.appeals.models import Appeal, AppealState
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.organisations.models import Agency


def appeal_list(user: User, *, state: str | None, page: int, per_page: int) -> tuple[list[Any], int]:
    """Appeals the user may see, newest first, with case code, the agency's case number and campaign."""
    stmt = (sa.select(Appeal.id, Appeal.state, Appeal.filed_at, Appeal.decision, Sample.code, Case.case_number,
                      Agency.name.label("agency"), Campaign.name.label("campaign"))
            .join(Sample, Sample.id == Appeal.sample_id).join(Case, Case.id == Sample.case_id)
            .join(Agency, Agency.id == Appeal.agency_id).join(Campaign, Campaign.id == Sample.campaign_id))
    if user.is_organiser:  # the appeals of the campaigns it runs
        from evalplat.organisations.jurisdiction import campaigns_managed_by

        stmt = stmt.where(campaigns_managed_by(user))
    else:
        stmt = stmt.where(Appeal.agency_id == user.agency_id)
    if state in {s.value for s in AppealState}:
        stmt = stmt.where(Appeal.state == AppealState(state))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(Appeal.filed_at.desc(), Appeal.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
