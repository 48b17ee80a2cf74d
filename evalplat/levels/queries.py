"""Rankings at every level of the jurisdiction tree, and the national overview, from published results only.

* A city (or county) ranks its lawyers and agencies from the campaigns it runs itself, and shows — labelled as
  such — the published results of its province's (or any higher jurisdiction's) campaigns for its own agencies,
  never for anyone else's.
* A province ranks its cities (and lawyers and agencies) from its own campaigns, and lists what each city has
  published.
* The national read-only role compares provinces: per province the published campaigns (the province's and its
  cities'), reviewed cases, the mean score and 优良率 with intervals, and agency counts. Only published figures,
  no names of people.

Nothing unpublished counts anywhere here; figures come from :func:`evalplat.rankings.queries.case_figures`, and
intervals from :func:`evalplat.rankings.engine.rank_groups` (the same shrinkage the rankings use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, Sample
from evalplat.db import DbSession
from evalplat.organisations.jurisdiction import ancestor_region_ids, descendant_region_ids
from evalplat.organisations.models import Agency, Region, RegionLevel
from evalplat.rankings.engine import PoolEntry, Ranking, RankRow, rank_groups
from evalplat.rankings.queries import (
    RankingSet,
    case_figures,
    rankings_for,
    rankings_from_figures,
    record_for,
)
from evalplat.rankings.rules import RankingRules, parse_rules
from evalplat.results.models import Result


def published_campaigns(session: DbSession, owners: Sequence[int]) -> list[Campaign]:
    """Published campaigns owned by any of the ``owners`` jurisdictions that have at least one current result,
    newest first."""
    if not owners:
        return []
    has = sa.select(Sample.campaign_id).join(Result, sa.and_(Result.sample_id == Sample.id,
                                                               Result.current.is_(True))).distinct()
    return list(session.scalars(
        sa.select(Campaign).where(Campaign.jurisdiction_id.in_(sorted(owners)), Campaign.id.in_(has),
                                  Campaign.state.in_(sorted(PUBLISHED_STATES)))
        .order_by(Campaign.year.desc(), Campaign.id.desc())))


@dataclass(frozen=True)
class FromAbove:
    """Published results of higher jurisdictions' campaigns for the agencies of this one (labelled as such)."""

    owners: tuple[Region, ...]
    campaigns: tuple[Campaign, ...]
    n_cases: int
    agencies: Ranking


@dataclass(frozen=True)
class Below:
    """What one sub-jurisdiction (a province's city) has published: its own campaigns' figures."""

    region: Region
    campaigns: int
    row: RankRow


@dataclass(frozen=True)
class LevelView:
    """The level page of one jurisdiction."""

    region: Region
    own_campaigns: tuple[Campaign, ...]
    own: RankingSet | None
    above: FromAbove | None
    below: tuple[Below, ...]
    #: the expert pool of the newest own campaign, read from the record as of it — what its pool page shows and
    #: the assignment priorities use (its jurisdiction's and sub-jurisdictions' published campaigns of the window)
    pool: tuple[PoolEntry, ...] = ()

    @property
    def ranks_cities(self) -> bool:
        return self.region.level in (RegionLevel.PROVINCE, RegionLevel.NATION)


def _rules(campaigns: Sequence[Campaign]) -> RankingRules:
    newest = max(campaigns, key=lambda c: (c.year, c.id))
    return parse_rules(newest.ranking_rules)


def from_above(session: DbSession, region: Region) -> FromAbove | None:
    """Published results of the campaigns of ``region``'s ancestors, for the agencies inside ``region`` only."""
    ancestors = ancestor_region_ids(region.id, session) - {region.id}
    campaigns = published_campaigns(session, sorted(ancestors))
    if not campaigns:
        return None
    figures = case_figures(session, [c.id for c in campaigns])
    inside = set(session.scalars(sa.select(Agency.id).where(
        Agency.region_id.in_(sorted(descendant_region_ids(region.id, session))))))
    mask = np.isin(figures.agency_id, sorted(inside))
    if not mask.any():
        return None
    mine = figures.subset(mask)
    used = {int(c) for c in np.unique(mine.campaign_id)}
    shown = [c for c in campaigns if c.id in used]
    ranked = rankings_from_figures(session, mine, _rules(shown), shown, record=len(shown) > 1,
                                   as_of=max(c.year for c in shown))
    owners = tuple(session.scalars(sa.select(Region).where(Region.id.in_({c.jurisdiction_id for c in shown}))
                                   .order_by(Region.code)))
    return FromAbove(owners, tuple(shown), len(mine), ranked.agencies)


def _children(session: DbSession, region: Region) -> list[Region]:
    return list(session.scalars(sa.select(Region).where(Region.parent_id == region.id).order_by(Region.code)))


