"""Published worked examples (../shared/vectors/README.md) reproduced to the stated precision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scoring_helpers import read_csv, read_matrix, table_to_pairs

from scoring import Ratings
from scoring.calibration import fit_rater_effects
from scoring.ranking import james_stein
from scoring.reliability import cohen_kappa, fleiss_kappa, icc, kendall_w, krippendorff_alpha

KRIPP = {"nominal": 0.743421, "ordinal": 0.815388, "interval": 0.849107, "ratio": 0.797403}


def _long(path):
    _, rows = read_csv(path)
    return Ratings.from_long([r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows])


@pytest.mark.parametrize(("level", "expected"), KRIPP.items())
def test_krippendorff_2011_alpha_from_wide_and_long(vectors, level, expected):
    observers_by_units = read_matrix(vectors / "krippendorff_2011_observers_x_units.csv")
    assert krippendorff_alpha(observers_by_units.T, level=level) == pytest.approx(expected, abs=5e-7)
    assert krippendorff_alpha(_long(vectors / "krippendorff_2011_long.csv"), level=level) == pytest.approx(
        expected, abs=5e-7)


SF = {  # form: value, (low, high) from psych/DescTools
    "ICC1": (0.165742, (-0.133, 0.723)), "ICC2": (0.289764, (0.019, 0.761)),
    "ICC3": (0.714841, (0.342, 0.946)), "ICC1k": (0.442797, (-0.884, 0.912)),
    "ICC2k": (0.620051, (0.071, 0.927)), "ICC3k": (0.909316, (0.676, 0.986)),
}


@pytest.mark.parametrize("form", SF)
def test_shrout_fleiss_1979_icc_values_and_intervals(vectors, form):
    wide = read_matrix(vectors / "shrout_fleiss_1979_wide.csv")
    value, (low, high) = SF[form]
    for data in (wide, _long(vectors / "shrout_fleiss_1979_long.csv")):
        res = icc(data, form=form)
        assert res.value == pytest.approx(value, abs=5e-7)
        assert (res.low, res.high) == pytest.approx((low, high), abs=5e-4)


def test_shrout_fleiss_1979_mean_squares_and_f_test(vectors):
    res = icc(read_matrix(vectors / "shrout_fleiss_1979_wide.csv"), form="ICC3")
    assert (res.ms_units, res.ms_within, res.ms_raters, res.ms_error) == pytest.approx(
        (11.24, 6.26, 32.49, 1.02), abs=5e-3)
    assert (res.f_statistic, res.df1, res.df2) == pytest.approx((11.03, 5, 15), abs=5e-3)
    assert res.pvalue == pytest.approx(0.000135, abs=5e-7)


def test_fleiss_1971_diagnoses_kappa_from_ratings_and_counts(vectors):
    wide = read_matrix(vectors / "fleiss_1971_diagnoses_wide.csv")
    counts = read_matrix(vectors / "fleiss_1971_diagnoses_counts.csv")
    assert fleiss_kappa(wide).value == pytest.approx(0.4302445, abs=5e-8)
    assert fleiss_kappa(counts, counts=True).value == pytest.approx(0.4302445, abs=5e-8)


def test_fleiss_wikipedia_kappa_and_agreements(vectors):
    res = fleiss_kappa(read_matrix(vectors / "fleiss_wikipedia_counts.csv"), counts=True)
    assert (res.value, res.observed_agreement, res.chance_agreement) == pytest.approx(
        (0.209931, 0.378022, 0.212755), abs=5e-7)


def test_cohen_wikipedia_2x2(vectors):
    a, b = table_to_pairs(read_matrix(vectors / "cohen_wikipedia_2x2.csv"))
    assert cohen_kappa(a, b).value == pytest.approx(0.4, abs=1e-12)


def test_cohen_sas_3x3_kappa_ase_and_linear_weights(vectors):
    a, b = table_to_pairs(read_matrix(vectors / "cohen_sas_3x3.csv"))
    res = cohen_kappa(a, b, categories=[0, 1, 2])
    assert (res.value, res.se) == pytest.approx((0.4842, 0.1380), abs=5e-5)
    assert cohen_kappa(a, b, weights="linear", categories=[0, 1, 2]).value == pytest.approx(0.4701, abs=5e-5)


@pytest.mark.parametrize(("weights", "expected"), [("linear", 0.315668), ("quadratic", 0.413495)])
def test_cohen_rexrepos_6x6_weighted(vectors, weights, expected):
    a, b = table_to_pairs(read_matrix(vectors / "cohen_rexrepos_6x6_ordinal.csv"))
    assert cohen_kappa(a, b, weights=weights, categories=range(6)).value == pytest.approx(expected, abs=5e-7)


def test_kendall_rexrepos_w_chi2_p(vectors):
    res = kendall_w(read_matrix(vectors / "kendall_rexrepos_6x3.csv"))
    assert (res.value, res.statistic, res.df, res.pvalue) == pytest.approx((0.568254, 8.5238, 5, 0.1296), abs=5e-5)


def test_efron_morris_1975_james_stein(vectors):
    header, rows = read_csv(vectors / "efron_morris_1975.csv")
    col = {h: i for i, h in enumerate(header)}
    y = np.array([float(r[col["y"]]) for r in rows])
    p = np.array([float(r[col["p"]]) for r in rows])
    ybar = y.mean()
    js = james_stein(y, variance=ybar * (1 - ybar) / 45)
    assert js.grand_mean == pytest.approx(0.265, abs=5e-4)
    assert js.shrinkage == pytest.approx(0.212, abs=5e-4)
    assert js.estimate[0] == pytest.approx(0.294, abs=5e-4)  # Clemente
    # The README names the .242 estimate "Alvarado's"; in Efron & Morris's Table 1 it belongs to the
    # last batter, Max Alvis (7 hits, y = .156); Luis Alvarado (y = .267) barely moves.
    names = [r[col["name"]] for r in rows]
    assert js.estimate[names.index("Max Alvis")] == pytest.approx(0.242, abs=5e-4)
    assert ((js.estimate - p) ** 2).sum() < ((y - p) ** 2).sum()


def test_additive_toy_rater_effects(vectors):
    expected = json.loads((vectors / "additive_toy_expected.json").read_text(encoding="utf-8"))
    fit = fit_rater_effects(_long(vectors / "additive_toy_long.csv"))
    np.testing.assert_allclose(fit.unit_score, expected["target_score"], atol=1e-6)
    np.testing.assert_allclose(fit.rater_bias, expected["judge_bias"], atol=1e-6)
    np.testing.assert_allclose(fit.unit_raw_mean, expected["raw_target_mean"], atol=1e-12)
    assert fit.residual_ss == pytest.approx(expected["residual_SS"], abs=1e-6)
    assert fit.residual_df == expected["residual_df"]


def _insteval(vectors):
    _, rows = read_csv(vectors / "insteval_long.csv")
    arr = np.array(rows, dtype=float)
    return Ratings.from_long(arr[:, 1].astype(int), arr[:, 0].astype(int), arr[:, 2])


@pytest.mark.parametrize(("level", "expected"), [("interval", 0.159769), ("ordinal", 0.157879),
                                                  ("nominal", 0.040361)])
def test_insteval_alpha_on_lecturer_units(vectors, level, expected):
    assert krippendorff_alpha(_insteval(vectors), level=level) == pytest.approx(expected, abs=5e-7)


def test_copied_vectors_match_the_shared_ones(vectors):
    shared_vectors = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
    if not shared_vectors.is_dir():
        pytest.skip(f"no shared vectors beside this clone ({shared_vectors.resolve()}) to compare the copy with")
    shared = sorted(p.name for p in shared_vectors.iterdir() if p.suffix in {".csv", ".json"})
    assert shared == sorted(p.name for p in vectors.iterdir() if p.suffix in {".csv", ".json"})
    for name in shared:
        assert (vectors / name).read_bytes() == (shared_vectors / name).read_bytes(), name
