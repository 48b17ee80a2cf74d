"""The reviewer's requests one at a time in one process: SQL queries and CPU time per request kind.

    EVALPLAT_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/DB \\
        .venv/bin/python bench/load/requests_profile.py PLAN.json [--rounds 30] [--cprofile OUT.prof]

Runs against a database built by ``bench/load/run.py --keep`` (its plan file names the reviewers and their
draft forms). Through Flask's test client, without a server or a network, it signs in the first reviewers of
the plan, accepts their offered cases, then for ``--rounds`` rounds opens each case page (GET) and saves its
draft (POST). It prints, per request kind, the SQL statements per request, the median and mean CPU time
of the process (``time.process_time``, so other programs on the machine barely move it) and the median
wall time (which adds PostgreSQL's work and any wait for a core). ``--cprofile``
writes a cProfile of the measured rounds. Complements the load test: that one measures queueing under
concurrency, this one the cost of one request.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))  # bench/, for bench_env
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise RuntimeError("page has no CSRF token")
    return match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plan", type=Path)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cprofile", type=Path)
    args = parser.parse_args()

    import sqlalchemy as sa
    from bench_env import machine

    from evalplat import create_app
    from evalplat.extensions import db

    plan: dict[str, Any] = json.loads(args.plan.read_text(encoding="utf-8"))
    app = create_app()
    counts: list[int] = [0]

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a, **k: counts.__setitem__(0, counts[0] + 1))

    queries: dict[str, list[int]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    wall: dict[str, list[float]] = defaultdict(list)

    def call(kind: str, client: Any, method: str, url: str, **kw: Any) -> Any:
        counts[0] = 0
        start, started = time.process_time(), time.perf_counter()
        response = client.open(url, method=method, **kw)
        cpu[kind].append(1000 * (time.process_time() - start))
        wall[kind].append(1000 * (time.perf_counter() - started))
        queries[kind].append(counts[0])
        return response

    clients = []
    for me in plan["reviewers"][: args.reviewers]:
        client = app.test_client()
        token = _token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"csrf_token": token, "username": me["username"],
                                               "password": plan["password"]})
        if response.status_code != 302:
            raise SystemExit(f"sign-in of {me['username']} answered {response.status_code}")
        for assignment in me["assignments"]:
            if assignment["state"] == "offered":
                token = _token(client.get("/reviews/").get_data(as_text=True))
                client.post(f"/reviews/{assignment['id']}/accept", data={"csrf_token": token})
        clients.append((client, me["assignments"]))

    def rounds(n: int) -> None:
        for _ in range(n):
            for client, assignments in clients:
                for assignment in assignments:
                    url = f"/reviews/{assignment['id']}"
                    page = call("case page (GET)", client, "GET", url)
                    if page.status_code != 200:
                        raise SystemExit(f"case page answered {page.status_code}")
                    form = dict(assignment["form"], csrf_token=_token(page.get_data(as_text=True)), save_draft="1")
                    saved = call("save draft (POST)", client, "POST", url, data=form)
                    if saved.status_code != 302:
                        raise SystemExit(f"draft save answered {saved.status_code}")

    rounds(2)  # warm-up: caches, first draft of each review
    queries.clear()
    cpu.clear()
    wall.clear()
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    rounds(args.rounds)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    print("machine:", machine())
    print(f"{'request':<22}{'count':>7}{'queries':>9}{'CPU p50':>9}{'CPU mean':>10}{'wall p50':>10}  (ms)")
    for kind in cpu:
        print(f"{kind:<22}{len(cpu[kind]):>7}{statistics.median(queries[kind]):>9.0f}"
              f"{statistics.median(cpu[kind]):>9.1f}{statistics.fmean(cpu[kind]):>10.1f}"
              f"{statistics.median(wall[kind]):>10.1f}")


if __name__ == "__main__":
    main()
