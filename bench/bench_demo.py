"""Time ``flask demo``'s generator into fresh SQLite and PostgreSQL databases and print cases per second.

Run: ``.venv/bin/python bench/bench_demo.py [--cases 100000] [--documents auto|all|sampled|none]
[--databases sqlite,postgresql]``. The PostgreSQL run uses ``EVALPLAT_BENCH_POSTGRES`` (a server URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432``; that is the default) and a throw-away database it creates
and drops; it is skipped, with one line, when no server answers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


from bench_env import machine  # noqa: E402


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[tuple[str, Path]]:
    path = tmp / "bench-demo.db"
    yield f"sqlite:///{path}", path


@contextmanager
def postgres_database(server: str) -> Iterator[tuple[str, None]]:
    name = f"bench_demo_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}", None
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, cases: int, documents: str, tmp: Path) -> tuple[float, float, dict[str, int], str]:
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.demo import command
    from evalplat.extensions import db
    from evalplat.files import generate_key

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_ENV": "development",
                      "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                      "EVALPLAT_DATA_KEYS": f"bench:{generate_key()}", "EVALPLAT_STORAGE_URL": f"file://{tmp}/files"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        started, cpu = time.perf_counter(), time.process_time()
        summary = command.generate(db.session, cases=cases, documents=documents)
        db.session.commit()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        policy = summary.documents_policy
        db.session.remove()
        db.engine.dispose()
    return seconds, cpu, summary.counts, policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--documents", default="auto", choices=["auto", "all", "sampled", "none"])
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print("machine:", machine())
    server = os.environ.get("EVALPLAT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
    for kind in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            try:
                database = sqlite_database(tmp) if kind == "sqlite" else postgres_database(server)
                with database as (url, path):
                    seconds, cpu, counts, policy = run(url, args.cases, args.documents, tmp)
                    size = ""
                    if path is not None:
                        files = [f for f in (path, path.with_name(path.name + "-wal")) if f.exists()]
                        size = f", database files {sum(f.stat().st_size for f in files) / 2**20:,.0f} MiB"
            except sa.exc.OperationalError as exc:
                print(f"{kind}: skipped, no server reachable ({str(exc.orig).splitlines()[0]})")
                continue
        print(f"{kind}: {counts['cases']:,} cases, {counts['parties']:,} parties, {counts['documents']:,} documents "
              f"(files: {policy}) in {seconds:.1f} s = {counts['cases'] / seconds:,.0f} cases/s{size}; "
              f"generator process CPU {cpu:.1f} s = {counts['cases'] / cpu:,.0f} cases per CPU-second, "
              f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
