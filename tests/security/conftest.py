"""Fixtures of the security tests: a seeded demo world in a database of its own, restored before every test.

The world (see world.py) is built once per session with the real operations; each test gets a pristine copy,
so tests may post, fail and mutate freely. On SQLite the world lives in a template file copied into the live
file (online backup, milliseconds). On PostgreSQL (EVALPLAT_TEST_DATABASE_URL, the PostgreSQL run of
``make test``) it lives in a database of its own, ``<test database>_world``, whose rows are read once and
written back before every test (truncate, insert, sequences reset), so the whole security suite runs on
PostgreSQL too.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent))  # world.py, crawl.py for the test modules

from tests_support import empty_postgres_tables  # noqa: E402
from world import PASSWORD, World, build_world  # noqa: E402

from evalplat.files import generate_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA_KEYS = "sec1:" + generate_key()
SECRET_KEY = "security-tests-secret-key-0123456789abcdef"


def make_world_app(tmp: Path, database: Path | str, **extra: Any) -> Flask:
    """An app on ``database`` (an SQLite file or a URL) with the world's key ring and storage."""
    from evalplat import create_app

    app = create_app({
        "TESTING": True, "EVALPLAT_ENV": "testing", "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database if isinstance(database, str) else f"sqlite:///{database}",
        "WTF_CSRF_ENABLED": False,
        "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}", "EVALPLAT_DATA_KEYS": DATA_KEYS,
        "EVALPLAT_JOBS_URL": "", "SERVER_NAME": "localhost", **extra,
    })
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    return app


def _fresh_g() -> None:
    from flask import g

    for key in list(vars(g)):
        delattr(g, key)


def activate(app: Flask) -> None:
    """Make ``app``'s key ring and job backend the process-wide ones (other test folders set their own)."""
    from evalplat.services import init_app

    init_app(app)


class Snapshot:
    """Every row of a PostgreSQL database, read once, written back on demand (the world's template there).

    Tables are reflected, so values travel as stored (ciphertexts stay ciphertexts) without the models' types.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.metadata = sa.MetaData()
        self.metadata.reflect(bind=engine)
        self.tables = [t for t in self.metadata.sorted_tables if t.name != "alembic_version"]
        with engine.connect() as conn:
            self.rows = {t.name: [dict(r) for r in conn.execute(sa.select(t)).mappings()] for t in self.tables}

    def restore(self, engine: sa.Engine) -> None:
        with engine.begin() as conn:
            empty_postgres_tables(conn, [t.name for t in reversed(self.tables)])
            for table in self.tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])
                for column in table.primary_key.columns:
                    if isinstance(column.type, sa.Integer) and column.autoincrement:
                        conn.execute(sa.text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                            f'COALESCE((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false) '
                            f"WHERE pg_get_serial_sequence('\"{table.name}\"', '{column.name}') IS NOT NULL"))


def _postgres_world() -> tuple[str, Any] | None:
    """A database of its own for the world beside the PostgreSQL test database, and how to drop it."""
    url = os.environ.get("EVALPLAT_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    import psycopg

    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_world"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return (parsed.set(database=name).render_as_string(hide_password=False),
            lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def world_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World, Any, Path | None]]:
    from flask_migrate import upgrade

    from evalplat.extensions import db
    from evalplat.services import get_storage

    tmp = tmp_path_factory.mktemp("security")
    postgres = _postgres_world()
    template: Any = tmp / "template.db"
    live: Path | None = tmp / "live.db"
    app = make_world_app(tmp, postgres[0] if postgres else template)
    activate(app)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        world = build_world(db.session, get_storage())
        db.session.remove()
        if postgres:
            template, live = Snapshot(db.engine), None
        db.engine.dispose()
    if postgres:
        live_app = app
    else:
        with sqlite3.connect(template) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        live_app = make_world_app(tmp, live)
    yield live_app, world, template, live
    with live_app.app_context():
        db.engine.dispose()
    if postgres:
        postgres[1]()


def restore(app: Flask, template: Any, live: Path | None) -> None:
    """Put the pristine world back into the live database (after the jobs the last test started have ended)."""
    from evalplat import jobs
    from evalplat.extensions import db
    from evalplat.jobs.inprocess import InProcessBackend

    backend = jobs.get_backend()
    if isinstance(backend, InProcessBackend) and not backend.wait_idle(timeout=60):
        raise RuntimeError("in-process jobs still running 60 s after the test ended")
    with app.app_context():
        db.session.remove()
        if not isinstance(template, Path):  # a Snapshot (test modules import this file as another module)
            template.restore(db.engine)
            return
        db.engine.dispose()
    src, dst = sqlite3.connect(template), sqlite3.connect(live)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def world_app(world_setup: tuple[Flask, World, Any, Path | None]) -> Iterator[Flask]:
    app, _world, template, live = world_setup
    restore(app, template, live)
    activate(app)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        yield app
        from evalplat.extensions import db

        db.session.remove()
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def world(world_setup: tuple[Flask, World, Any, Path | None], world_app: Flask) -> World:
    return world_setup[1]


def sign_in(app: Flask, user_id: int | None) -> FlaskClient:
    """A client signed in as the user (``None``: anonymous)."""
    from evalplat.accounts.models import User
    from evalplat.extensions import db

    client = app.test_client()
    if user_id is None:
        return client
    user = db.session.get(User, user_id)
    assert user is not None
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, f"login of {user.username} failed"
    return client


def busiest(session: Any, kind: str) -> int:
    """The user id of the reviewer of ``kind`` (peer/evaluator) with the most assignments."""
    import sqlalchemy as sa

    from evalplat.assignments.models import Assignment
    from evalplat.organisations.models import ReviewerProfile

    return session.execute(
        sa.select(ReviewerProfile.user_id).join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
        .where(ReviewerProfile.kind == kind).group_by(ReviewerProfile.user_id)
        .order_by(sa.func.count().desc(), ReviewerProfile.user_id).limit(1)).scalar_one()


def role_users(session: Any, world: World) -> dict[str, int | None]:
    """One signed-in user per role, and anonymous (None)."""
    return {"anonymous": None, "organiser": world.organiser, "agency_staff": world.staff[1],
            "peer_reviewer": busiest(session, "peer"), "evaluator": busiest(session, "evaluator"),
            "adjudicator": world.ids["adjudicator"][0]}
