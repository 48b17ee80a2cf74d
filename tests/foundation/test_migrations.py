"""Migrations build the schema on a fresh database, go down and up again, and match the models."""

import os
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from evalplat import create_app
from evalplat.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


@pytest.fixture
def fresh_database(app, tmp_path):
    """An empty database of the same kind as the suite's (SQLite file, or a new PostgreSQL database)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        name = f"evalplat_mig_{secrets.token_hex(4)}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'mig.db'}"


def test_upgrade_downgrade_upgrade_and_no_drift(fresh_database):
    from flask_migrate import downgrade, upgrade

    other = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": fresh_database})
    with other.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"users", "cases", "campaigns", "reviews", "audit_events"} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        db.engine.dispose()


def test_suite_database_is_the_configured_one(app):
    wanted = os.environ.get("EVALPLAT_TEST_DATABASE_URL")
    if wanted:
        assert app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1] == wanted.split("@")[-1]
    else:
        assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_upgrade_of_a_populated_database_keeps_its_rows(fresh_database):
    """A database that already holds users and rows pointing at them upgrades to the head without loss.

    SQLite alters a table by copying it and dropping the old one; with foreign keys enforced that drop
    failed on every database with an audit trail ("FOREIGN KEY constraint failed: DROP TABLE users").
    """
    from flask_migrate import upgrade

    other = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": fresh_database})
    with other.app_context():
        upgrade(directory=MIGRATIONS, revision="0003")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, active, session_token, "
                "must_change_password, created_at) VALUES (7, 'kept', '保留', 'x', true, 't', false, "
                "CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO audit_events (id, at, actor_id, action, object_type, prev_hash, hash) VALUES "
                "(1, CURRENT_TIMESTAMP, 7, 'user.login', 'user', '', 'h1')"))
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT username FROM users")).scalars().all() == ["kept"]
            assert conn.execute(sa.text("SELECT actor_id FROM audit_events")).scalars().all() == [7]
        db.engine.dispose()
