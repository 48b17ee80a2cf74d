"""Scoped reads for rankings: per-case figures of current results, in one aggregate query each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, Sample
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.organisations.jurisdiction import in_subtree
from evalplat.organisations.models import Agency, Firm, Lawyer, Region
from evalplat.rankings.engine import (
    PoolEntry,
    Priority,
    Ranking,
    adjusted_scores,
    expert_pool,
    priority_weights,
    rank_groups,
)
from evalplat.rankings.rules import RankingRules, parse_rules
from evalplat.rankings.sources import post_case_sources
from evalplat.rankings.weights import WeightsVersion, current_weights
from evalplat.results.models import Result
from evalplat.reviews.models import Grade

GOOD_GRADES = (Grade.EXCELLENT.value, Grade.GOOD.value)
NO_LAWYER = -1


@dataclass(frozen=True, eq=False)
class CaseFigures:
    """Current results of the (non-training) sampled cases of some campaigns, one entry per case."""

    sample_id: np.ndarray
    campaign_id: np.ndarray
    year: np.ndarray
    case_type: np.ndarray
    stratum: np.ndarray
    agency_id: np.ndarray
    city_id: np.ndarray
    lawyer_id: np.ndarray
    total: np.ndarray
    good: np.ndarray
    vetoed: np.ndarray
    grade: np.ndarray

    def __len__(self) -> int:
        return int(self.sample_id.size)

    def subset(self, mask: np.ndarray) -> CaseFigures:
        return CaseFigures(**{name: getattr(self, name)[mask] for name in self.__dataclass_fields__})


def current_results(campaign_ids: Sequence[int]) -> sa.Select[*tuple[Any, ...]]:
    """The select behind :func:`case_figures` (current result of each non-training sample)."""
    return (
        sa.select(Sample.id, Sample.campaign_id, Campaign.year, Case.case_type, Sample.stratum, Case.agency_id,
                  Agency.city_id, Case.lawyer_id, Result.total, Result.grade, Result.vetoes)
        .join(Result, sa.and_(Result.sample_id == Sample.id, Result.current.is_(True)))
        .join(Campaign, Campaign.id == Sample.campaign_id)
        .join(Case, Case.id == Sample.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Sample.campaign_id.in_(list(campaign_ids)), Sample.is_training.is_(False))
        .order_by(Sample.id)
    )


def case_figures(session: DbSession, campaign_ids: Sequence[int]) -> CaseFigures:
    """Load the figures every ranking and the report use; when a sample has two current rows the newest wins."""
    rows = session.execute(current_results(campaign_ids)).all()
    seen: dict[int, int] = {}
    for i, row in enumerate(rows):
        seen[row[0]] = i  # ordered by sample id; a later duplicate replaces the earlier
    rows = [rows[i] for i in sorted(seen.values())]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    grade = np.array([str(g) for g in cols[9]], dtype=object)
    return CaseFigures(
        sample_id=np.array(cols[0], dtype=np.int64), campaign_id=np.array(cols[1], dtype=np.int64),
        year=np.array(cols[2], dtype=np.int64), case_type=np.array([str(c) for c in cols[3]], dtype=object),
        stratum=np.array(cols[4], dtype=object), agency_id=np.array(cols[5], dtype=np.int64),
        city_id=np.array(cols[6], dtype=np.int64),
        lawyer_id=np.array([NO_LAWYER if x is None else x for x in cols[7]], dtype=np.int64),
        total=np.array(cols[8], dtype=np.float64), good=np.isin(grade, GOOD_GRADES),
        vetoed=np.array([bool(v) for v in cols[10]], dtype=bool), grade=grade,
    )


def agency_labels(session: DbSession, ids: Sequence[int]) -> dict[int, str]:
    return dict(session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(list(ids)))).all())


def region_labels(session: DbSession, ids: Sequence[int]) -> dict[int, str]:
    return dict(session.execute(sa.select(Region.id, Region.name).where(Region.id.in_(list(ids)))).all())


def lawyer_details(session: DbSession, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Name, licence number and firm of the handling lawyers (never anything about reviewers)."""
    out: dict[int, dict[str, Any]] = {}
    wanted = [i for i in ids if i != NO_LAWYER]
    for chunk in range(0, len(wanted), 20_000):
        part = wanted[chunk:chunk + 20_000]
        for lid, name, licence, firm in session.execute(
                sa.select(Lawyer.id, Lawyer.name, Lawyer.licence_no, Firm.name)
                .outerjoin(Firm, Firm.id == Lawyer.firm_id).where(Lawyer.id.in_(part))).all():
            out[lid] = {"name": name, "licence_no": licence, "firm": firm or ""}
    return out


