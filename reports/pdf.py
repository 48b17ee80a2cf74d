"""The report as PDF with reportlab, embedding a subset of the CJK font (so pdftotext reads the Chinese).

reportlab is chosen over matplotlib's PdfPages because it lays out flowing text and long tables over pages
and writes a ToUnicode map for the embedded TrueType subset; charts are matplotlib PNGs placed in it.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports import charts, numbers
from reports.fonts import cjk_font
from reports.model import ReportData
from reports.tables import (
    count_table,
    figure_table,
    glance_table,
    loss_table,
    ranking_lists,
    reliability_table,
    trend_table,
)
from reports.text import stamp, t

FONT = "EvalplatCJK"


@lru_cache(maxsize=1)
def _register() -> str:
    pdfmetrics.registerFont(TTFont(FONT, str(cjk_font().path), subfontIndex=0))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _register()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=6),
        "h1": ParagraphStyle("h1", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontSize=10.5, leading=15, spaceBefore=6, spaceAfter=2),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=10),
    }


def _table(head: list[str], rows: list[list[Any]], st: dict[str, ParagraphStyle]) -> Table:
    cell = st["cell"]
    data = [[Paragraph(escape(str(h)), cell) for h in head]]
    data += [[Paragraph(escape("" if v is None else str(v)), cell) for v in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _chart(png: bytes, width_mm: float = 165, max_height_mm: float = 240) -> Image:
    """The chart at the text width, scaled down to fit one page when it is tall (many cities)."""
    img = Image(io.BytesIO(png))
    ratio = img.imageHeight / img.imageWidth
    width = min(width_mm, max_height_mm / ratio)
    img.drawWidth = width * mm
    img.drawHeight = width * mm * ratio
    return img


def render_pdf(data: ReportData, lang: str = "zh", *, agency: str | None = None) -> bytes:
    """The whole report (or one agency's section) as PDF bytes."""
    st = _styles()
    story: list[Any] = [
        Paragraph(escape(t("title", lang, year=data.year)), st["title"]),
        Paragraph(escape(data.campaign_name), st["body"]),
        Paragraph(escape(t("generated", lang, at=stamp(data.generated_at),
                           version=data.data_version)), st["body"]),
        Paragraph(escape(t("level_note", lang, pct=numbers.number(100 * data.level, 1, trim=True))), st["body"]),
    ]

    def h1(key: str) -> None:
        story.append(Paragraph(escape(t(key, lang)), st["h1"]))

    def table(tab: tuple[list[str], list[list[Any]]]) -> None:
        if tab[1]:
            story.append(_table(*tab, st))
        else:
            story.append(Paragraph(escape(t("not_enough", lang)), st["body"]))
        story.append(Spacer(1, 3 * mm))

    if agency is not None:
        section = data.for_agency(agency)
        if section is None:
            raise KeyError(f"no section for agency {agency}")
        h1("agency_section")
        table(figure_table((section.agency,), "agency", lang))
        table(figure_table(section.case_types, "case_type", lang, ranked=False))
        table(count_table(section.grades, "grade", lang))
        h1("item_losses")
        for ctype, rows in section.item_losses:
            story.append(Paragraph(escape(t(ctype, lang)), st["h2"]))
            table(loss_table(rows, lang))
    else:
        weighted = data.extra.get("weighted")
        if weighted:
            story.append(Paragraph(escape(weighted["title"]), st["h1"]))
            for _caption, note, tab in weighted["sections"]:
                story.append(Paragraph(escape(note), st["body"]))
                table((list(tab[0]), [list(row) for row in tab[1]]))
        g = data.glance
        h1("glance")
        table(glance_table(data, lang))
        story.append(Paragraph(escape(t("strata", lang)), st["h2"]))
        table(count_table(g.strata, "stratum", lang))
        story.append(Paragraph(escape(t("grades", lang)), st["h2"]))
        table(count_table(g.grades, "grade", lang))
        if g.appeal_states:
            story.append(Paragraph(escape(t("appeals", lang)), st["h2"]))
            table(count_table(g.appeal_states, "section", lang))
            table(count_table(g.appeal_outcomes, "appeal_outcomes", lang))
        h1("by_city")
        if data.by_city:
            story.append(_chart(charts.share_chart(data.by_city, lang)))
        table(figure_table(data.by_city, "city", lang))
        h1("by_agency")
        table(figure_table(data.by_agency, "agency", lang, parent_key="city"))
        h1("by_case_type")
        table(figure_table(data.by_case_type, "case_type", lang))
        h1("distribution")
        story.append(_chart(charts.distribution_chart(data.distribution, lang)))
        h1("item_losses")
        for ctype, rows in data.item_losses:
            story.append(Paragraph(escape(t(ctype, lang)), st["h2"]))
            table(loss_table(rows, lang))
        h1("reliability")
        table(reliability_table(data, lang))
        h1("rankings")
        for caption, tab, notes in ranking_lists(data, lang):
            story.append(Paragraph(escape(caption), st["h2"]))
            for note in notes:
                story.append(Paragraph(escape(note), st["body"]))
            if tab:
                table(tab)
        h1("trend")
        if len(data.trend) >= 2:
            story.append(_chart(charts.trend_chart(data.trend, lang)))
            table(trend_table(data.trend, lang))
        else:
            story.append(Paragraph(escape(t("no_trend", lang)), st["body"]))
        postcase = data.extra.get("postcase")
        if postcase:
            story.append(Paragraph(escape(postcase["title"]), st["h1"]))
            for caption, note, tab in postcase["sections"]:
                story.append(Paragraph(escape(caption), st["h2"]))
                if note:
                    story.append(Paragraph(escape(note), st["body"]))
                table((list(tab[0]), [list(row) for row in tab[1]]))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=t("title", lang, year=data.year),
                            author="evalplat", creator="evalplat", invariant=1)
    doc.build(story)
    return buf.getvalue()
