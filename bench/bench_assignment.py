"""Time the assignment engine: provincial (1,500 x 150 x 2) and national (70,000 x 5,000 x 3) scale.

Prints time, peak memory, network size against the full eligibility graph, and the optimality gap
against the certified LP bound.  Run: ``.venv/bin/python bench/bench_assignment.py [--only small|large]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from evalplat.assignment import Case, Reviewer, Rules, solve

TYPES = ("criminal", "civil", "administrative", "non_litigation")
TYPE_P = (0.45, 0.42, 0.03, 0.10)


from bench_env import machine  # noqa: E402


def instance(n_cases: int, n_reviewers: int, per_case: int, regions: int, seed: int
             ) -> tuple[list[Case], list[Reviewer]]:
    rng = np.random.default_rng(seed)
    names = [f"region{i:03d}" for i in range(regions)]
    firms = max(10, n_reviewers // 3)
    evaluator = rng.random(n_reviewers) < 0.25
    demand = n_cases * per_case
    capacity = np.maximum(1, np.round(rng.uniform(0.8, 1.6, n_reviewers) * demand / n_reviewers * 1.15)).astype(int)
    reviewers = []
    for j in range(n_reviewers):
        kinds = rng.choice(4, size=rng.integers(1, 4), replace=False, p=TYPE_P)
        reviewers.append(Reviewer(
            f"r{j}", "evaluator" if evaluator[j] else "peer", names[rng.integers(regions)],
            firm=None if evaluator[j] else f"firm{rng.integers(firms)}",
            lawyer=None if evaluator[j] else f"lic{j}",
            case_types=frozenset(TYPES[k] for k in kinds), capacity=int(capacity[j])))
    case_type = rng.choice(4, size=n_cases, p=TYPE_P)
    region = rng.integers(regions, size=n_cases)
    firm = rng.integers(firms, size=n_cases)
    cases = [Case(f"c{i}", TYPES[case_type[i]], names[region[i]], firm=f"firm{firm[i]}",
                  conflicts=frozenset({f"r{rng.integers(n_reviewers)}"}) if i % 50 == 0 else frozenset())
             for i in range(n_cases)]
    return cases, reviewers


def violations(cases: list[Case], reviewers: list[Reviewer], rules: Rules, pairs: list[tuple[str, str]]) -> int:
    """Pairs and cases breaking a hard rule, checked independently of the engine (not timed)."""
    case_by = {c.id: c for c in cases}
    rev_by = {r.id: r for r in reviewers}
    bad = len(pairs) - len(set(pairs))
    count: dict[str, int] = {}
    evaluators: dict[str, int] = {}
    load: dict[str, int] = {}
    for case_id, rev_id in pairs:
        case, reviewer = case_by[case_id], rev_by[rev_id]
        count[case_id] = count.get(case_id, 0) + 1
        evaluators[case_id] = evaluators.get(case_id, 0) + (reviewer.kind == "evaluator")
        load[rev_id] = load.get(rev_id, 0) + 1
        bad += ((rules.regional_avoidance and case.region == reviewer.region) or reviewer.id in case.conflicts
                or (case.firm is not None and case.firm == reviewer.firm)
                or (case.lawyer is not None and case.lawyer == reviewer.lawyer))
    bad += sum(count.get(c.id, 0) != rules.per_case or evaluators.get(c.id, 0) < rules.min_evaluators
               for c in cases)
    return bad + sum(load.get(r.id, 0) > r.capacity for r in reviewers)


def run(label: str, n_cases: int, n_reviewers: int, per_case: int, regions: int, rules: Rules) -> None:
    cases, reviewers = instance(n_cases, n_reviewers, per_case, regions, seed=2024)
    t0, c0 = time.perf_counter(), time.process_time()
    solution = solve(cases, reviewers, rules)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loads = np.array(list(solution.loads.values()))
    caps = np.array([r.capacity for r in reviewers])
    ratio = loads / caps
    print(f"{label}: {elapsed:.2f} s ({cpu:.2f} s CPU), peak RSS {peak:.0f} MiB (process), {len(solution.pairs):,} pairs, "
          f"{solution.rounds} solve round(s) by {solution.method}; load average {os.getloadavg()[0]:.1f}")
    what = "group-reviewer" if solution.method == "groups" else "pair"
    print(f"    network {solution.candidate_arcs:,} {what} arcs; {solution.eligible_pairs:,} eligible pairs; "
          f"hard-rule violations (independent check): {violations(cases, reviewers, rules, solution.pairs)}")
    print(f"    objective {solution.objective:,.0f}, LP bound {solution.lower_bound:,.0f}, gap {solution.gap:.2e}; "
          f"type mismatches {solution.mismatches:,.0f}; load/capacity min {ratio.min():.2f} max {ratio.max():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=("small", "large"))
    args = parser.parse_args()
    print("machine:", machine())
    if args.only in (None, "small"):
        run("1,500 cases x 150 reviewers x 2", 1500, 150, 2, 21, Rules(per_case=2, seed=1))
        run("1,500 x 150 x 2, randomised q=0.5", 1500, 150, 2, 21,
            Rules(per_case=2, max_pair_probability=0.5, seed=1))
    if args.only in (None, "large"):
        run("70,000 cases x 5,000 reviewers x 3 (min 1 evaluator)", 70_000, 5_000, 3, 300,
            Rules(per_case=3, min_evaluators=1, seed=1))


if __name__ == "__main__":
    main()
