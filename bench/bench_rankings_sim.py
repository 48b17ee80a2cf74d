"""Simulation study: which lawyers reach the "top" list under raw means, today's empirical Bayes and the
new method (issue 17)? Prints figures and the machine; nothing is asserted.

Run: .venv/bin/python bench/bench_rankings_sim.py [--lawyers 1500] [--reps 20] [--seed 17]

A province with known lawyer quality θ ~ N(80, τ²) (τ = 4 points, and a harder τ = 2), 1–3 reviewed
cases per lawyer per year over 1, 2 or 3 years. A case's score is θ + case-type effect (four types,
-3..+2) + campaign effect (rubric version, -2..+1) + the bias of its reviewer (200 reviewers, bias SD 3)
+ noise (SD 7), rounded to 0.1 and clipped to 0–100. The true top 10 % are the lawyers with the highest θ.

Methods (each builds its "top" list from the published cases of all the years):
- raw: the 10 % of lawyers with the highest raw mean;
- EB (today): DerSimonian–Laird τ², plug-in shrinkage (``empirical_bayes(method="DL", integrate=False)``),
  the 10 % with the highest lower interval bound — what the report's top list did before issue 17;
- new: the platform's pooled record (``evalplat.rankings.engine``: scores adjusted for case type and
  campaign, τ² integrated out, ``rank_groups``), the list = lawyers whose 95 % interval lies clearly
  above the provincial mean, optionally with a minimum-evidence rule (at least m cases).

Per method: size of the list (mean over provinces), share of the true top 10 % it contains (recall),
share of the list truly in the top 10 % (precision; over provinces where the list is not empty), share
of the list truly above the mean quality, and how often a lawyer with a single reviewed case lands in
the list (one-case lawyers in the list / all one-case lawyers).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from bench_env import machine  # noqa: E402

from evalplat.rankings.engine import adjusted_scores, rank_groups  # noqa: E402
from scoring.ranking import ABOVE, empirical_bayes  # noqa: E402

CASE_TYPES = np.array(["criminal", "civil", "administrative", "non_litigation"])
TYPE_EFFECT = np.array([0.0, -3.0, 2.0, -1.0])
YEAR_EFFECT = np.array([0.0, -2.0, 1.0])


@dataclass
class Province:
    theta: np.ndarray
    lawyer: np.ndarray
    total: np.ndarray
    case_type: np.ndarray
    year: np.ndarray


def simulate(rng: np.random.Generator, lawyers: int, years: int, tau: float) -> Province:
    theta = rng.normal(80.0, tau, lawyers)
    bias = rng.normal(0.0, 3.0, 200)
    parts = []
    for y in range(years):
        n = rng.integers(1, 4, lawyers)  # 1-3 reviewed cases per lawyer this year
        who = np.repeat(np.arange(lawyers), n)
        ctype = rng.integers(0, CASE_TYPES.size, who.size)
        reviewer = rng.integers(0, bias.size, who.size)
        score = theta[who] + TYPE_EFFECT[ctype] + YEAR_EFFECT[y] + bias[reviewer] + rng.normal(0, 7.0, who.size)
        parts.append((who, np.clip(np.round(score, 1), 0, 100), CASE_TYPES[ctype], np.full(who.size, 2022 + y)))
    who, total, ctype, year = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Province(theta, who, total, ctype, year)


def top_share(values: np.ndarray, share: float = 0.10) -> np.ndarray:
    """Boolean mask of the ``share`` with the highest values (ties broken by position)."""
    k = max(1, int(round(share * values.size)))
    mask = np.zeros(values.size, bool)
    mask[np.argsort(-values, kind="stable")[:k]] = True
    return mask


def lists(p: Province, min_cases: tuple[int, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per-lawyer case counts and each method's top list (boolean per lawyer)."""
    lawyers = p.theta.size
    n = np.bincount(p.lawyer, minlength=lawyers)
    raw = np.bincount(p.lawyer, weights=p.total, minlength=lawyers) / n
    out = {"raw means (top 10 %)": top_share(raw)}
    eb = empirical_bayes(p.lawyer, p.total, method="DL", integrate=False)
    out["EB today (DL plug-in, top 10 % by lower bound)"] = top_share(eb.low)
    scores = adjusted_scores(p.total, p.case_type, p.year)
    ranking = rank_groups(p.lawyer, p.total, p.total >= 80, np.zeros(p.total.size, bool), rank_by="lower",
                          scores=scores, years=p.year)
    tier = np.zeros(lawyers, np.int64)
    estimate = np.zeros(lawyers)
    for row in ranking.rows:
        tier[row.key] = row.tier
        estimate[row.key] = row.estimate
    out["new, top 10 % by posterior mean"] = top_share(estimate)
    for m in min_cases:
        label = "new, clearly above the mean" + ("" if m <= 1 else f", at least {m} cases")
        out[label] = (tier == ABOVE) & (n >= m)
    return n, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lawyers", type=int, default=1500)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    print(machine())
    print(f"{args.lawyers} lawyers, {args.reps} provinces per scenario, seed {args.seed}; reviewer bias SD 3, "
          f"case noise SD 7, case-type and campaign effects")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for tau in (4.0, 2.0):
        for years in (1, 2, 3):
            acc: dict[str, list[float]] = {}
            for _ in range(args.reps):
                p = simulate(rng, args.lawyers, years, tau)
                truth = top_share(p.theta)
                above = p.theta > 80.0
                n, found = lists(p, (1, 2, 3, 4, 6))
                one = n == 1
                for label, chosen in found.items():
                    size = int(chosen.sum())
                    stats = acc.setdefault(label, [0.0] * 7)
                    stats[0] += size
                    stats[1] += (chosen & truth).sum() / truth.sum()
                    stats[2] += (chosen & truth).sum() / size if size else 0.0
                    stats[3] += 1.0 if size else 0.0
                    stats[4] += (chosen & one).sum()
                    stats[5] += one.sum()
                    stats[6] += (chosen & above).sum() / size if size else 0.0
            print(f"\nτ = {tau:g} points, {years} year(s) of 1-3 reviewed cases per lawyer")
            print(f"  {'method':52s} {'list':>6s} {'recall':>7s} {'precision':>9s} {'above mean':>10s} "
                  f"{'1-case in list':>15s}")
            for label, (size, recall, precision, nonempty, one_in, ones, truly_above) in acc.items():
                prec = precision / nonempty if nonempty else float("nan")
                share_one = one_in / ones if ones else 0.0
                above_share = truly_above / nonempty if nonempty else float("nan")
                print(f"  {label:52s} {size / args.reps:6.1f} {recall / args.reps:7.1%} {prec:9.1%} "
                      f"{above_share:10.1%} {share_one:15.2%}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
