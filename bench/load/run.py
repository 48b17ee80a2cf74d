"""Load test: gunicorn (2 workers) on PostgreSQL on loopback, 50 simulated reviewers for 60 s, driven by locust.

    .venv/bin/python bench/load/run.py [--users 50] [--duration 60] [--wait 1 3] [--cases 5000] [--cities 8]
                                       [--workers 2] [--threads 4] [--profile] [--keep]

One command: creates a throw-away PostgreSQL database on 127.0.0.1 (``EVALPLAT_BENCH_POSTGRES``, default
``postgresql+psycopg://postgres@127.0.0.1:5432``), migrates it, builds the demo province
(``flask demo --no-campaigns``) and the demo campaigns (``flask demo-campaigns --cities N``: the second one
is in scoring with a third of its reviews still open), picks the reviewers with open assignments and writes
their plan (assignment ids and a partial rubric form each), starts ``gunicorn -w 2 --threads 4`` (gthread
workers, as ``make serve``; ``--threads 1`` for sync workers) bound to 127.0.0.1,
runs ``locust --headless`` with the plan (``bench/load/locustfile.py``), prints throughput, p50/p95/p99
latency and errors per request kind and overall with the machine, then stops gunicorn and drops the
database. ``--profile`` records both workers with py-spy during the run and prints the hottest functions.

Targets (issue 9): p95 < 100 ms and no errors; measured and printed, never asserted. Locust runs on the same
2-core machine as the server, so it takes CPU from it; its own CPU time is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for bench_env
from bench_env import machine  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def write_plan(env: dict[str, str], path: Path, users: int) -> dict[str, int]:
    """Reviewers with open assignments in the campaign in scoring, and a partial draft form for each."""
    code = f"""
import json, random, sys
import sqlalchemy as sa
sys.path.insert(0, {str(ROOT)!r})
from evalplat import create_app
from evalplat.extensions import db
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.demo.province import DEMO_PASSWORD
from evalplat.reviews.rubrics import rubric_for_assignment
from forms.rubrics import level_for_points