@dataclass(frozen=True)
class RankingSet:
    """Everything the rankings page, the exports and the API show for one scope.

    ``record`` is true when the set pools campaigns as a record (scores adjusted for case type and
    campaign, older years down-weighted by ``rules.year_decay``); ``years`` the campaign years it holds.
    """

    campaigns: tuple[Campaign, ...]
    rules: RankingRules
    n_cases: int
    lawyers: Ranking
    agencies: Ranking
    cities: Ranking
    pool: tuple[PoolEntry, ...]
    priorities: tuple[Priority, ...]
    record: bool = False
    years: tuple[int, ...] = ()
    #: the source weights used (the lead campaign's jurisdiction's version in force)
    weights: WeightsVersion | None = None


def rankings_from_figures(session: DbSession, figures: CaseFigures, rules: RankingRules,
                          campaigns: Sequence[Campaign], *, record: bool = False,
                          as_of: int | None = None, lead: Campaign | None = None) -> RankingSet:
    """Rank lawyers, agencies and cities of the loaded figures and apply the pool and priority rules.

    With ``record=True`` the scores are adjusted for case type and campaign
    (:func:`evalplat.rankings.engine.adjusted_scores`) and a case ``as_of - year`` years old weighs
    ``rules.year_decay`` to that power. The post-case sources of the ``lead`` campaign's jurisdiction (the
    campaign whose rules apply; default the newest) are loaded for the same years and combined with the weights
    that jurisdiction has in force (:mod:`evalplat.rankings.weights`); every row reports what each source gave it.
    """
    level = rules.level
    if lead is None and campaigns:
        lead = max(campaigns, key=lambda c: (c.year, c.id))
    weights = current_weights(session, lead.jurisdiction_id if lead is not None else None)
    years = sorted(set(figures.year.tolist()))

    def sources(kind: str) -> dict[str, Any]:
        if lead is None or not years:
            return {}
        return {"sources": post_case_sources(session, kind, region_id=lead.jurisdiction_id, years=years),
                "source_weights": weights.values}

    agency_names = agency_labels(session, np.unique(figures.agency_id).tolist())
    city_names = region_labels(session, np.unique(figures.city_id).tolist())
    agency_city = dict(zip(figures.agency_id.tolist(), figures.city_id.tolist(), strict=True))
    if record and len(figures):
        scores = adjusted_scores(figures.total, figures.case_type, figures.campaign_id)
        newest = int(figures.year.max()) if as_of is None else as_of
        case_weights = rules.year_decay ** np.maximum(newest - figures.year, 0).astype(np.float64)
    else:
        scores, case_weights = figures.total, np.ones(len(figures))
    has_lawyer = figures.lawyer_id != NO_LAWYER
    lawyers_info = lawyer_details(session, np.unique(figures.lawyer_id[has_lawyer]).tolist())
    lawyers = rank_groups(
        figures.lawyer_id[has_lawyer], figures.total[has_lawyer], figures.good[has_lawyer],
        figures.vetoed[has_lawyer], level=level,
        labels={k: v["name"] for k, v in lawyers_info.items()},
        extra={k: {"licence_no": v["licence_no"], "firm": v["firm"]} for k, v in lawyers_info.items()},
        rank_by="lower", scores=scores[has_lawyer], weights=case_weights[has_lawyer],
        years=figures.year[has_lawyer], **sources("lawyers"))
    agencies = rank_groups(figures.agency_id, figures.total, figures.good, figures.vetoed, level=level,
                           labels=agency_names,
                           extra={a: {"city": city_names.get(c, "")} for a, c in agency_city.items()},
                           scores=scores, weights=case_weights, years=figures.year, **sources("agencies"))
    cities = rank_groups(figures.city_id, figures.total, figures.good, figures.vetoed, level=level,
                         labels=city_names, scores=scores, weights=case_weights, years=figures.year,
                         **sources("cities"))
    pool = expert_pool(lawyers.rows, rules)
    return RankingSet(tuple(campaigns), rules, len(figures), lawyers, agencies, cities, tuple(pool),
                      tuple(priority_weights(pool, rules)), record, tuple(years), weights)


