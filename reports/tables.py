"""The report's tables as rows of cells, shared by the PDF, XLSX and HTML renderers.

``numeric=True`` keeps numbers as numbers (XLSX, one column per bound); otherwise cells are display
strings with intervals as "low–high" (PDF, HTML).
"""

from __future__ import annotations

from typing import Any

from reports import numbers
from reports.model import Count, Figure, ItemLoss, ReportData, Separation, TrendPoint
from reports.text import fmt, pct, t

Table = tuple[list[str], list[list[Any]]]


def _num(x: float | None, digits: int = 2) -> float | None:
    return None if x is None or x != x else round(float(x), digits)


def figure_table(rows: tuple[Figure, ...], name_key: str, lang: str, *, numeric: bool = False,
                 parent_key: str | None = None, ranked: bool = True) -> Table:
    """Name, cases, mean, shrunk mean with interval, 优良率 with Wilson interval (and rank with interval and tier).

    A figure without a rank (the data cannot separate its group) shows a dash for the rank; its tier says
    where it stands.
    """
    head = ([t("rank", lang)] if ranked else []) + [t(name_key, lang)]
    head += [t(parent_key, lang)] if parent_key else []
    if numeric:
        head += [t("n", lang), t("mean", lang), t("estimate", lang), t("interval", lang) + " ↓",
                 t("interval", lang) + " ↑", t("share", lang), t("share_interval", lang) + " ↓",
                 t("share_interval", lang) + " ↑", t("vetoes", lang)]
        head += [t("rank_interval", lang) + " ↑", t("rank_interval", lang) + " ↓", t("tier", lang)] if ranked else []
    else:
        head += [t("n", lang), t("mean", lang), t("estimate", lang) + "（" + t("interval", lang) + "）",
                 t("share", lang) + "（" + t("share_interval", lang) + "）"]
        head += [t("rank_interval", lang), t("tier", lang)] if ranked else []
    body = []
    for r in rows:
        rank: Any = r.rank if r.rank is not None or numeric else "—"
        line: list[Any] = ([rank] if ranked else []) + [r.label] + ([r.parent] if parent_key else [])
        tier = "" if r.tier is None else t(f"tier_{r.tier}", lang)
        if numeric:
            line += [r.n, _num(r.mean), _num(r.estimate), _num(r.low), _num(r.high), _num(r.share, 4),
                     _num(r.share_low, 4), _num(r.share_high, 4), r.vetoes]
            line += [r.rank_low, r.rank_high, tier] if ranked else []
        else:
            interval = "" if r.low != r.low else f"（{fmt(r.low)}–{fmt(r.high)}）"
            line += [str(r.n), fmt(r.mean), fmt(r.estimate) + interval,
                     f"{pct(r.share)}（{pct(r.share_low)}–{pct(r.share_high)}）"]
            span = "—" if r.rank_low is None else f"{r.rank_low}–{r.rank_high}"
            line += [span, tier] if ranked else []
        body.append(line)
    return head, body


def glance_table(data: ReportData, lang: str) -> Table:
    g = data.glance
    rows: list[list[Any]] = [
        [t("cases", lang), g.n_cases], [t("reviewers", lang), g.n_reviewers], [t("reviews", lang), g.n_reviews],
        [t("escalations", lang), g.n_escalations], [t("appeals", lang), g.n_appeals],
    ]
    if g.overall is not None:
        rows += [[t("mean", lang), fmt(g.overall.mean)],
                 [t("share", lang), f"{pct(g.overall.share)}（{pct(g.overall.share_low)}–{pct(g.overall.share_high)}）"]]
    return [t("section", lang), t("value", lang)], rows


def count_table(counts: tuple[Count, ...], key: str, lang: str) -> Table:
    return [t(key, lang), t("count", lang)], [[c.label, c.n] for c in counts]


def loss_table(rows: tuple[ItemLoss, ...], lang: str, *, numeric: bool = False) -> Table:
    head = [t("item", lang), t("max_points", lang), t("n", lang), t("mean_lost", lang), t("share_lost", lang)]
    if numeric:
        return head, [[r.label, r.max_points, r.n, _num(r.mean_lost), _num(r.share_lost, 4)] for r in rows]
    return head, [[r.label, fmt(r.max_points, 0), str(r.n), fmt(r.mean_lost, 2), pct(r.share_lost)] for r in rows]