def below(session: DbSession, region: Region, *, level: float = 0.95) -> tuple[Below, ...]:
    """Per child jurisdiction: the published campaigns it (or anyone inside it) runs, with their figures."""
    rows: list[tuple[Region, list[Campaign]]] = []
    for child in _children(session, region):
        inside = descendant_region_ids(child.id, session)
        found = published_campaigns(session, sorted(inside))
        if found:
            rows.append((child, found))
    if not rows:
        return ()
    campaign_owner = {c.id: child.id for child, found in rows for c in found}
    figures = case_figures(session, sorted(campaign_owner))
    keys = np.array([campaign_owner[int(c)] for c in figures.campaign_id], dtype=np.int64)
    ranking = rank_groups(keys, figures.total, figures.good, figures.vetoed, level=level,
                          labels={child.id: child.name for child, _ in rows})
    by_key = {r.key: r for r in ranking.rows}
    return tuple(Below(child, len(found), by_key[child.id]) for child, found in rows if child.id in by_key)


def level_view(session: DbSession, region: Region) -> LevelView:
    """The level page of the jurisdiction ``region``: its own rankings, results from above, publications below."""
    own_campaigns = published_campaigns(session, [region.id])
    own = rankings_for(session, own_campaigns) if own_campaigns else None
    above = None if region.level in (RegionLevel.NATION, RegionLevel.PROVINCE) else from_above(session, region)
    pool = record_for(session, own_campaigns[0]).pool if own_campaigns else ()
    return LevelView(region, tuple(own_campaigns), own, above, below(session, region), tuple(pool))


# --- the national overview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceFigures:
    """One province in the national overview (published figures only)."""

    region: Region
    campaigns: int
    city_campaigns: int
    agencies: int
    agencies_reviewed: int
    row: RankRow | None

    @property
    def cases(self) -> int:
        return self.row.n if self.row is not None else 0


@dataclass(frozen=True)
class NationalOverview:
    provinces: tuple[ProvinceFigures, ...]
    ranking: Ranking | None
    level: float

    @property
    def cases(self) -> int:
        return sum(p.cases for p in self.provinces)


def _province_of_regions(session: DbSession) -> dict[int, int]:
    """Every region id → the id of its province (provinces map to themselves)."""
    provinces = session.scalars(sa.select(Region.id).where(Region.level == RegionLevel.PROVINCE)).all()
    out: dict[int, int] = {}
    for province in provinces:
        for region_id in descendant_region_ids(province, session):
            out[region_id] = province
    return out


def national_overview(session: DbSession, *, level: float = 0.95) -> NationalOverview:
    """Every province side by side: published campaigns, reviewed cases, mean and 优良率 with intervals, agencies."""
    provinces = list(session.scalars(sa.select(Region).where(Region.level == RegionLevel.PROVINCE)
                                     .order_by(Region.code)))
    province_of = _province_of_regions(session)
    campaigns = published_campaigns(session, sorted(province_of))
    figures = case_figures(session, [c.id for c in campaigns])
    agency_province = {a: province_of.get(r) for a, r in session.execute(sa.select(Agency.id, Agency.region_id))}
    keys = np.array([agency_province.get(int(a)) or 0 for a in figures.agency_id], dtype=np.int64)
    ranking = None
    rows: dict[Any, RankRow] = {}
    if len(figures):
        ranking = rank_groups(keys, figures.total, figures.good, figures.vetoed, level=level,
                              labels={p.id: p.name for p in provinces})
        rows = {r.key: r for r in ranking.rows}
    agencies: dict[int, int] = {}
    for province_id in agency_province.values():
        if province_id is not None:
            agencies[province_id] = agencies.get(province_id, 0) + 1
    reviewed: dict[int, set[int]] = {}
    for key, agency in zip(keys.tolist(), figures.agency_id.tolist(), strict=True):
        reviewed.setdefault(key, set()).add(agency)
    out = []
    for province in provinces:
        own = [c for c in campaigns if province_of.get(c.jurisdiction_id) == province.id]
        at_province = sum(1 for c in own if c.jurisdiction_id == province.id)
        out.append(ProvinceFigures(province, at_province, len(own) - at_province, agencies.get(province.id, 0),
                                   len(reviewed.get(province.id, ())), rows.get(province.id)))
    return NationalOverview(tuple(out), ranking, level)


@dataclass(frozen=True)
class ProvinceDetail:
    """One province for the national role: every published campaign in it, and its cities ranked from the
    province's own published campaigns (what the province publishes in its circular)."""

    region: Region
    campaigns: tuple[Campaign, ...]
    cities: Ranking | None
    n_cases: int


def province_detail(session: DbSession, province: Region, *, level: float = 0.95) -> ProvinceDetail:
    inside = descendant_region_ids(province.id, session)
    campaigns = published_campaigns(session, sorted(inside))
    own = [c.id for c in campaigns if c.jurisdiction_id == province.id]
    if not own:
        return ProvinceDetail(province, tuple(campaigns), None, 0)
    figures = case_figures(session, own)
    names = dict(session.execute(sa.select(Region.id, Region.name).where(
        Region.id.in_(sorted(set(figures.city_id.tolist()))))).all())
    cities = rank_groups(figures.city_id, figures.total, figures.good, figures.vetoed, level=level, labels=names)
    return ProvinceDetail(province, tuple(campaigns), cities, len(figures))
