"""Consensus and disagreement rules, shrinkage, Wilson intervals, rank intervals and expert-pool entry."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.consensus import GRADE_LABELS, GradeBands, Reason, combine, detect_disagreement
from scoring.ranking import (
    ExpertPoolRule,
    empirical_bayes,
    expert_pool_eligibility,
    rank_intervals,
    wilson_interval,
)


def test_trimmed_mean_drops_the_extremes_of_five_reviews():
    c = combine([60, 80, 82, 84, 99], method="trimmed", trim=0.2)
    assert c.value == pytest.approx(82.0)
    assert combine([60, 80, 82, 84, 99], method="median").value == 82.0
    assert combine([60, 80, 82, 84, 99]).value == pytest.approx(81.0)


def test_adjudicated_total_overrides_and_keeps_the_reviewers_statistic():
    c = combine([55, 92], adjudicated=78.0)
    assert (c.value, c.combined, c.method, c.grade) == (78.0, 73.5, "adjudicated", "pass")
    assert c.reasons == (Reason("adjudicated_override", {"combined": 73.5, "method": "mean"}),)


def test_each_disagreement_rule_fires_with_its_code_and_parameters():
    d = detect_disagreement([91, 70], extreme_grades=())
    assert d.codes == ("spread_above_threshold", "grades_apart")
    assert d.reasons[0].params == {"spread": 21.0, "threshold": 10.0}
    assert d.reasons[1].params["gap"] == 2
    d = detect_disagreement([85, 86, 84], vetoes=[{"absent_hearing"}, {"absent_hearing"}, set()])
    assert d.codes == ("grades_apart", "veto_one_side", "extreme_grade")
    assert d.reasons[1].params == {"item": "absent_hearing", "raised_by": [0, 1], "not_raised_by": [2]}
    both = detect_disagreement([85, 86], vetoes=[{"fee_taken"}, {"fee_taken"}], extreme_grades=())
    assert not both.escalate  # a veto both reviewers raise is agreement, not disagreement
    assert detect_disagreement([95, 93]).codes == ("extreme_grade",)
    assert not detect_disagreement([95, 93], extreme_grades=("fail",)).escalate


def test_custom_bands_and_bilingual_messages():
    bands = GradeBands(cutoffs=(85, 70, 50))
    assert [bands.grade(s) for s in (85, 84.9, 50, 49.9)] == ["excellent", "good", "pass", "fail"]
    assert detect_disagreement([86, 69], bands=bands, spread_threshold=None, extreme_grades=()).codes == (
        "grades_apart",)
    r = detect_disagreement([95, 70]).reasons[0]
    assert r.message("zh") == "评分差距 25 分，超过阈值 10 分"
    assert GRADE_LABELS["good"] == ("良好", "good")


def test_shrinkage_pulls_single_case_lawyers_hardest():
    g = np.random.default_rng(0)
    n = g.integers(1, 40, 300)
    truth = g.normal(80, 4, 300)
    groups = np.repeat(np.arange(300), n)
    values = truth[groups] + g.normal(0, 8, groups.size)
    res = empirical_bayes(groups, values)
    assert res.between_variance == pytest.approx(16, rel=0.35)
    assert res.within_variance == pytest.approx(64, rel=0.05)
    moved = np.abs(res.estimate - res.raw_mean)
    assert np.median(moved[res.n == 1]) > 3 * np.median(moved[res.n >= 30])
    assert np.mean((res.estimate - truth) ** 2) < np.mean((res.raw_mean - truth) ** 2)
    coverage = np.mean((res.low <= truth) & (truth <= res.high))
    assert coverage == pytest.approx(0.95, abs=0.04)


def test_wilson_interval_matches_the_closed_form_at_known_points():
    w = wilson_interval([0, 5, 10], [10, 10, 10])
    z = 1.959963984540054
    centre = (0.5 + z * z / 20) / (1 + z * z / 10)
    half = z * np.sqrt(0.25 / 10 + z * z / 400) / (1 + z * z / 10)
    assert w.low[1] == pytest.approx(centre - half)
    assert w.high[1] == pytest.approx(centre + half)
    assert (w.low[0], w.high[2]) == (0.0, 1.0)
    assert w.high[0] == pytest.approx(1 - w.low[2])


def test_rank_intervals_widen_with_uncertainty_and_are_reproducible():
    est = np.array([90.0, 85.0, 84.9, 84.8, 60.0])
    se = np.array([0.01, 5.0, 0.01, 0.01, 0.01])
    r = rank_intervals(est, se, rng=1)
    assert r.rank.tolist() == [1, 2, 3, 4, 5]
    # P(entity 1 > 90) = P(Z > 1) = 0.16, so entity 0 may be second; entity 4 is surely last
    assert (r.low[0], r.high[0], r.low[4], r.high[4]) == (1, 2, 5, 5)
    assert r.low[1] <= 2
    assert r.high[1] >= 4
    again = rank_intervals(est, se, rng=1)
    assert np.array_equal(r.low, again.low)
    assert np.array_equal(r.high, again.high)
    lower_better = rank_intervals(est, se, rng=1, higher_is_better=False)
    assert lower_better.rank.tolist() == [5, 4, 3, 2, 1]


def test_expert_pool_rule_lists_every_failed_condition():
    out = expert_pool_eligibility(
        ["a", "b", "c"], [30, 2, 10], [88.0, 80.0, 90.0], share_lower_bound=[0.8, 0.2, 0.5], veto_count=[0, 1, 0],
        rule=ExpertPoolRule(min_cases=5, min_lower_bound=85.0, min_share_lower_bound=0.6))
    assert [e.eligible for e in out] == [True, False, False]
    assert [r.code for r in out[1].reasons] == ["too_few_cases", "lower_bound_below_threshold",
                                               "share_lower_bound_below_threshold", "veto_on_record"]
    assert [r.code for r in out[2].reasons] == ["share_lower_bound_below_threshold"]
    lenient = expert_pool_eligibility(["b"], [2], [80.0], rule=ExpertPoolRule(min_cases=1, min_lower_bound=None,
                                                                               allow_veto=True))
    assert lenient[0].eligible
