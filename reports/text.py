"""Bilingual text of the report (Chinese first; English on request). Renderers call :func:`t`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reports import numbers

TEXT: dict[str, tuple[str, str]] = {
    "title": ("{year}年度法律援助案件质量同行评估报告", "Legal-aid case quality peer review {year}: annual report"),
    "generated": ("生成时间 {at}；数据版本 {version}", "Generated {at}; data version {version}"),
    "level_note": ("区间为 {pct}% 置信区间；得分为经验贝叶斯收缩均值，优良率区间为 Wilson 区间；括号内为评查案件数。",
                   "Intervals are {pct}% intervals; scores are empirical-Bayes shrunk means and 优良率 "
                   "intervals are Wilson intervals; the number of reviewed cases is shown beside every figure."),
    "glance": ("一、评估概况", "1. The campaign at a glance"),
    "by_city": ("二、各市优良率与平均分", "2. 优良率 and mean score by city"),
    "by_agency": ("三、各法律援助机构优良率与平均分", "3. 优良率 and mean score by agency"),
    "by_case_type": ("四、各案件类型优良率与平均分", "4. 优良率 and mean score by case type"),
    "distribution": ("五、得分分布", "5. Score distribution"),
    "item_losses": ("六、主要失分项（按案件类型）", "6. Rubric items that lose the most points, by case type"),
    "reliability": ("七、评审信度", "7. Reliability of the reviews"),
    "rankings": ("八、排名（前列与末位）", "8. Rankings, top and bottom"),
    "trend": ("九、历年趋势", "9. Year-over-year trend"),
    "agency_section": ("本机构评估结果", "Results of your agency"),
    "cases": ("评查案件数", "Reviewed cases"),
    "reviewers": ("评审人数", "Reviewers"),
    "reviews": ("评审份数", "Reviews"),
    "escalations": ("提交复评案件数", "Cases escalated to adjudication"),
    "appeals": ("异议数", "Appeals"),
    "appeal_outcomes": ("异议处理结果", "Appeal outcomes"),
    "strata": ("各抽样层案件数", "Cases sampled per stratum"),
    "stratum": ("抽样层", "Stratum"),
    "grades": ("等级分布", "Grades"),
    "grade": ("等级", "Grade"),
    "count": ("数量", "Count"),
    "overall": ("全省", "Overall"),
    "name": ("名称", "Name"),
    "city": ("市", "City"),
    "agency": ("机构", "Agency"),
    "lawyer": ("律师", "Lawyer"),
    "case_type": ("案件类型", "Case type"),
    "n": ("案件数", "Cases"),
    "mean": ("平均分", "Mean score"),
    "estimate": ("收缩均值", "Shrunk mean"),
    "interval": ("区间", "Interval"),
    "share": ("优良率", "优良率 (excellent or good)"),
    "share_interval": ("优良率区间", "优良率 interval"),
    "rank": ("名次", "Rank"),
    "rank_interval": ("名次区间", "Rank interval"),
    "vetoes": ("否决案件", "Vetoed cases"),
    "item": ("评估项目", "Rubric item"),
    "max_points": ("满分", "Max points"),
    "mean_lost": ("平均失分", "Mean points lost"),
    "share_lost": ("失分比例", "Share lost"),
    "alpha": ("Krippendorff α（总分，区间尺度）", "Krippendorff's alpha (totals, interval)"),
    "icc": ("组内相关系数 ICC(1)", "Intraclass correlation ICC(1)"),
    "leniency": ("评审宽严差异（标准差，分）", "Reviewer leniency spread (SD, points)"),
    "leniency_range": ("评审宽严范围（分）", "Reviewer leniency range (points)"),
    "ratings": ("评分数", "Ratings"),
    "not_enough": ("数据不足", "not enough data"),
    "cannot_separate": ("这些{entities}之间的差异无法与评审误差区分：{entity}间方差 τ² = {tau2}（{pct}% 区间 {low}–{high}），"
                        "平均每个{entity} {cases} 件评审案件。因此不列名次，只分三档：明显高于、无法区分于、明显低于全省平均。",
                        "The differences between these {entities} cannot be told apart from reviewer error: the "
                        "between-{entity} variance τ² = {tau2} ({pct}% interval {low}–{high}), with {cases} reviewed "
                        "cases per {entity} on average. No ranks are given, only tiers: clearly above, "
                        "indistinguishable from, or clearly below the provincial mean."),
    "separation_note": ("{above} 个{entity}的区间明显高于全省平均 {mean}，{below} 个明显低于，其余 {level} 个与平均无法区分"
                        "（τ² = {tau2}，{pct}% 区间 {low}–{high}；平均每个{entity} {cases} 件评审案件）。",
                        "{above} {entities} lie clearly above the provincial mean {mean}, {below} clearly below, "
                        "and {level} cannot be told apart from it (τ² = {tau2}, {pct}% interval {low}–{high}; "
                        "{cases} reviewed cases per {entity} on average)."),
    "empty_top": ("没有{entity}的区间完全高于全省平均 {mean}，故本名单为空。",
                  "No {entity}'s interval lies wholly above the provincial mean {mean}, so this list is empty."),
    "empty_bottom": ("没有{entity}的区间完全低于全省平均 {mean}，故本名单为空。",
                     "No {entity}'s interval lies wholly below the provincial mean {mean}, so this list is empty."),
    "record_basis": ("名单依据 {years} 年度已发布评估的合并记录（得分按案件类型和评估活动校正）。",
                     "The lists read the pooled record of the published campaigns of {years} (scores adjusted "
                     "for case type and campaign)."),
    "tier": ("档次", "Tier"),
    "tier_1": ("明显高于平均", "clearly above the mean"),
    "tier_0": ("与平均无法区分", "indistinguishable from the mean"),
    "tier_-1": ("明显低于平均", "clearly below the mean"),
    "entities_lawyer": ("律师", "lawyers"),
    "entities_agency": ("机构", "agencies"),
    "top_lawyers": ("律师前列", "Lawyers, top"),
    "bottom_lawyers": ("律师末位", "Lawyers, bottom"),
    "top_agencies": ("机构前列", "Agencies, top"),
    "bottom_agencies": ("机构末位", "Agencies, bottom"),
    "year": ("年度", "Year"),
    "campaign": ("评估活动", "Campaign"),
    "no_trend": ("暂无往年评估数据。", "No earlier campaign to compare with."),
    "chart_distribution": ("得分分布", "Score distribution"),
    "chart_city": ("各市优良率", "优良率 by city"),
    "chart_trend": ("历年优良率与平均分", "优良率 and mean score by year"),
    "score": ("得分", "Score"),
    "frequency": ("案件数", "Cases"),
    "none": ("无", "none"),
    "data_version": ("数据版本", "Data version"),
    "generated_at": ("生成时间", "Generated at"),
    "sheet_glance": ("概况", "Glance"),
    "sheet_city": ("按市", "By city"),
    "sheet_agency": ("按机构", "By agency"),
    "sheet_case_type": ("按案件类型", "By case type"),
    "sheet_distribution": ("得分分布", "Distribution"),
    "sheet_items": ("失分项", "Item losses"),
    "sheet_reliability": ("信度", "Reliability"),
    "sheet_rankings": ("排名", "Rankings"),
    "sheet_trend": ("趋势", "Trend"),
    "section": ("部分", "Section"),
    "value": ("数值", "Value"),
    "bin": ("分数段", "Score band"),
    "all_types": ("全部", "All"),
    # stored codes
    "changed": ("改变原结果", "Result changed"),
    "upheld": ("维持原结果", "Result upheld"),
    "criminal": ("刑事", "Criminal"),
    "civil": ("民事", "Civil"),
    "administrative": ("行政", "Administrative"),
    "non_litigation": ("非诉讼", "Non-litigation"),
    "excellent": ("优秀", "Excellent"),
    "good": ("良好", "Good"),
    "pass": ("合格", "Pass"),
    "fail": ("不合格", "Fail"),
    "filed": ("已提出", "Filed"),
    "accepted": ("已受理", "Accepted"),
    "rejected": ("不予受理", "Rejected"),
    "decided": ("已决定", "Decided"),
}


def lang_of(locale: Any) -> str:
    """``"zh"`` or ``"en"`` from a locale object or string (default Chinese)."""
    return "en" if str(locale or "zh").lower().startswith("en") else "zh"


def t(key: str, lang: str = "zh", **params: Any) -> str:
    """The text for ``key`` in ``lang``; an unknown key (e.g. a stored code) is returned as it is."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def stamp(value: datetime) -> str:
    """A report's time with its offset from UTC (the report is generated in the platform's display zone).

    >>> from datetime import timezone, timedelta
    >>> stamp(datetime(2025, 1, 10, 9, 30, tzinfo=timezone(timedelta(hours=8))))
    '2025-01-10 09:30:00 (UTC+08:00)'
    """
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{value:%Y-%m-%d %H:%M:%S} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for display; a dash when missing (``reports.numbers.number``)."""
    return numbers.number(value, digits)


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage; a dash when missing (``reports.numbers.percent``)."""
    return numbers.percent(value, digits)
