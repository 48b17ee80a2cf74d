"""Agreement with krippendorff, pingouin, statsmodels and scikit-learn on random data (test-only deps)."""

from __future__ import annotations

import numpy as np
import pytest
from scoring_helpers import sparse_ratings, table_to_pairs

from scoring import Ratings
from scoring.reliability import cohen_kappa, fleiss_kappa, icc, krippendorff_alpha

krippendorff = pytest.importorskip("krippendorff")
pingouin = pytest.importorskip("pingouin")
sm_irr = pytest.importorskip("statsmodels.stats.inter_rater")
sk_metrics = pytest.importorskip("sklearn.metrics")
pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff_package_on_sparse_data(seed, level):
    g = np.random.default_rng(seed)
    u, r, v = sparse_ratings(g, 150, 25, (1, 2, 3, 4), values="int" if level != "ratio" or seed % 2 else "real")
    data = Ratings.from_long(u, r, v)
    ours = krippendorff_alpha(data, level=level)
    theirs = krippendorff.alpha(reliability_data=data.to_matrix().T, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-9)


def _complete(seed, n=30, k=4):
    g = np.random.default_rng(seed)
    truth = g.normal(size=(n, 1))
    return truth + g.normal(scale=0.7, size=(n, k)) + g.normal(scale=0.5, size=(1, k))


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # pingouin on pandas >= 3.1
@pytest.mark.parametrize("seed", range(3))
def test_icc_matches_pingouin_on_complete_designs(seed):
    x = _complete(seed)
    long = pd.DataFrame({"unit": np.repeat(np.arange(x.shape[0]), x.shape[1]),
                         "rater": np.tile(np.arange(x.shape[1]), x.shape[0]), "y": x.ravel()})
    ref = pingouin.intraclass_corr(long, targets="unit", raters="rater", ratings="y").set_index("Type")
    names = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)", "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)",
             "ICC3k": "ICC(C,k)"}
    for ours_name, theirs_name in names.items():
        res = icc(x, form=ours_name)
        row = ref.loc[theirs_name]
        assert res.value == pytest.approx(row["ICC"], abs=1e-9)
        assert res.f_statistic == pytest.approx(row["F"], abs=1e-9)
        assert res.pvalue == pytest.approx(row["pval"], abs=1e-9)
        assert (res.low, res.high) == pytest.approx(tuple(row["CI95"]), abs=5e-3)  # pingouin rounds to .01


@pytest.mark.parametrize("seed", range(3))
def test_unbalanced_one_way_mean_squares_match_statsmodels_anova(seed):
    g = np.random.default_rng(seed)
    u, r, v = sparse_ratings(g, 80, 30, (1, 2, 3, 5), values="real")
    smf = pytest.importorskip("statsmodels.formula.api")
    anova_lm = pytest.importorskip("statsmodels.stats.anova").anova_lm
    table = anova_lm(smf.ols("y ~ C(unit)", data=pd.DataFrame({"unit": u, "y": v})).fit())
    res = icc(Ratings.from_long(u, r, v), form="ICC1")
    assert res.ms_units == pytest.approx(table["mean_sq"].iloc[0], rel=1e-9)
    assert res.ms_within == pytest.approx(table["mean_sq"].iloc[1], rel=1e-9)
    assert res.f_statistic == pytest.approx(table["F"].iloc[0], rel=1e-9)
    assert res.pvalue == pytest.approx(table["PR(>F)"].iloc[0], abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_fleiss_kappa_matches_statsmodels(seed):
    g = np.random.default_rng(seed)
    x = g.integers(0, 4, size=(40, 5)) + (g.random((40, 1)) < 0.5)
    counts, _ = sm_irr.aggregate_raters(x)
    assert fleiss_kappa(x.astype(float)).value == pytest.approx(sm_irr.fleiss_kappa(counts), abs=1e-9)
    assert fleiss_kappa(counts, counts=True).value == pytest.approx(sm_irr.fleiss_kappa(counts), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn_and_statsmodels(seed, weights):
    g = np.random.default_rng(seed)
    a = g.integers(0, 5, 120)
    b = np.clip(a + g.integers(-1, 2, 120), 0, 4)
    res = cohen_kappa(a, b, weights=weights, categories=range(5))
    assert res.value == pytest.approx(sk_metrics.cohen_kappa_score(a, b, weights=weights, labels=range(5)),
                                      abs=1e-9)
    table = np.zeros((5, 5))
    np.add.at(table, (a, b), 1)
    sm = sm_irr.cohens_kappa(table, wt={None: None, "linear": "linear", "quadratic": "quadratic"}[weights])
    assert res.value == pytest.approx(sm.kappa, abs=1e-9)
    if weights is None:
        assert res.se == pytest.approx(sm.std_kappa, abs=1e-9)
    ai, bi = table_to_pairs(table)
    assert cohen_kappa(ai, bi, weights=weights, categories=range(5)).value == pytest.approx(res.value, abs=1e-12)