def rankings_for(session: DbSession, campaigns: Sequence[Campaign]) -> RankingSet:
    """Rankings over the current results of one campaign, or of several (across years, as a record).

    Across years the rules of the newest campaign apply.
    """
    if not campaigns:
        raise ValueError("no campaign given")
    newest = max(campaigns, key=lambda c: (c.year, c.id))
    rules = parse_rules(newest.ranking_rules)
    figures = case_figures(session, [c.id for c in campaigns])
    return rankings_from_figures(session, figures, rules, campaigns, record=len(campaigns) > 1,
                                 as_of=newest.year)


def record_campaigns(session: DbSession, campaign: Campaign, rules: RankingRules | None = None) -> list[Campaign]:
    """The published campaigns a record as of ``campaign`` pools: those of its year and of the
    ``window_years - 1`` years before it (never a later one), newest first."""
    rules = rules or parse_rules(campaign.ranking_rules)
    first = campaign.year - rules.window_years + 1
    # campaigns of the campaign's own jurisdiction and below: another province's records never enter
    within = in_subtree(Campaign.jurisdiction_id, campaign.jurisdiction_id, session)
    return [c for c in campaigns_with_results(session, within) if first <= c.year <= campaign.year]


def record_for(session: DbSession, campaign: Campaign) -> RankingSet:
    """Each lawyer's, agency's and city's pooled record as of ``campaign``: every published campaign of
    the rules' window, scores adjusted for case type and campaign, older years down-weighted. The expert
    pool and the assignment priorities read this record."""
    rules = parse_rules(campaign.ranking_rules)
    campaigns = record_campaigns(session, campaign, rules)
    figures = case_figures(session, [c.id for c in campaigns])
    return rankings_from_figures(session, figures, rules, campaigns, record=True, as_of=campaign.year,
                                 lead=campaign)


def campaigns_with_results(session: DbSession, where: sa.ColumnElement[bool] | None = None) -> list[Campaign]:
    """Published campaigns (published, appeals closed or final) that have at least one current result,
    newest first, limited by ``where`` (a jurisdiction's filter). Nothing unpublished counts in rankings,
    exports or reports."""
    has = sa.select(Sample.campaign_id).join(Result, sa.and_(Result.sample_id == Sample.id,
                                                               Result.current.is_(True))).distinct()
    query = sa.select(Campaign).where(Campaign.id.in_(has), Campaign.state.in_(PUBLISHED_STATES))
    if where is not None:
        query = query.where(where)
    return list(session.scalars(query.order_by(Campaign.year.desc(), Campaign.id.desc())))


def is_published(campaign: Campaign) -> bool:
    return str(campaign.state) in PUBLISHED_STATES


def report_visible(campaign: Campaign, user: Any) -> bool:
    """Organisers see the reports of the campaigns they may read (their jurisdiction's; a sub-jurisdiction's once
    published); agency staff only published ones (and only their section)."""
    if user.is_organiser:
        return bool(user.can_read_campaign(campaign))
    return bool(user.agency_id is not None and str(campaign.state) in PUBLISHED_STATES)


def report_section(user: Any) -> str | None:
    """``None`` = the province-wide report (organisers); otherwise the agency whose section alone is shown."""
    return None if user.is_organiser else str(user.agency_id)
