"""Benchmark of scoring/ at national scale; prints figures and the machine (nothing is asserted).

Run: .venv/bin/python bench/bench_scoring.py [--skip-krippendorff]

1. 70,000 cases x 5,000 reviewers x 3 ratings (210,000): Krippendorff's alpha at every level, ICC1,
   rater-effects calibration (with raw vs corrected correlation to the simulated truth), ranking of
   50,000 lawyers (empirical Bayes, Wilson, rank intervals: analytic and simulated); peak traced memory of each step.
2. The krippendorff package beside ours on 20,000 x 2,000 x 3 with integer scores 0-100.
3. Calibration on lme4's InstEval ratings (../shared/vectors) against the published variance components.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from scoring import Ratings
from scoring.calibration import fit_rater_effects
from scoring.ranking import empirical_bayes, rank_intervals, wilson_interval
from scoring.reliability import icc, krippendorff_alpha

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "scoring" / "vectors"  # copied from ../shared/vectors


def timed(label: str, fn: Callable[[], Any], repeat: int = 3) -> Any:
    """Best wall time of ``repeat`` runs, then one traced run for peak memory."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<44} {best * 1000:9.1f} ms   peak {peak / 2**20:7.1f} MiB")
    return out


def design(g: np.random.Generator, n_units: int, n_raters: int, per_unit: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit gets ``per_unit`` distinct raters (vectorised rejection of repeated raters)."""
    raters = g.integers(0, n_raters, size=(n_units, per_unit))
    while True:
        s = np.sort(raters, axis=1)
        bad = (s[:, 1:] == s[:, :-1]).any(axis=1)
        if not bad.any():
            break
        raters[bad] = g.integers(0, n_raters, size=(int(bad.sum()), per_unit))
    return np.repeat(np.arange(n_units), per_unit), raters.ravel()


def national(g: np.random.Generator) -> None:
    n_units, n_raters, per = 70_000, 5_000, 3
    print(f"\n== national scale: {n_units:,} cases x {n_raters:,} reviewers x {per} ratings")
    units, raters = design(g, n_units, n_raters, per)
    quality = g.normal(78, 8, n_units)
    bias = g.normal(0, 3, n_raters)
    y = quality[units] + bias[raters] + g.normal(0, 4, units.size)
    y = np.clip(np.round(y * 2) / 2, 0, 100)  # half-point totals on a 100-point form
    r = Ratings.from_long(units, raters, y)
    print(f"  {len(r):,} ratings, {np.unique(y).size} distinct values")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        a = timed(f"krippendorff_alpha level={level}", lambda lv=level: krippendorff_alpha(r, level=lv))
        print(f"    alpha = {a:.6f}")
    res = timed("icc ICC1 (with CI and F test)", lambda: icc(r, form="ICC1"))
    print(f"    ICC1 = {res.value:.6f} [{res.low:.4f}, {res.high:.4f}], n0 = {res.k:.3f}")
    fit = timed("fit_rater_effects (CG, first-order SEs)", lambda: fit_rater_effects(r), repeat=1)
    raw_r = np.corrcoef(fit.unit_raw_mean, quality)[0, 1]
    cal_r = np.corrcoef(fit.unit_score, quality)[0, 1]
    print(f"    corr(raw mean, truth) = {raw_r:.4f}; corr(corrected, truth) = {cal_r:.4f}; "
          f"corr(bias, truth) = {np.corrcoef(fit.rater_bias, bias)[0, 1]:.4f}; groups = {fit.n_groups}")

    n_lawyers = 50_000
    print(f"\n== ranking {n_lawyers:,} lawyers (1-40 reviewed cases each)")
    n_cases = np.minimum(g.geometric(0.15, n_lawyers), 40)
    lawyer = np.repeat(np.arange(n_lawyers), n_cases)
    talent = g.normal(80, 4, n_lawyers)
    score = talent[lawyer] + g.normal(0, 7, lawyer.size)
    good = np.bincount(lawyer, weights=score >= 80).astype(int)

    def rank_all() -> Any:
        eb = empirical_bayes(lawyer, score)
        w = wilson_interval(good, eb.n)
        ri = rank_intervals(eb.estimate, eb.se, rng=1)
        return eb, w, ri

    eb, _, ri = timed("empirical_bayes + wilson + rank_intervals", rank_all)
    print(f"    {lawyer.size:,} case scores; tau^2 = {eb.between_variance:.3f}, sigma^2 = {eb.within_variance:.3f}; "
          f"median rank-interval width {np.median(ri.high - ri.low):.0f}")
    timed("empirical_bayes alone", lambda: empirical_bayes(lawyer, score))
    analytic = timed("rank_intervals analytic (default)", lambda: rank_intervals(eb.estimate, eb.se))
    t = time.process_time()
    rank_intervals(eb.estimate, eb.se)
    print(f"    analytic CPU time {time.process_time() - t:.3f} s")
    sim = timed("rank_intervals simulation, 1000 draws", lambda: rank_intervals(
        eb.estimate, eb.se, method="simulation", rng=1), repeat=1)
    timed("rank_intervals simulation, 200 draws", lambda: rank_intervals(
        eb.estimate, eb.se, method="simulation", n_draws=200, rng=1), repeat=1)
    timed("rank_intervals simulation, 1000 draws, 1 thread", lambda: rank_intervals(
        eb.estimate, eb.se, method="simulation", rng=1, workers=1), repeat=1)
    for side in ("low", "high"):
        d = np.abs(getattr(analytic, side) - getattr(sim, side))
        width = np.maximum(sim.high - sim.low, 1)
        print(f"    analytic vs simulation ({side} bound): median |difference| {np.median(d):.0f} ranks, "
              f"90th percentile {np.percentile(d, 90):.0f}; median relative to the interval width "
              f"{np.median(d / width):.2%}")


def versus_krippendorff(g: np.random.Generator) -> None:
    n_units, n_raters, per = 20_000, 2_000, 3
    print(f"\n== krippendorff package vs ours: {n_units:,} x {n_raters:,} x {per}, integer scores 0-100")
    try:
        import krippendorff  # test-only dependency
    except ImportError:
        print("  krippendorff not installed; skipped")
        return
    units, raters = design(g, n_units, n_raters, per)
    y = np.clip(np.round(g.normal(70, 15, n_units)[units] + g.normal(0, 8, units.size)), 0, 100)
    r = Ratings.from_long(units, raters, y)
    t = time.perf_counter()
    ours = krippendorff_alpha(r, level="interval")
    t_ours = time.perf_counter() - t
    dense = r.to_matrix().T  # the package wants raters x units, dense
    t = time.perf_counter()
    theirs = krippendorff.alpha(reliability_data=dense, level_of_measurement="interval")
    t_theirs = time.perf_counter() - t
    print(f"  ours        alpha = {ours:.12f}  {t_ours * 1000:8.1f} ms")
    print(f"  krippendorff alpha = {theirs:.12f}  {t_theirs * 1000:8.1f} ms")
    print(f"  |difference| = {abs(ours - theirs):.2e}; speed ratio = {t_theirs / t_ours:,.0f}x")


def insteval() -> None:
    path = VECTORS / "insteval_long.csv"
    print("\n== InstEval (lme4): students rate lecturers; calibration vs lme4 ML fit")
    if not path.is_file():
        print(f"  {path} not found; skipped")
        return
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    arr = np.array(rows, dtype=float)
    r = Ratings.from_long(arr[:, 1].astype(int), arr[:, 0].astype(int), arr[:, 2])
    print(f"  {len(r):,} ratings, {r.n_units:,} lecturers (units), {r.n_raters:,} students (raters)")
    fit = timed("fit_rater_effects", lambda: fit_rater_effects(r), repeat=1)
    print(f"    groups = {fit.n_groups}, SEs {fit.se_method}")
    print("    component            ours (fixed effects + moments)   lme4 ML (quoted)")
    print(f"    student (rater)      {fit.bias_variance:10.4f}                       0.1062")
    print(f"    lecturer (unit)      {fit.unit_variance:10.4f}                       0.2735")
    print(f"    residual             {fit.residual_variance:10.4f}                       1.3872")
    a = krippendorff_alpha(r, level="interval")
    print(f"    alpha interval on lecturer units = {a:.6f} (README: 0.159769)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-krippendorff", action="store_true", help="skip the slow package comparison")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}; {platform.processor() or platform.machine()}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}; numpy {np.__version__}; "
          f"scipy {scipy.__version__}")
    g = np.random.default_rng(20240601)
    national(g)
    insteval()
    if not args.skip_krippendorff:
        versus_krippendorff(g)
    print(f"\nprocess peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(includes the krippendorff package's dense matrix when run)")


if __name__ == "__main__":
    main()
