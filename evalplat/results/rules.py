"""A campaign's consolidation rules as the arguments of :mod:`scoring.consensus` (plain data, no session)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from evalplat.campaigns.models import DEFAULT_DISAGREEMENT_RULES, DEFAULT_GRADE_BANDS, Campaign
from scoring.consensus import GRADES, Disagreement, GradeBands, combine, detect_disagreement

METHODS = ("mean", "median", "trimmed")


def bands_of(campaign: Campaign) -> GradeBands:
    """The campaign's grade bands (``{"excellent": 90, "good": 80, "pass": 60}``) for :mod:`scoring`."""
    bands = {**DEFAULT_GRADE_BANDS, **(campaign.grade_bands or {})}
    return GradeBands(cutoffs=(float(bands["excellent"]), float(bands["good"]), float(bands["pass"])))


@dataclass(frozen=True)
class Rules:
    """The disagreement and combination rules of one campaign.

    ``max_spread`` (points, None = off), ``max_band_gap`` (bands, None = off), ``veto_one_side`` (bool),
    ``extremes`` (grades always re-reviewed: ``escalate_extremes`` True means 优秀 and 不合格, a list names
    them, False none), ``method`` (mean, median or trimmed).
    """

    bands: GradeBands
    max_spread: float | None
    max_band_gap: int | None
    veto_one_side: bool
    extremes: tuple[str, ...]
    method: str

    @classmethod
    def of(cls, campaign: Campaign) -> Rules:
        raw: dict[str, Any] = {**DEFAULT_DISAGREEMENT_RULES, **(campaign.disagreement_rules or {})}
        extremes_raw = raw.get("escalate_extremes", True)
        if extremes_raw is True:
            extremes: tuple[str, ...] = ("excellent", "fail")
        elif not extremes_raw:
            extremes = ()
        else:
            extremes = tuple(g for g in extremes_raw if g in GRADES)
        spread = raw.get("max_spread")
        gap = raw.get("max_band_gap")
        method = str(raw.get("method", "mean"))
        return cls(bands=bands_of(campaign), max_spread=None if spread is None else float(spread),
                   max_band_gap=None if gap is None else int(gap), veto_one_side=bool(raw.get("veto_one_side", True)),
                   extremes=extremes, method=method if method in METHODS else "mean")

    def disagreement(self, totals: Sequence[float], vetoes: Sequence[Collection[str]]) -> Disagreement:
        """The disagreement rules applied to one case's reviews (``veto_one_side`` dropped when switched off)."""
        found = detect_disagreement(totals, vetoes=vetoes, spread_threshold=self.max_spread,
                                    max_band_gap=self.max_band_gap, extreme_grades=self.extremes, bands=self.bands)
        if self.veto_one_side:
            return found
        kept = tuple(r for r in found.reasons if r.code != "veto_one_side")
        return Disagreement(bool(kept), kept, found.spread, found.grades)

    def standing_vetoes(self, vetoes: Sequence[Collection[str]]) -> list[str]:
        """Veto items raised by more than half of the reviews (with the default rules a veto raised by only
        some reviewers escalates instead)."""
        counts: dict[str, int] = {}
        for raised in vetoes:
            for item in set(raised):
                counts[item] = counts.get(item, 0) + 1
        return sorted(item for item, n in counts.items() if 2 * n > len(vetoes))

    def grade(self, total: float, vetoes: Collection[str]) -> str:
        """The grade of a total; a standing veto forces the last grade (不合格)."""
        return self.bands.grades[-1] if vetoes else self.bands.grade(total)

    def combined(self, totals: Sequence[float], vetoes: Collection[str]) -> tuple[float, str]:
        """The combined total (by ``method``) and its grade."""
        result = combine(totals, method=self.method, veto=bool(vetoes), bands=self.bands)
        return result.value, result.grade
