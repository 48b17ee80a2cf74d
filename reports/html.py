"""The report as HTML: a body fragment shared by the organiser's page (inside base.html) and a standalone file.

The fragment template uses only what :func:`report_context` passes (no Flask globals), so the CLI renders it
with plain Jinja. Charts are PNG data URIs (allowed by the platform's CSP: ``img-src 'self' data:``).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports import charts, numbers
from reports.model import ReportData
from reports.tables import (
    count_table,
    distribution_table,
    figure_table,
    glance_table,
    loss_table,
    ranking_lists,
    reliability_table,
    trend_table,
)
from reports.text import stamp, t

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def report_context(data: ReportData, lang: str = "zh", *, agency: str | None = None,
                   with_charts: bool = True) -> dict[str, Any]:
    """Everything the ``reports/_body.html`` fragment shows; ``agency`` limits it to that agency's section.

    Raises
    ------
    KeyError
        When ``agency`` has no section in the report.
    """
    def tr(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    ctx: dict[str, Any] = {"data": data, "t": tr, "lang": lang, "agency": None,
                           "generated": t("generated", lang, at=stamp(data.generated_at),
                                          version=data.data_version),
                           "note": t("level_note", lang, pct=numbers.number(100 * data.level, 1, trim=True))}
    if agency is not None:
        section = data.for_agency(agency)
        if section is None:
            raise KeyError(f"no section for agency {agency}")
        ctx["agency"] = {
            "figure": figure_table((section.agency,), "agency", lang),
            "case_types": figure_table(section.case_types, "case_type", lang, ranked=False),
            "grades": count_table(section.grades, "grade", lang),
            "losses": [(t(c, lang), loss_table(rows, lang)) for c, rows in section.item_losses],
            "n_agencies": section.n_agencies,
        }
        return ctx
    g = data.glance
    ctx.update(
        glance=glance_table(data, lang), strata=count_table(g.strata, "stratum", lang),
        grades=count_table(g.grades, "grade", lang), appeal_states=count_table(g.appeal_states, "section", lang),
        appeal_outcomes=count_table(g.appeal_outcomes, "appeal_outcomes", lang),
        by_city=figure_table(data.by_city, "city", lang),
        by_agency=figure_table(data.by_agency, "agency", lang, parent_key="city"),
        by_case_type=figure_table(data.by_case_type, "case_type", lang),
        distribution=distribution_table(data, lang),
        losses=[(t(c, lang), loss_table(rows, lang)) for c, rows in data.item_losses],
        reliability=reliability_table(data, lang),
        rankings=ranking_lists(data, lang),
        trend=trend_table(data.trend, lang) if len(data.trend) >= 2 else None,
        charts={},
    )
    if with_charts:
        ctx["charts"] = {"distribution": _uri(charts.distribution_chart(data.distribution, lang))}
        if data.by_city:
            ctx["charts"]["city"] = _uri(charts.share_chart(data.by_city, lang))
        if len(data.trend) >= 2:
            ctx["charts"]["trend"] = _uri(charts.trend_chart(data.trend, lang))
    return ctx


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       auto_reload=False)


def render_html(data: ReportData, lang: str = "zh", *, agency: str | None = None) -> str:
    """A standalone HTML file of the report (for the CLI and archiving)."""
    ctx = report_context(data, lang, agency=agency)
    return _environment().get_template("reports/standalone.html").render(**ctx)
