"""Times the cases list (/cases/) at 20,000 cases: first page, a later page by key, a page jump, a search.

Uses the database of ``--database-url`` (e.g. one built by ``flask --app wsgi demo``), else builds a demo
province in a temporary SQLite file (``demo --cases N --documents none --no-campaigns --no-postcase``, the
quick way: a few minutes on a loaded machine). Requests go through Flask's test client, signed in as the demo
organiser; the figures are whole requests (query, template, response).

    python bench/bench_case_list.py --database-url sqlite:////tmp/lists/bench.db
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]  # this checkout's code, then bench_env

from bench_env import machine  # noqa: E402

TARGET_MS = 300


def _times(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    verdict = "OK" if statistics.median(ms) < TARGET_MS else "SLOW"
    return (f"{name:<40} median {statistics.median(ms):7.1f} ms   max {ms[-1]:7.1f} ms   min {ms[0]:6.1f} ms   "
            f"(target < {TARGET_MS} ms: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("EVALPLAT_BENCH_DATABASE_URL"))
    parser.add_argument("--cases", type=int, default=20000, help="cases of the demo built when no database is given")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.accounts import passwords
    from evalplat.cases.models import Case
    from evalplat.demo.province import DEMO_PASSWORD
    from evalplat.extensions import db

    passwords.configure(fast=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-case-list-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"EVALPLAT_ENV": "testing", "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                      "SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if not args.database_url:
            result = app.test_cli_runner().invoke(args=["demo", "--cases", str(args.cases), "--documents", "none",
                                                        "--no-campaigns", "--no-postcase"])
            assert result.exit_code == 0, result.output
        cases = db.session.scalar(sa.select(sa.func.count(Case.id)))
        number = db.session.scalar(sa.select(Case.case_number).order_by(Case.id).limit(1).offset(cases // 2))
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"username": "organiser", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    term = number[-6:]  # a fragment of a real case number, inside the text (a LIKE '%…%' search)

    def get(path: str) -> Any:
        def run() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return run

    first = client.get("/cases/").get_data(as_text=True)
    after = re.search(r"after=(\d+)", first)
    pages = {"first page": "/cases/", "page 2 by key (after=…)": f"/cases/?page=2&after={after.group(1) if after else ''}",
             "page jump to page 300": "/cases/?page=300", f"search q={term}": f"/cases/?q={term}",
             "filter year 2024 + type civil": "/cases/?year=2024&type=civil",
             "filter redaction = no files": "/cases/?redaction=none",
             "filter campaign (first campaign)": "/cases/?campaign=1"}
    print(f"machine: {machine()}")
    print(f"database: {url.split('://')[0]}; {cases:,} cases; {args.repeat} runs each")
    for name, path in pages.items():
        get(path)()  # warm up
        print(_line(name, _times(get(path), args.repeat)))


if __name__ == "__main__":
    main()
