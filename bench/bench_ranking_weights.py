"""What the source weights cost a ranking: each published campaign's rankings and record, with the peer review
alone (version 0) and with weight on every post-case source, on an existing database (e.g. the demo's).

Run: ``.venv/bin/python bench/bench_ranking_weights.py --database URL [--repeat 3]``. Nothing is written: the
weights are set inside a transaction that is rolled back. Prints the best of ``--repeat`` wall-clock times of
:func:`evalplat.rankings.queries.rankings_for` and :func:`~evalplat.rankings.queries.record_for` per campaign,
and of the three post-case aggregate queries (:func:`evalplat.rankings.sources.post_case_sources`) alone.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

from bench_env import machine  # noqa: E402


def best(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run(url: str, repeat: int) -> None:
    from evalplat import create_app
    from evalplat.accounts.models import Role, User, UserRole
    from evalplat.extensions import db
    from evalplat.rankings import operations
    from evalplat.rankings.queries import campaigns_with_results, rankings_for, record_for
    from evalplat.rankings.sources import post_case_sources
    from evalplat.rankings.weights import current_weights, parse_weights

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_ENV": "development",
                      "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789"})
    with app.app_context():
        s = db.session
        for campaign in campaigns_with_results(s):
            rset = rankings_for(s, [campaign])
            print(f"campaign {campaign.id} ({campaign.year}, jurisdiction {campaign.jurisdiction_id}): "
                  f"{rset.n_cases:,} reviewed cases, {len(rset.lawyers.rows):,} lawyers, "
                  f"{len(rset.agencies.rows):,} agencies, {len(rset.cities.rows):,} cities")
            organiser = s.scalar(sa.select(User).join(UserRole, UserRole.user_id == User.id)
                                 .where(UserRole.role == Role.ORGANISER,
                                        User.jurisdiction_id == campaign.jurisdiction_id).limit(1))
            if organiser is None:
                print("  (no organiser of the campaign's jurisdiction: skipped)")
                continue
            for label, weights in (("peer review alone", {"peer_review": 1.0}),
                                   ("all four sources", {"peer_review": 0.4, "self_evaluation": 0.2, "followup": 0.2,
                                                         "closing": 0.2})):
                if current_weights(s, campaign.jurisdiction_id).values != parse_weights(weights):
                    operations.set_weights(s, actor=organiser, values=weights)
                    s.flush()
                ranked = best(repeat, lambda c=campaign: rankings_for(s, [c]))
                record = best(repeat, lambda c=campaign: record_for(s, c))
                print(f"  {label}: rankings {ranked * 1000:,.0f} ms, record and pool {record * 1000:,.0f} ms")
            years = sorted({c.year for c in [campaign]})
            sources = best(repeat, lambda c=campaign, y=years: [
                post_case_sources(s, kind, region_id=c.jurisdiction_id, years=y)
                for kind in ("lawyers", "agencies", "cities")])
            print(f"  post-case aggregate queries (lawyers, agencies, cities): {sources * 1000:,.0f} ms")
            s.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a database with published campaigns")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("machine:", machine())
    run(args.database, args.repeat)


if __name__ == "__main__":
    main()
