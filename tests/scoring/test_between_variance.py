"""scoring.ranking.between_variance against a published worked example and statsmodels; the posterior
shrinkage that integrates over τ² and the tiers built on it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize
from statsmodels.stats.meta_analysis import combine_effects

from scoring.ranking import (
    ABOVE,
    BELOW,
    LEVEL,
    between_variance,
    empirical_bayes,
    posterior_shrinkage,
    tiers,
)

# BCG vaccine trials (Colditz et al. 1994, JAMA 271:698), as tabulated in metafor's dat.bcg:
# (vaccinated TB+, vaccinated TB-, control TB+, control TB-) per trial.
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
       (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def bcg_log_risk_ratios() -> tuple[np.ndarray, np.ndarray]:
    """Log risk ratios and sampling variances, as metafor's escalc(measure="RR") computes them."""
    a, b, c, d = np.array(BCG, dtype=float).T
    return np.log(a / (a + b)) - np.log(c / (c + d)), 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)


def test_reml_reproduces_the_bcg_values_printed_by_metafor():
    """Viechtbauer (2010), J. Stat. Softw. 36(3), section 4 and the metafor README print for
    rma(yi, vi, data=dat) on the BCG data: "tau^2 (estimated amount of total heterogeneity): 0.3132
    (SE = 0.1664)", "Q(df = 12) = 152.2330", "estimate -0.7145 se 0.1798" (z test)."""
    y, v = bcg_log_risk_ratios()
    fit = between_variance(y, v, method="REML")
    assert fit.converged
    assert round(fit.tau2, 4) == 0.3132
    assert round(fit.tau2_se, 4) == 0.1664
    assert round(fit.q, 4) == 152.2330
    assert round(fit.mean, 4) == -0.7145
    assert round(fit.mean_se, 4) == 0.1798
    assert (fit.method, fit.k) == ("REML", 13)


def test_dl_reproduces_the_bcg_values_printed_by_metafor_and_stata_metan():
    """metafor's tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r, "RE model w/ DL estimator,
    measure='RR'", checked against Stata's `metan tpos tneg cpos cneg, randomi nograph rr log`:
    estimate -0.7141, 95% CI -1.0644 to -0.3638."""
    y, v = bcg_log_risk_ratios()
    fit = between_variance(y, v, method="DL")
    assert round(fit.mean, 4) == -0.7141
    assert round(fit.mean - 1.959964 * fit.mean_se, 4) == -1.0644
    assert round(fit.mean + 1.959964 * fit.mean_se, 4) == -0.3638
    assert fit.tau2_se is None
    assert (fit.converged, fit.iterations) == (True, 0)


def _ml_by_direct_maximisation(y: np.ndarray, v: np.ndarray) -> float:
    """An independent route to the ML estimate: maximise the full log-likelihood over (μ, τ²)."""
    def nll(par: np.ndarray) -> float:
        mu, tau2 = par[0], par[1] ** 2
        return 0.5 * float(np.sum(np.log(v + tau2) + (y - mu) ** 2 / (v + tau2)))

    best = optimize.minimize(nll, x0=[float(np.mean(y)), float(np.std(y))], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000})
    return float(best.x[1] ** 2)


def test_ml_equals_direct_maximisation_of_the_likelihood_and_lies_below_reml():
    y, v = bcg_log_risk_ratios()
    ml = between_variance(y, v, method="ML")
    assert ml.converged
    assert ml.tau2 == pytest.approx(_ml_by_direct_maximisation(y, v), abs=1e-6)
    assert ml.tau2 < between_variance(y, v, method="REML").tau2
    assert ml.tau2_se == pytest.approx(np.sqrt(2 / np.sum(1 / (v + ml.tau2) ** 2)))


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # statsmodels' HKSJ term
@pytest.mark.parametrize("seed", range(20))
def test_dl_equals_statsmodels_combine_effects_on_random_data(seed):
    g = np.random.default_rng(seed)
    k = int(g.integers(3, 60))
    v = g.uniform(0.5, 40.0, k)
    y = 80 + g.normal(0, g.uniform(0, 6), k) + g.normal(0, np.sqrt(v))
    ours = between_variance(y, v, method="DL")
    ref = combine_effects(y, v, method_re="dl")
    assert ours.q == pytest.approx(ref.q, abs=1e-9)
    if ref.tau2 > 0:
        assert ours.tau2 == pytest.approx(ref.tau2, abs=1e-9)
        assert ours.mean == pytest.approx(ref.mean_effect_re, abs=1e-9)
        assert ours.mean_se == pytest.approx(ref.sd_eff_w_re, abs=1e-9)
    else:  # statsmodels keeps the negative moment value; truncated at 0 it is the fixed-effect model
        assert ours.tau2 == 0.0
        assert ours.mean == pytest.approx(ref.mean_effect_fe, abs=1e-9)
        assert ours.mean_se == pytest.approx(ref.sd_eff_w_fe, abs=1e-9)


