"""Bad input gets a ValueError that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import Ratings
from scoring.calibration import fit_rater_effects
from scoring.consensus import GradeBands, combine, detect_disagreement
from scoring.ranking import ExpertPoolRule, empirical_bayes, rank_intervals, wilson_interval
from scoring.reliability import (
    cohen_kappa,
    fleiss_kappa,
    icc,
    kendall_w,
    krippendorff_alpha,
    krippendorff_alpha_bootstrap,
)

SPARSE = np.array([[1.0, 2.0, np.nan], [2.0, np.nan, 3.0], [np.nan, 4.0, 4.0], [5.0, 5.0, 4.0]])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: krippendorff_alpha([[1, np.nan], [np.nan, 2]]), "no pairable units"),
    (lambda: krippendorff_alpha([[1, np.nan], [2, np.nan]]), "rater column 1 is all NaN"),
    (lambda: krippendorff_alpha([[1, 1], [1, 1]]), "no variation"),
    (lambda: krippendorff_alpha(SPARSE, level="metric"), "unknown level 'metric'"),
    (lambda: krippendorff_alpha([[1, np.inf], [2, 3]]), "row 0, column 1"),
    (lambda: krippendorff_alpha([[-1, 2], [3, 4]], level="ratio"), "non-negative"),
    (lambda: krippendorff_alpha([1, 2, 3]), "2-D"),
    (lambda: Ratings.from_long([1, 2], ["a", "b"], [1.0, float("nan")]), "row 1"),
    (lambda: Ratings.from_long([1, 1], ["a", "a"], [1.0, 2.0]), "rated unit 1 twice"),
    (lambda: Ratings.from_long([1, 2], ["a"], [1.0, 2.0]), "same length"),
    (lambda: Ratings.from_long([1], ["a"], ["good"]), "numeric"),
    (lambda: icc(SPARSE, form="ICC4"), "unknown form 'ICC4'"),
    (lambda: icc(SPARSE, form="ICC2"), "complete design"),
    (lambda: icc(SPARSE, confidence_level=1.5), "confidence_level"),
    (lambda: icc([[1.0, 2.0]]), "two rated units"),
    (lambda: fleiss_kappa([[1, 1], [1, 1]]), "at least two categories"),
    (lambda: fleiss_kappa([[1, -1]], counts=True), "row 0, column 1"),
    (lambda: cohen_kappa([1, 2], [1, 3], categories=[1, 2]), r"b\[1\] = 3"),
    (lambda: cohen_kappa([1, 1], [1, 1]), "at least two categories"),
    (lambda: cohen_kappa([1, 2], [1.0, np.nan]), r"b\[1\] is missing"),
    (lambda: cohen_kappa([1, 2], [1, 2], weights="cubic"), "unknown weights"),
    (lambda: kendall_w(SPARSE), "complete design"),
    (lambda: krippendorff_alpha_bootstrap(SPARSE, n_resamples=0), "n_resamples"),
    (lambda: krippendorff_alpha_bootstrap(SPARSE, rng="seed"), "rng"),
    (lambda: fit_rater_effects(SPARSE, ridge=-1), "ridge"),
    (lambda: combine([]), "scores is empty"),
    (lambda: combine([80, float("nan")]), "index 1"),
    (lambda: combine([80], method="mode"), "unknown method"),
    (lambda: detect_disagreement([80, 90], vetoes=[set()]), "one collection per review"),
    (lambda: detect_disagreement([80, 90], extreme_grades=("superb",)), "unknown extreme grade"),
    (lambda: GradeBands(cutoffs=(60, 80, 90)), "strictly decreasing"),
    (lambda: empirical_bayes(["a", "b"], [1.0, 2.0]), "pass within_variance"),
    (lambda: wilson_interval([3], [2]), "index 0"),
    (lambda: rank_intervals([1.0, 2.0], [1.0]), "same length"),
    (lambda: ExpertPoolRule(min_cases=-1), "min_cases"),
])
def test_bad_input_raises_a_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
