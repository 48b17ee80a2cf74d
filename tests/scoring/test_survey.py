"""Horvitz–Thompson and Hájek estimates with their standard errors, checked against hand computations of the
formulas R's survey package uses (svydesign(ids = ~1, strata = ~h, probs = ~p), no fpc) and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.survey import hajek_mean, horvitz_thompson_total

Y = [80.0, 60.0, 90.0]
P = [0.5, 0.25, 0.5]


def test_horvitz_thompson_total_and_se_match_the_hand_computation() -> None:
    # weights 2, 4, 2; z = y/pi = 160, 240, 180 (mean 193.33); V = 3/2 × Σ(z − z̄)² = 3/2 × 3466.67 = 5200
    est = horvitz_thompson_total(Y, P)
    assert est.estimate == pytest.approx(580.0)
    assert est.se == pytest.approx(math.sqrt(5200.0))
    assert est.low == pytest.approx(580.0 - 1.959964 * math.sqrt(5200.0), rel=1e-6)


def test_hajek_mean_and_linearised_se_match_the_hand_computation() -> None:
    # N̂ = 8, ȳ = 580/8 = 72.5; z = w(y − ȳ)/N̂ = 1.875, −6.25, 4.375; V = 3/2 × 61.71875 = 92.578125
    est = hajek_mean(Y, P)
    assert est.estimate == pytest.approx(72.5)
    assert est.population == pytest.approx(8.0)
    assert est.se == pytest.approx(math.sqrt(92.578125))
    assert est.unweighted == pytest.approx(230 / 3)


def test_strata_certainty_cases_and_a_lonely_stratum_follow_the_stated_rules() -> None:
    # stratum A: y 80, 60 at pi .5, .25 -> z 160, 240; stratum B: y 90 at .5 (z 180) and 70 taken with certainty.
    # A: 2/1 × (40² + 40²) = 6400; B has one random case, centred at the mean of all random z (193.33): 177.78
    est = horvitz_thompson_total([80, 60, 90, 70], [0.5, 0.25, 0.5, 1.0], strata=["A", "A", "B", "B"])
    assert est.estimate == pytest.approx(650.0)
    assert est.se == pytest.approx(math.sqrt(6400 + (180 - 580 / 3) ** 2))


def test_equal_probabilities_give_the_plain_mean_and_its_usual_standard_error() -> None:
    y = np.array([3.0, 5.0, 8.0, 13.0, 21.0])
    est = hajek_mean(y, np.full(5, 0.1))
    assert est.estimate == pytest.approx(y.mean())
    assert est.se == pytest.approx(y.std(ddof=1) / math.sqrt(5))  # with-replacement: no fpc


def test_weighted_mean_is_unbiased_and_its_interval_covers_under_unequal_probabilities() -> None:
    rng = np.random.default_rng(7)
    N, n = 2000, 200
    risky = rng.random(N) < 0.15
    y = np.where(risky, rng.normal(55, 10, N), rng.normal(85, 6, N))
    size = 1 + 3 * risky
    pi = n * size / size.sum()
    truth, estimates, covered, plain = y.mean(), [], 0, []
    for _ in range(400):
        chosen = rng.random(N) < pi  # Poisson sampling: exactly these inclusion probabilities
        est = hajek_mean(y[chosen], pi[chosen])
        estimates.append(est.estimate)
        plain.append(est.unweighted)
        covered += est.low <= truth <= est.high
    assert abs(np.mean(estimates) - truth) < 0.3
    assert np.mean(plain) < truth - 3  # the plain mean is pulled towards the over-sampled risky cases
    assert 0.90 <= covered / 400 <= 0.98


@pytest.mark.parametrize(("values", "probabilities", "message"), [
    ([1.0], [0.0], "must lie in"), ([1.0], [1.5], "must lie in"), ([1.0, 2.0], [0.5], "differ in length"),
    ([], [], "empty"), ([float("nan")], [0.5], "finite"),
])
def test_bad_input_is_refused_by_name(values: list[float], probabilities: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hajek_mean(values, probabilities)


def test_one_random_case_has_no_standard_error() -> None:
    est = hajek_mean([70.0, 90.0], [1.0, 0.5])
    assert est.estimate == pytest.approx((70 + 180) / 3)
    assert math.isnan(est.se)
