"""Benchmark of the annual report: national scale (70,000 cases, 210,000 reviews) and provincial (1,500 cases).

Builds a synthetic finished campaign in a fresh SQLite database (or EVALPLAT_BENCH_DATABASE_URL) with Core
bulk inserts (not timed), then times report data (all queries and statistics) and the PDF, XLSX and HTML
renderers. Prints figures and the machine; asserts nothing.

    .venv/bin/python bench/bench_report.py [--cases 70000] [--cases 1500]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date

import numpy as np
import sqlalchemy as sa

from evalplat import create_app
from evalplat.extensions import db


def build(n_cases: int, seed: int = 0) -> int:
    from evalplat.accounts.models import User
    from evalplat.assignments.models import Assignment
    from evalplat.campaigns.models import Campaign, CampaignRubric, Sample
    from evalplat.cases.models import Case
    from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile
    from evalplat.results.models import Result
    from evalplat.reviews.models import Review, RubricVersion

    rng = np.random.default_rng(seed)
    s = db.session
    n_cities = 21 if n_cases < 10_000 else 340
    n_agencies = max(n_cities, n_cases // 25)
    n_lawyers = max(50, n_cases // 4)
    n_reviewers = max(20, n_cases // 35)
    ins = lambda model, rows: [s.execute(sa.insert(model), rows[i:i + 5000]) for i in range(0, len(rows), 5000)]  # noqa: E731
    ins(Region, [{"id": i + 1, "code": f"C{i:05d}", "name": f"城市{i}", "level": "city"} for i in range(n_cities)])
    ins(Agency, [{"id": i + 1, "code": f"A{i:06d}", "name": f"法律援助中心{i}", "region_id": i % n_cities + 1,
                  "city_id": i % n_cities + 1, "active": True} for i in range(n_agencies)])
    ins(Firm, [{"id": 1, "name": "律师事务所", "region_id": 1, "city_id": 1}])
    ins(Lawyer, [{"id": i + 1, "name": f"律师{i}", "licence_no": f"L{i:010d}", "firm_id": 1,
                  "years_of_practice": 5, "case_types": []} for i in range(n_lawyers)])
    ins(User, [{"id": i + 1, "username": f"r{i}", "display_name": "评审", "password_hash": "x",
                "session_token": f"t{i}", "active": True} for i in range(n_reviewers)])
    ins(ReviewerProfile, [{"id": i + 1, "user_id": i + 1, "kind": "peer", "region_id": i % n_cities + 1,
                           "city_id": i % n_cities + 1, "case_types": [], "capacity": 200, "active": True,
                           "years_of_practice": 5, "specialties": ""} for i in range(n_reviewers)])
    rubric_def = {"items": [{"code": f"i{k}", "label": {"zh": f"项目{k}", "en": f"Item {k}"}, "max_points": 10}
                            for k in range(10)]}
    s.execute(sa.insert(RubricVersion), [{"id": 1, "key": "bench", "version": 1, "case_types": ["criminal", "civil"],
                                          "definition": rubric_def, "content_hash": "0" * 64, "frozen": True}])
    s.execute(sa.insert(Campaign), [{"id": 1, "name": "基准评估", "code_prefix": "BN", "year": 2024,
                                     "state": "published", "scope_kind": "province", "scope_agency_ids": [],
                                     "reviewers_per_case": 3, "min_evaluators": 0,
                                     "disagreement_rules": {}, "grade_bands": {}, "ranking_rules": {},
                                     "assignment_rules": {}, "due_days": 21, "official_scores": "raw",
                                     "version": 1}])
    s.execute(sa.insert(CampaignRubric), [{"campaign_id": 1, "case_type": ct, "rubric_version_id": 1}
                                          for ct in ("criminal", "civil")])
    quality = rng.normal(0, 5, n_lawyers)
    lawyer = rng.integers(0, n_lawyers, n_cases)
    agency = rng.integers(0, n_agencies, n_cases)
    ctype = np.where(rng.random(n_cases) < 0.5, "criminal", "civil")
    total = np.clip(80 + quality[lawyer] + rng.normal(0, 6, n_cases), 0, 100).round(1)
    cases, samples, results = [], [], []
    for i in range(n_cases):
        cases.append({"id": i + 1, "agency_id": int(agency[i]) + 1, "case_number": f"援{i}", "year": 2024,
                      "case_type": str(ctype[i]), "cause": "", "stage_reached": "", "result": "",
                      "lawyer_id": int(lawyer[i]) + 1, "firm_id": 1, "closed_on": date(2024, 6, 1)})
        samples.append({"id": i + 1, "campaign_id": 1, "case_id": i + 1, "code": f"BN-{i:06d}",
                        "stratum": f"{int(agency[i])}|{ctype[i]}", "is_training": False})
        t = float(total[i])
        grade = "excellent" if t >= 90 else "good" if t >= 80 else "pass" if t >= 60 else "fail"
        pts = np.clip(t / 10 + rng.normal(0, 1, 10), 0, 10).round(1)
        results.append({"sample_id": i + 1, "kind": "consensus", "total": t, "grade": grade, "raw_total": t,
                        "item_points": {f"i{k}": float(pts[k]) for k in range(10)}, "vetoes": [],
                        "method": "mean", "disagreement": [], "reasons": "", "current": True})
    ins(Case, cases)
    ins(Sample, samples)
    ins(Result, results)
    leniency = rng.normal(0, 3, n_reviewers)
    assignments, reviews = [], []
    aid = 0
    for i in range(n_cases):
        for r in rng.choice(n_reviewers, 3, replace=False):
            aid += 1
            assignments.append({"id": aid, "sample_id": i + 1, "reviewer_id": int(r) + 1, "round": "initial",
                                "state": "submitted", "conflict_declared": False, "version": 1})
            v = float(np.clip(total[i] + leniency[r] + rng.normal(0, 4), 0, 100).round(1))
            reviews.append({"id": aid, "assignment_id": aid, "rubric_version_id": 1, "state": "submitted",
                            "total": v, "vetoes": [], "summary_comment": "", "version": 1})
    ins(Assignment, assignments)
    ins(Review, reviews)
    s.commit()
    return aid


def run(n_cases: int) -> None:
    from evalplat.campaigns.models import Campaign
    from evalplat.rankings.report_data import build_report_data
    from reports.html import render_html
    from reports.pdf import render_pdf
    from reports.xlsx import render_xlsx

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("EVALPLAT_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
                          "EVALPLAT_STORAGE_URL": f"file://{tmp}/files"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(__import__("pathlib").Path(__file__).resolve().parent.parent / "migrations"))
            t0 = time.perf_counter()
            n_reviews = build(n_cases)
            t_build = time.perf_counter() - t0
            campaign = db.session.get(Campaign, 1)
            t0 = time.perf_counter()
            data = build_report_data(db.session, campaign)
            t_data = time.perf_counter() - t0
            timings = {}
            for name, fn in (("pdf", render_pdf), ("xlsx", render_xlsx), ("html", render_html)):
                t0 = time.perf_counter()
                out = fn(data)
                timings[name] = (time.perf_counter() - t0, len(out))
        total = t_data + sum(v[0] for v in timings.values())
        print(f"{n_cases:>7} cases, {n_reviews:>7} reviews ({url.split(':')[0]}; build {t_build:.1f} s, not timed)")
        print(f"  report data {t_data:6.2f} s  (agencies {len(data.by_agency)}, lawyers ranked "
              f"{len(data.top_lawyers) and 'yes'}, alpha {data.reliability.alpha:.3f}, ICC1 {data.reliability.icc:.3f})")
        for name, (sec, size) in timings.items():
            print(f"  render {name:<4}  {sec:6.2f} s  ({size / 1e6:.2f} MB)")
        print(f"  full report (data + pdf + xlsx + html): {total:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, action="append")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    for n in args.cases or [1500, 70_000]:
        run(n)


if __name__ == "__main__":
    main()
