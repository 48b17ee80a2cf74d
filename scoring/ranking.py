"""Fair rankings of lawyers, agencies and cities with unequal numbers of reviewed cases.

Between-group variance (DL, ML, REML), empirical-Bayes shrinkage of mean scores with the uncertainty in
that variance integrated out, tiers against a reference, Wilson intervals for the share graded excellent-or-good
(优良率), rank intervals (analytic or simulated) and a configurable expert-pool eligibility rule.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special
from scipy.signal import convolve

from ._reasons import Reason
from ._validation import check_choice, check_confidence, check_positive_int, finite_1d, rng_from

__all__ = [
    "ABOVE",
    "BELOW",
    "LEVEL",
    "BetweenVariance",
    "CombinedEvidence",
    "Eligibility",
    "ExpertPoolRule",
    "JamesSteinResult",
    "RankIntervals",
    "PosteriorShrinkage",
    "ShrinkageResult",
    "WilsonResult",
    "between_variance",
    "combine_sources",
    "empirical_bayes",
    "expert_pool_eligibility",
    "james_stein",
    "posterior_shrinkage",
    "rank_intervals",
    "tiers",
    "wilson_interval",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _z(confidence_level: float) -> float:
    return float(special.ndtri((1 + check_confidence(confidence_level)) / 2))


METHODS = ("DL", "ML", "REML")


@dataclass(frozen=True)
class BetweenVariance:
    """Between-group (heterogeneity) variance of a normal random-effects model and the mean it implies.

    Attributes
    ----------
    tau2 : float
        :math:`\\hat\\tau^2` (≥ 0).
    tau2_se : float or None
        Standard error of :math:`\\hat\\tau^2` from the inverse Fisher information (ML, REML);
        ``None`` for the moment estimator, whose standard error is not defined this way.
    mean, mean_se : float
        Inverse-variance weighted mean :math:`\\hat\\mu` with weights :math:`1/(v_i + \\hat\\tau^2)`
        and its standard error :math:`(\\sum_i w_i)^{-1/2}`.
    method : str
        ``"DL"``, ``"ML"`` or ``"REML"``.
    converged : bool
        Whether the iteration met its tolerance (always true for DL).
    iterations : int
        Fisher-scoring steps taken (0 for DL; the bounded search counts as one more).
    q : float
        Cochran's :math:`Q = \\sum_i (y_i - \\hat\\mu_{FE})^2 / v_i`.
    k : int
        Number of estimates.
    """

    tau2: float
    tau2_se: float | None
    mean: float
    mean_se: float
    method: str
    converged: bool
    iterations: int
    q: float
    k: int


def _mean_at(y: FloatArray, v: FloatArray, tau2: float) -> tuple[FloatArray, float, float]:
    w = 1.0 / (v + tau2)
    sw = float(w.sum())
    return w, float(w @ y) / sw, sw


def _loglik(y: FloatArray, v: FloatArray, tau2: float, restricted: bool) -> float:
    """(Restricted) log-likelihood of τ² with μ profiled out, up to a constant."""
    w, mu, sw = _mean_at(y, v, tau2)
    ll = -0.5 * float(np.log(v + tau2).sum()) - 0.5 * float(w @ (y - mu) ** 2)
    return ll - 0.5 * float(np.log(sw)) if restricted else ll


def _score_info(y: FloatArray, v: FloatArray, tau2: float, restricted: bool) -> tuple[float, float]:
    """Score and Fisher information of τ² (both times 2), for ML or REML.

    ML: :math:`\\sum w^2 r^2 - \\sum w` and :math:`\\sum w^2`. REML with :math:`P = W - ww^T/\\sum w`:
    :math:`y^T P P y - \\mathrm{tr} P` and :math:`\\mathrm{tr}(PP)`.
    """
    w, mu, sw = _mean_at(y, v, tau2)
    w2 = w * w
    s2 = float(w2.sum())
    score = float(w2 @ (y - mu) ** 2)
    if not restricted:
        return score - sw, s2
    s3 = float((w2 * w).sum())
    return score - (sw - s2 / sw), s2 - 2.0 * s3 / sw + (s2 / sw) ** 2


def between_variance(estimates: ArrayLike, variances: ArrayLike, *, method: str = "REML", max_iter: int = 100,
                     tol: float = 1e-10) -> BetweenVariance:
    """Estimate the between-group variance τ² of :math:`y_i \\sim N(\\mu, v_i + \\tau^2)`.

    ``"DL"`` is the DerSimonian–Laird moment estimator (DerSimonian & Laird 1986, Control. Clin. Trials
    7:177, eq. 8), truncated at 0. ``"ML"`` and ``"REML"`` maximise the (restricted) likelihood by Fisher
    scoring from the DL value (Viechtbauer 2005, J. Educ. Behav. Stat. 30:261, eqs. 12–13 and 16–17),
    safeguarded: a step that would leave [0, ∞) or lower the likelihood is halved, an estimate whose score
    points below 0 stops on the boundary τ² = 0, and if the scoring does not meet ``tol`` within
    ``max_iter`` steps the likelihood is maximised by a bounded one-dimensional search
    (:func:`scipy.optimize.minimize_scalar`, ``method="bounded"``) instead. The standard error of τ² is
    :math:`\\sqrt{2 / I}` with the Fisher information *I* at the estimate (as printed by metafor).

    Parameters
    ----------
    estimates : array_like of float
        Group estimates :math:`y_i` (e.g. a lawyer's mean score), at least two.
    variances : array_like of float
        Their sampling variances :math:`v_i` (> 0), e.g. :math:`\\sigma^2 / n_i`.
    method : {"REML", "ML", "DL"}, optional
    max_iter : int, optional
        Fisher-scoring steps before the bounded search takes over.
    tol : float, optional
        Convergence tolerance on the change of τ².

    Returns
    -------
    BetweenVariance

    Raises
    ------
    ValueError
        Fewer than two estimates, unequal lengths, a non-finite value or a variance ≤ 0 (each named).

    References
    ----------
    DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled Clinical Trials* 7, 177–188.
    Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects
    model. *Journal of Educational and Behavioral Statistics* 30, 261–293.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal of Statistical
    Software* 36(3), 1–48.

    Examples
    --------
    The BCG vaccine trials (Colditz et al. 1994), log risk ratios and their variances as computed by
    metafor's ``escalc(measure="RR")``; metafor prints τ² = 0.3132 (SE = 0.1664), μ = −0.7145:

    >>> from scoring.ranking import between_variance
    >>> y = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120, -0.4694, -1.3713,
    ...      -0.3394, 0.4459, -0.0173]
    >>> v = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124,
    ...      0.5325, 0.0714]
    >>> fit = between_variance(y, v, method="REML")
    >>> round(fit.tau2, 2), round(fit.tau2_se, 2), round(fit.mean, 2), fit.converged
    (0.31, 0.17, -0.71, True)
    >>> between_variance(y, v, method="DL").tau2_se is None
    True
    """
    chosen = check_choice(method, METHODS, "method")
    y = finite_1d(estimates, "estimates")
    v = finite_1d(variances, "variances")
    if y.shape != v.shape:
        raise ValueError(f"estimates and variances must have the same length, got {y.size} and {v.size}")
    if y.size < 2:
        raise ValueError(f"the between-group variance needs at least 2 estimates, got {y.size}")
    if (v <= 0).any():
        raise ValueError(f"variances must be > 0: index {int(np.flatnonzero(v <= 0)[0])} holds "
                         f"{v[np.flatnonzero(v <= 0)[0]]!r}")
    check_positive_int(max_iter, "max_iter")
    k = int(y.size)
    w0, mu_fe, sw0 = _mean_at(y, v, 0.0)
    q = float(w0 @ (y - mu_fe) ** 2)
    tau2 = max(0.0, (q - (k - 1)) / (sw0 - float(w0 @ w0) / sw0))
    iterations, converged, se = 0, True, None
    if chosen != "DL":
        restricted = chosen == "REML"
        converged = False
        ll = _loglik(y, v, tau2, restricted)
        for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
            score, info = _score_info(y, v, tau2, restricted)
            step = score / info
            new = tau2 + step
            if new <= 0.0:
                new = 0.0
            new_ll = _loglik(y, v, new, restricted)
            halvings = 0
            while new_ll < ll - 1e-12 * abs(ll) and halvings < 50:
                step /= 2.0
                new = max(tau2 + step, 0.0)
                new_ll = _loglik(y, v, new, restricted)
                halvings += 1
            change = abs(new - tau2)
            tau2, ll = new, new_ll
            if change <= tol * max(1.0, tau2) or (tau2 == 0.0 and score <= 0.0):
                converged = True
                break
        if not converged:
            scale = float(np.var(y)) + float(v.max())
            found = optimize.minimize_scalar(lambda t: -_loglik(y, v, t, restricted), bounds=(0.0, 100.0 * scale),
                                             method="bounded", options={"xatol": tol * max(1.0, scale)})
            tau2 = float(found.x)
            if _score_info(y, v, 0.0, restricted)[0] <= 0.0 and _loglik(y, v, 0.0, restricted) >= -found.fun:
                tau2 = 0.0
            converged = bool(found.success)
            iterations += 1
        se = float(np.sqrt(2.0 / _score_info(y, v, tau2, restricted)[1]))
    _, mu, sw = _mean_at(y, v, tau2)
    return BetweenVariance(float(tau2), se, mu, float(1.0 / np.sqrt(sw)), chosen, converged, iterations, q, k)


@dataclass(frozen=True, eq=False)
class PosteriorShrinkage:
    """Posterior of group effects :math:`\\theta_i` with the uncertainty in τ² integrated out.

    Attributes
    ----------
    estimate, se, low, high : ndarray
        Posterior mean, standard deviation and equal-tailed interval of each :math:`\\theta_i`.
    weight : ndarray
        Posterior mean of the weight of the group's own estimate, :math:`E[\\tau^2 / (\\tau^2 + v_i)]`.
    grand_mean : float
        Posterior mean of μ.
    fit : BetweenVariance
        The point estimate of τ² (``fit.method``) reported beside the posterior.
    tau2_mean, tau2_low, tau2_high : float
        Posterior mean and equal-tailed interval of τ².
    tau_grid, tau_weight : ndarray
        The grid over τ and the posterior probability of each point.
    confidence_level : float
    """

    estimate: FloatArray
    se: FloatArray
    low: FloatArray
    high: FloatArray
    weight: FloatArray
    grand_mean: float
    fit: BetweenVariance
    tau2_mean: float
    tau2_low: float
    tau2_high: float
    tau_grid: FloatArray
    tau_weight: FloatArray
    confidence_level: float


def _mixture_quantile(means: FloatArray, sds: FloatArray, p: FloatArray, q: float) -> FloatArray:
    """Per column, the q-quantile of the mixture Σ_g p_g N(means[g], sds[g]²), by bisection."""
    lo = (means - 9 * sds).min(axis=0)
    hi = (means + 9 * sds).max(axis=0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = p @ special.ndtr((mid[None, :] - means) / sds) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if float((hi - lo).max()) < 1e-9 * max(1.0, float(np.abs(mid).max())):
            break
    mid = 0.5 * (lo + hi)
    return np.asarray(mid, dtype=np.float64)


def posterior_shrinkage(estimates: ArrayLike, variances: ArrayLike, *, method: str = "REML",
                        prior_scale: float | None = None, grid_size: int = 121,
                        confidence_level: float = 0.95) -> PosteriorShrinkage:
    """Shrink group estimates towards their mean, integrating over the uncertainty in τ².

    Model :math:`y_i \\sim N(\\theta_i, v_i)`, :math:`\\theta_i \\sim N(\\mu, \\tau^2)`, flat prior on μ and a
    weakly informative half-Cauchy prior on τ with scale ``prior_scale`` (Gelman 2006, Bayesian Analysis
    1:515; Polson & Scott 2012, Bayesian Analysis 7:887). The marginal posterior of τ is the restricted
    likelihood times the prior (Gelman et al., *Bayesian Data Analysis*, 3rd ed., eq. 5.21), evaluated on
    a grid of ``grid_size`` points; given τ, :math:`\\theta_i` is normal with mean
    :math:`\\hat\\mu + (1 - B_i)(y_i - \\hat\\mu)` and variance :math:`(1 - B_i) v_i + B_i^2 \\mathrm{Var}(\\hat\\mu)`,
    :math:`B_i = v_i / (v_i + \\tau^2)` (Morris 1983, JASA 78:47). The posterior of each :math:`\\theta_i` is
    the mixture of these normals over the grid: its mean, standard deviation and quantiles are exact for
    the grid. Unlike a plug-in estimate, a boundary :math:`\\hat\\tau^2 = 0` does not set every
    :math:`\\theta_i` equal to μ: the posterior keeps the mass that τ > 0 still has, so groups stay
    ordered by their evidence and their intervals stay honest.

    Parameters
    ----------
    estimates, variances : array_like of float
        Group estimates and their sampling variances (> 0), at least two.
    method : {"REML", "ML", "DL"}, optional
        Point estimator of τ² reported beside the posterior (:func:`between_variance`).
    prior_scale : float, optional
        Scale of the half-Cauchy prior on τ, in the units of the estimates; default the median
        sampling standard deviation :math:`\\mathrm{median}(\\sqrt{v_i})` — differences between groups
        as large as one group's noise are plausible a priori, much larger ones are not excluded.
    grid_size : int, optional
        Points of the grid over τ (from 0 to beyond the likelihood's support).
    confidence_level : float, optional

    Returns
    -------
    PosteriorShrinkage

    Examples
    --------
    Ten lawyers with one case each (σ = 8) whose raw means hardly differ: the REML estimate of τ² is 0,
    yet the lawyer with the highest mean keeps the highest posterior mean:

    >>> import numpy as np
    >>> from scoring.ranking import posterior_shrinkage
    >>> y = np.array([79.0, 80.0, 81.0, 82.0, 78.0, 80.5, 79.5, 81.5, 78.5, 84.0])
    >>> post = posterior_shrinkage(y, np.full(10, 64.0))
    >>> post.fit.tau2, bool(np.argmax(post.estimate) == 9), bool(np.ptp(post.estimate) > 0.1)
    (0.0, True, True)
    >>> bool(post.tau2_low == 0.0 < post.tau2_high)
    True
    """
    cl = check_confidence(confidence_level)
    fit = between_variance(estimates, variances, method=method)
    y = finite_1d(estimates, "estimates")
    v = finite_1d(variances, "variances")
    g_n = check_positive_int(grid_size, "grid_size", minimum=8)
    scale = float(np.median(np.sqrt(v))) if prior_scale is None else float(prior_scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"prior_scale must be a finite positive number, got {prior_scale!r}")
    # the grid reaches well past where the restricted likelihood has mass
    spread = float(np.sqrt(np.var(y) + float(np.median(v))))
    top = 4.0 * max(spread, np.sqrt(fit.tau2) + 4.0 * np.sqrt(fit.tau2_se or 0.0), scale)
    tau = np.linspace(0.0, top, g_n)
    t2 = tau[:, None] ** 2
    w = 1.0 / (v[None, :] + t2)  # (G, k)
    sw = w.sum(axis=1)
    mu = (w @ y) / sw
    resid = y[None, :] - mu[:, None]
    loglik = -0.5 * (np.log(v[None, :] + t2).sum(axis=1) + np.log(sw) + (w * resid**2).sum(axis=1))
    logprior = -np.log1p((tau / scale) ** 2)
    logpost = loglik + logprior
    p = np.exp(logpost - logpost.max())
    p[[0, -1]] *= 0.5  # trapezoid rule over the evenly spaced grid
    p /= p.sum()
    shrink = v[None, :] * w  # B_i at each τ
    cond_mean = y[None, :] - shrink * resid
    cond_var = (1.0 - shrink) * v[None, :] + shrink**2 / sw[:, None]
    est = p @ cond_mean
    var = p @ (cond_var + cond_mean**2) - est**2
    se = np.sqrt(np.maximum(var, 0.0))
    keep = p > 1e-12 * p.max()
    alpha = (1.0 - cl) / 2.0
    m_k, s_k, p_k = cond_mean[keep], np.sqrt(cond_var[keep]), p[keep] / p[keep].sum()
    low = _mixture_quantile(m_k, s_k, p_k, alpha)
    high = _mixture_quantile(m_k, s_k, p_k, 1.0 - alpha)
    cdf = np.cumsum(p)
    tau_lo = float(np.interp(alpha, cdf, tau)) if cdf[0] < alpha else 0.0
    tau_hi = float(np.interp(1.0 - alpha, cdf, tau))
    return PosteriorShrinkage(est, se, low, high, p @ (1.0 - shrink), float(p @ mu), fit, float(p @ tau**2),
                              tau_lo**2, tau_hi**2, tau, p, cl)


@dataclass(frozen=True, eq=False)
class CombinedEvidence:
    """Evidence of several sources combined on the reference source's scale (:func:`combine_sources`).

    Attributes
    ----------
    estimate, variance : ndarray, shape (k,)
        Combined evidence of each group and its sampling variance, on the reference scale.
    weight : ndarray, shape (k, s)
        Weight each source carries in each group's combination (the given weights over the sources the group
        has data for, rescaled to sum to 1); 0 where the source has no data, no weight or cannot be scaled.
    scaled : ndarray, shape (k, s)
        Each source's evidence on the reference scale (nan where the group has none).
    contribution : ndarray, shape (k, s)
        ``weight * scaled`` (0 where the weight is 0): the rows sum to ``estimate``.
    centre, spread : ndarray, shape (s,)
        Posterior mean of each source's grand mean and of its between-group standard deviation τ over the groups
        that have it (nan for a source that was not scaled; the reference's over every group).
    usable : ndarray of bool, shape (s,)
        Whether the source could be put on the reference scale: it has data for at least two groups, positive
        sampling variances and a positive spread. The reference is always usable when it has two groups.
    """

    estimate: FloatArray
    variance: FloatArray
    weight: FloatArray
    scaled: FloatArray
    contribution: FloatArray
    centre: FloatArray
    spread: FloatArray
    usable: NDArray[np.bool_]


def _source_scale(y: FloatArray, v: FloatArray) -> tuple[float, float]:
    """Posterior mean of μ and of τ for one source (nan, nan when it cannot be placed on a scale)."""
    ok = np.isfinite(y) & np.isfinite(v)
    if ok.sum() < 2 or bool((v[ok] <= 0).any()):
        return float("nan"), float("nan")
    post = posterior_shrinkage(y[ok], v[ok])
    tau = float(post.tau_grid @ post.tau_weight)
    return (post.grand_mean, tau) if tau > 0 else (float("nan"), float("nan"))


def combine_sources(estimates: ArrayLike, variances: ArrayLike, weights: ArrayLike, *,
                    reference: int = 0) -> CombinedEvidence:
    r"""Combine per-group evidence of several sources into one figure on the reference source's scale.

    Each source *s* gives group *i* an estimate :math:`y_{is}` with sampling variance :math:`v_{is}` (nan when the
    group has no data from it). A source is placed on the reference's scale by the linear map that gives its
    groups' true values the reference's mean and between-group standard deviation,
    :math:`y'_{is} = \mu_r + (\tau_r / \tau_s)(y_{is} - \mu_s)`, :math:`v'_{is} = (\tau_r/\tau_s)^2 v_{is}`,
    where :math:`\mu_s` and :math:`\tau_s` are posterior means of the random-effects model of that source alone
    (:func:`posterior_shrinkage`, τ integrated over its posterior, so a boundary REML estimate τ̂ = 0 does not
    put a source off the scale). Group *i* then gets :math:`c_i = \sum_s \tilde w_{is} y'_{is}` with
    :math:`\tilde w_{is} = w_s / \sum_{t \in A_i} w_t` over the sources :math:`A_i` it has data from, and, the
    sources' sampling errors being independent (different people judged different things),
    :math:`\mathrm{Var}(c_i) = \sum_s \tilde w_{is}^2 v'_{is}`. The pair :math:`(c_i, \mathrm{Var}(c_i))` is
    evidence like any other: shrink it with :func:`posterior_shrinkage` and its interval covers the weighted
    composite of the sources' true values (the scale factors are taken as known, which narrows the interval
    slightly when a source has few groups). A source without data for a group contributes nothing to it; a
    source that cannot be scaled (fewer than two groups, no spread) contributes to none. With weight only on the
    reference the result equals the reference's evidence exactly.

    This is the standardised (z-score) composite of multi-source performance indices (OECD/JRC *Handbook on
    Constructing Composite Indicators*, 2008, §5 "standardisation" and §6 "linear aggregation"), with each
    source standardised by its true between-group spread rather than its observed one, so that a noisy source
    is not inflated (Spiegelhalter et al. 2012, "Statistical methods for healthcare regulation", JRSS A
    175:1-47, §4).

    Parameters
    ----------
    estimates, variances : array_like of float, shape (k, s)
        Per group and source; nan where a group has no data from a source. The reference column must be
        finite for every group.
    weights : array_like of float, shape (s,)
        Non-negative, the reference's positive.
    reference : int, optional
        Column of the source whose scale the result is on.

    Returns
    -------
    CombinedEvidence

    Examples
    --------
    Weight only on the reference reproduces it; with half the weight on a second source, a group without data
    from it keeps its own evidence and the reference's weight alone:

    >>> import numpy as np
    >>> from scoring.ranking import combine_sources
    >>> y = np.array([[80.0, 0.9], [84.0, 1.0], [76.0, np.nan]])
    >>> v = np.array([[4.0, 0.01], [4.0, 0.01], [4.0, np.nan]])
    >>> combine_sources(y, v, [1.0, 0.0]).estimate.tolist()
    [80.0, 84.0, 76.0]
    >>> out = combine_sources(y, v, [0.5, 0.5])
    >>> out.weight.tolist()[2], bool(out.estimate[2] == 76.0)
    ([1.0, 0.0], True)
    """
    y = np.array(estimates, dtype=np.float64, ndmin=2)
    v = np.array(variances, dtype=np.float64, ndmin=2)
    w = finite_1d(weights, "weights")
    if y.ndim != 2 or y.shape != v.shape or y.shape[1] != w.size:
        raise ValueError(f"estimates and variances must be (groups, sources) with one weight per source, got "
                         f"{y.shape}, {v.shape} and {w.size} weights")
    k, s = y.shape
    if not 0 <= reference < s:
        raise ValueError(f"reference must be a source column, got {reference}")
    if (w < 0).any() or w[reference] <= 0:
        raise ValueError("weights must be non-negative, the reference's positive")
    if not (np.isfinite(y[:, reference]).all() and np.isfinite(v[:, reference]).all()):
        raise ValueError("the reference source must have data for every group")
    centre = np.full(s, np.nan)
    spread = np.full(s, np.nan)
    scaled = np.full((k, s), np.nan)
    scaled_var = np.full((k, s), np.nan)
    scaled[:, reference], scaled_var[:, reference] = y[:, reference], v[:, reference]
    usable = np.zeros(s, dtype=bool)
    usable[reference] = True
    others = [j for j in range(s) if j != reference and w[j] > 0]
    ref_centre = np.full(s, np.nan)
    ref_spread = np.full(s, np.nan)
    if others and k >= 2:
        centre[reference], spread[reference] = _source_scale(y[:, reference], v[:, reference])
        for j in others:
            centre[j], spread[j] = _source_scale(y[:, j], v[:, j])
            # the reference's mean and spread over the same groups, so that both sides describe one set of groups
            shared = np.isfinite(y[:, j]) & np.isfinite(v[:, j])
            ref_centre[j], ref_spread[j] = _source_scale(np.where(shared, y[:, reference], np.nan),
                                                         np.where(shared, v[:, reference], np.nan))
            if not (np.isfinite(spread[j]) and np.isfinite(ref_spread[j])):
                continue
            usable[j] = True
            factor = ref_spread[j] / spread[j]
            scaled[:, j] = ref_centre[j] + factor * (y[:, j] - centre[j])
            scaled_var[:, j] = factor**2 * v[:, j]
    has = usable[None, :] & np.isfinite(scaled) & (w[None, :] > 0)
    raw = np.where(has, w[None, :], 0.0)
    weight = raw / raw.sum(axis=1, keepdims=True)
    contribution = np.where(has, weight * np.where(has, scaled, 0.0), 0.0)
    estimate = contribution.sum(axis=1)
    variance = np.where(has, weight**2 * np.where(has, scaled_var, 0.0), 0.0).sum(axis=1)
    return CombinedEvidence(estimate, variance, weight, scaled, contribution, centre, spread, usable)


#: tier codes of :func:`tiers`
ABOVE, LEVEL, BELOW = 1, 0, -1


def tiers(low: ArrayLike, high: ArrayLike, reference: float) -> IntArray:
    """Tier of each interval against a reference: 1 clearly above (low > reference), -1 clearly below
    (high < reference), 0 indistinguishable (the interval contains the reference).

    Examples
    --------
    >>> from scoring.ranking import tiers
    >>> tiers([81.0, 70.0, 60.0], [90.0, 85.0, 74.0], 79.0).tolist()
    [1, 0, -1]
    """
    lo = finite_1d(low, "low")
    hi = finite_1d(high, "high")
    if lo.shape != hi.shape:
        raise ValueError(f"low and high must have the same length, got {lo.size} and {hi.size}")
    return np.where(lo > reference, ABOVE, np.where(hi < reference, BELOW, LEVEL)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ShrinkageResult:
    """Empirical-Bayes (normal–normal) shrinkage of group means.

    Attributes
    ----------
    labels : ndarray
        Group labels, sorted.
    n : ndarray of int
        Scores per group.
    raw_mean, estimate, se, low, high : ndarray
        Raw mean, posterior mean, posterior standard deviation and interval.
    weight : ndarray
        Weight of the group's own mean, :math:`1 - B_i = \\tau^2 / (\\tau^2 + \\sigma^2 / n_i)`.
    grand_mean, between_variance, within_variance : float
        :math:`\\hat\\mu`, :math:`\\hat\\tau^2`, :math:`\\hat\\sigma^2`.
    confidence_level : float
    tau2_low, tau2_high : float
        Posterior interval of τ² (``integrated``); NaN for the plug-in.
    method : str
        Estimator of τ² behind ``between_variance`` (:func:`between_variance`).
    integrated : bool
        Whether the uncertainty in τ² was integrated out (:func:`posterior_shrinkage`).
    """

    labels: NDArray[Any]
    n: IntArray
    raw_mean: FloatArray
    estimate: FloatArray
    se: FloatArray
    low: FloatArray
    high: FloatArray
    weight: FloatArray
    grand_mean: float
    between_variance: float
    within_variance: float
    confidence_level: float
    tau2_low: float = float("nan")
    tau2_high: float = float("nan")
    method: str = "REML"
    integrated: bool = True


def empirical_bayes(groups: ArrayLike, values: ArrayLike, *, within_variance: float | None = None,
                    confidence_level: float = 0.95, method: str = "REML", integrate: bool = True,
                    prior_scale: float | None = None) -> ShrinkageResult:
    """Shrink each group's mean score towards the overall mean according to its number of scores.

    Model :math:`\\bar y_i \\sim N(\\theta_i, \\sigma^2 / n_i)`, :math:`\\theta_i \\sim N(\\mu, \\tau^2)`.
    :math:`\\sigma^2` is the pooled within-group variance (or given). By default (``integrate=True``) the
    uncertainty in :math:`\\tau^2` is integrated out on a grid (:func:`posterior_shrinkage`), so a
    boundary estimate :math:`\\hat\\tau^2 = 0` does not pull every group onto one number;
    ``between_variance`` reports the ``method`` estimate (:func:`between_variance`). With
    ``integrate=False`` :math:`\\hat\\tau^2` is plugged in: posterior mean
    :math:`\\mu + (1 - B_i)(\\bar y_i - \\mu)` with :math:`B_i = (\\sigma^2/n_i) / (\\sigma^2/n_i + \\tau^2)`,
    and variance :math:`(1 - B_i)\\sigma^2/n_i + B_i^2 \\mathrm{Var}(\\mu)` (Morris 1983, JASA 78:47,
    eq. 4.1 without the :math:`\\tau^2` uncertainty term); ``method="DL", integrate=False`` is the
    platform's estimator before issue 17. A lawyer with one reviewed case is pulled strongly towards the
    mean; one with fifty barely moves.

    Parameters
    ----------
    groups : array_like
        Group label (lawyer, agency, city) of each score.
    values : array_like of float
        Scores (one per reviewed case).
    within_variance : float, optional
        Known :math:`\\sigma^2`; default pooled from groups with two or more scores.
    confidence_level : float, optional
    method : {"REML", "ML", "DL"}, optional
        Estimator of :math:`\\tau^2`.
    integrate : bool, optional
        Integrate over the uncertainty in :math:`\\tau^2` (default) or plug the estimate in.
    prior_scale : float, optional
        Scale of the half-Cauchy prior on τ (see :func:`posterior_shrinkage`).

    Returns
    -------
    ShrinkageResult

    Examples
    --------
    >>> from scoring.ranking import empirical_bayes
    >>> g = ["a"] * 20 + ["b"] + ["c"] * 5
    >>> v = [85.0, 87.0, 83.0, 86.0] * 5 + [99.0] + [70.0, 74.0, 72.0, 71.0, 73.0]
    >>> res = empirical_bayes(g, v)
    >>> res.labels.tolist(), res.raw_mean.round(1).tolist()
    (['a', 'b', 'c'], [85.2, 99.0, 72.0])
    >>> bool(res.estimate[1] < 99.0), bool(abs(res.estimate[0] - 85.25) < 0.1)
    (True, True)
    """
    z = _z(confidence_level)
    v = finite_1d(values, "values")
    g = np.asarray(groups)
    if g.shape != v.shape:
        raise ValueError(f"groups and values must have the same length, got {g.shape} and {v.shape}")
    if not v.size:
        raise ValueError("no scores")
    labels, code = np.unique(g, return_inverse=True)
    code = code.ravel()
    n = np.bincount(code).astype(np.float64)
    mean = np.bincount(code, weights=v) / n
    if within_variance is None:
        ss = float(((v - mean[code]) ** 2).sum())
        df = float((n - 1).sum())
        if df <= 0:
            raise ValueError("no group has two or more scores: pass within_variance explicitly")
        sigma2 = ss / df
    else:
        sigma2 = float(within_variance)
        if not np.isfinite(sigma2) or sigma2 <= 0:
            raise ValueError(f"within_variance must be a finite positive number, got {within_variance!r}")
    if sigma2 <= 0:
        raise ValueError("scores show no variation within groups; within_variance is zero")
    chosen = check_choice(method, METHODS, "method")
    k = labels.shape[0]
    var_i = sigma2 / n
    if k >= 2 and integrate:
        post = posterior_shrinkage(mean, var_i, method=chosen, prior_scale=prior_scale,
                                   confidence_level=confidence_level)
        return ShrinkageResult(labels, n.astype(np.int64), mean, post.estimate, post.se, post.low, post.high,
                               post.weight, post.grand_mean, post.fit.tau2, sigma2, float(confidence_level),
                               post.tau2_low, post.tau2_high, chosen, True)
    tau2 = between_variance(mean, var_i, method=chosen).tau2 if k >= 2 else 0.0
    wt = 1.0 / (var_i + tau2)
    mu = float(wt @ mean / wt.sum())
    var_mu = 1.0 / float(wt.sum())
    shrink = var_i / (var_i + tau2)
    est = mu + (1 - shrink) * (mean - mu)
    se = np.sqrt((1 - shrink) * var_i + shrink**2 * var_mu)
    return ShrinkageResult(labels, n.astype(np.int64), mean, est, se, est - z * se, est + z * se, 1 - shrink,
                           mu, tau2, sigma2, float(confidence_level), method=chosen, integrated=False)


@dataclass(frozen=True, eq=False)
class JamesSteinResult:
    """James–Stein estimates with a common known variance.

    Attributes
    ----------
    estimate : ndarray
    grand_mean : float
    shrinkage : float
        The factor c applied to deviations from the grand mean (positive part, in [0, 1]).
    """

    estimate: FloatArray
    grand_mean: float
    shrinkage: float


def james_stein(values: ArrayLike, *, variance: float) -> JamesSteinResult:
    """James–Stein estimator towards the grand mean (Efron & Morris 1975, JASA 70:311, eq. 1.5).

    :math:`z_i = \\bar y + c (y_i - \\bar y)` with :math:`c = 1 - (k - 3)\\sigma^2 / \\sum (y_i - \\bar y)^2`
    (positive part), for k ≥ 4 means with a common sampling variance :math:`\\sigma^2`.

    Parameters
    ----------
    values : array_like of float
    variance : float
        Sampling variance of each value.

    Returns
    -------
    JamesSteinResult

    Examples
    --------
    >>> from scoring.ranking import james_stein
    >>> js = james_stein([0.4, 0.3, 0.2, 0.25, 0.35], variance=0.001)
    >>> round(js.shrinkage, 3)
    0.92
    """
    y = finite_1d(values, "values")
    if y.size < 4:
        raise ValueError(f"the James–Stein estimator needs at least 4 values, got {y.size}")
    if not np.isfinite(variance) or variance <= 0:
        raise ValueError(f"variance must be a finite positive number, got {variance!r}")
    ybar = float(y.mean())
    s = float(((y - ybar) ** 2).sum())
    c = 0.0 if s == 0 else max(0.0, 1.0 - (y.size - 3) * variance / s)
    return JamesSteinResult(ybar + c * (y - ybar), ybar, c)


@dataclass(frozen=True, eq=False)
class WilsonResult:
    """Wilson score intervals for proportions.

    Attributes
    ----------
    proportion, low, high : ndarray
    confidence_level : float
    """

    proportion: FloatArray
    low: FloatArray
    high: FloatArray
    confidence_level: float


def wilson_interval(successes: ArrayLike, n: ArrayLike, *, confidence_level: float = 0.95) -> WilsonResult:
    """Wilson score interval for a binomial proportion (Wilson 1927, JASA 22:209; Brown, Cai & DasGupta 2001, eq. 4).

    :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}` — sensible for
    the share excellent-or-good (优良率) of a lawyer with one or two reviewed cases, unlike the Wald
    interval.

    Parameters
    ----------
    successes : array_like of int
        Cases graded excellent or good.
    n : array_like of int
        Reviewed cases (≥ 1).
    confidence_level : float, optional

    Returns
    -------
    WilsonResult

    Examples
    --------
    >>> from scoring.ranking import wilson_interval
    >>> w = wilson_interval([1, 45], [1, 50])
    >>> w.low.round(3).tolist(), w.high.round(3).tolist()
    ([0.207, 0.786], [1.0, 0.957])
    """
    z = _z(confidence_level)
    k = np.atleast_1d(np.asarray(successes, dtype=np.float64))
    m = np.atleast_1d(np.asarray(n, dtype=np.float64))
    if k.shape != m.shape:
        raise ValueError(f"successes and n must have the same shape, got {k.shape} and {m.shape}")
    bad = np.flatnonzero(~np.isfinite(k) | ~np.isfinite(m) | (k != np.round(k)) | (m != np.round(m))
                         | (k < 0) | (m < 1) | (k > m))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"need integers 0 <= successes <= n and n >= 1: index {i} has "
                         f"successes={k[i]!r}, n={m[i]!r}")
    p = k / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    # the bounds are exactly 0 at k = 0 and exactly 1 at k = n; avoid rounding just inside
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k == m, 1.0, np.clip(centre + half, 0, 1))
    return WilsonResult(p, low, high, float(confidence_level))


@dataclass(frozen=True, eq=False)
class RankIntervals:
    """Ranks (1 = best) with intervals.

    Attributes
    ----------
    rank : ndarray of int
        Rank of each point estimate (ties share the best rank).
    low, high : ndarray of int
        Best and worst rank of the interval.
    confidence_level : float
    n_draws : int
        Draws simulated; 0 for the analytic method.
    method : str
        ``"analytic"`` or ``"simulation"``.
    """

    rank: IntArray
    low: IntArray
    high: IntArray
    confidence_level: float
    n_draws: int
    method: str = "simulation"


def _ranks_desc(x: FloatArray) -> IntArray:
    """1 + number of strictly larger entries, row-wise."""
    s = np.sort(x, axis=-1)
    k = x.shape[-1]
    if x.ndim == 1:
        ranks: IntArray = (k - np.searchsorted(s, x, side="right") + 1).astype(np.int64)
        return ranks
    out = np.empty(x.shape, dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = k - np.searchsorted(s[i], x[i], side="right") + 1
    return out


#: grid points per smallest posterior standard deviation, and the grid's size limit
_PER_SD = 8
_MAX_GRID = 1 << 17
#: at most this many distinct standard deviations are kept exactly; beyond, they are pooled
#: in bins 2 % wide on the log scale
_MAX_GROUPS = 64
#: directions tried on the circle of the inverse first-order reliability method
_ANGLES = np.linspace(0.0, np.pi / 2, 9)


class _CountField:
    """m(t) = Σ_j P(θ_j > t), v(t) = Σ_j P(θ_j > t) P(θ_j ≤ t) for θ_j ~ N(x_j, s_j²) on a grid.

    Entities are grouped by standard deviation; each group's positions are spread over the
    grid linearly (two neighbouring points) and convolved with the group's kernel:
    Φ(d/s) = step + (Φ(d/s) − step) for m (the step by a cumulative sum, the rest by a kernel
    ±8.5 s wide) and Φ(d/s)Φ(−d/s) for v. Values between grid points are interpolated.
    Entities without uncertainty (s = 0) are step functions: they are counted exactly instead.
    """

    def __init__(self, x: FloatArray, s: FloatArray) -> None:
        positive = s[s > 0]
        span_lo = float(x.min() - 9 * s.max())
        span_hi = float(x.max() + 9 * s.max())
        width = max(span_hi - span_lo, 1e-12)
        step = float(positive.min()) / _PER_SD if positive.size else width
        n = int(np.ceil(width / step)) + 1
        if n > _MAX_GRID:
            n = _MAX_GRID
            step = width / (n - 1)
        self.lo, self.step, self.n = span_lo, step, n
        self.grid = span_lo + step * np.arange(n)
        m = np.zeros(n)
        v = np.zeros(n)
        self.fixed = np.sort(x[s == 0])
        for sd, members in _sd_groups(s[s > 0]):
            mass = self._deposit(x[s > 0][members])
            # exact step part: entities strictly above the point, half of those on it
            above = mass.sum() - np.cumsum(mass)
            m += above + 0.5 * mass
            half = int(np.ceil(8.5 * sd / step))
            d = np.arange(-half, half + 1) * (step / sd)
            p = special.ndtr(d)
            m += _correlate(mass, p - (d > 0) - 0.5 * (d == 0))
            v += _correlate(mass, p * special.ndtr(-d))
        self.m, self.v = m, np.maximum(v, 0.0)

    def _deposit(self, x: FloatArray) -> FloatArray:
        pos = (x - self.lo) / self.step
        i = np.clip(np.floor(pos).astype(np.int64), 0, self.n - 2)
        frac = np.clip(pos - i, 0.0, 1.0)
        mass = (np.bincount(i, weights=1 - frac, minlength=self.n)
                + np.bincount(i + 1, weights=frac, minlength=self.n))[: self.n]
        return np.asarray(mass, dtype=np.float64)

    def at(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """m and v at the points ``t`` (linear interpolation, exact counts of fixed entities)."""
        right = np.searchsorted(self.fixed, t, side="right")
        tied = right - np.searchsorted(self.fixed, t, side="left")
        m = np.interp(t, self.grid, self.m) + (self.fixed.size - right) + 0.5 * tied
        return m, np.interp(t, self.grid, self.v)


def _sd_groups(s: FloatArray) -> list[tuple[float, IntArray]]:
    """(standard deviation, member indices) for positive ``s``: exact values, or 2 %-wide log bins
    (geometric centres) when there are many."""
    values, code = np.unique(s, return_inverse=True)
    if values.size > _MAX_GROUPS:
        keys, code = np.unique(np.round(np.log(s) / 0.02), return_inverse=True)
        values = np.exp(keys * 0.02)
    code = code.ravel()
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(values.size + 1))
    return [(float(values[g]), order[bounds[g]:bounds[g + 1]]) for g in range(values.size)]


def _correlate(mass: FloatArray, kernel: FloatArray) -> FloatArray:
    """out[g] = Σ_d mass[g + d] kernel[d + h] for a kernel of length 2h + 1."""
    h = (kernel.size - 1) // 2
    full = np.asarray(convolve(mass, kernel[::-1], mode="full"), dtype=np.float64)
    return full[h:h + mass.size]


def _analytic_bounds(x: FloatArray, s: FloatArray, cl: float) -> tuple[IntArray, IntArray]:
    """Rank bounds by the inverse first-order reliability method on the normal posteriors."""
    k = x.size
    field = _CountField(x, s)
    beta = float(special.ndtri((1 + cl) / 2))
    # on the circle of radius beta in the (U, E) plane, the quantile is the extreme of
    # h(U, E) = g(U) + sqrt(v(U)) E over the quarter that pushes the rank the wanted way
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    for omega in _ANGLES:
        u, e = beta * np.cos(omega), beta * np.sin(omega)
        for side in (1.0, -1.0):  # +1: theta high, rank small (lower bound); -1: the upper bound
            t = x + side * u * s
            m, v = field.at(t)
            # the entity's own share of m and v: a tie with itself when it is fixed
            p_self = np.where(s > 0, special.ndtr(-side * u), 0.5)
            count = m - p_self  # others above t
            spread = np.sqrt(np.maximum(v - np.where(s > 0, p_self * (1 - p_self), 0.0), 0.0))
            if side > 0:
                lo = np.minimum(lo, count - e * spread)
            else:
                hi = np.maximum(hi, count + e * spread)
    # P(count <= r) ~ Phi((r + 0.5 - mean) / sd): the smallest integer r past the quantile
    low = 1 + np.ceil(lo - 0.5)
    high = 1 + np.ceil(hi - 0.5)
    return (np.clip(low, 1, k).astype(np.int64), np.clip(high, 1, k).astype(np.int64))


def _simulated_bounds(x: FloatArray, s: FloatArray, cl: float, draws: int, gen: np.random.Generator,
                      workers: int) -> tuple[IntArray, IntArray]:
    k = x.size
    ranks = np.empty((k, draws), dtype=np.int32)  # entity-major so the order statistics are contiguous
    positions = np.arange(k, 0, -1, dtype=np.int32)  # ascending sort position p -> rank k - p

    def rank_draws(first: int, values: FloatArray) -> None:
        for j, row in enumerate(values):
            # continuous draws have no ties, so the inverse of argsort gives each entity's rank
            ranks[np.argsort(row), first + j] = positions

    block = 16
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for first in range(0, draws, block):
            # drawn here, in order, so the result does not depend on the number of threads
            values = np.stack([x + s * gen.standard_normal(k) for _ in range(min(block, draws - first))])
            pending.append(pool.submit(rank_draws, first, values))  # argsort releases the GIL
            if len(pending) > 2 * workers:
                pending.pop(0).result()
        for job in pending:
            job.result()
    # equal-tailed order statistics: the "lower" and "higher" empirical quantiles
    i_lo = int(np.floor((draws - 1) * (1 - cl) / 2))
    i_hi = int(np.ceil((draws - 1) * (1 + cl) / 2))
    part = np.partition(ranks, (i_lo, i_hi), axis=1)
    return part[:, i_lo].astype(np.int64), part[:, i_hi].astype(np.int64)


def rank_intervals(estimates: ArrayLike, se: ArrayLike, *, n_draws: int = 1000, confidence_level: float = 0.95,
                   higher_is_better: bool = True, rng: np.random.Generator | int | None = None,
                   method: str = "analytic", workers: int | None = None) -> RankIntervals:
    """Rank intervals from the approximate normal posteriors (Goldstein & Spiegelhalter 1996, §3).

    With :math:`\\theta_i \\sim N(\\hat\\theta_i, se_i^2)` independent, entity *i*'s rank is
    :math:`R_i = 1 + \\sum_{j \\ne i} 1\\{\\theta_j > \\theta_i\\}` and the interval is its
    equal-tailed quantile range.

    ``method="simulation"`` draws all posteriors ``n_draws`` times and ranks each draw (cost
    O(n_draws · k log k), memory n_draws · k · 4 bytes; the argsorts run on ``workers`` threads,
    the draws are made in one order so results do not depend on the thread count).

    ``method="analytic"`` (default) needs no draws. Given :math:`\\theta_i = t` the other
    indicators are independent with :math:`p_j(t) = \\Phi((\\hat\\theta_j - t)/se_j)`; their
    count has mean :math:`m(t) = \\sum p_j` and variance :math:`v(t) = \\sum p_j(1 - p_j)`,
    evaluated for all *t* at once on a grid (entities grouped by *se*, each group's kernel
    applied by one convolution: O(k + G·w) for a grid of G points and kernels w wide; entities
    with se = 0 are counted exactly by binary search). Writing
    :math:`\\theta_i = \\hat\\theta_i + se_i U` and the count as :math:`m + \\sqrt{v} E` with
    *U*, *E* standard normal (the Poisson-binomial count approximated by a normal with a
    continuity correction), the quantile of :math:`R_i` is taken as the extreme of
    :math:`1 + m(t) \\pm \\sqrt{v(t)} E` over the circle :math:`U^2 + E^2 = z^2` — the inverse
    first-order reliability method (Hasofer & Lind 1974, J. Eng. Mech. 100:111; Winterstein et
    al. 1993, ICOSSAR) — searched over nine directions. It is exact when either source of
    uncertainty is absent (the quantile of a monotone function of *U*, or the normal
    approximation of the count alone) and otherwise an approximation: against 4,000-draw
    simulations most bounds agree within ±1–2 ranks (tests/scoring/test_ranking_intervals.py
    quantifies it). Also approximated: positions on the grid (spacing se_min / 8, at most
    2^17 points) and, beyond 64 distinct standard deviations, *se* pooled in 2 % bins.

    Parameters
    ----------
    estimates, se : array_like of float
        Posterior means and standard deviations (e.g. from :func:`empirical_bayes`).
    n_draws : int, optional
        Draws for ``method="simulation"``.
    confidence_level : float, optional
    higher_is_better : bool, optional
    rng : numpy.random.Generator or int or None
        For ``method="simulation"``.
    method : {"analytic", "simulation"}, optional
    workers : int, optional
        Threads for ``method="simulation"``; default min(4, CPU count).

    Returns
    -------
    RankIntervals

    Examples
    --------
    The first is surely best unless the second, uncertain one (P(θ₂ > 90) = 0.16) overtakes it:

    >>> from scoring.ranking import rank_intervals
    >>> r = rank_intervals([90.0, 85.0, 84.9, 60.0], [0.01, 5.0, 0.01, 0.01])
    >>> r.rank.tolist(), r.low.tolist(), r.high.tolist()
    ([1, 2, 3, 4], [1, 1, 2, 4], [2, 3, 3, 4])
    >>> s = rank_intervals([90.0, 85.0, 84.9, 60.0], [0.01, 5.0, 0.01, 0.01], method="simulation", rng=0)
    >>> s.low.tolist(), s.high.tolist()
    ([1, 1, 2, 4], [2, 3, 3, 4])
    """
    cl = check_confidence(confidence_level)
    chosen = check_choice(method, ("analytic", "simulation"), "method")
    draws = check_positive_int(n_draws, "n_draws")
    est = finite_1d(estimates, "estimates")
    s = finite_1d(se, "se")
    if est.shape != s.shape:
        raise ValueError(f"estimates and se must have the same length, got {est.size} and {s.size}")
    if (s < 0).any():
        raise ValueError(f"se must be >= 0: index {int(np.flatnonzero(s < 0)[0])} is negative")
    sign = 1.0 if higher_is_better else -1.0
    x = sign * est
    rank = _ranks_desc(x)
    if not est.size:
        return RankIntervals(rank, rank.copy(), rank.copy(), cl, 0, chosen)
    if chosen == "analytic":
        lo, hi = _analytic_bounds(x, s, cl)
        return RankIntervals(rank, lo, hi, cl, 0, chosen)
    threads = check_positive_int(workers if workers is not None else min(4, os.cpu_count() or 1), "workers")
    lo, hi = _simulated_bounds(x, s, cl, draws, rng_from(rng), threads)
    return RankIntervals(rank, lo, hi, cl, draws, chosen)


@dataclass(frozen=True)
class ExpertPoolRule:
    """Configurable entry rule for the expert pool (专家库) from a lawyer's reviewed cases.

    Attributes
    ----------
    min_cases : int
        Minimum number of reviewed cases.
    min_lower_bound : float or None
        The lower bound of the shrunk score interval must reach this.
    min_share_lower_bound : float or None
        The Wilson lower bound of the excellent-or-good share must reach this.
    allow_veto : bool
        Whether a case with a veto item on record is tolerated.
    """

    min_cases: int = 5
    min_lower_bound: float | None = 85.0
    min_share_lower_bound: float | None = None
    allow_veto: bool = False

    def __post_init__(self) -> None:
        check_positive_int(self.min_cases, "min_cases", minimum=0)
        for name in ("min_lower_bound", "min_share_lower_bound"):
            v = getattr(self, name)
            if v is not None and not np.isfinite(v):
                raise ValueError(f"{name} must be finite or None, got {v!r}")


@dataclass(frozen=True)
class Eligibility:
    """Decision for one candidate: ``eligible`` and the reasons that exclude them (empty when eligible)."""

    label: Any
    eligible: bool
    reasons: tuple[Reason, ...]


def expert_pool_eligibility(labels: ArrayLike, n_cases: ArrayLike, lower_bound: ArrayLike, *,
                            rule: ExpertPoolRule = ExpertPoolRule(), share_lower_bound: ArrayLike | None = None,
                            veto_count: ArrayLike | None = None) -> tuple[Eligibility, ...]:
    """Apply an :class:`ExpertPoolRule` to every candidate; each exclusion carries a reason code.

    Codes: ``too_few_cases``, ``lower_bound_below_threshold``, ``share_lower_bound_below_threshold``,
    ``veto_on_record``. Using the lower interval bound (not the raw mean) means one excellent case does
    not make an expert (Goldstein & Spiegelhalter 1996 on league tables).

    Parameters
    ----------
    labels : array_like
    n_cases : array_like of int
    lower_bound : array_like of float
        E.g. ``ShrinkageResult.low``.
    rule : ExpertPoolRule
    share_lower_bound : array_like of float, optional
        E.g. ``WilsonResult.low``; required when the rule sets ``min_share_lower_bound``.
    veto_count : array_like of int, optional
        Cases with a veto item per candidate; required when the rule forbids vetoes.

    Returns
    -------
    tuple of Eligibility

    Examples
    --------
    >>> from scoring.ranking import ExpertPoolRule, expert_pool_eligibility
    >>> out = expert_pool_eligibility(["a", "b"], [12, 2], [88.0, 91.0], veto_count=[0, 0],
    ...                               rule=ExpertPoolRule(min_cases=5, min_lower_bound=85.0))
    >>> [(e.label, e.eligible, [r.code for r in e.reasons]) for e in out]
    [('a', True, []), ('b', False, ['too_few_cases'])]
    """
    lab = np.asarray(labels)
    n = np.asarray(n_cases)
    lb = finite_1d(lower_bound, "lower_bound")
    if not (lab.shape == n.shape == lb.shape) or lab.ndim != 1:
        raise ValueError(f"labels, n_cases and lower_bound must be 1-D of equal length, got "
                         f"{lab.shape}, {n.shape}, {lb.shape}")
    share = None
    if rule.min_share_lower_bound is not None:
        if share_lower_bound is None:
            raise ValueError("the rule sets min_share_lower_bound: pass share_lower_bound")
        share = finite_1d(share_lower_bound, "share_lower_bound")
    vetoes = None
    if not rule.allow_veto:
        if veto_count is None:
            raise ValueError("the rule forbids vetoes: pass veto_count")
        vetoes = np.asarray(veto_count)
    for name, arr in (("share_lower_bound", share), ("veto_count", vetoes)):
        if arr is not None and arr.shape != lab.shape:
            raise ValueError(f"{name} must have the same length as labels ({lab.size}), got {arr.shape}")
    out = []
    for i in range(lab.size):
        reasons = []
        if n[i] < rule.min_cases:
            reasons.append(Reason("too_few_cases", {"n": int(n[i]), "minimum": rule.min_cases}))
        if rule.min_lower_bound is not None and lb[i] < rule.min_lower_bound:
            reasons.append(Reason("lower_bound_below_threshold",
                                  {"lower": float(lb[i]), "threshold": rule.min_lower_bound}))
        if share is not None and rule.min_share_lower_bound is not None and share[i] < rule.min_share_lower_bound:
            reasons.append(Reason("share_lower_bound_below_threshold",
                                  {"lower": float(share[i]), "threshold": rule.min_share_lower_bound}))
        if vetoes is not None and vetoes[i] > 0:
            reasons.append(Reason("veto_on_record", {"count": int(vetoes[i])}))
        out.append(Eligibility(lab[i].item() if hasattr(lab[i], "item") else lab[i], not reasons, tuple(reasons)))
    return tuple(out)
