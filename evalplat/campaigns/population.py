"""The sampling population of a campaign, read from the database as plain engine records.

The stable key of a case is ``(agency code, case number)`` — both public, unique together, and
independent of database ids — so that anyone holding the case list can rebuild the canonical population
and check its digest. Records carry the case id (as text) so that a draw maps back to rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa

from evalplat.campaigns.models import Campaign, ScopeKind
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.organisations.models import Agency, Region
from evalplat.sampling import PopulationRecord

_CHUNK = 50_000


def scope_agencies(campaign: Campaign) -> sa.Select[int]:
    """A select of the ids of the agencies the campaign covers."""
    stmt = sa.select(Agency.id)
    if campaign.scope_kind == ScopeKind.AGENCIES:
        return stmt.where(Agency.id.in_(campaign.scope_agency_ids or [-1]))
    if campaign.scope_region_id is None:  # the whole of the campaign's jurisdiction
        from evalplat.organisations.jurisdiction import in_subtree

        return stmt.where(in_subtree(Agency.region_id, campaign.jurisdiction_id))
    if campaign.scope_kind == ScopeKind.CITY:
        return stmt.where(Agency.city_id == campaign.scope_region_id)
    cities = sa.select(Region.id).where(sa.or_(Region.parent_id == campaign.scope_region_id,
                                               Region.id == campaign.scope_region_id))
    return stmt.where(Agency.city_id.in_(cities))


def population_filter(campaign: Campaign) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses selecting the campaign's population from ``cases``.

    Cases of the covered agencies whose year is the campaign's year; when the plan sets a closing period
    the period replaces the year (cases closed in it). Open cases of the year stay in the population (the
    engine leaves them out of the draw but designated numbers look at them).
    """
    clauses: list[sa.ColumnElement[bool]] = [Case.agency_id.in_(scope_agencies(campaign))]
    plan = campaign.plan
    if plan is not None and (plan.closed_from or plan.closed_until):
        if plan.closed_from:
            clauses.append(Case.closed_on >= plan.closed_from.date())
        if plan.closed_until:
            clauses.append(Case.closed_on <= plan.closed_until.date())
    else:
        clauses.append(Case.year == campaign.year)
    return clauses


def iter_population(session: DbSession, campaign: Campaign) -> Iterator[PopulationRecord]:
    """Stream the campaign's population as engine records (one query, fetched in chunks)."""
    # Core rows on the session's connection (no ORM row processing); the type is read as its stored text.
    stmt = (sa.select(Case.id, Agency.code, Case.case_number, sa.type_coerce(Case.case_type, sa.String),
                      Case.sequence_no, Case.closed_on)
            .join(Agency, Agency.id == Case.agency_id).where(*population_filter(campaign)))
    make = PopulationRecord
    # yield_per on the statement, not the connection: Connection.execution_options() changes the session's
    # connection in place, and every later statement of the transaction would run as a server-side cursor
    # (PostgreSQL then refuses "DECLARE ... CURSOR FOR UPDATE").
    result = session.connection().execute(stmt.execution_options(yield_per=_CHUNK))
    for case_id, agency_code, number, case_type, sequence, closed_on in result:
        closed: date | None = closed_on
        yield make(str(case_id), (agency_code, number), agency_code, case_type, sequence, closed)


def population(session: DbSession, campaign: Campaign) -> list[PopulationRecord]:
    return list(iter_population(session, campaign))
