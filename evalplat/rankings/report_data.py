"""Build the annual report's plain data object (:class:`reports.model.ReportData`) from the database.

All figures come from the current results of the campaign's non-training samples (the same select the
rankings use), its submitted initial-round reviews (reliability) and its appeals. Reviewers appear only as
anonymous counts and spreads. The data version is a SHA-256 of every input, so the same data always give
the same version and figures.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from evalplat.appeals.models import Appeal, AppealState
from evalplat.assignments.models import Assignment, AssignmentRound
from evalplat.campaigns.models import Campaign, CampaignRubric, Sample
from evalplat.db import DbSession, utcnow
from evalplat.labels import local
from evalplat.rankings.engine import Ranking, RankRow, rank_groups
from evalplat.rankings.queries import (
    CaseFigures,
    campaigns_with_results,
    case_figures,
    is_published,
    rankings_from_figures,
    record_for,
)
from evalplat.rankings.rules import parse_rules
from evalplat.results.models import Result
from evalplat.reviews.models import Grade, Review, ReviewState, RubricVersion
from reports.model import (
    AgencySection,
    Count,
    Distribution,
    Figure,
    Glance,
    ItemLoss,
    Reliability,
    ReportData,
    Separation,
    TrendPoint,
)
from reports.text import t
from scoring import Ratings
from scoring.calibration import fit_rater_effects
from scoring.ranking import ABOVE, BELOW, wilson_interval
from scoring.reliability import icc, krippendorff_alpha

TOP = 10
BIN_EDGES = tuple(float(x) for x in range(0, 105, 5))
GRADES = tuple(g.value for g in (Grade.EXCELLENT, Grade.GOOD, Grade.PASS, Grade.FAIL))

Progress = Callable[[str], None]


class ReportError(ValueError):
    """The report cannot be built (e.g. the campaign has no current results yet)."""


def _figure(row: RankRow, *, parent: str = "", ranked: bool = True) -> Figure:
    """A ranked row as a report figure; ``ranked=False`` drops the rank (and its interval) but keeps the tier."""
    return Figure(key=str(row.key), label=row.label, n=row.n, mean=row.mean, estimate=row.estimate, low=row.low,
                  high=row.high, good=row.good, share=row.share, share_low=row.share_low,
                  share_high=row.share_high, vetoes=row.vetoes, rank=row.rank if ranked else None,
                  rank_low=row.rank_low if ranked else None, rank_high=row.rank_high if ranked else None,
                  parent=parent, tier=row.tier)


def _figures(r: Ranking, parent: Callable[[RankRow], str] | None = None, ranked: bool | None = None,
             rows: Sequence[RankRow] | None = None) -> tuple[Figure, ...]:
    """Figures of ``rows`` (default all of ``r``); ranks only where the data separate the entities."""
    show = r.separable if ranked is None else ranked
    return tuple(_figure(row, parent=parent(row) if parent else "", ranked=show)
                 for row in (r.rows if rows is None else rows))


def _separation(r: Ranking) -> Separation:
    return Separation(r.between_variance, r.tau2_low, r.tau2_high, r.grand_mean, len(r.rows), r.cases_per_entity,
                      r.tier_count(ABOVE), r.tier_count(BELOW))


def _counts(keys: Sequence[str], order: Sequence[str] | None = None, lang: str = "zh") -> tuple[Count, ...]:
    tally: dict[str, int] = defaultdict(int)
    for k in keys:
        tally[str(k)] += 1
    names = list(order) if order else sorted(tally)
    return tuple(Count(k, t(k, lang), tally.get(k, 0)) for k in names if k in tally or order)


def _rubric_items(session: DbSession, campaign: Campaign, lang: str) -> dict[str, dict[str, tuple[str, float]]]:
    """Per case type: item code → (label, max points), from the rubric versions the campaign pins."""
    rows = session.execute(sa.select(CampaignRubric.case_type, RubricVersion.definition, RubricVersion.case_types)
                           .join(RubricVersion, RubricVersion.id == CampaignRubric.rubric_version_id)
                           .where(CampaignRubric.campaign_id == campaign.id)).all()
    out: dict[str, dict[str, tuple[str, float]]] = {}
    for case_type, definition, covered in rows:
        items = {}
        for item in (definition or {}).get("items", []):
            label = item.get("label") or {}
            text = label.get(lang) or label.get("zh") or item["code"] if isinstance(label, dict) else str(label)
            items[str(item["code"])] = (str(text), float(item["max_points"]))
        for ct in {case_type, *(covered or [])}:
            out.setdefault(str(ct), items)
    return out


def _points(value: Any) -> float | None:
    if isinstance(value, dict):
        if value.get("na") or value.get("not_applicable"):
            return None
        value = value.get("points")
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _item_long(session: DbSession, figures: CaseFigures, rubric: dict[str, dict[str, tuple[str, float]]]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str]], list[Any]]:
    """Long arrays (case position, item index, points lost) over every scored, applicable item."""
    position = {int(s): i for i, s in enumerate(figures.sample_id.tolist())}
    cases, items, lost = [], [], []
    item_index: dict[tuple[str, str], int] = {}
    raw: list[Any] = []
    ids = figures.sample_id.tolist()
    for start in range(0, len(ids), 20_000):
        chunk = ids[start:start + 20_000]
        for sample_id, item_points in session.execute(
                sa.select(Result.sample_id, Result.item_points)
                .where(Result.sample_id.in_(chunk), Result.current.is_(True)).order_by(Result.id)).all():
            raw.append((sample_id, item_points))
    for sample_id, item_points in raw:
        pos = position[int(sample_id)]
        ctype = str(figures.case_type[pos])
        known = rubric.get(ctype, {})
        for code, value in sorted((item_points or {}).items()):
            pts = _points(value)
            if pts is None or code not in known:
                continue
            key = (ctype, code)
            idx = item_index.setdefault(key, len(item_index))
            cases.append(pos)
            items.append(idx)
            lost.append(max(known[code][1] - pts, 0.0))
    keys = sorted(item_index, key=item_index.__getitem__)
    return (np.array(cases, dtype=np.int64), np.array(items, dtype=np.int64), np.array(lost, dtype=np.float64),
            keys, raw)


def _losses(items: np.ndarray, lost: np.ndarray, keys: list[tuple[str, str]],
            rubric: dict[str, dict[str, tuple[str, float]]]) -> tuple[tuple[str, tuple[ItemLoss, ...]], ...]:
    """Mean points lost per rubric item, grouped by case type, worst item first."""
    if not items.size:
        return ()
    n = np.bincount(items, minlength=len(keys))
    total = np.bincount(items, weights=lost, minlength=len(keys))
    per_type: dict[str, list[ItemLoss]] = defaultdict(list)
    for idx, (ctype, code) in enumerate(keys):
        if n[idx] == 0:
            continue
        label, max_points = rubric[ctype][code]
        mean_lost = float(total[idx] / n[idx])
        per_type[ctype].append(ItemLoss(code, label, max_points, int(n[idx]), mean_lost,
                                        mean_lost / max_points if max_points else 0.0))
    return tuple((ctype, tuple(sorted(rows, key=lambda r: (-r.mean_lost, r.code))))
                 for ctype, rows in sorted(per_type.items()))


def _finite(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else x


def _reliability(session: DbSession, campaign: Campaign) -> tuple[Reliability, list[Any]]:
    rows = session.execute(
        sa.select(Assignment.sample_id, Assignment.reviewer_id, Review.total)
        .join(Review, Review.assignment_id == Assignment.id)
        .join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Sample.is_training.is_(False),
               Assignment.round == AssignmentRound.INITIAL, Review.state == ReviewState.SUBMITTED,
               Review.total.is_not(None))
        .order_by(Assignment.sample_id, Assignment.reviewer_id)).all()
    units = np.array([r[0] for r in rows], dtype=np.int64)
    raters = np.array([r[1] for r in rows], dtype=np.int64)
    values = np.array([r[2] for r in rows], dtype=np.float64)
    n_units = int(np.unique(units).size)
    n_raters = int(np.unique(raters).size)
    alpha = icc_value = icc_low = icc_high = spread = lo = hi = None
    if len(rows) >= 4 and n_units >= 2:
        ratings = Ratings.from_long(units, raters, values)
        try:
            alpha = float(krippendorff_alpha(ratings, level="interval"))
        except ValueError:
            alpha = None
        try:
            res = icc(ratings, form="ICC1")
            icc_value, icc_low, icc_high = float(res.value), float(res.low), float(res.high)
        except ValueError:
            pass
        try:
            fx = fit_rater_effects(ratings)
            main = fx.rater_group == 0
            bias = fx.rater_bias[main & (fx.rater_n >= 2)]
            if bias.size >= 2:
                spread, lo, hi = float(bias.std(ddof=1)), float(bias.min()), float(bias.max())
        except ValueError:
            pass
    rel = Reliability(n_units, n_raters, len(rows), _finite(alpha), _finite(icc_value), _finite(icc_low),
                      _finite(icc_high), _finite(spread), _finite(lo), _finite(hi))
    return rel, [(int(u), int(r), float(v)) for u, r, v in zip(units, raters, values, strict=True)]


def _glance(session: DbSession, campaign: Campaign, figures: CaseFigures, overall: Figure | None, lang: str
            ) -> tuple[Glance, list[Any]]:
    strata = session.execute(sa.select(Sample.stratum, sa.func.count()).where(
        Sample.campaign_id == campaign.id, Sample.is_training.is_(False)).group_by(Sample.stratum)
        .order_by(Sample.stratum)).all()
    n_reviews, n_reviewers = session.execute(
        sa.select(sa.func.count(Review.id), sa.func.count(sa.distinct(Assignment.reviewer_id)))
        .join(Assignment, Assignment.id == Review.assignment_id).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Review.state == ReviewState.SUBMITTED)).one()
    escalations = session.scalar(
        sa.select(sa.func.count(sa.distinct(Assignment.sample_id))).join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION)) or 0
    appeals = session.execute(
        sa.select(Appeal.state, Appeal.decision, sa.func.count()).join(Sample, Sample.id == Appeal.sample_id)
        .where(Sample.campaign_id == campaign.id).group_by(Appeal.state, Appeal.decision)
        .order_by(Appeal.state, Appeal.decision)).all()
    state_counts: dict[str, int] = defaultdict(int)
    outcome_counts: dict[str, int] = defaultdict(int)
    for state, decision, count in appeals:
        state_counts[str(state)] += count
        if str(state) == AppealState.DECIDED.value:
            outcome_counts[str(decision or "")] += count
    glance = Glance(
        n_cases=len(figures), n_reviewers=int(n_reviewers or 0), n_reviews=int(n_reviews or 0),
        n_escalations=int(escalations), n_appeals=sum(state_counts.values()),
        strata=tuple(Count(str(s), _stratum_label(session, str(s), lang), int(c)) for s, c in strata),
        case_types=_counts(figures.case_type.tolist(), lang=lang),
        grades=_counts(figures.grade.tolist(), GRADES, lang),
        appeal_states=tuple(Count(k, t(k, lang), v) for k, v in sorted(state_counts.items())),
        appeal_outcomes=tuple(Count(k, t(k, lang) if k else t("none", lang), v)
                              for k, v in sorted(outcome_counts.items())),
        overall=overall)
    return glance, [list(map(str, s)) for s in strata] + [sorted(state_counts.items()),
                                                         sorted(outcome_counts.items()), n_reviews, escalations]


def _stratum_label(session: DbSession, stratum: str, lang: str) -> str:
    """A stored stratum ("GD-SZ-01 / civil") for people: agency codes as names, case types translated."""
    from evalplat.organisations.models import Agency

    parts = [p.strip() for p in stratum.split(" / ") if p.strip()]
    names = dict(session.execute(sa.select(Agency.code, Agency.name).where(Agency.code.in_(parts))).all())
    return " · ".join(names.get(p) or t(p, lang) for p in parts)


def _distribution(figures: CaseFigures) -> Distribution:
    edges = np.asarray(BIN_EDGES)
    series = [("all_types", tuple(int(c) for c in np.histogram(figures.total, bins=edges)[0]))]
    for ctype in sorted(set(figures.case_type.tolist())):
        sel = figures.case_type == ctype
        series.append((ctype, tuple(int(c) for c in np.histogram(figures.total[sel], bins=edges)[0])))
    return Distribution(BIN_EDGES, tuple(series))


def _trend(session: DbSession, campaign: Campaign, level: float) -> tuple[TrendPoint, ...]:
    # campaigns_with_results holds published campaigns only: a campaign still in scoring is never a point
    # the same jurisdiction's campaigns of the same kind: another province's is not this one's trend
    earlier = [c for c in campaigns_with_results(session, Campaign.jurisdiction_id == campaign.jurisdiction_id)
               if c.year <= campaign.year and c.scope_kind == campaign.scope_kind]
    if len(earlier) < 2:
        return ()
    figs = case_figures(session, [c.id for c in earlier])
    points = []
    for c in sorted(earlier, key=lambda c: (c.year, c.id)):
        sel = figs.campaign_id == c.id
        n = int(sel.sum())
        if not n:
            continue
        good = int(figs.good[sel].sum())
        w = wilson_interval([good], [n], confidence_level=level)
        points.append(TrendPoint(c.year, c.name, n, float(figs.total[sel].mean()), good, float(w.proportion[0]),
                                 float(w.low[0]), float(w.high[0])))
    return tuple(points)


def _group_means(keys: np.ndarray, figures: CaseFigures, level: float, lang: str) -> tuple[Figure, ...]:
    """Plain (unshrunk) mean and Wilson 优良率 per key, for a single agency's case types."""
    out = []
    for key in sorted(set(keys.tolist())):
        sel = keys == key
        n = int(sel.sum())
        good = int(figures.good[sel].sum())
        w = wilson_interval([good], [n], confidence_level=level)
        mean = float(figures.total[sel].mean())
        out.append(Figure(str(key), t(str(key), lang), n, mean, mean, float("nan"), float("nan"), good,
                          float(w.proportion[0]), float(w.low[0]), float(w.high[0]),
                          int(figures.vetoed[sel].sum())))
    return tuple(out)