@pytest.mark.parametrize("method", ["ML", "REML"])
@pytest.mark.parametrize("seed", range(10))
def test_fisher_scoring_equals_the_bounded_search(method, seed):
    """max_iter=1 forces the safeguard (bounded one-dimensional search): both reach the same maximum."""
    g = np.random.default_rng(100 + seed)
    k = int(g.integers(4, 40))
    v = g.uniform(1.0, 60.0, k)
    y = g.normal(0, g.uniform(0, 5), k) + g.normal(0, np.sqrt(v))
    scored = between_variance(y, v, method=method)
    searched = between_variance(y, v, method=method, max_iter=1)
    assert scored.converged
    assert searched.tau2 == pytest.approx(scored.tau2, abs=1e-5 * max(1.0, scored.tau2))


@pytest.mark.parametrize("method", ["DL", "ML", "REML"])
def test_homogeneous_estimates_give_tau2_zero_on_the_boundary(method):
    y = np.array([80.0, 80.5, 79.5, 80.2, 79.8])
    fit = between_variance(y, np.full(5, 50.0), method=method)
    assert fit.tau2 == 0.0
    assert fit.converged
    assert fit.mean == pytest.approx(y.mean())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"estimates": [1.0], "variances": [1.0]}, "at least 2 estimates"),
    ({"estimates": [1.0, 2.0], "variances": [1.0, 0.0]}, "index 1"),
    ({"estimates": [1.0, 2.0], "variances": [1.0]}, "same length"),
    ({"estimates": [1.0, float("nan")], "variances": [1.0, 1.0]}, "index 1"),
    ({"estimates": [1.0, 2.0], "variances": [1.0, 1.0], "method": "HE"}, "unknown method"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        between_variance(**kwargs)


def test_boundary_tau2_does_not_collapse_the_posterior_onto_one_number():
    """The demo's situation: one or two cases per lawyer, REML τ² = 0, yet lawyers keep their order."""
    g = np.random.default_rng(7)
    n = g.integers(1, 3, 84)
    lawyer = np.repeat(np.arange(84), n)
    score = 79 + g.normal(0, 1.0, 84)[lawyer] + g.normal(0, 9, lawyer.size)
    plug = empirical_bayes(lawyer, score, method="REML", integrate=False)
    post = empirical_bayes(lawyer, score)
    if plug.between_variance == 0.0:
        assert np.ptp(plug.estimate) < 1e-9  # the old failure: everyone on one number
    assert np.ptp(post.estimate) > 0.5
    assert post.tau2_low == 0.0 < post.tau2_high
    # the order of the posterior means follows the raw means among lawyers with equal evidence
    for k in (1, 2):
        sel = post.n == k
        assert np.all(np.diff(post.estimate[sel][np.argsort(post.raw_mean[sel])]) >= -1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_posterior_intervals_cover_the_truth_at_their_level(seed):
    g = np.random.default_rng(seed)
    k = 400
    truth = g.normal(80, 3, k)
    v = 64.0 / g.integers(1, 4, k)
    y = truth + g.normal(0, np.sqrt(v))
    post = posterior_shrinkage(y, v)
    coverage = np.mean((post.low <= truth) & (truth <= post.high))
    assert coverage == pytest.approx(0.95, abs=0.04)
    assert post.tau2_low <= 9.0 <= post.tau2_high
    assert np.all(post.low <= post.estimate)
    assert np.all(post.estimate <= post.high)


def test_tiers_place_each_interval_against_the_reference():
    out = tiers([81.0, 70.0, 60.0, 79.0], [90.0, 85.0, 78.9, 79.0], 79.0)
    assert out.tolist() == [ABOVE, LEVEL, BELOW, LEVEL]
