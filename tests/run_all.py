"""``make test``: the suite on SQLite, then the database tests again on PostgreSQL.

PostgreSQL comes from EVALPLAT_TEST_DATABASE_URL or, when that is unset, a local server on 127.0.0.1:5432
(user postgres, trust auth) in a throw-away database created and dropped here. When no server answers,
one line says so and only the PostgreSQL run is skipped — unless EVALPLAT_REQUIRE_POSTGRES=1 (CI), which
makes that a failure.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import psycopg

LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def workers() -> str:
    """Worker processes for pytest-xdist: EVALPLAT_TEST_WORKERS, else one per core (at least two).

    Much of a test's time is spent waiting on the database, Chromium or a subprocess, so even on one core
    two workers overlap usefully. Whole files go to one worker (``--dist loadfile``) so that module-scoped
    fixtures (a demo province, a scored campaign) are built once.
    """
    return os.environ.get("EVALPLAT_TEST_WORKERS") or str(max(2, os.cpu_count() or 1))


def pytest(args: list[str], env: dict[str, str]) -> int:
    parallel = ["-n", workers(), "--dist", "loadfile"] if workers() not in ("0", "1") else []
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *parallel, *args], env=env)


def main() -> int:
    extra = sys.argv[1:]
    env = dict(os.environ)
    env.pop("EVALPLAT_TEST_DATABASE_URL", None)
    print("== tests on SQLite", flush=True)
    status = pytest(extra, env)

    required = os.environ.get("EVALPLAT_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"
    url = os.environ.get("EVALPLAT_TEST_DATABASE_URL")
    dbname = None
    if not url:
        try:
            with psycopg.connect(LOCAL, autocommit=True, connect_timeout=3) as conn:
                dbname = f"evalplat_test_{secrets.token_hex(4)}"
                conn.execute(f'CREATE DATABASE "{dbname}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if required:
                print(f"PostgreSQL is required but not reachable on 127.0.0.1:5432: {reason}", flush=True)
                return 1
            print(f"PostgreSQL not reachable on 127.0.0.1:5432 ({reason}); skipping the PostgreSQL run.")
            return status
    print(f"== database tests on PostgreSQL ({url.rsplit('@', 1)[-1]})", flush=True)
    env["EVALPLAT_TEST_DATABASE_URL"] = url
    try:
        pg_status = pytest(["-m", "not nodb", *extra], env)
    finally:
        if dbname:
            with psycopg.connect(LOCAL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return status or pg_status


if __name__ == "__main__":
    sys.exit(main())
