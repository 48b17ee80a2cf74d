"""Time a stratified draw over a 1.4 million case population (national scale, 2022).

Run: ``.venv/bin/python bench/bench_sampling.py [--size 1400000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np

from evalplat.sampling import PopulationRecord, SamplingPlan, draw

TYPES = ("criminal", "civil", "administrative", "non_litigation")


from bench_env import machine  # noqa: E402


def population(size: int, agencies: int = 3000) -> list[PopulationRecord]:
    rng = np.random.default_rng(2022)
    agency = rng.integers(0, agencies, size)
    kind = rng.choice(4, size, p=[0.45, 0.45, 0.03, 0.07])
    open_ = rng.random(size) < 0.05
    day = rng.integers(0, 365, size)
    start = dt.date(2022, 1, 1)
    dates = [start + dt.timedelta(days=int(d)) for d in range(365)]
    counters = np.zeros(agencies, dtype=np.int64)
    records = []
    for i in range(size):
        a = int(agency[i])
        counters[a] += 1
        number = int(counters[a])
        code = f"AG{a:04d}"
        records.append(PopulationRecord(f"case-{i}", (code, 2022, number), code, TYPES[kind[i]], number,
                                        None if open_[i] else dates[day[i]]))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_400_000)
    args = parser.parse_args()
    print("machine:", machine())
    t0 = time.perf_counter()
    records = population(args.size)
    print(f"built {len(records):,} records in {time.perf_counter() - t0:.1f} s (not part of the draw)")
    plans = {
        "fixed 1 per agency x type (folded)": SamplingPlan("fixed", per_stratum=1, fold_administrative=True,
                                                           take_all=True),
        "proportion 10 %, min 1, max 50": SamplingPlan("proportion", rate="0.1", minimum=1, maximum=50, take_all=True),
        "designated No. 11-12 per agency": SamplingPlan("designated", sequence_numbers=(11, 12), strata=("agency",)),
        "census": SamplingPlan("census"),
    }
    for name, plan in plans.items():
        t0 = time.perf_counter()
        result = draw(records, plan, "2022-public-seed")
        elapsed = time.perf_counter() - t0
        print(f"{name:40s} {elapsed:6.2f} s  strata {len(result.strata):6,}  sample {len(result.selected):9,}  "
              f"digest {result.population_digest[:16]}…")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
