"""Machine-readable reason codes with bilingual message templates, shared by consensus and ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MESSAGES", "Reason"]

# code -> (Chinese template, English template); templates use the reason's params.
MESSAGES: dict[str, tuple[str, str]] = {
    "spread_above_threshold": ("评分差距 {spread:g} 分，超过阈值 {threshold:g} 分",
                               "scores differ by {spread:g} points, above the threshold of {threshold:g}"),
    "grades_apart": ("评审等级相差 {gap} 档（允许 {max_gap} 档）",
                     "grades are {gap} bands apart (at most {max_gap} allowed)"),
    "veto_one_side": ("否决项 {item} 仅部分评审专家认定",
                      "veto item {item} was raised by some reviewers but not all"),
    "extreme_grade": ("有评审专家评为 {grade}", "a reviewer graded the case {grade}"),
    "adjudicated_override": ("采用复评专家决定（原合成分 {combined:g}）",
                             "the adjudicator's decision overrides the combined score {combined:g}"),
    "veto_forces_fail": ("否决项成立，等级为不合格", "a veto item stands, so the grade is fail"),
    "too_few_cases": ("评查案件 {n} 件，少于 {minimum} 件", "{n} reviewed cases, fewer than {minimum}"),
    "lower_bound_below_threshold": ("得分区间下限 {lower:.1f} 低于 {threshold:g}",
                                    "lower bound of the score {lower:.1f} is below {threshold:g}"),
    "share_lower_bound_below_threshold": ("优良率区间下限 {lower:.3f} 低于 {threshold:g}",
                                          "lower bound of the excellent-or-good share {lower:.3f} "
                                          "is below {threshold:g}"),
    "veto_on_record": ("有 {count} 件案件触发否决项", "{count} case(s) with a veto item"),
}


@dataclass(frozen=True)
class Reason:
    """A machine-readable reason: a stable ``code`` and its parameters.

    Store the code and params; render a message only for display with :meth:`message`.

    Examples
    --------
    >>> r = Reason("spread_above_threshold", {"spread": 15.0, "threshold": 10.0})
    >>> r.message("en")
    'scores differ by 15 points, above the threshold of 10'
    >>> r.message("zh")
    '评分差距 15 分，超过阈值 10 分'
    """

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, language: str = "en") -> str:
        """Render the bilingual template (``"zh"`` or ``"en"``) with the params."""
        zh, en = MESSAGES[self.code]
        return (zh if language.startswith("zh") else en).format(**self.params)
