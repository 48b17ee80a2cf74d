"""Rater-effects calibration: recovery on simulated data, constraints, groups, standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import Ratings
from scoring.calibration import fit_rater_effects


def _simulate(seed, n_units=4000, n_raters=250, per_unit=3, bias_sd=4.0, noise_sd=3.0, noise_by_rater=None):
    g = np.random.default_rng(seed)
    quality = g.normal(75, 8, n_units)
    bias = g.normal(0, bias_sd, n_raters)
    units = np.repeat(np.arange(n_units), per_unit)
    raters = np.concatenate([g.choice(n_raters, per_unit, replace=False) for _ in range(n_units)])
    sd = noise_sd if noise_by_rater is None else noise_by_rater[raters]
    y = quality[units] + bias[raters] + g.normal(0, 1, units.size) * sd
    return Ratings.from_long(units, raters, y), quality, bias


def test_corrected_scores_track_quality_better_than_raw_means_and_biases_are_recovered():
    ratings, quality, bias = _simulate(0)
    fit = fit_rater_effects(ratings)
    raw_r = np.corrcoef(fit.unit_raw_mean, quality)[0, 1]
    cal_r = np.corrcoef(fit.unit_score, quality)[0, 1]
    print(f"correlation with true quality: raw means {raw_r:.4f}, corrected {cal_r:.4f}")
    assert cal_r > raw_r + 0.02
    assert np.sqrt(np.mean((fit.unit_score - quality - np.mean(fit.unit_score - quality)) ** 2)) < np.sqrt(
        np.mean((fit.unit_raw_mean - quality - np.mean(fit.unit_raw_mean - quality)) ** 2))
    assert np.corrcoef(fit.rater_bias, bias)[0, 1] > 0.98
    assert np.abs(fit.rater_bias.sum()) < 1e-8
    assert fit.residual_variance == pytest.approx(9.0, rel=0.08)
    assert fit.bias_variance == pytest.approx(np.var(bias, ddof=1), rel=0.15)


def test_standard_errors_are_calibrated_and_first_order_matches_exact():
    ratings, quality, bias = _simulate(1, n_units=3000, n_raters=150)
    exact = fit_rater_effects(ratings)
    approx = fit_rater_effects(ratings, max_exact_raters=0)
    assert (exact.se_method, approx.se_method) == ("exact", "first-order")
    np.testing.assert_allclose(approx.unit_score, exact.unit_score, atol=1e-7)
    np.testing.assert_allclose(approx.rater_bias, exact.rater_bias, atol=1e-7)
    np.testing.assert_allclose(approx.unit_se, exact.unit_se, rtol=0.01)
    np.testing.assert_allclose(approx.rater_bias_se, exact.rater_bias_se, rtol=0.05)
    offset = np.mean(exact.unit_score - quality)  # the sum-to-zero constraint fixes the level only
    z = (exact.unit_score - quality - offset) / exact.unit_se
    assert np.std(z) == pytest.approx(1.0, abs=0.06)
    zb = (exact.rater_bias - (bias - bias.mean())) / exact.rater_bias_se
    assert np.std(zb) == pytest.approx(1.0, abs=0.15)


def test_disconnected_designs_report_groups_and_centre_biases_within_each():
    # two regions whose reviewers never share a case, plus a unit with no ratings (all-NaN row)
    x = np.full((7, 5), np.nan)
    x[0, [0, 1]] = [80, 70]
    x[1, [1, 2]] = [75, 72]
    x[2, [0, 2]] = [90, 79]
    x[3, [3, 4]] = [60, 66]
    x[4, [3, 4]] = [88, 91]
    x[5, 3] = 70
    fit = fit_rater_effects(x)
    assert fit.n_groups == 2
    assert fit.rater_group.tolist() == [0, 0, 0, 1, 1]
    assert fit.unit_group.tolist() == [0, 0, 0, 1, 1, 1, -1]
    assert fit.rater_bias[:3].sum() == pytest.approx(0, abs=1e-10)
    assert fit.rater_bias[3:].sum() == pytest.approx(0, abs=1e-10)
    assert fit.rater_bias[3] == pytest.approx(-2.25)  # rater 3 scores 4.5 below rater 4 on shared cases
    assert np.isnan(fit.unit_score[6])
    assert fit.unit_n[6] == 0
    assert fit.residual_df == 11 - 6 - 5 + 2


def test_ridge_shrinks_biases_towards_zero_and_keeps_them_centred():
    ratings, _, _ = _simulate(2, n_units=400, n_raters=60)
    free, ridged = fit_rater_effects(ratings), fit_rater_effects(ratings, ridge=50.0)
    assert np.abs(ridged.rater_bias).sum() < np.abs(free.rater_bias).sum()
    assert ridged.rater_bias.sum() == pytest.approx(0, abs=1e-8)


def test_rater_noise_variances_single_out_the_erratic_reviewer():
    noise = np.full(80, 2.0)
    noise[7] = 12.0
    ratings, quality, _ = _simulate(3, n_units=3000, n_raters=80, noise_by_rater=noise)
    fit = fit_rater_effects(ratings, rater_noise=True)
    assert fit.rater_noise_variance is not None
    assert int(np.argmax(fit.rater_noise_variance)) == 7
    assert np.median(fit.rater_noise_variance) == pytest.approx(4.0, rel=0.15)
    plain = fit_rater_effects(ratings)
    assert int(np.argmax(plain.rater_residual_sd)) == 7
    err = lambda f: np.mean((f.unit_score - quality - np.mean(f.unit_score - quality)) ** 2)  # noqa: E731
    assert err(fit) < err(plain)
