"""Fixtures of the security tests: a seeded demo world on its own SQLite file, restored before every test.

The world (see world.py) is built once per session into a template database with the real operations; each
test gets a pristine copy (SQLite online backup, milliseconds), so tests may post, fail and mutate freely.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent))  # world.py, crawl.py for the test modules

from world import PASSWORD, World, build_world  # noqa: E402

from evalplat.files import generate_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA_KEYS = "sec1:" + generate_key()
SECRET_KEY = "security-tests-secret-key-0123456789abcdef"


def make_world_app(tmp: Path, db_file: Path, **extra: Any) -> Flask:
    """An app on ``db_file`` with the world's key ring and storage (configured as the environment would)."""
    from evalplat import create_app

    app = create_app({
        "TESTING": True, "EVALPLAT_ENV": "testing", "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "WTF_CSRF_ENABLED": False,
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


@pytest.fixture(scope="session")
def world_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World, Path, Path]]:
    from flask_migrate import upgrade

    from evalplat.extensions import db
    from evalplat.services import get_storage

    tmp = tmp_path_factory.mktemp("security")
    template, live = tmp / "template.db", tmp / "live.db"
    app = make_world_app(tmp, template)
    activate(app)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        world = build_world(db.session, get_storage())
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(template) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    live_app = make_world_app(tmp, live)
    yield live_app, world, template, live
    with live_app.app_context():
        db.engine.dispose()


def restore(app: Flask, template: Path, live: Path) -> None:
    """Put the pristine world back into the live database file."""
    from evalplat.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    src, dst = sqlite3.connect(template), sqlite3.connect(live)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def world_app(world_setup: tuple[Flask, World, Path, Path]) -> Iterator[Flask]:
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
def world(world_setup: tuple[Flask, World, Path, Path], world_app: Flask) -> World:
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

    from evalplat.campaigns.models import Assignment
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
