"""Campaign operations at national scale, through the database.

    .venv/bin/python bench/bench_campaign.py                       # SQLite file in a temporary folder
    .venv/bin/python bench/bench_campaign.py --postgres URL        # e.g. postgresql+psycopg://postgres@127.0.0.1/db
    .venv/bin/python bench/bench_campaign.py --cases 140000 --reviewers 500   # a quick run

Builds a population (default 1.4 M closed cases of 2024 in 21 cities × 7 agencies, three case types) and a
pool of reviewers, then times, through evalplat's own operations: freezing the population (digest), drawing
a 5 % proportional sample (≈ 70,000 Sample rows), previewing an assignment of 3 reviewers per case (engine
plus database input) and committing it (≈ 210,000 Assignment rows). Prints the figures and the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

NOW = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
TYPES = ("criminal", "civil", "administrative")


from bench_env import machine  # noqa: E402


def build(db: object, *, cases: int, reviewers: int, cities: int, agencies_per_city: int) -> None:
    from evalplat.accounts.models import Role, User, UserRole
    from evalplat.cases.models import Case
    from evalplat.organisations.models import Agency, Firm, Region, ReviewerProfile

    session = db.session  # type: ignore[attr-defined]
    province = Region(code="440000", name="广东省", level="province")
    session.add(province)
    session.flush()
    city_rows = [Region(code=f"44{n:02d}00", name=f"市{n:02d}", level="city", parent_id=province.id)
                 for n in range(1, cities + 1)]
    session.add_all(city_rows)
    session.flush()
    agency_rows = [Agency(code=f"A{c.code}{k}", name=f"{c.name}法律援助中心{k}", region_id=c.id, city_id=c.id)
                   for c in city_rows for k in range(agencies_per_city)]
    session.add_all(agency_rows)
    firm_rows = [Firm(name=f"{c.name}律师事务所{k}", region_id=c.id, city_id=c.id) for c in city_rows for k in range(5)]
    session.add_all(firm_rows)
    session.flush()
    per_agency = cases // len(agency_rows)
    rows = []
    for a_index, agency in enumerate(agency_rows):
        firms = [f.id for f in firm_rows if f.city_id == agency.city_id]
        for n in range(1, per_agency + 1):
            rows.append({"agency_id": agency.id, "case_number": f"援〔2024〕{n:06d}", "year": 2024, "sequence_no": n,
                         "case_type": TYPES[(n + a_index) % 3], "closed_on": date(2024, 1 + n % 12, 1 + n % 28),
                         "firm_id": firms[n % len(firms)], "cause": "", "stage_reached": "", "result": "",
                         "created_at": NOW})
            if len(rows) >= 50_000:
                session.execute(sa.insert(Case), rows)
                rows.clear()
    if rows:
        session.execute(sa.insert(Case), rows)
    users = [{"username": f"rev{n:05d}", "display_name": f"评估人{n:05d}", "password_hash": "!bench",
              "session_token": f"t{n}", "active": True, "must_change_password": True, "created_at": NOW}
             for n in range(reviewers)]
    session.execute(sa.insert(User), users)
    ids = dict(session.execute(sa.select(User.username, User.id).where(User.username.like("rev%"))).all())
    session.execute(sa.insert(UserRole), [{"user_id": ids[u["username"]], "role": Role.EVALUATOR if n % 3 == 0
                                           else Role.PEER_REVIEWER} for n, u in enumerate(users)])
    profiles = []
    for n, u in enumerate(users):
        city = city_rows[n % len(city_rows)]
        evaluator = n % 3 == 0
        firms = [f.id for f in firm_rows if f.city_id == city.id]
        profiles.append({"user_id": ids[u["username"]], "kind": "evaluator" if evaluator else "peer",
                         "region_id": city.id, "city_id": city.id, "firm_id": None if evaluator else firms[n % 5],
                         "case_types": list(TYPES) if n % 4 else ["criminal"], "capacity": 60, "active": True,
                         "years_of_practice": 5, "specialties": "", "created_at": NOW})
    session.execute(sa.insert(ReviewerProfile), profiles)
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_400_000)
    parser.add_argument("--reviewers", type=int, default=5000)
    parser.add_argument("--rate", default="5%")
    parser.add_argument("--per-case", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="SQLAlchemy URL of an empty PostgreSQL database")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.assignments import operations as assigning
    from evalplat.campaigns import operations as ops
    from evalplat.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="bench_campaign_"))
    url = args.postgres or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-0123456789abcdef",
                      "EVALPLAT_ENV": "testing", "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}"})
    print(f"machine: {machine()}")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite (file)'}")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        started = time.perf_counter()
        build(db, cases=args.cases, reviewers=args.reviewers, cities=21, agencies_per_city=7)
        print(f"setup: {args.cases:,} cases, {args.reviewers:,} reviewers inserted in {time.perf_counter() - started:.1f} s")
        session = db.session
        campaign = ops.create_campaign(session, actor=None, name="bench", year=2024, code_prefix="GD2024",
                                       reviewers_per_case=args.per_case, min_evaluators=1)
        ops.set_plan(session, actor=None, campaign=campaign,
                     plan={"mode": "proportion", "rate": args.rate, "minimum": 1, "fold_administrative": True})
        ops.fix_seed(session, actor=None, campaign=campaign, seed="bench-2024", source="bench", now=NOW)
        session.commit()

        def timed(label: str, action):  # type: ignore[no-untyped-def]
            begin = time.perf_counter()
            result = action()
            session.commit()
            print(f"{label}: {time.perf_counter() - begin:.2f} s")
            return result

        frozen = timed("freeze population (read + order + SHA-256)",
                       lambda: ops.freeze_population(session, actor=None, campaign=campaign, now=NOW))
        result = timed("draw + insert samples",
                       lambda: ops.draw_sample(session, actor=None, campaign=campaign, now=NOW))
        print(f"  population {frozen.size:,}, sample {len(result.selected):,} in {len(result.strata)} strata")
        run = timed("assignment preview (conflicts + engine input + solve + store run)",
                    lambda: assigning.preview_run(session, campaign=campaign, actor=None, now=NOW))
        summary = run.summary
        if summary.get("problems"):
            print("  infeasible:", summary["problems"][0]["en"])
            return
        print(f"  engine: build input {summary['seconds']['build']} s, solve {summary['seconds']['solve']} s; "
              f"{summary['pairs']:,} pairs, gap {summary['gap']:.2e}, mismatches {summary['mismatches']:g}")
        count = timed("commit run (bulk insert assignments + transition)",
                      lambda: assigning.commit_run(session, run=run, actor=None, now=NOW))
        print(f"  {count:,} assignments committed")
        timed("verify draw (re-run from the published seed, plan, digest)",
              lambda: ops.verify_draw(session, campaign))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
