"""The annual report's post-case section: closing-review pass rates and the most often missing materials,
follow-up contact and satisfaction (also weighted by the inverse inclusion probabilities of the follow-up
plans), complaints, and self-evaluation against peer review. Plain data for reports/ (no request, no session
kept); bilingual texts here, so the report's shared catalogue stays untouched."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from evalplat.cases.models import Case
from evalplat.closing.queries import closing_summary, item_label
from evalplat.db import DbSession
from evalplat.followups.models import SATISFIED, FollowupComplaint, FollowupTarget, FollowupVisit
from evalplat.followups.queries import rates, totals
from evalplat.quality.queries import leniency
from reports.numbers import count, interval, number, percent

TEXT = {
    "title": ("事后监督：结案审查、回访与机构自评", "Post-case supervision: closing review, follow-ups and self-evaluation"),
    "closing": ("结案审查（两级）", "Closing review (two levels)"),
    "closing_note": ("通过率为各级审查中一次通过的比例；退回的卷宗补齐后重新审查。",
                     "Pass rate: share of checks at each level that passed; returned files are checked again."),
    "missing": ("最常缺失或不合格的材料", "Materials most often missing or defective"),
    "followups": ("回访", "Follow-up visits"),
    "followups_note": ("加权满意率按回访计划的入样概率倒数加权（各机构抽样比例不同）。",
                       "The weighted satisfaction rate weights each visit by the inverse of its inclusion "
                       "probability (agencies drew different shares)."),
    "complaints": ("回访发现的问题（投诉）", "Breaches reported in follow-ups (complaints)"),
    "self_peer": ("机构自评与同行评估", "Self-evaluation against peer review"),
    "self_peer_note": ("宽严度＝机构自评分减去同行评估（校正后）得分的平均值，仅计两者皆有的案件；自评为机构自身意见。",
                       "Leniency = mean self-score minus calibrated peer score over cases with both; self-scores "
                       "are the agency's own view."),
    "figure": ("指标", "Figure"), "value": ("数值", "Value"), "n": ("件数", "Count"),
    "cases": ("案件", "Cases"), "first_rate": ("一级审查通过率", "First-level pass rate"),
    "second_rate": ("二级审查通过率", "Second-level pass rate"), "returned_now": ("目前退回待补", "Returned, waiting"),
    "item": ("材料", "Material"), "called": ("已拨打", "Called"), "contact_rate": ("联系率", "Contact rate"),
    "visits": ("回访", "Visits"), "sat_rate": ("满意率", "Satisfaction rate"),
    "sat_weighted": ("加权满意率", "Weighted satisfaction rate"), "kind": ("问题", "Reported"),
    "agency": ("机构", "Agency"), "mean_self": ("自评均分", "Mean self-score"), "mean_peer": ("同行均分", "Mean peer score"),
    "leniency": ("宽严度", "Leniency"), "interval": ("区间", "Interval"),
    "money_or_gifts": ("收受财物", "Money or gifts taken"), "meals": ("接受吃请", "Meals accepted"),
    "private_fees": ("私自收费", "Private fees"), "on_time": ("未按时出庭", "Absent or late at court"),
    "weighted_title": ("风险加权抽样：全部案件的估计", "Risk-weighted sample: estimates for all cases"),
    "weighted_sheet": ("风险加权估计", "Weighted estimates"),
    "weighted_note": ("本次抽样为风险加权抽样：结案审查二级退回、机构自评偏低或回访发现问题的案件以更高概率入样。"
                      "下表按入样概率的倒数加权（Hájek 估计量），标准误按线性化方法、视各层案件为有放回抽取计算。"
                      "未加权的平均分只描述被抽中的案件，不是全部案件的估计；本报告其他各表均为未加权的样本数字。",
                      "This sample was risk-weighted: cases returned at the second-level closing review, with a low "
                      "self-evaluation or with a complaint from a follow-up visit were drawn with a higher probability. "
                      "The table weights each case by the inverse of its inclusion probability (Hájek estimator; "
                      "standard errors by linearisation, treating each stratum's cases as drawn with replacement). "
                      "Unweighted means describe the drawn cases only and are not population estimates; the other "
                      "tables of this report are unweighted sample figures."),
    "estimate": ("加权估计", "Weighted estimate"), "se": ("标准误", "Standard error"),
    "unweighted": ("未加权（仅样本）", "Unweighted (sample only)"),
    "mean_total": ("平均总分", "Mean total score"), "share_good": ("优良率", "Share excellent or good"),
    "sample_n": ("有结果的样本案件（其中有风险信号）", "Sampled cases with results (with risk signals)"),
    "population_n": ("代表的案件数（权重之和）", "Cases they stand for (sum of the weights)"),
}


def _t(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return zh if lang.startswith("zh") else en


def _pct(value: float | None) -> str:
    return percent(value, 1)


def weighted_section(session: DbSession, campaign: Any, *, lang: str = "zh") -> dict[str, Any] | None:
    """The report's statement and table for a risk-weighted campaign (None for other sampling plans)."""
    from evalplat.results.queries import weighted_figures

    figures = weighted_figures(session, campaign)
    if figures is None:
        return None
    m, g = figures.mean, figures.share_good
    level = percent(m.level)
    head = (_t("figure", lang), _t("estimate", lang), _t("se", lang), level, _t("unweighted", lang))
    known = math.isfinite(m.se)  # no standard error with fewer than two cases drawn at random
    # figures through the platform's one formatter, as the results page shows them (half up, "—" when missing)
    rows = [(_t("mean_total", lang), number(m.estimate), number(m.se, 2) if known else "—",
             f"{number(m.low)} – {number(m.high)}" if known else "—", number(m.unweighted)),
            (_t("share_good", lang), _pct(g.estimate), _pct(g.se) if known else "—",
             f"{_pct(g.low)} – {_pct(g.high)}" if known else "—", _pct(g.unweighted)),
            (_t("sample_n", lang), f"{count(figures.n)} ({count(figures.cases_with_signals)})", "", "", ""),
            (_t("population_n", lang), count(figures.population), "", "", "")]
    return {"title": _t("weighted_title", lang), "sheet": _t("weighted_sheet", lang),
            "sections": [("", _t("weighted_note", lang), (head, rows))]}


