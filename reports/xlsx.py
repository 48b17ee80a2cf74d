"""The report as an XLSX workbook (openpyxl write-only mode: constant memory at national scale)."""

from __future__ import annotations

from typing import Any

from reports.model import ReportData
from reports.spreadsheet import XlsxWriter
from reports.tables import (
    count_table,
    distribution_table,
    figure_table,
    loss_table,
    ranking_lists,
    reliability_table,
    trend_table,
)
from reports.text import stamp, t


def _sheet(wb: XlsxWriter, title: str, blocks: list[tuple[str | None, tuple[list[str], list[list[Any]]]]]) -> None:
    ws = wb.sheet(title)
    for caption, (head, rows) in blocks:
        if caption:
            wb.append(ws, [caption])
        wb.append(ws, head)
        for row in rows:
            wb.append(ws, row)
        wb.append(ws, [])


def render_xlsx(data: ReportData, lang: str = "zh", *, agency: str | None = None) -> bytes:
    """Every table of the report, one sheet per section; ``agency`` limits it to that agency's section."""
    wb = XlsxWriter()
    meta = [[t("title", lang, year=data.year)], [t("campaign", lang), data.campaign_name],
            [t("generated_at", lang), stamp(data.generated_at)],
            [t("data_version", lang), data.data_version]]
    if agency is not None:
        section = data.for_agency(agency)
        if section is None:
            raise KeyError(f"no section for agency {agency}")
        blocks: list[tuple[str | None, Any]] = [(None, (["", ""], meta))]
        blocks.append((t("agency_section", lang), figure_table((section.agency,), "agency", lang, numeric=True)))
        blocks.append((t("case_type", lang), figure_table(section.case_types, "case_type", lang, numeric=True,
                                                          ranked=False)))
        blocks.append((t("grades", lang), count_table(section.grades, "grade", lang)))
        for ctype, rows in section.item_losses:
            blocks.append((t("item_losses", lang) + " · " + t(ctype, lang), loss_table(rows, lang, numeric=True)))
        _sheet(wb, t("agency_section", lang), blocks)
        return wb.to_bytes()
    weighted = data.extra.get("weighted")
    if weighted:  # a risk-weighted sample: its statement and estimates come first
        _sheet(wb, weighted["sheet"], [(note, (list(tab[0]), [list(row) for row in tab[1]]))
                                            for _caption, note, tab in weighted["sections"]])
    g = data.glance
    _sheet(wb, t("sheet_glance", lang), [
        (None, (["", ""], meta)),
        (t("glance", lang), (["", ""], [[t("cases", lang), g.n_cases], [t("reviewers", lang), g.n_reviewers],
                                        [t("reviews", lang), g.n_reviews],
                                        [t("escalations", lang), g.n_escalations],
                                        [t("appeals", lang), g.n_appeals]])),
        (t("strata", lang), count_table(g.strata, "stratum", lang)),
        (t("case_type", lang), count_table(g.case_types, "case_type", lang)),
        (t("grades", lang), count_table(g.grades, "grade", lang)),
        (t("appeals", lang), count_table(g.appeal_states, "section", lang)),
        (t("appeal_outcomes", lang), count_table(g.appeal_outcomes, "section", lang)),
    ])
    _sheet(wb, t("sheet_city", lang), [(None, figure_table(data.by_city, "city", lang, numeric=True))])
    _sheet(wb, t("sheet_agency", lang), [(None, figure_table(data.by_agency, "agency", lang, numeric=True,
                                                             parent_key="city"))])
    _sheet(wb, t("sheet_case_type", lang), [(None, figure_table(data.by_case_type, "case_type", lang,
                                                                numeric=True))])
    _sheet(wb, t("sheet_distribution", lang), [(None, distribution_table(data, lang))])
    _sheet(wb, t("sheet_items", lang), [(t(ctype, lang), loss_table(rows, lang, numeric=True))
                                        for ctype, rows in data.item_losses])
    _sheet(wb, t("sheet_reliability", lang), [(None, reliability_table(data, lang))])
    rank_blocks: list[tuple[str | None, tuple[list[str], list[list[Any]]]]] = []
    for caption, tab, notes in ranking_lists(data, lang, numeric=True):
        rank_blocks.append((caption, ([], [[note] for note in notes])))
        if tab:
            rank_blocks.append((None, tab))
    _sheet(wb, t("sheet_rankings", lang), rank_blocks)
    _sheet(wb, t("sheet_trend", lang), [(None, trend_table(data.trend, lang, numeric=True))])
    return wb.to_bytes()

