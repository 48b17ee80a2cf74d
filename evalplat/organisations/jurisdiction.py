"""The jurisdiction tree (nation → province → prefecture-level city → county) and the scoping it gives.

Every organiser works for one jurisdiction, a region of the tree (``User.jurisdiction_id``), and manages only
what lies in its subtree: agencies (and so their cases) whose region is in it, campaigns it owns, reviewer
pools it owns, and the users of those. A higher jurisdiction reads what its sub-jurisdictions publish; a lower
one never sees a higher one's unpublished work, a sibling never anything. The national read-only role
(``Role.MINISTRY``) reads every published campaign and manages nothing.

The tree is read with a recursive CTE (the same SQL on SQLite and PostgreSQL) and kept for the rest of the
request, so that per-row checks in a list cost one query. The nation is the whole country: every region lies
within it, including one a careless import left without a parent.

Object checks (``user.manages_region``, ``user.can_manage_campaign`` …) live on the models; the functions here
also give the WHERE clauses list views use, so that lists are scoped in the query, never filtered in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import has_request_context, request

from evalplat.db import DbSession
from evalplat.extensions import db
from evalplat.organisations.models import (
    NATION_CODE,
    NATION_NAME,
    Agency,
    Firm,
    Lawyer,
    Region,
    RegionLevel,
    ReviewerProfile,
)

if TYPE_CHECKING:
    from evalplat.accounts.models import User

_CACHE_ATTR = "_evalplat_region_tree"


def _cache() -> dict[tuple[str, int], Any] | None:
    """The current request's memo of tree look-ups (None outside a request: regions may change between calls)."""
    if not has_request_context():
        return None
    req = request._get_current_object()  # type: ignore[attr-defined]
    memo = getattr(req, _CACHE_ATTR, None)
    if memo is None:
        memo = {}
        setattr(req, _CACHE_ATTR, memo)
    return memo


def _memoised(kind: str, region_id: int, compute: Any) -> Any:
    memo = _cache()
    if memo is None:
        return compute()
    key = (kind, region_id)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _session(session: DbSession | None) -> DbSession:
    return session if session is not None else db.session


def national_region(session: DbSession | None = None) -> Region:
    """The nation region (code 000000), created when missing (the migration creates it; a wiped test
    database or a hand-built one may not have it)."""
    session = _session(session)
    nation = session.scalar(sa.select(Region).where(Region.code == NATION_CODE))
    if nation is None:
        nation = Region(code=NATION_CODE, name=NATION_NAME, level=RegionLevel.NATION, parent_id=None)
        session.add(nation)
        session.flush()
    return nation


def _is_nation(session: DbSession, region_id: int) -> bool:
    return bool(_memoised("nation", region_id, lambda: session.scalar(
        sa.select(Region.level == RegionLevel.NATION).where(Region.id == region_id)) or False))


def _descendants_cte(region_id: int) -> sa.CTE:
    tree = sa.select(Region.id).where(Region.id == region_id).cte("subtree", recursive=True)
    child = sa.orm.aliased(Region)
    return tree.union_all(sa.select(child.id).where(child.parent_id == tree.c.id))


def descendant_region_ids(region_id: int, session: DbSession | None = None) -> set[int]:
    """The region and every region below it (the nation: every region there is)."""
    session = _session(session)

    def compute() -> set[int]:
        if _is_nation(session, region_id):
            return set(session.scalars(sa.select(Region.id)))
        tree = _descendants_cte(region_id)
        return set(session.scalars(sa.select(tree.c.id)))

    return set(_memoised("descendants", region_id, compute))


def ancestor_region_ids(region_id: int, session: DbSession | None = None) -> set[int]:
    """The region and every region above it, up to the nation (which contains every region)."""
    session = _session(session)

    def compute() -> set[int]:
        tree = sa.select(Region.id, Region.parent_id).where(Region.id == region_id).cte("ancestors",
                                                                                        recursive=True)
        parent = sa.orm.aliased(Region)
        tree = tree.union_all(sa.select(parent.id, parent.parent_id).where(parent.id == tree.c.parent_id))
        found = set(session.scalars(sa.select(tree.c.id)))
        if found:
            found |= set(session.scalars(sa.select(Region.id).where(Region.level == RegionLevel.NATION)))
        return found

    return set(_memoised("ancestors", region_id, compute))