def reliability_table(data: ReportData, lang: str) -> Table:
    r = data.reliability
    icc_text = fmt(r.icc, 3) + ("" if r.icc_low is None else f"（{fmt(r.icc_low, 3)}–{fmt(r.icc_high, 3)}）")
    spread = fmt(r.leniency_sd, 2)
    span = "—" if r.leniency_min is None else f"{fmt(r.leniency_min, 2)} – {fmt(r.leniency_max, 2)}"
    return [t("section", lang), t("value", lang)], [
        [t("cases", lang), r.n_units], [t("reviewers", lang), r.n_raters], [t("ratings", lang), r.n_ratings],
        [t("alpha", lang), fmt(r.alpha, 3)], [t("icc", lang), icc_text], [t("leniency", lang), spread],
        [t("leniency_range", lang), span],
    ]


def distribution_table(data: ReportData, lang: str) -> Table:
    d = data.distribution
    head = [t("bin", lang)] + [t(key, lang) for key, _ in d.series]
    rows = []
    for i in range(len(d.edges) - 1):
        band = f"{numbers.number(d.edges[i], 2, trim=True)}–{numbers.number(d.edges[i + 1], 2, trim=True)}"
        rows.append([band] + [counts[i] for _, counts in d.series])
    return head, rows


def trend_table(points: tuple[TrendPoint, ...], lang: str, *, numeric: bool = False) -> Table:
    head = [t("year", lang), t("campaign", lang), t("n", lang), t("mean", lang), t("share", lang)]
    if numeric:
        head += [t("share_interval", lang) + " ↓", t("share_interval", lang) + " ↑"]
        return head, [[p.year, p.campaign, p.n, _num(p.mean), _num(p.share, 4), _num(p.share_low, 4),
                       _num(p.share_high, 4)] for p in points]
    return head, [[str(p.year), p.campaign, str(p.n), fmt(p.mean),
                   f"{pct(p.share)}（{pct(p.share_low)}–{pct(p.share_high)}）"] for p in points]


def separation_text(sep: Separation, entity: str, lang: str, level: float) -> str:
    """The statement of how well the data separate lawyers or agencies (``entity``: "lawyer", "agency")."""
    params = {"entity": t(entity, lang).lower(), "entities": t(f"entities_{entity}", lang), "tau2": fmt(sep.tau2),
              "low": fmt(sep.tau2_low), "high": fmt(sep.tau2_high), "pct": numbers.number(100 * level, 1, trim=True),
              "cases": fmt(sep.cases_per_entity), "mean": fmt(sep.mean)}
    if not sep.separable:
        return t("cannot_separate", lang, **params)
    return t("separation_note", lang, above=sep.above, below=sep.below,
             level=sep.n_entities - sep.above - sep.below, **params)


def ranking_lists(data: ReportData, lang: str, *, numeric: bool = False) -> list[tuple[str, Table | None, list[str]]]:
    """The report's top and bottom lists as (caption, table or None when empty, notes), for every renderer.

    The lists hold only entities whose interval lies clearly above (top) or below (bottom) the provincial
    mean. The top list of each kind carries the separation statement; an empty list says why it is empty.
    """
    out: list[tuple[str, Table | None, list[str]]] = []
    basis = [t("record_basis", lang, years="、".join(map(str, data.list_years)) if lang == "zh"
               else ", ".join(map(str, data.list_years)))] if data.list_years else []
    for key, rows, entity in (("top_lawyers", data.top_lawyers, "lawyer"),
                              ("bottom_lawyers", data.bottom_lawyers, "lawyer"),
                              ("top_agencies", data.top_agencies, "agency"),
                              ("bottom_agencies", data.bottom_agencies, "agency")):
        sep = data.separation.get(entity)
        notes = basis + [separation_text(sep, entity, lang, data.level)] if sep and key.startswith("top") else []
        if not rows and sep is not None:
            notes.append(t("empty_top" if key.startswith("top") else "empty_bottom", lang,
                           entity=t(entity, lang).lower(), mean=fmt(sep.mean)))
        out.append((t(key, lang), figure_table(rows, entity, lang, numeric=numeric) if rows else None, notes))
    return out
