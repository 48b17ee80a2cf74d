"""Recall, precision and throughput of evalplat.anonymise.redact over a generated corpus.

Usage: .venv/bin/python bench/bench_anonymise.py [--cases 2000] [--seed 1] [--profile 25]

Prints per-category recall (share of planted occurrences fully covered) and precision (share of
spans that overlap a planted identifying string), whether legal terms survived, and MB/s of UTF-8
Chinese text per core (single process), with the machine. jieba's one-time dictionary load is
done before timing and reported separately. ``--profile N`` runs the redaction under cProfile and prints
its N most expensive functions (cumulative time) instead of timing it — where to look for hot spots.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import time
from collections import Counter

from evalplat.anonymise import CaseMapping, redact, warm_up
from evalplat.anonymise.evaluate import Tally, score
from evalplat.demo.textgen import generate_cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile the redaction and print the N most expensive functions")
    args = parser.parse_args()

    t0 = time.perf_counter()
    warm_up()
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    cases = list(generate_cases(args.cases, seed=args.seed))
    gen = time.perf_counter() - t0

    results = []
    size = 0
    profile = cProfile.Profile() if args.profile else None
    t0 = time.process_time()
    if profile:
        profile.enable()
    for case in cases:
        mapping = CaseMapping()
        for doc in case.documents:
            results.append((case, doc, redact(doc.text, case.known, mapping=mapping)))
            size += len(doc.text.encode("utf-8"))
    if profile:
        profile.disable()
    cpu = time.process_time() - t0
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
        print("(profiled: the throughput below includes cProfile's overhead)")

    tally = Tally()
    for case, doc, r in results:
        planted = [(p.text, p.category if p.category != "person" else
                    ("person (known)" if p.known else "person (unknown)")) for p in case.planted]
        score(doc.text, r.spans, planted, tally, case.legal_terms, r.text)

    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"corpus: {len(cases)} cases, {len(results)} documents, {size / 1e6:.2f} MB UTF-8 "
          f"(generated in {gen:.2f} s = {len(cases) / gen:,.0f} cases/s)")
    print(f"jieba load (once): {load:.2f} s")
    print(f"throughput: {size / 1e6 / cpu:.2f} MB/s per core ({cpu:.2f} s CPU)\n")
    print(f"{'category':<20}{'planted':>9}{'recall':>9}{'spans':>9}{'precision':>11}")
    for category in sorted(set(tally.found) | set(tally.missed) | set(tally.span_true) | set(tally.span_false)):
        planted_n = tally.found[category] + tally.missed[category]
        spans_n = tally.span_true[category] + tally.span_false[category]
        recall = f"{tally.recall(category):.4f}" if planted_n else "-"
        precision = f"{tally.precision(category):.4f}" if spans_n else "-"
        print(f"{category:<20}{planted_n:>9}{recall:>9}{spans_n:>9}{precision:>11}")
    print(f"\nlegal terms kept: {tally.terms_kept}, damaged: {tally.terms_damaged}")
    print("most frequent misses:", Counter(tally.missed_examples).most_common(8))
    print("most frequent false spans:", Counter(tally.false_examples).most_common(8))


if __name__ == "__main__":
    main()
