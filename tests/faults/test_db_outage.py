"""The database goes away for a while: clean 503 pages, then recovery without a restart (PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[2]
PW = "correct-horse-battery"  # noqa: S105 - test data


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = f"evalplat_fault_{secrets.token_hex(4)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin() as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _block(name: str, allowed: bool) -> None:
    with _admin() as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


@pytest.mark.postgres
def test_requests_get_a_clean_503_while_the_database_is_away_and_recover(pg_database: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.accounts import operations
    from evalplat.accounts.models import Role
    from evalplat.extensions import db

    app = create_app({"TESTING": False, "EVALPLAT_ENV": "testing", "SECRET_KEY": "f" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_database}",
                      "WTF_CSRF_ENABLED": False, "EVALPLAT_STORAGE_URL": f"file://{tmp_path}",
                      "SERVER_NAME": "localhost"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        operations.create_user(db.session, actor=None, username="outage", display_name="停机测试", password=PW,
                               roles=[Role.ORGANISER])
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.post("/login", data={"username": "outage", "password": PW}).status_code == 302
    assert client.get("/admin/users").status_code == 200
    _block(pg_database, allowed=False)
    try:
        for url in ("/admin/users", "/home", "/login"):
            down = client.get(url)
            if url == "/login" and down.status_code == 200:
                continue  # the sign-in form itself needs no database
            assert down.status_code == 503, (url, down.status_code)
            body = down.get_data(as_text=True)
            assert "text/html" in down.headers["Content-Type"]
            assert "Traceback" not in body
            assert "psycopg" not in body  # no internals shown
            assert "OperationalError" not in body
        api = client.get("/api/v1/campaigns", headers={"Authorization": "Bearer nothing"})
        assert api.status_code == 503
        assert api.is_json
    finally:
        _block(pg_database, allowed=True)
    statuses = [client.get("/admin/users").status_code for _ in range(3)]
    assert statuses[-1] == 200, statuses
    assert statuses.count(503) <= 1, f"recovery took more than one request: {statuses}"
    with app.app_context():
        db.engine.dispose()
