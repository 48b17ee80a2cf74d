"""Report charts with matplotlib's object API (``Figure`` + Agg canvas; no pyplot state), as PNG bytes.

Chinese labels use the CJK font from :mod:`reports.fonts`, with DejaVu Sans as fallback for Latin glyphs,
set only inside an ``rc_context`` around each chart.

The charts are pure functions of frozen report data, so each is cached (a report rendered as HTML, PDF
and XLSX, or shown again, draws each chart once).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.fonts import cjk_font
from reports.model import Distribution, TrendPoint
from reports.model import Figure as GroupFigure
from reports.text import t

DPI = 110
#: Charts kept (PNG bytes, tens of kB each): a few reports' worth in both languages.
CACHED_CHARTS = 64


@contextmanager
def _cjk() -> Iterator[None]:
    font = cjk_font()
    with matplotlib.rc_context({"font.family": "sans-serif",
                                "font.sans-serif": [font.family, "DejaVu Sans"],
                                "axes.unicode_minus": False}):
        yield


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


@functools.lru_cache(maxsize=CACHED_CHARTS)
def distribution_chart(dist: Distribution, lang: str = "zh") -> bytes:
    """Histogram of result totals, one step line per case type over the overall bars."""
    with _cjk():
        fig = Figure(figsize=(6.4, 3.4), layout="constrained")
        ax = fig.add_subplot()
        edges = np.asarray(dist.edges)
        width = np.diff(edges)
        for i, (key, counts) in enumerate(dist.series):
            if i == 0:
                ax.bar(edges[:-1], counts, width=width, align="edge", color="#9ecae1", edgecolor="#3182bd",
                       label=t(key, lang))
            else:
                ax.step(edges, [*counts, counts[-1]], where="post", label=t(key, lang))
        ax.set_title(t("chart_distribution", lang))
        ax.set_xlabel(t("score", lang))
        ax.set_ylabel(t("frequency", lang))
        # a fixed place: "best" is searched for and warns when that is slow (a timing-dependent warning)
        ax.legend(fontsize="small", loc="upper left")
        return _png(fig)


@functools.lru_cache(maxsize=CACHED_CHARTS)
def share_chart(rows: tuple[GroupFigure, ...], lang: str = "zh", title_key: str = "chart_city") -> bytes:
    """优良率 per group with Wilson intervals and the case count in each label (at most 60 groups: the
    30 highest and 30 lowest when there are more)."""
    if len(rows) > 60:
        ordered_all = sorted(rows, key=lambda r: r.share)
        rows = tuple(ordered_all[:30] + ordered_all[-30:])
    with _cjk():
        fig = Figure(figsize=(6.4, max(2.4, 0.2 * len(rows) + 1.2)), layout="constrained")
        ax = fig.add_subplot()
        ordered = sorted(rows, key=lambda r: r.share)
        y = np.arange(len(ordered))
        share = np.array([r.share for r in ordered]) * 100
        err = np.array([[r.share - r.share_low for r in ordered], [r.share_high - r.share for r in ordered]]) * 100
        ax.barh(y, share, xerr=err if len(ordered) else None, color="#74c476", ecolor="#333333", capsize=2)
        ax.set_yticks(y, [f"{r.label}（{r.n}）" for r in ordered])
        ax.set_xlim(0, 100)
        ax.set_xlabel(t("share", lang) + " %")
        ax.set_title(t(title_key, lang))
        return _png(fig)


@functools.lru_cache(maxsize=CACHED_CHARTS)
def trend_chart(points: tuple[TrendPoint, ...], lang: str = "zh") -> bytes:
    """优良率 (with Wilson intervals) and mean score by year."""
    with _cjk():
        fig = Figure(figsize=(6.4, 3.0), layout="constrained")
        ax = fig.add_subplot()
        years = [p.year for p in points]
        share = np.array([p.share for p in points]) * 100
        low = np.array([p.share_low for p in points]) * 100
        high = np.array([p.share_high for p in points]) * 100
        ax.errorbar(years, share, yerr=[share - low, high - share], marker="o", capsize=3, label=t("share", lang))
        ax.plot(years, [p.mean for p in points], marker="s", label=t("mean", lang))
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_ylim(0, 100)
        ax.set_xlabel(t("year", lang))
        ax.set_title(t("chart_trend", lang))
        ax.legend(fontsize="small", loc="lower right")  # scores and shares sit high on the 0-100 axis
        return _png(fig)
