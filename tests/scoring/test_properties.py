"""Property tests (hypothesis): invariances that every correct implementation has."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scoring import Ratings
from scoring.consensus import combine, detect_disagreement
from scoring.ranking import wilson_interval
from scoring.reliability import icc, krippendorff_alpha

LEVELS = ["nominal", "ordinal", "interval", "ratio"]
cells = st.one_of(st.just(np.nan), st.integers(0, 6).map(float))


@st.composite
def sparse_matrices(draw, min_units=3, max_units=12, min_raters=2, max_raters=6):
    n = draw(st.integers(min_units, max_units))
    k = draw(st.integers(min_raters, max_raters))
    x = draw(arrays(np.float64, (n, k), elements=cells))
    x[:, 0] = np.where(np.isnan(x[:, 0]), 1.0, x[:, 0])  # no empty rater columns
    x[0, :] = np.arange(k, dtype=float)  # ensure variation and one full unit
    return x


settings.register_profile("scoring", max_examples=60, deadline=None)
settings.load_profile("scoring")


@given(x=sparse_matrices(), level=st.sampled_from(LEVELS), seed=st.integers(0, 2**32 - 1))
def test_alpha_is_invariant_to_permuting_units_and_raters(x, level, seed):
    g = np.random.default_rng(seed)
    y = x[g.permutation(x.shape[0])][:, g.permutation(x.shape[1])]
    assert krippendorff_alpha(y, level=level) == pytest.approx(krippendorff_alpha(x, level=level), abs=1e-12)


@given(values=arrays(np.float64, st.integers(2, 15), elements=st.integers(0, 100).map(float)),
       raters=st.integers(2, 5), level=st.sampled_from(LEVELS))
def test_perfect_agreement_gives_alpha_one(values, raters, level):
    if np.unique(values).size < 2:
        values[0] = values[0] + 1.0
    x = np.repeat(values[:, None], raters, axis=1)
    assert krippendorff_alpha(x, level=level) == pytest.approx(1.0, abs=1e-12)


@given(x=sparse_matrices(), seed=st.integers(0, 2**32 - 1))
def test_long_and_wide_inputs_give_the_same_alpha_and_icc1(x, seed):
    r = Ratings.from_matrix(x)
    order = np.random.default_rng(seed).permutation(len(r))
    shuffled = Ratings.from_long(r.unit[order], r.rater[order], r.value[order])
    assert np.array_equal(shuffled.to_matrix(), x, equal_nan=True)
    assert krippendorff_alpha(shuffled) == pytest.approx(krippendorff_alpha(x), abs=1e-12)
    assert icc(shuffled).value == pytest.approx(icc(x).value, abs=1e-12)


@given(x=arrays(np.float64, st.tuples(st.integers(3, 10), st.integers(2, 5)),
                elements=st.floats(0, 100, allow_nan=False)),
       shift=st.floats(-50, 50), col=st.integers(0, 4))
def test_icc3_is_unchanged_by_a_constant_added_to_one_rater(x, shift, col):
    if np.ptp(x - x.mean(axis=1, keepdims=True)) < 1e-6 or np.ptp(x.mean(axis=1)) < 1e-6:
        x[0, 0] += 1.0
        x[1, 0] += 2.0
    y = x.copy()
    y[:, col % x.shape[1]] += shift
    a, b = icc(x, form="ICC3"), icc(y, form="ICC3")
    assert b.value == pytest.approx(a.value, abs=1e-7)
    assert icc(y, form="ICC3k").value == pytest.approx(icc(x, form="ICC3k").value, abs=1e-7)


@given(scores=st.lists(st.floats(0, 100), min_size=1, max_size=6), seed=st.integers(0, 1000),
       method=st.sampled_from(["mean", "median", "trimmed"]))
def test_consensus_and_disagreement_ignore_review_order(scores, seed, method):
    perm = np.random.default_rng(seed).permutation(len(scores))
    shuffled = [scores[i] for i in perm]
    assert combine(shuffled, method=method).value == pytest.approx(combine(scores, method=method).value)
    assert detect_disagreement(shuffled).codes == detect_disagreement(scores).codes
    c = combine(scores, method=method)
    assert min(scores) - 1e-9 <= c.value <= max(scores) + 1e-9


@given(n=st.integers(1, 500), data=st.data(), cl=st.floats(0.5, 0.999))
def test_wilson_interval_contains_the_proportion_and_stays_in_unit_interval(n, data, cl):
    k = data.draw(st.integers(0, n))
    w = wilson_interval([k], [n], confidence_level=cl)
    assert 0.0 <= w.low[0] <= w.proportion[0] <= w.high[0] <= 1.0