def is_within(region_id: int | None, ancestor_id: int | None, session: DbSession | None = None) -> bool:
    """Whether ``region_id`` lies in the subtree of ``ancestor_id`` (a region lies within itself)."""
    if region_id is None or ancestor_id is None:
        return False
    if region_id == ancestor_id:
        return True
    return ancestor_id in ancestor_region_ids(region_id, session)


def province_of(region_id: int, session: DbSession | None = None) -> int | None:
    """The province the region lies in (itself for a province; None for the nation or a region outside any)."""
    session = _session(session)
    ids = ancestor_region_ids(region_id, session)
    return session.scalar(sa.select(Region.id).where(Region.id.in_(ids), Region.level == RegionLevel.PROVINCE)
                          .order_by(Region.id).limit(1)) if ids else None


def agency_region_id(agency_id: int, session: DbSession | None = None) -> int | None:
    session = _session(session)
    return _memoised("agency", agency_id, lambda: session.scalar(
        sa.select(Agency.region_id).where(Agency.id == agency_id)))


# --- query filters ---------------------------------------------------------------------------------------


def in_subtree(column: Any, region_id: int | None, session: DbSession | None = None) -> sa.ColumnElement[bool]:
    """``column`` (a region id column) lies in the subtree of ``region_id``; false when there is none."""
    if region_id is None:
        return sa.false()
    session = _session(session)
    if _is_nation(session, region_id):
        return column.is_not(None)
    return column.in_(sorted(descendant_region_ids(region_id, session)))


def _jurisdiction(user: User) -> int | None:
    return user.jurisdiction_id if user.is_organiser else None