app = create_app()
rng = random.Random(9)
with app.app_context():
    s = db.session
    rows = s.scalars(sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                     .join(Campaign, Campaign.id == Sample.campaign_id)
                     .where(Campaign.state == CampaignState.SCORING, Assignment.round == AssignmentRound.INITIAL,
                            Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
                     .order_by(Assignment.id)).all()
    by_user = {{}}
    for a in rows:
        _row, rubric = rubric_for_assignment(s, a)
        form = {{"rubric_hash": rubric.content_hash}}
        for item in rubric.items[: max(1, len(rubric.items) * 2 // 3)]:
            points = int(round(float(item.max_points) * rng.uniform(0.6, 1.0)))
            form[item.code + "-level"] = level_for_points(item, points).code
            form[item.code + "-points"] = str(points)
            form[item.code + "-comment"] = "会见记录较完整，但未载明告知权利义务的情况。" if points < item.max_points else ""
        by_user.setdefault(a.reviewer.user.username, []).append(
            {{"id": a.id, "state": str(a.state), "form": form}})
    reviewers = [{{"username": u, "assignments": v}} for u, v in sorted(by_user.items())]
    print(json.dumps({{"password": DEMO_PASSWORD, "reviewers": reviewers}}, ensure_ascii=False))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout
    plan = json.loads(out)
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    reviewers = plan["reviewers"]
    if len(reviewers) < users:
        raise SystemExit(f"only {len(reviewers)} reviewers have open assignments (need {users}); "
                         "raise --cities")
    return {"reviewers": len(reviewers), "assignments": sum(len(r["assignments"]) for r in reviewers)}


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within a minute")


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def report(stats_csv: Path, duration: float) -> list[str]:
    """Lines of the results table from locust's ``*_stats.csv``."""
    lines = [f"{'request':<34}{'count':>8}{'fails':>7}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}  (ms)"]
    with stats_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
            if row["Name"] == "Aggregated":
                lines.append("-" * len(lines[0]))
            lines.append(f"{name:<34}{int(row['Request Count']):>8}{int(row['Failure Count']):>7}"
                         f"{float(row['Requests/s']):>8.1f}{row['50%']:>7}{row['95%']:>7}{row['99%']:>7}"
                         f"{float(row['Max Response Time']):>8.0f}")
    return lines


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def steady_state(records: list[list[Any]], duration: float) -> list[str]:
    """Exact figures over the window that starts when the last sign-in ended (raw records of the locustfile)."""
    logins = [start + ms / 1000 for start, name, ms, _f in records if name == "POST /login"]
    if not logins:
        return ["no sign-in completed"]
    begin = max(logins)
    end = begin + duration
    window = [r for r in records if begin <= r[0] < end]
    seconds = min(duration, max((r[0] for r in window), default=begin) - begin) or 1.0
    groups: dict[str, list[list[Any]]] = {}
    for r in window:
        groups.setdefault(r[1], []).append(r)
    groups["reviewer work (case page + draft)"] = [r for r in window if "/reviews/[id] (" in r[1]]
    groups["all requests"] = window
    lines = [f"window {seconds:.0f} s; {'request':<34}{'count':>7}{'errors':>7}{'req/s':>7}{'p50':>7}{'p95':>7}"
             f"{'p99':>7}{'max':>7}  (ms)"]
    for name, rows in groups.items():
        if not rows:
            continue
        ms = [r[2] for r in rows]
        lines.append(f"{'':<18}{name:<34}{len(rows):>7}{sum(r[3] for r in rows):>7}{len(rows) / seconds:>7.1f}"
                     f"{_percentile(ms, .5):>7.0f}{_percentile(ms, .95):>7.0f}{_percentile(ms, .99):>7.0f}"
                     f"{max(ms):>7.0f}")
    slices = []
    for start in range(0, int(seconds), 10):
        ms = [r[2] for r in window if begin + start <= r[0] < begin + start + 10]
        if ms:
            slices.append(f"{start}-{start + 10} s {_percentile(ms, .5):.0f}/{_percentile(ms, .95):.0f}")
    lines.append("all requests by 10 s of the window, p50/p95 ms: " + ", ".join(slices))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds measured once every reviewer is signed in")
    parser.add_argument("--ramp", type=int, default=40, help="seconds allowed for spawning and signing in first")
    parser.add_argument("--wait", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="think time between a user's case visits, seconds (0 0: as fast as possible)")
    parser.add_argument("--cases", type=int, default=5000, help="cases of the demo province")
    parser.add_argument("--cities", type=int, default=8, help="cities of the demo campaigns")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker, as make serve (1: gunicorn's sync worker class, else gthread)")
    parser.add_argument("--profile", action="store_true", help="py-spy record of both workers during the load")
    parser.add_argument("--keep", action="store_true", help="keep the database and the output folder")
    args = parser.parse_args()

    print("machine:", machine())
    server = os.environ.get("EVALPLAT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
    name = f"ep_load_{uuid.uuid4().hex[:8]}"
    out = Path(tempfile.mkdtemp(prefix="evalplat-load-"))
    env = dict(os.environ, EVALPLAT_DATABASE_URL=f"{server}/{name}", EVALPLAT_ENV="development",
               EVALPLAT_SECRET_KEY=secrets.token_hex(32), EVALPLAT_STORAGE_URL=f"file://{out / 'files'}",
               EVALPLAT_LOAD_PLAN=str(out / "plan.json"), EVALPLAT_LOAD_RECORDS=str(out / "records.json"), EVALPLAT_LOAD_WAIT_MIN=str(args.wait[0]),
               EVALPLAT_LOAD_WAIT_MAX=str(args.wait[1]), PYTHONPATH=str(ROOT))
    import sqlalchemy as sa

    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        _flask(env, "db", "upgrade")
        _flask(env, "demo", "--cases", str(args.cases), "--no-campaigns")
        _flask(env, "demo-campaigns", "--cities", str(args.cities))
        counts = write_plan(env, out / "plan.json", args.users)
        print(f"setup: database {name}, demo province of {args.cases:,} cases, campaign in scoring with "
              f"{counts['assignments']} open assignments of {counts['reviewers']} reviewers "
              f"({time.perf_counter() - started:.0f} s)")

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(  # noqa: S603
            [str(VENV_BIN / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads),
             "-b", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--error-logfile", str(out / "gunicorn.err"), "wsgi:app"],
            cwd=ROOT, env=env, stdout=open(out / "access.log", "wb"), start_new_session=True)  # noqa: SIM115
        _wait_ready(base, gunicorn)
        spies = []
        if args.profile:
            for pid in _workers(gunicorn.pid):
                spies.append(subprocess.Popen(  # noqa: S603
                    [str(VENV_BIN / "py-spy"), "record", "-p", str(pid), "-d", str(args.ramp + args.duration + 5), "-r", "200",
                     "-f", "raw", "-o", str(out / f"profile-{pid}.txt"), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        spawn = max(1, args.users // 5)
        cpu_before = os.times()
        locust = subprocess.run(  # noqa: S603
            [str(VENV_BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
             "-u", str(args.users), "-r", str(spawn), "-t", f"{args.ramp + args.duration}s", "-H", base,
             "--csv", str(out / "load"), "--only-summary", "--stop-timeout", "5"],
            cwd=ROOT, env=env, capture_output=True, text=True)
        cpu_after = os.times()
        locust_cpu = (cpu_after.children_user + cpu_after.children_system
                      - cpu_before.children_user - cpu_before.children_system)
        for spy in spies:
            spy.wait(timeout=60)
        if not (out / "load_stats.csv").exists():
            print(locust.stdout[-3000:], locust.stderr[-3000:])
            raise SystemExit(f"locust failed with {locust.returncode}")
        think = "none" if args.wait[1] == 0 else f"{args.wait[0]:g}-{args.wait[1]:g} s"
        print(f"load: {args.users} reviewers (spawned at {spawn}/s), think time {think}, gunicorn -w {args.workers}"
              f"{f' --threads {args.threads} (gthread)' if args.threads > 1 else ' (sync)'} "
              f"on 127.0.0.1, PostgreSQL on 127.0.0.1; locust CPU {locust_cpu:.0f} s of {args.ramp + args.duration} s")
        print("whole run (sign-in stampede included), from locust's statistics:")
        for line in report(out / "load_stats.csv", args.duration):
            print(" ", line)
        records = json.loads((out / "records.json").read_text())
        print(f"steady state: the {args.duration} s after the last sign-in:")
        for line in steady_state(records, args.duration):
            print(" ", line)
        failures = out / "load_failures.csv"
        if failures.exists():
            with failures.open(encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            for row in rows[:10]:
                print(f"  error: {row['Method']} {row['Name']}: {row['Error']} ×{row['Occurrences']}")
        errors = (out / "gunicorn.err").read_text(errors="replace")
        tracebacks = errors.count("Traceback")
        print(f"server errors logged: {tracebacks}")
        if args.profile:
            print_profile(sorted(out.glob("profile-*.txt")))
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"output: {out}" + ("" if args.keep else " (database dropped)"))


_LINE = re.compile(r":\d+\)$")


def print_profile(paths: list[Path], top: int = 25) -> None:
    """The functions most often on the stack (inclusive) and at its top (self), over both workers."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            count = int(n)
            total += count
            frames = [_LINE.sub(")", frame) for frame in stack.split(";")]  # one row per function, not per line
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        print("profile: no samples (py-spy needs ptrace permission)")
        return

    def show(title: str, table: dict[str, Any]) -> None:
        print(f"profile, {title} (share of {total:,} samples of both workers):")
        for frame, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {100 * n / total:5.1f} %  {frame[:150]}")

    show("self", own)
    show("inclusive, evalplat/forms/reports code", {k: v for k, v in inclusive.items()
                                                     if any(f"({p}/" in k for p in ("evalplat", "forms", "reports"))})


if __name__ == "__main__":
    main()