def _slices(keys: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of each key, in one sort (no per-key scan of the whole array)."""
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    bounds = [*starts.tolist(), keys.size]
    return {int(k): order[bounds[i]:bounds[i + 1]] for i, k in enumerate(uniq.tolist())}


def _agency_sections(agencies: tuple[Figure, ...], figures: CaseFigures, cases: np.ndarray, items: np.ndarray,
                     lost: np.ndarray, keys: list[tuple[str, str]], rubric: dict[str, dict[str, tuple[str, float]]],
                     level: float, lang: str) -> dict[str, AgencySection]:
    case_pos = _slices(figures.agency_id)
    entry_pos = _slices(figures.agency_id[cases]) if cases.size else {}
    sections = {}
    for fig in agencies:
        key = int(fig.key)
        pos = case_pos[key]
        sub = figures.subset(pos)
        ent = entry_pos.get(key, np.zeros(0, dtype=np.int64))
        sections[fig.key] = AgencySection(
            agency=fig, n_agencies=len(agencies), case_types=_group_means(sub.case_type, sub, level, lang),
            item_losses=_losses(items[ent], lost[ent], keys, rubric),
            grades=_counts(sub.grade.tolist(), GRADES, lang))
    return sections


def postcase_section(session: DbSession, *, year: int, lang: str) -> dict[str, Any]:
    from evalplat.quality.report import postcase_section as section

    return section(session, year=year, lang=lang)


def weighted_section(session: DbSession, campaign: Campaign, *, lang: str) -> dict[str, Any] | None:
    from evalplat.quality.report import weighted_section as section

    return section(session, campaign, lang=lang)


def build_report_data(session: DbSession, campaign: Campaign, *, lang: str = "zh",
                      progress: Progress | None = None, now: datetime | None = None) -> ReportData:
    """Compute every figure of the annual report of ``campaign``.

    Parameters
    ----------
    session : Session
    campaign : Campaign
    lang : {"zh", "en"}
        Language of the labels (rubric items, codes).
    progress : callable, optional
        Called with a step name after each step (the CLI's progress bar).
    now : datetime, optional
        Generation time (default: the current UTC time).

    Raises
    ------
    ReportError
        When the campaign has no current results.
    """
    step = progress or (lambda name: None)
    if not is_published(campaign):
        raise ReportError(f"campaign {campaign.id} is not published yet: the report counts published results only")
    rules = parse_rules(campaign.ranking_rules)
    level = rules.level
    figures = case_figures(session, [campaign.id])
    if not len(figures):
        raise ReportError(f"campaign {campaign.id} has no current results yet")
    step("figures")
    rset = rankings_from_figures(session, figures, rules, [campaign])
    step("rankings")
    by_type = rank_groups(figures.case_type, figures.total, figures.good, figures.vetoed, level=level,
                          labels={k: t(k, lang) for k in set(figures.case_type.tolist())})
    overall_rank = rank_groups(np.zeros(len(figures), dtype=np.int64), figures.total, figures.good,
                               figures.vetoed, level=level, labels={0: t("overall", lang)})
    overall = _figure(overall_rank.rows[0], ranked=False)
    step("groups")
    glance, glance_inputs = _glance(session, campaign, figures, overall, lang)
    rubric = _rubric_items(session, campaign, lang)
    cases, items, lost, keys, raw_items = _item_long(session, figures, rubric)
    losses = _losses(items, lost, keys, rubric)
    step("items")
    reliability, ratings = _reliability(session, campaign)
    step("reliability")
    trend = _trend(session, campaign, level)
    step("trend")
    # the top/bottom lists read each lawyer's and agency's record over the rules' window (published
    # campaigns only), so that one case a year is judged on all the years
    record = record_for(session, campaign)
    lists = record if len(record.campaigns) > 1 else rset

    def city(row: RankRow) -> str:
        return str(row.extra.get("city", ""))

    agencies = _figures(rset.agencies, parent=city)
    sections = _agency_sections(agencies, figures, cases, items, lost, keys, rubric, level, lang)
    step("agencies")
    digest = hashlib.sha256()
    for arr in (figures.sample_id, figures.total, figures.lawyer_id, figures.agency_id, figures.city_id,
                figures.vetoed):
        digest.update(np.ascontiguousarray(arr).tobytes())
    payload = [campaign.id, rules.to_json(), figures.grade.tolist(), figures.case_type.tolist(),
               figures.stratum.tolist(), raw_items, ratings, glance_inputs,
               [(p.year, p.n, p.good, round(p.mean, 9)) for p in trend],
               [c.id for c in lists.campaigns], [(r.key, r.n, round(r.estimate, 9), r.tier) for r in lists.lawyers.rows]]
    digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode())
    return ReportData(
        campaign_id=campaign.id, campaign_name=campaign.name, year=campaign.year,
        generated_at=local(now or utcnow()), data_version=digest.hexdigest()[:16], level=level, glance=glance,
        by_city=_figures(rset.cities), by_agency=agencies, by_case_type=_figures(by_type), distribution=_distribution(figures),
        item_losses=losses, reliability=reliability,
        top_lawyers=_figures(lists.lawyers, rows=lists.lawyers.top(TOP)),
        bottom_lawyers=_figures(lists.lawyers, rows=lists.lawyers.bottom(TOP)),
        top_agencies=_figures(lists.agencies, parent=city, rows=lists.agencies.top(TOP)),
        bottom_agencies=_figures(lists.agencies, parent=city, rows=lists.agencies.bottom(TOP)), trend=trend,
        agency_sections=sections, labels={"lang": lang},
        extra={"postcase": postcase_section(session, year=campaign.year, lang=lang),
               "weighted": weighted_section(session, campaign, lang=lang)},
        separation={"lawyer": _separation(lists.lawyers), "agency": _separation(lists.agencies)},
        list_years=lists.years if lists.record else ())
