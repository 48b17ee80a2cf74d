"""Reviewer leniency/severity correction on sparse designs: the additive rater-effects model.

score(unit u, rater j) = quality_u + bias_j + noise, with the biases summing to zero within each
connected group of the design, fitted by (weighted) least squares on the sparse design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as splinalg

from ._ratings import Ratings, as_ratings
from ._validation import check_positive_int

__all__ = ["RaterEffects", "fit_rater_effects"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class RaterEffects:
    """Fitted additive rater-effects model.

    Attributes
    ----------
    unit_labels : ndarray
    unit_score : ndarray
        Bias-corrected unit (case) scores :math:`\\hat\\theta_u` on the rating scale; NaN for a unit
        without ratings.
    unit_se : ndarray
        Standard error of ``unit_score``.
    unit_raw_mean : ndarray
        Plain mean of the unit's ratings, for comparison.
    unit_n : ndarray of int
        Ratings per unit.
    unit_group : ndarray of int
        Connected group of each unit (0 = largest group; -1 = no ratings).
    rater_labels : ndarray
    rater_bias : ndarray
        :math:`\\hat b_j`, positive = lenient; sums to zero within each group.
    rater_bias_se : ndarray
    rater_residual_sd : ndarray
        Each rater's consistency: root mean squared residual with approximate degrees of freedom
        (NaN where the rater has no residual degrees of freedom).
    rater_noise_variance : ndarray or None
        Rater-specific noise variances when fitted with ``rater_noise=True``.
    rater_n : ndarray of int
    rater_group : ndarray of int
        Biases are comparable only between raters of the same group.
    n_groups : int
    residual : ndarray
        Residual of each rating, aligned with the input ``Ratings``.
    residual_ss, residual_df, residual_variance : float
        Unweighted residual sum of squares, its degrees of freedom
        (ratings − rated units − raters + groups) and their ratio :math:`\\hat\\sigma^2`.
    bias_variance, unit_variance : float
        Method-of-moments variance components within the largest group: variance of the estimates minus
        the mean squared standard error (floored at 0). Comparable to random-effect variances of a
        crossed mixed model.
    se_method : str
        ``"exact"`` (dense inverse of the reduced rater system) or ``"first-order"`` (Neumann
        approximation for designs with more than ``max_exact_raters`` raters).
    ridge : float
    iterations : int
        Reweighting iterations used (1 without ``rater_noise``).
    """

    unit_labels: NDArray[Any]
    unit_score: FloatArray
    unit_se: FloatArray
    unit_raw_mean: FloatArray
    unit_n: IntArray
    unit_group: IntArray
    rater_labels: NDArray[Any]
    rater_bias: FloatArray
    rater_bias_se: FloatArray
    rater_residual_sd: FloatArray
    rater_noise_variance: FloatArray | None
    rater_n: IntArray
    rater_group: IntArray
    n_groups: int
    residual: FloatArray
    residual_ss: float
    residual_df: int
    residual_variance: float
    bias_variance: float
    unit_variance: float
    se_method: str
    ridge: float
    iterations: int


def _groups(r: Ratings) -> tuple[IntArray, IntArray, int]:
    nu, nr = r.n_units, r.n_raters
    adj = sparse.coo_matrix((np.ones(len(r)), (r.unit, nu + r.rater)), shape=(nu + nr, nu + nr)).tocsr()
    _, lab = csgraph.connected_components(adj, directed=False)
    rated = np.bincount(r.unit, minlength=nu) > 0
    size = np.bincount(lab[nu:], minlength=int(lab.max()) + 1)  # raters per group
    order = np.argsort(-size, kind="stable")
    relabel = np.full(size.shape[0], -1, dtype=np.int64)
    present = order[size[order] > 0]
    relabel[present] = np.arange(present.shape[0])
    groups = relabel[lab]
    unit_group = np.where(rated, groups[:nu], -1)
    return unit_group.astype(np.int64), groups[nu:].astype(np.int64), int(present.shape[0])


@dataclass(frozen=True)
class _Fit:
    bias: FloatArray
    score: FloatArray
    cov_diag: FloatArray  # diag of Cov(b)/scale
    unit_quad: FloatArray  # n_u' C n_u / W_u^2 per unit
    unit_w: FloatArray
    method: str


def _unit_quadratic(n_w: sparse.csr_matrix, cov: FloatArray | None, cov_diag: FloatArray,
                    cov_off: sparse.csr_matrix | None) -> FloatArray:
    """n_u' C n_u for every unit u (row of the weighted incidence matrix), without a units x raters dense step.

    Either ``cov`` is the dense rater covariance (processed in blocks of units), or C = diag(cov_diag) + cov_off.
    """
    nu = n_w.shape[0]
    if cov is not None:
        out = np.empty(nu)
        step = max(1, 8_000_000 // max(1, cov.shape[0]))
        for s in range(0, nu, step):
            block = n_w[s : s + step]
            out[s : s + step] = np.asarray(block.multiply(block @ cov).sum(axis=1)).ravel()
        return out
    assert cov_off is not None
    out = np.asarray(n_w.multiply(n_w) @ cov_diag).ravel()
    step = 4096  # blocks of units bound the memory of the sparse product
    for s in range(0, nu, step):
        block = n_w[s : s + step]
        out[s : s + step] += np.asarray((block @ cov_off).multiply(block).sum(axis=1)).ravel()
    return out


def _solve(r: Ratings, w: FloatArray, rater_group: IntArray, n_groups: int, ridge: float,
           max_exact: int) -> _Fit:
    nu, nr = r.n_units, r.n_raters
    y = r.value
    big_w = np.bincount(r.unit, weights=w, minlength=nu).astype(np.float64)
    safe_w = np.where(big_w > 0, big_w, 1.0)
    ybar = np.bincount(r.unit, weights=w * y, minlength=nu) / safe_w
    z = np.bincount(r.rater, weights=w * (y - ybar[r.unit]), minlength=nr)
    n_w = sparse.csr_matrix((w, (r.unit, r.rater)), shape=(nu, nr))
    d = np.bincount(r.rater, weights=w, minlength=nr)
    s_mat = (sparse.diags(d) - n_w.T @ sparse.diags(1.0 / safe_w) @ n_w).tocsr()
    gsize = np.bincount(rater_group, minlength=n_groups).astype(np.float64)
    if nr <= max_exact:
        s_dense = s_mat.toarray()
        proj = (rater_group[:, None] == rater_group[None, :]) / gsize[rater_group][:, None]
        a = s_dense + ridge * np.eye(nr) + proj
        a_inv = linalg.cho_solve(linalg.cho_factor(a), np.eye(nr))
        g = a_inv - proj / (1.0 + ridge)
        cov = g @ s_dense @ g
        bias = g @ z
        cov_diag, method = np.diag(cov).copy(), "exact"
        quad = _unit_quadratic(n_w, cov, cov_diag, None)
    else:
        diag_s = s_mat.diagonal()

        def matvec(x: FloatArray) -> FloatArray:
            gm = np.bincount(rater_group, weights=x, minlength=n_groups) / gsize
            return np.asarray(s_mat @ x + ridge * x + gm[rater_group], dtype=np.float64)

        op = splinalg.LinearOperator((nr, nr), matvec=matvec, dtype=np.float64)
        pre = splinalg.LinearOperator((nr, nr), matvec=lambda x: x / (diag_s + ridge + 1.0 / gsize[rater_group]),
                                      dtype=np.float64)
        bias, info = splinalg.cg(op, z, rtol=1e-12, atol=0.0, maxiter=20 * nr, M=pre)
        if info != 0:
            raise RuntimeError(f"conjugate gradients did not converge for the rater system ({nr} raters)")
        bias = bias - (np.bincount(rater_group, weights=bias, minlength=n_groups) / gsize)[rater_group]
        a_d = diag_s + ridge
        s_coo = s_mat.tocoo()
        off = s_coo.row != s_coo.col
        off_vals = sparse.csr_matrix(
            (s_coo.data[off] / (a_d[s_coo.row[off]] * a_d[s_coo.col[off]])
             * (1.0 - diag_s[s_coo.col[off]] / a_d[s_coo.col[off]] - diag_s[s_coo.row[off]] / a_d[s_coo.row[off]]),
             (s_coo.row[off], s_coo.col[off])), shape=(nr, nr))
        cov_diag = diag_s / a_d**2
        quad = _unit_quadratic(n_w, None, cov_diag, off_vals)
        method = "first-order"
    score = ybar - np.bincount(r.unit, weights=w * bias[r.rater], minlength=nu) / safe_w
    return _Fit(bias, score, cov_diag, quad / safe_w**2, big_w, method)


def _moment_variance(est: FloatArray, se: FloatArray) -> float:
    ok = np.isfinite(est) & np.isfinite(se)
    if ok.sum() < 2:
        return float("nan")
    return max(float(np.var(est[ok], ddof=1) - np.mean(se[ok] ** 2)), 0.0)


def fit_rater_effects(data: Ratings | ArrayLike, *, ridge: float = 0.0, rater_noise: bool = False,
                      prior_df: float = 5.0, max_iter: int = 50, tol: float = 1e-6,
                      max_exact_raters: int = 2000) -> RaterEffects:
    """Fit score = unit quality + rater bias + noise on a sparse design.

    The additive model of Paul (1981, "Bayesian methods for calibration of examiners", Br. J. Math.
    Stat. Psychol. 34:213) and Piech et al. (2013, "Tuned models of peer assessment in MOOCs", model
    PG1 without priors): :math:`y_{uj} = \\theta_u + b_j + e_{uj}`. The unit effects are eliminated
    (:math:`\\hat\\theta_u` = weighted unit mean of :math:`y - \\hat b`), leaving the sparse reduced
    normal equations :math:`S b = z` with :math:`S = D_r - N^\\top D_u^{-1} N`, a weighted graph
    Laplacian over raters. Biases are identified by :math:`\\sum_j b_j = 0` within every connected group
    of the unit–rater graph (biases of different groups are not comparable); ``ridge`` > 0 adds
    :math:`\\lambda \\sum_j b_j^2`, shrinking biases of raters with few ratings. Solved exactly by
    Cholesky for up to ``max_exact_raters`` raters, else by preconditioned conjugate gradients to
    relative residual 1e-12.

    Standard errors: :math:`\\mathrm{Var}(\\hat\\theta_u) = \\sigma^2 (1/W_u + n_u^\\top C n_u / W_u^2)` with
    :math:`C = G S G`, :math:`G = (S + \\lambda I)^+` (exact), or a first-order Neumann approximation of
    C on larger designs (``se_method`` says which).

    With ``rater_noise=True`` each rater gets a noise variance :math:`\\sigma_j^2` (Piech et al. 2013,
    "reliability" :math:`\\tau_j = 1/\\sigma_j^2`), estimated from the rater's residuals with a
    scaled-inverse-chi-square prior of ``prior_df`` degrees of freedom centred on the pooled variance,
    and the model is refitted by weighted least squares until the variances change by less than ``tol``.

    Parameters
    ----------
    data : Ratings or array_like, shape (n_units, n_raters)
    ridge : float, optional
        Ridge penalty on the biases (0 = pure sum-to-zero constraint).
    rater_noise : bool, optional
        Estimate rater-specific noise variances and weight by them.
    prior_df : float, optional
        Prior degrees of freedom for the rater variances (pseudo-ratings at the pooled variance).
    max_iter : int, optional
    tol : float, optional
    max_exact_raters : int, optional

    Returns
    -------
    RaterEffects

    Examples
    --------
    >>> from scoring import Ratings
    >>> from scoring.calibration import fit_rater_effects
    >>> r = Ratings.from_long([1, 1, 2, 2, 3, 3], ["lenient", "strict", "lenient", "mid", "mid", "strict"],
    ...                       [9.0, 6.0, 8.0, 6.5, 7.0, 5.0])
    >>> fit = fit_rater_effects(r)
    >>> fit.rater_labels.tolist(), fit.rater_bias.round(3).tolist()
    (['lenient', 'mid', 'strict'], [1.5, 0.167, -1.667])
    >>> fit.unit_score.round(3).tolist(), fit.n_groups
    ([7.583, 6.417, 6.75], 1)
    """
    if not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge!r}")
    if not np.isfinite(prior_df) or prior_df < 0:
        raise ValueError(f"prior_df must be a finite number >= 0, got {prior_df!r}")
    max_iter = check_positive_int(max_iter, "max_iter")
    max_exact_raters = check_positive_int(max_exact_raters, "max_exact_raters", minimum=0)
    r = as_ratings(data)
    nu, nr = r.n_units, r.n_raters
    unit_n = np.bincount(r.unit, minlength=nu)
    rater_n = np.bincount(r.rater, minlength=nr)
    unit_group, rater_group, n_groups = _groups(r)
    resid_df = int(len(r) - int((unit_n > 0).sum()) - nr + n_groups)
    w = np.ones(len(r))
    noise: FloatArray | None = None
    iterations = 0
    while True:
        iterations += 1
        fit = _solve(r, w, rater_group, n_groups, float(ridge), max_exact_raters)
        resid = r.value - fit.score[r.unit] - fit.bias[r.rater]
        rss = float(resid @ resid)
        sigma2 = rss / resid_df if resid_df > 0 else float("nan")
        lev = w / np.where(fit.unit_w > 0, fit.unit_w, 1.0)[r.unit]  # leverage of the unit parameter
        df_j = np.bincount(r.rater, weights=1.0 - lev, minlength=nr)
        ss_j = np.bincount(r.rater, weights=resid**2, minlength=nr)
        if not rater_noise or not np.isfinite(sigma2) or sigma2 <= 0:
            break
        new = (ss_j + prior_df * sigma2) / (df_j + prior_df)
        new = np.maximum(new, 1e-12 * sigma2)
        done = noise is not None and bool(np.max(np.abs(new - noise) / noise) < tol)
        noise = new
        w = 1.0 / noise[r.rater]
        if done or iterations >= max_iter:
            fit = _solve(r, w, rater_group, n_groups, float(ridge), max_exact_raters)
            resid = r.value - fit.score[r.unit] - fit.bias[r.rater]
            rss = float(resid @ resid)
            break
    scale = 1.0 if noise is not None else sigma2
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_se = np.where(unit_n > 0, np.sqrt(scale * (1.0 / fit.unit_w + fit.unit_quad)), np.nan)
        score = np.where(unit_n > 0, fit.score, np.nan)
        raw = np.bincount(r.unit, weights=r.value, minlength=nu) / np.where(unit_n > 0, unit_n, np.nan)
        resid_sd = np.where(df_j > 1e-9, np.sqrt(ss_j / df_j), np.nan)
    bias_se = np.sqrt(scale * np.maximum(fit.cov_diag, 0.0))
    main_r, main_u = rater_group == 0, unit_group == 0
    return RaterEffects(
        unit_labels=r.unit_labels, unit_score=score, unit_se=unit_se, unit_raw_mean=raw,
        unit_n=unit_n.astype(np.int64), unit_group=unit_group, rater_labels=r.rater_labels,
        rater_bias=fit.bias, rater_bias_se=bias_se, rater_residual_sd=resid_sd, rater_noise_variance=noise,
        rater_n=rater_n.astype(np.int64), rater_group=rater_group, n_groups=n_groups, residual=resid,
        residual_ss=rss, residual_df=resid_df, residual_variance=rss / resid_df if resid_df > 0 else float("nan"),
        bias_variance=_moment_variance(fit.bias[main_r], bias_se[main_r]),
        unit_variance=_moment_variance(score[main_u], unit_se[main_u]),
        se_method=fit.method, ridge=float(ridge), iterations=iterations)
