"""Design-based estimates from a sample drawn with known, unequal inclusion probabilities.

A risk-weighted sample over-samples some cases on purpose, so its plain mean is not an estimate of the
population's mean. Weighting each case by the inverse of its inclusion probability ``π`` removes that bias:
the Horvitz–Thompson estimator of a total (Horvitz & Thompson 1952, JASA 47:663-685) and the Hájek ratio
estimator of a mean (Hájek 1971; Särndal, Swensson & Wretman 1992, *Model Assisted Survey Sampling*,
§5.7).

Standard errors follow the with-replacement approximation of Särndal et al. (eq. 2.9.9) within strata, as the
R ``survey`` package computes them for ``svydesign(ids = ~1, strata = ~stratum, probs = ~pi)`` without a
finite-population correction (Lumley 2010, *Complex Surveys*, §2.3): with ``z_i`` the case's contribution
(``y_i / π_i`` for a total; the linearised ``(y_i − ȳ) / (π_i N̂)`` for a mean),

    V = Σ_h n_h / (n_h − 1) Σ_{i ∈ h} (z_i − z̄_h)²

Cases taken with certainty (``π = 1``) add no sampling variance (as though each formed a stratum of its own
with ``survey.lonely.psu = "certainty"``); a stratum left with one random case is centred at the mean of all
random cases instead of its own (``survey.lonely.psu = "adjust"``, conservative). Intervals are normal.

>>> est = hajek_mean([80, 60, 90], [0.5, 0.25, 0.5])
>>> round(est.estimate, 4), round(est.se, 4), round(est.population, 1)
(72.5, 9.6218, 8.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._validation import check_confidence, finite_1d

__all__ = ["WeightedEstimate", "hajek_mean", "horvitz_thompson_total"]


@dataclass(frozen=True)
class WeightedEstimate:
    """A design-based estimate.

    Attributes
    ----------
    estimate : float
        The weighted estimate (a total or a mean).
    se : float
        Its standard error (NaN when fewer than two cases are drawn at random).
    low, high : float
        The normal confidence interval at ``level``.
    level : float
        Confidence level.
    n : int
        Cases in the sample.
    population : float
        ``Σ 1/π``, the Horvitz–Thompson estimate of the population's size.
    unweighted : float
        The plain sample mean, for comparison (not an estimate of the population's mean).
    """

    estimate: float
    se: float
    low: float
    high: float
    level: float
    n: int
    population: float
    unweighted: float


def _inputs(values: ArrayLike, probabilities: ArrayLike, strata: Sequence[object] | None
            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    y = finite_1d(values, "values")
    p = finite_1d(probabilities, "probabilities")
    if y.shape != p.shape:
        raise ValueError(f"values and probabilities differ in length ({len(y)} and {len(p)})")
    if not len(y):
        raise ValueError("values is empty: nothing to estimate")
    bad = np.flatnonzero((p <= 0) | (p > 1))
    if bad.size:
        raise ValueError(f"probabilities must lie in (0, 1]: index {int(bad[0])} holds {p[bad[0]]!r}")
    if strata is None:
        codes = np.zeros(len(y), dtype=np.int64)
    else:
        if len(strata) != len(y):
            raise ValueError(f"strata and values differ in length ({len(strata)} and {len(y)})")
        codes = np.unique(np.asarray([str(s) for s in strata]), return_inverse=True)[1].astype(np.int64)
    return y, p, codes


def _variance(z: NDArray[np.float64], p: NDArray[np.float64], codes: NDArray[np.int64]) -> float:
    random = p < 1.0
    z, codes = z[random], codes[random]
    if len(z) < 2:
        return float("nan")
    grand = z.mean()
    total = 0.0
    for h in np.unique(codes):
        zh = z[codes == h]
        if len(zh) == 1:
            total += float((zh[0] - grand) ** 2)
        else:
            total += len(zh) / (len(zh) - 1) * float(((zh - zh.mean()) ** 2).sum())
    return total


def _result(estimate: float, variance: float, level: float, y: NDArray[np.float64],
            w: NDArray[np.float64]) -> WeightedEstimate:
    se = float(np.sqrt(variance)) if np.isfinite(variance) else float("nan")
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    return WeightedEstimate(estimate, se, estimate - half, estimate + half, level, len(y), float(w.sum()),
                            float(y.mean()))


def horvitz_thompson_total(values: ArrayLike, probabilities: ArrayLike, *, strata: Sequence[object] | None = None,
                           level: float = 0.95) -> WeightedEstimate:
    """Horvitz–Thompson estimate of a population total, ``Σ y_i / π_i``, with its standard error.

    Parameters
    ----------
    values : array_like
        The sampled cases' values.
    probabilities : array_like
        Their inclusion probabilities, in (0, 1].
    strata : sequence, optional
        Each case's stratum of the design (``None``: one stratum).
    level : float
        Confidence level of the interval.

    Returns
    -------
    WeightedEstimate

    Examples
    --------
    >>> est = horvitz_thompson_total([80, 60, 90], [0.5, 0.25, 0.5])
    >>> est.estimate, round(est.se, 3)
    (580.0, 72.111)
    """
    level = check_confidence(level)
    y, p, codes = _inputs(values, probabilities, strata)
    w = 1.0 / p
    return _result(float((w * y).sum()), _variance(w * y, p, codes), level, y, w)


def hajek_mean(values: ArrayLike, probabilities: ArrayLike, *, strata: Sequence[object] | None = None,
               level: float = 0.95) -> WeightedEstimate:
    """Hájek estimate of a population mean, ``Σ (y_i / π_i) / Σ (1 / π_i)``, with its linearised standard error.

    A share (e.g. of cases graded good or better) is the mean of a 0/1 value.

    Parameters
    ----------
    values : array_like
        The sampled cases' values.
    probabilities : array_like
        Their inclusion probabilities, in (0, 1].
    strata : sequence, optional
        Each case's stratum of the design (``None``: one stratum).
    level : float
        Confidence level of the interval.

    Returns
    -------
    WeightedEstimate

    Examples
    --------
    >>> est = hajek_mean([1, 0, 1, 1], [0.5, 0.25, 0.5, 1.0])
    >>> round(est.estimate, 4), est.unweighted
    (0.5556, 0.75)
    """
    level = check_confidence(level)
    y, p, codes = _inputs(values, probabilities, strata)
    w = 1.0 / p
    population = float(w.sum())
    mean = float((w * y).sum() / population)
    z = w * (y - mean) / population
    return _result(mean, _variance(z, p, codes), level, y, w)