def postcase_section(session: DbSession, *, year: int, lang: str = "zh", top: int = 10) -> dict[str, Any]:
    """The section's tables for the cases of ``year`` (closing year of the campaign)."""
    agencies = list(session.scalars(sa.select(Case.agency_id).where(Case.year == year).distinct()))
    closing = closing_summary(session, year=year)
    sections: list[tuple[str, str, Any]] = []
    head = (_t("figure", lang), _t("value", lang))
    sections.append((_t("closing", lang), _t("closing_note", lang), (head, [
        (_t("cases", lang), count(closing.cases)),
        (_t("first_rate", lang), f"{_pct(closing.first_pass_rate)} ({count(closing.first_passed)}/{count(closing.first_checks)})"),
        (_t("second_rate", lang), f"{_pct(closing.second_pass_rate)} ({count(closing.second_passed)}/{count(closing.second_checks)})"),
        (_t("returned_now", lang), count(closing.by_state.get('returned', 0)))])))
    sections.append((_t("missing", lang), "", ((_t("item", lang), _t("n", lang)),
                     [(item_label(code, lang), count(n)) for code, n in closing.top_missing[:top]])))
    overall = totals(rates(session, by="agency", agency_ids=agencies))
    weights = session.execute(
        sa.select(sa.func.sum(1.0 / FollowupTarget.inclusion_probability),
                  sa.func.sum(sa.case((FollowupVisit.satisfaction >= SATISFIED, 1.0 / FollowupTarget.inclusion_probability),
                                      else_=0.0)))
        .select_from(FollowupVisit).join(FollowupTarget, FollowupTarget.id == FollowupVisit.target_id)
        .join(Case, Case.id == FollowupTarget.case_id).where(Case.year == year)).one()
    weighted = float(weights[1]) / float(weights[0]) if weights[0] else None
    sections.append((_t("followups", lang), _t("followups_note", lang), (head, [
        (_t("called", lang), count(overall.called)), (_t("contact_rate", lang), _pct(overall.contact_rate)),
        (_t("visits", lang), count(overall.visits)), (_t("sat_rate", lang), _pct(overall.satisfaction_rate)),
        (_t("sat_weighted", lang), _pct(weighted))])))
    kinds: dict[str, int] = {}
    for row in session.scalars(sa.select(FollowupComplaint.kinds).join(Case, Case.id == FollowupComplaint.case_id)
                               .where(Case.year == year)):
        for kind in row:
            kinds[kind] = kinds.get(kind, 0) + 1
    sections.append((_t("complaints", lang), "", ((_t("kind", lang), _t("n", lang)),
                     [(_t(k, lang), count(n)) for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])])))
    rows = leniency(session, agency_ids=agencies)
    sections.append((_t("self_peer", lang), _t("self_peer_note", lang), (
        (_t("agency", lang), _t("n", lang), _t("mean_self", lang), _t("mean_peer", lang), _t("leniency", lang),
         _t("interval", lang)),
        [(r.agency, str(r.n), number(r.mean_self), number(r.mean_peer), number(r.difference, sign=True),
          interval(r.low, r.high, sign=True))
         for r in rows[:top] + [r for r in rows[top:][-top:] if r not in rows[:top]]])))
    return {"title": _t("title", lang), "sections": sections}
