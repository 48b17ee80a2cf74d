"""Inter-rater reliability on sparse designs: Krippendorff's alpha, ICC, Fleiss' and Cohen's kappa, Kendall's W.

Every function accepts a :class:`scoring.Ratings` (long format) or a 2-D units × raters array with NaN
for a missing rating, and works on the long format internally (no dense unit × rater matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from ._ratings import Ratings, as_ratings, label_repr
from ._validation import check_choice, check_confidence, check_positive_int, rng_from

__all__ = [
    "AlphaBootstrapResult",
    "CohenKappaResult",
    "FleissKappaResult",
    "ICCResult",
    "KendallWResult",
    "cohen_kappa",
    "fleiss_kappa",
    "icc",
    "kendall_w",
    "krippendorff_alpha",
    "krippendorff_alpha_bootstrap",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
ICC_FORMS: tuple[str, ...] = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")

# --------------------------------------------------------------------------- Krippendorff's alpha


@dataclass(frozen=True)
class _AlphaCells:
    """Pairable ratings grouped into (unit, value) cells: the sparse unit × value count matrix."""

    unit: IntArray  # compact pairable-unit index of each cell, sorted
    cls: IntArray  # index of the cell's value in ``values``
    count: FloatArray  # ratings in the cell
    values: FloatArray  # distinct pairable values, sorted
    m: FloatArray  # ratings per pairable unit

    @property
    def n_units(self) -> int:
        return int(self.m.shape[0])


def _alpha_cells(r: Ratings, level: str) -> _AlphaCells:
    m_all = np.bincount(r.unit, minlength=r.n_units)
    keep = m_all[r.unit] >= 2
    if not keep.any():
        raise ValueError("no pairable units: every unit has fewer than two ratings")
    val = r.value[keep]
    if level == "ratio" and (val < 0).any():
        raise ValueError("level='ratio' needs non-negative values (a ratio scale has an absolute zero)")
    values, cls = np.unique(val, return_inverse=True)
    _, unit = np.unique(r.unit[keep], return_inverse=True)
    n_values = np.int64(values.shape[0])
    cells, count = np.unique(unit.astype(np.int64) * n_values + cls.ravel(), return_counts=True)
    cell_unit = cells // n_values
    cnt = count.astype(np.float64)
    return _AlphaCells(cell_unit, cells % n_values, cnt, values,
                       np.bincount(cell_unit, weights=cnt).astype(np.float64))


def _ratio_delta2(a: FloatArray, b: FloatArray) -> FloatArray:
    s = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(s > 0, (a - b) / np.where(s > 0, s, 1.0), 0.0)
    return np.asarray(d * d, dtype=np.float64)


def _within(c: _AlphaCells, level: str, x: FloatArray | None) -> FloatArray:
    """Per pairable unit: sum over ordered pairs of its ratings of delta^2, divided by m_u - 1."""
    if level == "nominal":
        w = c.m**2 - np.bincount(c.unit, weights=c.count**2, minlength=c.n_units)
    elif level == "ratio":
        w = np.zeros(c.n_units)
        # cells are sorted by unit; pair every cell with the later cells of the same unit
        for d in range(1, int(np.bincount(c.unit).max())):
            i = np.flatnonzero(c.unit[d:] == c.unit[:-d])
            if not i.size:
                break
            dd = _ratio_delta2(c.values[c.cls[i]], c.values[c.cls[i + d]])
            w += 2.0 * np.bincount(c.unit[i], weights=c.count[i] * c.count[i + d] * dd, minlength=c.n_units)
    else:  # interval, or ordinal on mid-rank coordinates: sum_{i!=j} (x_i-x_j)^2 = 2 m sum (x_i - mean)^2
        assert x is not None
        xc = x[c.cls]
        mean = np.bincount(c.unit, weights=c.count * xc, minlength=c.n_units) / c.m
        w = 2.0 * c.m * np.bincount(c.unit, weights=c.count * (xc - mean[c.unit]) ** 2, minlength=c.n_units)
    return np.asarray(w / (c.m - 1.0), dtype=np.float64)


def _total(c: _AlphaCells, level: str, n_c: FloatArray, x: FloatArray | None) -> float:
    """Sum over ordered pairs of all pairable values of delta^2 (the expected-disagreement numerator)."""
    n = n_c.sum()
    if level == "nominal":
        return float(n * n - (n_c**2).sum())
    if level == "ratio":
        total = 0.0
        v = c.values
        step = max(1, 4_000_000 // max(1, v.shape[0]))  # bounded memory for many distinct values
        for s in range(0, v.shape[0], step):
            block = _ratio_delta2(v[s : s + step, None], v[None, :])
            total += float(n_c[s : s + step] @ block @ n_c)
        return total
    assert x is not None
    mean = float(n_c @ x) / n
    return float(2.0 * n * (n_c @ (x - mean) ** 2))


def _coordinates(c: _AlphaCells, level: str, n_c: FloatArray) -> FloatArray | None:
    if level == "interval":
        centred: FloatArray = c.values - float(n_c @ c.values) / n_c.sum()
        return centred
    if level == "ordinal":  # Krippendorff's ordinal metric = squared distance of mid-ranks
        return np.cumsum(n_c) - n_c / 2.0
    return None


def _alpha_value(c: _AlphaCells, level: str, w: FloatArray | None = None,
                 within: FloatArray | None = None) -> float:
    weights = c.count if w is None else c.count * w[c.unit]
    n_c = np.bincount(c.cls, weights=weights, minlength=c.values.shape[0]).astype(np.float64)
    x = _coordinates(c, level, n_c)
    if within is None:
        within = _within(c, level, x)
    d_o = float(within @ (np.ones(c.n_units) if w is None else w))
    total = _total(c, level, n_c, x)
    if total <= 0.0:
        return float("nan")
    return 1.0 - (float(n_c.sum()) - 1.0) * d_o / total


def krippendorff_alpha(data: Ratings | ArrayLike, *, level: Level = "interval") -> float:
    """Krippendorff's alpha for any number of raters, missing ratings and four levels of measurement.

    .. math:: \\alpha = 1 - (n - 1) \\frac{\\sum_u \\frac{1}{m_u - 1} \\sum_{i \\ne j \\in u}
              \\delta^2(x_i, x_j)}{\\sum_{c, k} n_c n_k \\delta^2_{ck}}

    (Krippendorff 2011, "Computing Krippendorff's alpha-reliability", eqs. for :math:`D_o` and
    :math:`D_e` via the coincidence matrix), computed in long format from the sparse unit × value counts:
    O(number of ratings) for nominal, ordinal and interval; the ratio metric adds O(V^2) in the number V
    of distinct values.

    Parameters
    ----------
    data : Ratings or array_like, shape (n_units, n_raters)
        Rows are units (cases), columns raters, NaN = missing. Note the orientation: Krippendorff's own
        tables put observers in rows; transpose those.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Metric :math:`\\delta^2`: 0/1 mismatch; squared distance of mid-ranks
        (:math:`\\sum_{g=c}^{k} n_g - (n_c + n_k)/2`); :math:`(c - k)^2`; :math:`((c - k)/(c + k))^2`.

    Returns
    -------
    float
        Alpha; 1 is perfect agreement, 0 agreement at chance level. Units with fewer than two ratings
        are not pairable and are ignored.

    Raises
    ------
    ValueError
        For an unknown level, no pairable unit, negative values at the ratio level, or pairable values
        without any variation (alpha is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.reliability import krippendorff_alpha
    >>> x = np.array([[1, 1, np.nan], [2, 2, 3], [3, 3, 3], [4, 4, 4], [1, 2, np.nan]])
    >>> round(krippendorff_alpha(x, level="interval"), 6)
    0.878788
    >>> round(krippendorff_alpha(x, level="nominal"), 6)
    0.619048
    """
    lvl = check_choice(level, LEVELS, "level")
    c = _alpha_cells(as_ratings(data), lvl)
    value = _alpha_value(c, lvl)
    if np.isnan(value):
        raise ValueError("alpha is undefined: all pairable ratings have the same value (no variation)")
    return float(value)


@dataclass(frozen=True)
class AlphaBootstrapResult:
    """Krippendorff's alpha with a percentile bootstrap confidence interval (units resampled).

    Attributes
    ----------
    value : float
        Alpha on the data.
    low, high : float
        Percentile interval bounds.
    confidence_level : float
    n_resamples : int
        Resamples drawn; ``n_undefined`` of them had no variation and are left out of the percentiles.
    n_undefined : int
    level : str
    distribution : ndarray
        The defined bootstrap replicates.
    """

    value: float
    low: float
    high: float
    confidence_level: float
    n_resamples: int
    n_undefined: int
    level: str
    distribution: FloatArray


def krippendorff_alpha_bootstrap(data: Ratings | ArrayLike, *, level: Level = "interval",
                                 n_resamples: int = 1000, confidence_level: float = 0.95,
                                 rng: np.random.Generator | int | None = None) -> AlphaBootstrapResult:
    """Bootstrap confidence interval for Krippendorff's alpha, resampling pairable units.

    Each replicate draws the pairable units with replacement (Efron & Tibshirani 1993, ch. 13,
    percentile interval) and recomputes alpha from the unit-level sufficient statistics of
    :func:`krippendorff_alpha`, so a replicate costs O(number of ratings).

    Parameters
    ----------
    data : Ratings or array_like, shape (n_units, n_raters)
    level : {"nominal", "ordinal", "interval", "ratio"}
    n_resamples : int, optional
    confidence_level : float, optional
    rng : numpy.random.Generator or int or None
        Source of randomness; an int seeds a new generator.

    Returns
    -------
    AlphaBootstrapResult

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.reliability import krippendorff_alpha_bootstrap
    >>> g = np.random.default_rng(0)
    >>> truth = g.normal(size=200)
    >>> x = truth[:, None] + g.normal(scale=0.5, size=(200, 3))
    >>> res = krippendorff_alpha_bootstrap(x, n_resamples=200, rng=1)
    >>> bool(res.low < res.value < res.high)
    True
    """
    lvl = check_choice(level, LEVELS, "level")
    cl = check_confidence(confidence_level)
    b = check_positive_int(n_resamples, "n_resamples")
    gen = rng_from(rng)
    c = _alpha_cells(as_ratings(data), lvl)
    value = _alpha_value(c, lvl)
    if np.isnan(value):
        raise ValueError("alpha is undefined: all pairable ratings have the same value (no variation)")
    fixed = None if lvl == "ordinal" else _within(c, lvl, _coordinates(
        c, lvl, np.bincount(c.cls, weights=c.count, minlength=c.values.shape[0]).astype(np.float64)))
    reps = np.empty(b)
    for i in range(b):
        w = np.bincount(gen.integers(0, c.n_units, size=c.n_units), minlength=c.n_units).astype(np.float64)
        reps[i] = _alpha_value(c, lvl, w, fixed)
    defined = reps[~np.isnan(reps)]
    if not defined.size:
        raise ValueError("every bootstrap resample lacked variation; alpha has no interval")
    lo, hi = np.quantile(defined, [(1 - cl) / 2, (1 + cl) / 2])
    return AlphaBootstrapResult(value, float(lo), float(hi), cl, b, int(b - defined.size), lvl, defined)


# --------------------------------------------------------------------------- ICC


@dataclass(frozen=True)
class ICCResult:
    """Intraclass correlation with its F test and confidence interval.

    Attributes
    ----------
    form : str
        One of ICC1, ICC2, ICC3 (single rating) and ICC1k, ICC2k, ICC3k (mean of k ratings).
    value, low, high : float
        Estimate and confidence interval.
    confidence_level : float
    f_statistic, df1, df2, pvalue : float
        F test of H0: ICC = 0 (MS_units / MS_within for ICC1, MS_units / MS_error for ICC2/3).
    k : float
        Ratings per unit; for an unbalanced one-way design the adjusted group size n0.
    n_units, n_raters, n_ratings : int
    ms_units, ms_within, ms_raters, ms_error : float
        Mean squares (the two-way ones are NaN for one-way forms on unbalanced data).
    balanced : bool
    """

    form: str
    value: float
    low: float
    high: float
    confidence_level: float
    f_statistic: float
    df1: float
    df2: float
    pvalue: float
    k: float
    n_units: int
    n_raters: int
    n_ratings: int
    ms_units: float
    ms_within: float
    ms_raters: float
    ms_error: float
    balanced: bool


def _f_bounds(f: float, df1: float, df2: float, cl: float) -> tuple[float, float]:
    q = (1 + cl) / 2
    return f / stats.f.ppf(q, df1, df2), f * stats.f.ppf(q, df2, df1)


def _sb(f: float, k: float) -> float:
    """(F - 1) / (F + k - 1), with its limit 1 at F = inf."""
    return 1.0 if np.isinf(f) else (f - 1.0) / (f + k - 1.0)


def _inv(f: float) -> float:
    return 1.0 - 1.0 / f


def icc(data: Ratings | ArrayLike, *, form: str = "ICC1", confidence_level: float = 0.95) -> ICCResult:
    """Intraclass correlation coefficient (Shrout & Fleiss 1979; McGraw & Wong 1996).

    ``ICC1``/``ICC1k``: one-way random effects, each unit rated by its own raters — our normal, sparse
    case. These accept unbalanced designs (different raters and numbers of ratings per unit) and use the
    one-way ANOVA estimator with the adjusted group size
    :math:`n_0 = (N - \\sum_i m_i^2 / N) / (n - 1)` (Searle, Casella & McCulloch 1992, eq. 3.27;
    Shrout & Fleiss Table 2 with k replaced by :math:`n_0`):
    :math:`ICC1 = (MS_B - MS_W) / (MS_B + (n_0 - 1) MS_W)`, :math:`ICC1k = (MS_B - MS_W) / MS_B`
    (reliability of the mean of :math:`n_0` ratings). This is not the REML estimate, which differs on
    unbalanced data. Units with a single rating count in MS_B. The interval is the F-based one of
    Shrout & Fleiss (1979), eqs. in Table 4, with :math:`n_0` for k.

    ``ICC2``/``ICC2k`` (two-way random, absolute agreement, McGraw & Wong's ICC(A,1)/ICC(A,k)) and
    ``ICC3``/``ICC3k`` (two-way mixed, consistency, ICC(C,1)/ICC(C,k)) need a complete design in which
    every rater rates every unit. The ICC2 interval uses Satterthwaite's degrees of freedom (Shrout &
    Fleiss 1979, eq. in Table 4; McGraw & Wong 1996, Table 7).

    Parameters
    ----------
    data : Ratings or array_like, shape (n_units, n_raters)
    form : {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    confidence_level : float, optional

    Returns
    -------
    ICCResult

    Raises
    ------
    ValueError
        For an unknown form, too few units or ratings, no variation, or an incomplete design with a
        two-way form.

    Examples
    --------
    >>> from scoring.reliability import icc
    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(icc(x, form="ICC3").value, 6)
    0.714841
    >>> r = icc(x, form="ICC1")
    >>> round(r.value, 6), round(r.low, 3), round(r.high, 3)
    (0.165742, -0.133, 0.723)
    """
    form = check_choice(form, ICC_FORMS, "form")
    cl = check_confidence(confidence_level)
    r = as_ratings(data)
    m_all = np.bincount(r.unit, minlength=r.n_units).astype(np.float64)
    rated = m_all > 0
    m = m_all[rated]
    n, big_n = int(m.shape[0]), float(m.sum())
    if n < 2:
        raise ValueError(f"ICC needs at least two rated units, got {n}")
    if big_n - n < 1:
        raise ValueError("ICC needs at least one unit with two or more ratings")
    y = r.value
    grand = float(y.mean())
    sums = np.bincount(r.unit, weights=y, minlength=r.n_units)[rated]
    means = sums / m
    ss_units = float(m @ (means - grand) ** 2)
    dev = y - (np.bincount(r.unit, weights=y, minlength=r.n_units) / np.where(m_all > 0, m_all, 1))[r.unit]
    ss_within = float(dev @ dev)
    if ss_units + ss_within <= 0:
        raise ValueError("ICC is undefined: all ratings are equal (no variation)")
    df_units, df_within = n - 1.0, big_n - n
    # numpy scalars, so that a zero within-unit spread gives inf under errstate instead of ZeroDivisionError
    ms_units, ms_within = np.float64(ss_units / df_units), np.float64(ss_within / df_within)
    n_raters = int(np.unique(r.rater).shape[0])
    balanced = bool((m == m[0]).all())
    complete = balanced and m[0] == n_raters
    ms_raters = ms_error = float("nan")
    if complete:
        k = float(n_raters)
        rsums = np.bincount(r.rater, weights=y, minlength=r.n_raters)
        rcount = np.bincount(r.rater, minlength=r.n_raters)
        rmeans = rsums[rcount > 0] / rcount[rcount > 0]
        ss_raters = float(n * ((rmeans - grand) ** 2).sum())
        df_raters, df_error = k - 1.0, (n - 1.0) * (k - 1.0)
        ms_raters = ss_raters / df_raters if df_raters > 0 else float("nan")
        ms_error = np.float64(max(ss_within - ss_raters, 0.0) / df_error) if df_error > 0 else float("nan")
    else:
        k = (big_n - float(m @ m) / big_n) / df_units
    if form in ("ICC2", "ICC3", "ICC2k", "ICC3k"):
        if not complete:
            worst = int(np.argmin(m))
            raise ValueError(
                f"{form} needs a complete design in which every rater rates every unit; unit "
                f"{label_repr(r.unit_labels[np.flatnonzero(rated)[worst]])} has {int(m[worst])} rating(s) from "
                f"{n_raters} raters. Use form='ICC1' (one-way, unbalanced allowed) or "
                "scoring.calibration.fit_rater_effects for sparse designs")
        if n_raters < 2:
            raise ValueError(f"{form} needs at least two raters")
    value: float
    with np.errstate(divide="ignore", invalid="ignore"):
        if form in ("ICC1", "ICC1k"):
            f, df1, df2 = ms_units / ms_within, df_units, df_within
            fl, fu = _f_bounds(f, df1, df2, cl)
            if form == "ICC1":
                value = (ms_units - ms_within) / (ms_units + (k - 1) * ms_within)
                low, high = _sb(fl, k), _sb(fu, k)
            else:
                value, low, high = (ms_units - ms_within) / ms_units, _inv(fl), _inv(fu)
        else:
            f, df1, df2 = ms_units / ms_error, df_units, (n - 1.0) * (k - 1.0)
            if form in ("ICC3", "ICC3k"):
                fl, fu = _f_bounds(f, df1, df2, cl)
                if form == "ICC3":
                    value = (ms_units - ms_error) / (ms_units + (k - 1) * ms_error)
                    low, high = _sb(fl, k), _sb(fu, k)
                else:
                    value, low, high = (ms_units - ms_error) / ms_units, _inv(fl), _inv(fu)
            else:
                low, high, icc2 = _icc2_interval(ms_units, ms_raters, ms_error, n, k, cl)
                if form == "ICC2":
                    value = icc2
                else:
                    value = (ms_units - ms_error) / (ms_units + (ms_raters - ms_error) / n)
                    low, high = low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1))
        pvalue = float(stats.f.sf(f, df1, df2)) if np.isfinite(f) else 0.0
    if np.isinf(f):
        value, low, high = 1.0, 1.0, 1.0
    return ICCResult(form, float(value), float(low), float(high), cl, float(f), float(df1), float(df2),
                     pvalue, float(k), n, n_raters, len(r), ms_units, ms_within, ms_raters, ms_error, balanced)


def _icc2_interval(msr: float, msc: float, mse: float, n: int, k: float,
                   cl: float) -> tuple[float, float, float]:
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    fj = msc / mse
    a = k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2
    v = ((n - 1) * (k - 1) * a**2) / ((n - 1) * k**2 * icc2**2 * fj**2
                                      + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2)
    q = (1 + cl) / 2
    fu, fl = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
    low = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
    high = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
    return float(low), float(high), float(icc2)


# --------------------------------------------------------------------------- kappas


@dataclass(frozen=True)
class FleissKappaResult:
    """Fleiss' kappa.

    Attributes
    ----------
    value : float
    observed_agreement : float
        Mean proportion of agreeing rating pairs per unit, :math:`\\bar P`.
    chance_agreement : float
        :math:`\\bar P_e = \\sum_j p_j^2`.
    n_units, n_categories : int
    balanced : bool
        Whether every unit had the same number of ratings (Fleiss' original setting).
    """

    value: float
    observed_agreement: float
    chance_agreement: float
    n_units: int
    n_categories: int
    balanced: bool


def _count_table(r: Ratings) -> tuple[FloatArray, FloatArray]:
    cats, cls = np.unique(r.value, return_inverse=True)
    n_cat = cats.shape[0]
    _, unit = np.unique(r.unit, return_inverse=True)
    n_units = int(unit.max()) + 1
    table = np.bincount(unit.ravel() * n_cat + cls.ravel(), minlength=n_units * n_cat)
    return table.reshape(n_units, n_cat).astype(np.float64), cats


def fleiss_kappa(data: Ratings | ArrayLike, *, counts: bool = False) -> FleissKappaResult:
    """Fleiss' kappa for many raters on a nominal scale (Fleiss 1971, Psychol. Bull. 76:378, eqs. 2–9).

    :math:`\\kappa = (\\bar P - \\bar P_e) / (1 - \\bar P_e)` with
    :math:`P_i = \\sum_j n_{ij}(n_{ij} - 1) / (n_i (n_i - 1))` and :math:`p_j` the share of all ratings
    in category j. Units may have different numbers of ratings :math:`n_i \\ge 2` (the usual
    generalisation; with a constant n it is exactly Fleiss' statistic); units with fewer than two
    ratings are ignored. Raters need not be the same across units.

    Parameters
    ----------
    data : Ratings or array_like
        Category codes as units × raters (NaN = missing), or with ``counts=True`` a units × categories
        table of counts.
    counts : bool, optional

    Returns
    -------
    FleissKappaResult

    Examples
    --------
    >>> from scoring.reliability import fleiss_kappa
    >>> round(fleiss_kappa([[1, 1, 2], [2, 2, 2], [1, 1, 1], [3, 2, 3]]).value, 6)
    0.466667
    >>> round(fleiss_kappa([[2, 1, 0], [0, 3, 0], [3, 0, 0], [0, 1, 2]], counts=True).value, 6)
    0.466667
    """
    if counts:
        table = np.asarray(data, dtype=np.float64)
        if table.ndim != 2:
            raise ValueError(f"a count table must be 2-D (units × categories), got shape {table.shape}")
        bad = np.argwhere(~np.isfinite(table) | (table < 0) | (table != np.round(table)))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise ValueError(f"counts must be non-negative integers: row {i}, column {j} is {table[i, j]!r}")
    else:
        table, _ = _count_table(as_ratings(data))
    n_i = table.sum(axis=1)
    table = table[n_i >= 2]
    n_i = n_i[n_i >= 2]
    if not n_i.size:
        raise ValueError("no unit has two or more ratings")
    p_j = table.sum(axis=0) / n_i.sum()
    if (p_j > 0).sum() < 2:
        raise ValueError("kappa needs ratings in at least two categories; all ratings fall in one")
    p_i = ((table * (table - 1)).sum(axis=1)) / (n_i * (n_i - 1))
    p_bar, p_e = float(p_i.mean()), float(p_j @ p_j)
    return FleissKappaResult((p_bar - p_e) / (1 - p_e), p_bar, p_e, int(n_i.size), int(table.shape[1]),
                             bool((n_i == n_i[0]).all()))


@dataclass(frozen=True)
class CohenKappaResult:
    """Cohen's (weighted) kappa for two raters.

    Attributes
    ----------
    value : float
    se : float
        Large-sample (non-null) standard error of Fleiss, Cohen & Everitt (1969), as SAS PROC FREQ's ASE.
    low, high : float
        Normal-approximation confidence interval ``value ± z · se``.
    confidence_level : float
    observed_agreement, chance_agreement : float
        Weighted observed and chance agreement.
    weights : str or None
    categories : tuple
        The ordered category set used.
    n : int
    """

    value: float
    se: float
    low: float
    high: float
    confidence_level: float
    observed_agreement: float
    chance_agreement: float
    weights: str | None
    categories: tuple[Any, ...]
    n: int


def _codes(x: NDArray[Any], cats: Sequence[Any], name: str) -> IntArray:
    index = {c: i for i, c in enumerate(cats)}
    out = np.empty(x.shape[0], dtype=np.int64)
    for pos, v in enumerate(x.tolist()):
        code = index.get(v)
        if code is None:
            raise ValueError(f"{name}[{pos}] = {v!r} is not among the categories {list(cats)!r}")
        out[pos] = code
    return out


def cohen_kappa(a: ArrayLike, b: ArrayLike, *, weights: Literal["linear", "quadratic"] | None = None,
                categories: Sequence[Any] | None = None, confidence_level: float = 0.95) -> CohenKappaResult:
    """Cohen's kappa (Cohen 1960) and weighted kappa (Cohen 1968) for two raters.

    :math:`\\kappa_w = 1 - \\sum w_{ij} p_{ij} / \\sum w_{ij} p_{i\\cdot} p_{\\cdot j}` with disagreement
    weights :math:`w_{ij}` = 0/1 (unweighted), :math:`|i - j|/(K - 1)` (linear, Cicchetti & Allison 1971)
    or :math:`((i - j)/(K - 1))^2` (quadratic, Fleiss & Cohen 1973). Standard error: Fleiss, Cohen &
    Everitt (1969), eq. 13.

    Parameters
    ----------
    a, b : array_like
        Paired ratings (category labels) of the same items by two raters; no missing values.
    weights : {None, "linear", "quadratic"}
    categories : sequence, optional
        The full ordered category set (e.g. ``["不合格", "合格", "良好", "优秀"]``). Weighted kappa
        depends on it; the default is the sorted set of observed labels.
    confidence_level : float, optional

    Returns
    -------
    CohenKappaResult

    Examples
    --------
    >>> from scoring.reliability import cohen_kappa
    >>> a = ["yes"] * 25 + ["no"] * 25
    >>> b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(cohen_kappa(a, b).value, 6)
    0.4
    >>> round(cohen_kappa([1, 2, 3, 4], [1, 2, 4, 4], weights="quadratic", categories=[1, 2, 3, 4]).value, 6)
    0.916667
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"unknown weights {weights!r}; expected None, 'linear' or 'quadratic'")
    cl = check_confidence(confidence_level)
    xa, xb = np.asarray(a), np.asarray(b)
    if xa.ndim != 1 or xb.ndim != 1 or xa.shape != xb.shape:
        raise ValueError(f"a and b must be 1-D and of equal length, got shapes {xa.shape} and {xb.shape}")
    if not xa.size:
        raise ValueError("a and b are empty")
    for name, x in (("a", xa), ("b", xb)):
        if x.dtype.kind == "f" and np.isnan(x).any():
            raise ValueError(f"{name}[{int(np.flatnonzero(np.isnan(x))[0])}] is missing (NaN); "
                             "cohen_kappa needs complete pairs")
    if categories is None:
        try:
            cats: list[Any] = sorted(set(xa.tolist()) | set(xb.tolist()))
        except TypeError as exc:
            raise ValueError(f"labels are not sortable; pass categories explicitly: {exc}") from exc
    else:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ValueError("categories must not repeat")
    if len(cats) < 2:
        raise ValueError(f"kappa needs at least two categories, got {cats!r}")
    k = len(cats)
    table = np.zeros((k, k))
    np.add.at(table, (_codes(xa, cats, "a"), _codes(xb, cats, "b")), 1.0)
    i, j = np.indices((k, k))
    if weights is None:
        dis = (i != j).astype(np.float64)
    elif weights == "linear":
        dis = np.abs(i - j) / (k - 1)
    else:
        dis = ((i - j) / (k - 1)) ** 2
    n = table.sum()
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    agree = 1.0 - dis
    p_o = float((agree * p).sum())
    p_e = float(row @ agree @ col)
    if p_e >= 1.0:
        raise ValueError("kappa is undefined: both raters used a single category")
    kappa = (p_o - p_e) / (1.0 - p_e)
    wi, wj = agree @ col, row @ agree
    var = float((p * (agree - (wi[:, None] + wj[None, :]) * (1 - kappa)) ** 2).sum()
                - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    z = float(special.ndtri((1 + cl) / 2))
    return CohenKappaResult(float(kappa), se, kappa - z * se, kappa + z * se, cl, p_o, p_e, weights,
                            tuple(cats), int(n))


# --------------------------------------------------------------------------- Kendall's W


@dataclass(frozen=True)
class KendallWResult:
    """Kendall's coefficient of concordance.

    Attributes
    ----------
    value : float
        W in [0, 1].
    statistic, df, pvalue : float
        Friedman chi-square :math:`m (n - 1) W` on n - 1 degrees of freedom.
    n_units, n_raters : int
    ties_corrected : bool
    """

    value: float
    statistic: float
    df: float
    pvalue: float
    n_units: int
    n_raters: int
    ties_corrected: bool


def kendall_w(data: Ratings | ArrayLike, *, ties: bool = True) -> KendallWResult:
    """Kendall's W, the agreement of m raters ranking n units (Kendall & Babington Smith 1939).

    :math:`W = 12 S / (m^2 (n^3 - n) - m \\sum_j T_j)` with S the sum of squared deviations of the
    units' rank sums from their mean and :math:`T_j = \\sum (t^3 - t)` over the groups of ties of rater j
    (Kendall 1948, eq. 6.6; omitted with ``ties=False``). Each rater's scores are ranked across units
    (mid-ranks for ties). Needs a complete design.

    Parameters
    ----------
    data : Ratings or array_like, shape (n_units, n_raters)
    ties : bool, optional

    Returns
    -------
    KendallWResult

    Examples
    --------
    >>> from scoring.reliability import kendall_w
    >>> round(kendall_w([[1, 1, 2], [6, 5, 3], [3, 6, 6], [2, 2, 5], [5, 4, 4], [4, 3, 1]]).value, 6)
    0.568254
    """
    r = as_ratings(data)
    m_per_unit = np.bincount(r.unit, minlength=r.n_units)
    if (m_per_unit != r.n_raters).any():
        bad = int(np.flatnonzero(m_per_unit != r.n_raters)[0])
        raise ValueError(f"Kendall's W needs a complete design; unit {label_repr(r.unit_labels[bad])} has "
                         f"{int(m_per_unit[bad])} of {r.n_raters} ratings")
    n, m = r.n_units, r.n_raters
    if n < 2 or m < 2:
        raise ValueError(f"Kendall's W needs at least two units and two raters, got {n} and {m}")
    x = np.empty((n, m))
    x[r.unit, r.rater] = r.value  # complete design: this matrix has exactly len(r) cells
    ranks = stats.rankdata(x, axis=0)
    rsum = ranks.sum(axis=1)
    s = float(((rsum - rsum.mean()) ** 2).sum())
    t = 0.0
    if ties:
        for j in range(m):
            _, cnt = np.unique(x[:, j], return_counts=True)
            t += float((cnt**3 - cnt).sum())
    denom = m**2 * (n**3 - n) - m * t
    if denom <= 0:
        raise ValueError("Kendall's W is undefined: every rater gave all units the same score")
    w = 12.0 * s / denom
    chi2 = m * (n - 1) * w
    return KendallWResult(float(w), float(chi2), float(n - 1), float(stats.chi2.sf(chi2, n - 1)), n, m, ties)