def regions_within(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Region``: the regions of the organiser's jurisdiction."""
    return in_subtree(Region.id, _jurisdiction(user))


def agencies_within(user: User) -> sa.Select[int]:
    """A select of the ids of the agencies in the organiser's jurisdiction (none for anyone else)."""
    return sa.select(Agency.id).where(in_subtree(Agency.region_id, _jurisdiction(user)))


def cases_within(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Case``: cases of the agencies in the organiser's jurisdiction."""
    from evalplat.cases.models import Case

    if _jurisdiction(user) is None:
        return sa.false()
    return Case.agency_id.in_(agencies_within(user))


def campaigns_managed_by(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Campaign``: the campaigns the organiser runs (those its jurisdiction owns)."""
    from evalplat.campaigns.models import Campaign

    jurisdiction = _jurisdiction(user)
    return sa.false() if jurisdiction is None else Campaign.jurisdiction_id == jurisdiction


def campaigns_visible_to(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Campaign``: what :meth:`User.can_read_campaign` allows, as a query."""
    from evalplat.campaigns.models import PUBLISHED_STATES, Campaign

    published = Campaign.state.in_(sorted(PUBLISHED_STATES))
    if user.is_ministry:
        return sa.or_(published, campaigns_managed_by(user))
    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    return sa.or_(Campaign.jurisdiction_id == jurisdiction,
                  sa.and_(published, in_subtree(Campaign.jurisdiction_id, jurisdiction)))


def reviewers_within(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``ReviewerProfile``: the pools of the organiser's jurisdiction and below."""
    return in_subtree(ReviewerProfile.jurisdiction_id, _jurisdiction(user))


def conflict_targets_within(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Conflict``: every party the conflict names — case, agency, firm, lawyer — lies in the
    organiser's jurisdiction. A reviewer of a city's pool may have a conflict on another province's case (a
    name found in that case's file); the city's organiser must not learn that case's number or agency."""
    from evalplat.assignments.models import Conflict
    from evalplat.cases.models import Case

    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    agencies = agencies_within(user)
    firms = sa.select(Firm.id).where(in_subtree(Firm.region_id, jurisdiction))
    lawyers: sa.CompoundSelect[*tuple[Any, ...]] = sa.union(sa.select(Lawyer.id).where(Lawyer.firm_id.in_(firms)),
                       sa.select(Case.lawyer_id).where(Case.agency_id.in_(agencies), Case.lawyer_id.is_not(None)))
    return sa.and_(
        sa.or_(Conflict.case_id.is_(None), Conflict.case_id.in_(sa.select(Case.id).where(Case.agency_id.in_(agencies)))),
        sa.or_(Conflict.agency_id.is_(None), Conflict.agency_id.in_(agencies)),
        sa.or_(Conflict.firm_id.is_(None), Conflict.firm_id.in_(firms)),
        sa.or_(Conflict.lawyer_id.is_(None), Conflict.lawyer_id.in_(lawyers)),
    )


def pools_for_campaign(campaign: Any) -> sa.ColumnElement[bool]:
    """WHERE clause on ``ReviewerProfile``: the pools a campaign may draw on — its jurisdiction's and those
    of its ancestors (a city campaign uses the province's expert team as well as its own)."""
    return ReviewerProfile.jurisdiction_id.in_(sorted(ancestor_region_ids(campaign.jurisdiction_id)))


def rubric_versions_for_region(region_id: int | None) -> sa.ColumnElement[bool]:
    """WHERE clause on ``RubricVersion``: the versions a jurisdiction sees and may pin — its own and its
    ancestors' (a city uses the province's and the nation's rubrics, never a sibling's or a child's)."""
    from evalplat.reviews.models import RubricVersion

    if region_id is None:
        return sa.false()
    return RubricVersion.jurisdiction_id.in_(sorted(ancestor_region_ids(region_id)))


def rubric_versions_visible_to(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``RubricVersion``: :func:`rubric_versions_for_region` of the organiser's jurisdiction."""
    return rubric_versions_for_region(_jurisdiction(user))


def conflicts_decidable_by(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Conflict``: the conflicts an organiser lists and decides — those of the reviewers of the
    pools it manages (its jurisdiction's and below), and, for the cases of the campaigns it runs, those of any
    reviewer those campaigns draw on (the pools of its jurisdiction and of its ancestors: a city decides a
    province expert's conflict with its own campaign's case, without any right over the expert's profile). Either
    way only a conflict whose every named party lies in its jurisdiction (:func:`conflict_targets_within`)."""
    from evalplat.assignments.models import Conflict
    from evalplat.campaigns.models import Campaign, Sample

    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    own_pools = Conflict.reviewer_id.in_(sa.select(ReviewerProfile.id).where(reviewers_within(user)))
    drawn_on = Conflict.reviewer_id.in_(sa.select(ReviewerProfile.id).where(
        ReviewerProfile.jurisdiction_id.in_(sorted(ancestor_region_ids(jurisdiction)))))
    own_cases = Conflict.case_id.in_(sa.select(Sample.case_id).where(
        Sample.campaign_id.in_(sa.select(Campaign.id).where(campaigns_managed_by(user)))))
    return sa.and_(conflict_targets_within(user), sa.or_(own_pools, sa.and_(drawn_on, own_cases)))


def users_within(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``User``: the accounts an organiser administers — organisers and ministry accounts of
    its subtree, staff of its agencies, reviewers of its pools. Nobody else's."""
    from evalplat.accounts.models import User as UserModel

    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    if _is_nation(db.session, jurisdiction):
        return sa.true()
    return sa.or_(
        in_subtree(UserModel.jurisdiction_id, jurisdiction),
        UserModel.agency_id.in_(agencies_within(user)),
        UserModel.id.in_(sa.select(ReviewerProfile.user_id).where(reviewers_within(user))),
    )


def default_jurisdiction_for_scope(session: DbSession, *, scope_region_id: int | None,
                                   scope_agency_ids: list[int] | None) -> int:
    """The province containing a campaign's scope (as the migration assigned owners), else the nation."""
    region_ids: set[int] = set()
    if scope_region_id is not None:
        region_ids.add(scope_region_id)
    if scope_agency_ids:
        region_ids |= set(session.scalars(sa.select(Agency.region_id).where(Agency.id.in_(scope_agency_ids))))
    provinces = {province_of(r, session) for r in region_ids}
    if len(provinces) == 1 and None not in provinces:
        return provinces.pop()  # type: ignore[return-value]
    return national_region(session).id


def organiser_agency_ids(user: User) -> list[int] | None:
    """The agencies of an organiser's jurisdiction as a list for queries that take one (``None``: every
    agency, for an organiser of the nation); empty for anyone without a jurisdiction."""
    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return []
    if _is_nation(db.session, jurisdiction):
        return None
    return list(db.session.scalars(agencies_within(user)))


def agency_scope(user: User, column: Any) -> sa.ColumnElement[bool]:
    """WHERE clause on an agency id column: an organiser's agencies, a staff member's own agency, else none."""
    from evalplat.accounts.models import Role

    if user.is_organiser:
        return column.in_(agencies_within(user))
    if Role.AGENCY_STAFF in user.roles and user.agency_id is not None:
        return column == user.agency_id
    return sa.false()


def results_campaigns_for(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Campaign``: published campaigns whose results an organiser may read for the agencies of
    its jurisdiction — its own and its sub-jurisdictions', and its ancestors' (a city reads the province's
    published results for its own agencies; the agency filter is the caller's)."""
    from evalplat.campaigns.models import PUBLISHED_STATES, Campaign

    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    owners = sa.or_(in_subtree(Campaign.jurisdiction_id, jurisdiction),
                    Campaign.jurisdiction_id.in_(sorted(ancestor_region_ids(jurisdiction))))
    return sa.and_(Campaign.state.in_(sorted(PUBLISHED_STATES)), owners)


def can_read_results_of(user: User, campaign: Any) -> bool:
    """:func:`results_campaigns_for` for one campaign."""
    jurisdiction = _jurisdiction(user)
    if jurisdiction is None or not campaign.results_published:
        return False
    return (is_within(campaign.jurisdiction_id, jurisdiction)
            or campaign.jurisdiction_id in ancestor_region_ids(jurisdiction))


def is_national_organiser(user: User) -> bool:
    """An organiser whose jurisdiction is the nation (everything lies within it)."""
    jurisdiction = _jurisdiction(user)
    return jurisdiction is not None and _is_nation(db.session, jurisdiction)


def pool_cities(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on ``Region``: the cities a reviewer of the organiser's pools may come from — every city of
    the province its jurisdiction lies in (a city's pool borrows peers from its neighbours, as regional avoidance
    needs; a province's expert team is drawn from its cities); every city for an organiser of the nation."""
    jurisdiction = _jurisdiction(user)
    if jurisdiction is None:
        return sa.false()
    province = province_of(jurisdiction) or jurisdiction
    return sa.and_(Region.level == RegionLevel.CITY, in_subtree(Region.id, province))


def may_hold_city(user: User, region_id: int | None) -> bool:
    """:func:`pool_cities` for one region."""
    if region_id is None:
        return False
    return db.session.scalar(sa.select(Region.id).where(Region.id == region_id, pool_cities(user))) is not None


def runs_campaign(user: User, campaign_id: int) -> bool:
    """Whether the campaign exists and the user runs it (:meth:`User.can_manage_campaign`)."""
    from evalplat.campaigns.models import Campaign

    campaign = db.session.get(Campaign, campaign_id)
    return campaign is not None and user.can_manage_campaign(campaign)


def _ancestry() -> sa.CTE:
    """(region_id, ancestor_id) for every region and every region above it, itself included."""
    pairs = sa.select(Region.id.label("region_id"), Region.id.label("ancestor_id")).cte("ancestry", recursive=True)
    up = sa.orm.aliased(Region)
    return pairs.union_all(sa.select(pairs.c.region_id, up.parent_id).join(up, up.id == pairs.c.ancestor_id)
                           .where(up.parent_id.is_not(None)))


def within_column(region_column: Any, ancestor_column: Any) -> sa.ColumnElement[bool]:
    """WHERE clause, row by row: the region in ``region_column`` lies in the subtree of the region in
    ``ancestor_column`` (itself included; everything lies within the nation) — for queries over many objects
    of different jurisdictions at once, such as the notifications scan."""
    pairs = _ancestry()
    nations = sa.select(Region.id).where(Region.level == RegionLevel.NATION)
    return sa.and_(region_column.is_not(None), sa.or_(
        ancestor_column.in_(nations),
        sa.exists().where(pairs.c.region_id == region_column, pairs.c.ancestor_id == ancestor_column)))
