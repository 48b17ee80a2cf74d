"""Benchmark: consolidation and the reliability panel for a campaign of N cases × 3 initial reviews.

    EVALPLAT_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ep_bench_consolidation \
        .venv/bin/python bench/bench_consolidation.py --cases 70000

The database must exist and be empty (it is migrated here). Rows are bulk-inserted (cases, samples,
assignments, submitted reviews with every rubric item, from a seeded quality + reviewer-bias model); then
the timed steps run the real code: ``results.operations.consolidate`` (one pass over every case: consensus
results bulk-inserted, disagreements detected; adjudicator assignment is the assignment engine's job and is
left out with ``create_assignments=False``), ``set_official_scores("calibrated")`` (rater-effects fit and a
bulk update), and ``results.queries.reliability_panel`` (alpha and ICC on totals and per item, reviewer
effects). Prints timings and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa


def _insert(session: Any, model: Any, rows: list[dict[str, Any]], chunk: int = 20000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(sa.insert(model.__table__), rows[start:start + chunk])


def build(session: Any, n_cases: int, n_reviewers: int, seed: int) -> Any:
    from evalplat.accounts.models import Role, User, UserRole
    from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.campaigns.operations import ensure_rubric_versions
    from evalplat.cases.models import Case
    from evalplat.organisations.models import (
        Agency,
        CaseType,
        Region,
        RegionLevel,
        ReviewerKind,
        ReviewerProfile,
    )
    from evalplat.reviews.models import Grade, Review, ReviewItem, ReviewState
    from evalplat.reviews.rubrics import rubric_of

    rng = np.random.default_rng(seed)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    version = ensure_rubric_versions(session, actor=None)
    rubric_row = next(v for v in version if "criminal" in v.case_types)
    rubric = rubric_of(rubric_row)
    city = Region(code="BENCH", name="基准市", level=RegionLevel.CITY)
    session.add(city)
    session.flush()
    agencies = [{"id": i + 1, "code": f"B{i:04d}", "name": f"中心{i}", "region_id": city.id, "city_id": city.id}
                for i in range(150)]
    _insert(session, Agency, agencies)
    users = [{"id": i + 1, "username": f"rev{i}", "display_name": f"评估人{i}", "email": f"r{i}@bench.invalid",
              "password_hash": "x", "session_token": f"t{i}", "active": True, "created_at": now}
             for i in range(n_reviewers)]
    _insert(session, User, users)
    _insert(session, UserRole, [{"user_id": u["id"], "role": Role.PEER_REVIEWER} for u in users])
    _insert(session, ReviewerProfile, [{"id": i + 1, "user_id": i + 1, "kind": ReviewerKind.EVALUATOR,
                                        "region_id": city.id, "city_id": city.id, "jurisdiction_id": city.id,
                                        "case_types": ["criminal"],
                                        "capacity": 10_000, "active": True} for i in range(n_reviewers)])
    campaign = Campaign(name="bench", code_prefix="BENCH", year=2024, state=CampaignState.SCORING,
                        reviewers_per_case=3, jurisdiction=city)
    session.add(campaign)
    session.flush()
    _insert(session, Case, [{"id": i + 1, "agency_id": 1 + i % 150, "case_number": f"B{i}", "year": 2024,
                             "case_type": CaseType.CRIMINAL, "created_at": now} for i in range(n_cases)])
    _insert(session, Sample, [{"id": i + 1, "campaign_id": campaign.id, "case_id": i + 1, "code": f"BENCH-{i:06d}",
                               "stratum": "bench", "is_training": False, "drawn_at": now} for i in range(n_cases)])
    quality = np.clip(rng.normal(0.8, 0.08, n_cases), 0.3, 1.0)
    bias = rng.normal(0, 0.03, n_reviewers)
    maxima = np.array([float(item.max_points) for item in rubric.items])
    assignments, reviews, items = [], [], []
    aid = 0
    for case in range(n_cases):
        raters = rng.choice(n_reviewers, 3, replace=False)
        for r in raters:
            aid += 1
            frac = np.clip(quality[case] + bias[r] + rng.normal(0, 0.05, maxima.size), 0, 1)
            points = np.round(frac * maxima)
            total = float(points.sum() / maxima.sum() * 100)
            assignments.append({"id": aid, "sample_id": case + 1, "reviewer_id": int(r) + 1,
                                "round": AssignmentRound.INITIAL, "state": AssignmentState.SUBMITTED,
                                "created_at": now, "updated_at": now, "version": 1})
            grade = "excellent" if total >= 90 else "good" if total >= 80 else "pass" if total >= 60 else "fail"
            reviews.append({"id": aid, "assignment_id": aid, "rubric_version_id": rubric_row.id,
                            "state": ReviewState.SUBMITTED, "total": total, "grade": Grade(grade), "vetoes": [],
                            "summary_comment": "", "started_at": now, "updated_at": now, "submitted_at": now,
                            "version": 1})
            for item, p in zip(rubric.items, points, strict=True):
                items.append({"review_id": aid, "item_code": item.code, "level": "A", "points": float(p),
                              "not_applicable": False, "veto": False, "comment": ""})
    _insert(session, Assignment, assignments)
    _insert(session, Review, reviews)
    _insert(session, ReviewItem, items, chunk=50000)
    session.commit()
    return campaign, len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=70_000)
    parser.add_argument("--reviewers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = os.environ.get("EVALPLAT_DATABASE_URL")
    if not url:
        raise SystemExit("set EVALPLAT_DATABASE_URL to an empty database (PostgreSQL recommended)")
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        from evalplat.results.operations import consolidate, set_official_scores
        from evalplat.results.queries import reliability_panel

        t = time.perf_counter()
        campaign, n_items = build(db.session, args.cases, args.reviewers, args.seed)
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        out = consolidate(db.session, campaign=campaign, actor=None, now=datetime.now(UTC), create_assignments=False)
        db.session.commit()
        t_cons = time.perf_counter() - t
        t = time.perf_counter()
        set_official_scores(db.session, campaign=campaign, actor=None, choice="calibrated",
                            now=datetime.now(UTC))
        db.session.commit()
        t_off = time.perf_counter() - t
        t = time.perf_counter()
        panel = reliability_panel(campaign)
        t_panel = time.perf_counter() - t
        t = time.perf_counter()
        totals_only = reliability_panel(campaign, with_items=False)
        t_totals = time.perf_counter() - t
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, database {url.split('://')[0]}")
    print(f"data: {args.cases:,} cases × 3 reviews = {3 * args.cases:,} reviews, {n_items:,} item scores, "
          f"{args.reviewers} reviewers (bulk load {t_build:.1f} s)")
    print(f"consolidate: {t_cons:.2f} s — {len(out.consensus):,} consensus, {len(out.unassigned):,} disagreeing")
    print(f"official scores (rater-effects fit + bulk update): {t_off:.2f} s")
    print(f"reliability panel, totals + {len(panel.items)} items: {t_panel:.2f} s (alpha {panel.alpha:.3f}, "
          f"ICC1 {panel.icc1.value:.3f}, {panel.flagged} reviewers flagged); totals only: {t_totals:.2f} s "
          f"({totals_only.reviewers} reviewers)")


if __name__ == "__main__":
    main()
