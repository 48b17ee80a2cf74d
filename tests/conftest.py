"""Shared fixtures: the app on a migrated database, a clean database per test, factories and sign-in.

The database is SQLite (a temporary file) unless EVALPLAT_TEST_DATABASE_URL names another one (the
PostgreSQL run of ``make test`` sets it). The schema is built by running the Alembic migrations, never by
``create_all``. After every test all rows are deleted, so tests may commit freely and several connections
(concurrency tests) see the same data.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests_support import empty_postgres_tables

from evalplat import create_app
from evalplat.accounts import passwords
from evalplat.accounts.models import Role, User
from evalplat.extensions import db as _db

passwords.configure(fast=True)

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _database_url(tmp: Path) -> str:
    return os.environ.get("EVALPLAT_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


_WORKER_DATABASE: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own.

    ``make test`` runs the suite in parallel worker processes. SQLite databases are already per worker
    (temporary directories); for PostgreSQL the database named by EVALPLAT_TEST_DATABASE_URL is the
    controller's, and each worker creates ``<name>_<worker>`` beside it (and drops it at the end), so that
    workers never wipe each other's rows. Every test in the worker — including the ones that read the
    variable themselves — sees the worker's database.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("EVALPLAT_TEST_DATABASE_URL", "")
    if not worker or not url.startswith("postgresql"):
        return
    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_{worker}"
    with _admin_connection(parsed) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    _WORKER_DATABASE["name"] = name
    _WORKER_DATABASE["url"] = url
    os.environ["EVALPLAT_TEST_DATABASE_URL"] = parsed.set(database=name).render_as_string(hide_password=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    name = _WORKER_DATABASE.pop("name", None)
    if name is None:
        return
    url = _WORKER_DATABASE.pop("url")
    os.environ["EVALPLAT_TEST_DATABASE_URL"] = url
    with _admin_connection(sa.engine.make_url(url)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_connection(url: sa.engine.URL) -> Any:
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return psycopg.connect(admin, autocommit=True)


# Fixtures that put a test on the configured database: the app's, and the security suite's world (which
# builds its own database beside it on PostgreSQL).
DATABASE_FIXTURES = frozenset({"app", "world_setup"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that never touch the database are marked ``nodb``; the PostgreSQL run leaves them out."""
    for item in items:
        if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.nodb)


def redis_required() -> bool:
    """CI (``.ci/run`` starts Redis) must run the Redis tests: there a missing server fails them, not skips."""
    return os.environ.get("EVALPLAT_REQUIRE_REDIS") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server of the RQ tests (EVALPLAT_TEST_REDIS_URL, else database 15 on 127.0.0.1:6379).

    Skipped when no server answers, unless :func:`redis_required` — then it is a failure that says why.
    """
    url = os.environ.get("EVALPLAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable Redis here
        message = f"Redis is not reachable at {url} ({type(exc).__name__}: {exc})"
        if redis_required():
            pytest.fail(f"{message}; CI requires it (EVALPLAT_REQUIRE_REDIS=1 / CI=true)")
        pytest.skip(f"{message}: start redis-server to run the RQ tests")
    return url


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("evalplat")
    application = create_app({
        "TESTING": True,
        "EVALPLAT_ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp),
        "WTF_CSRF_ENABLED": False,
        "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}",
        "SERVER_NAME": "localhost",
    })
    # Tests keep an application context open while the client makes requests, so requests would share
    # ``g`` (and its cached user and locale). Start every request with a fresh one, as production does.
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    with application.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
    yield application
    with application.app_context():
        _db.engine.dispose()


_BACKENDS: dict[int, Any] = {}


@pytest.fixture(autouse=True)
def _jobs_run_in_the_test_app(request: pytest.FixtureRequest) -> None:
    """Background jobs of a test using ``app`` run in that app.

    Every ``create_app`` installs the process-wide job backend for itself (one app per process in
    production); tests that build apps of their own (migrations, configuration) would otherwise leave later
    tests' jobs running in an app whose database is gone.
    """
    if "app" not in request.fixturenames:
        return
    from evalplat import jobs
    from evalplat.jobs.inprocess import InProcessBackend

    app = request.getfixturevalue("app")
    backend = _BACKENDS.get(id(app))
    if backend is None or jobs.get_backend() is not backend:
        backend = _BACKENDS[id(app)] = InProcessBackend(context_factory=app.app_context)
        jobs.set_backend(backend)


def _fresh_g() -> None:
    from flask import g

    for key in list(vars(g)):
        delattr(g, key)


def _all_tables() -> list[str]:
    return [t.name for t in reversed(_db.metadata.sorted_tables)]


def wipe(app: Flask) -> None:
    with app.app_context():
        _db.session.remove()
        engine = _db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                empty_postgres_tables(conn, _all_tables())
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                for table in _all_tables():
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database, empty at the start of the test; an application context is pushed."""
    with app.app_context():
        yield _db
        _db.session.remove()
    _wait_for_jobs()
    wipe(app)


def _wait_for_jobs() -> None:
    """Let in-process jobs a test started finish before its rows go (their ids are reused next)."""
    from evalplat import jobs
    from evalplat.jobs.inprocess import InProcessBackend

    backend = jobs.get_backend()
    if isinstance(backend, InProcessBackend) and not backend.wait_idle(timeout=60):
        raise RuntimeError("in-process jobs still running 60 s after the test ended")


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def csrf_on(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


# --- factories -----------------------------------------------------------------------------------------

_seq = itertools.count(1)


@pytest.fixture
def make_region(db: Any) -> Callable[..., Any]:
    from evalplat.organisations.models import Region, RegionLevel

    def make(name: str | None = None, level: str = "city", parent: Any = None, code: str | None = None) -> Region:
        n = next(_seq)
        region = Region(code=code or f"R{n:05d}", name=name or f"测试市{n}", level=RegionLevel(level), parent=parent)
        db.session.add(region)
        db.session.flush()
        return region

    return make


@pytest.fixture
def make_agency(db: Any, make_region: Callable[..., Any]) -> Callable[..., Any]:
    from evalplat.organisations.models import Agency

    def make(name: str | None = None, city: Any = None, region: Any = None) -> Agency:
        n = next(_seq)
        city = city or make_region()
        agency = Agency(code=f"A{n:05d}", name=name or f"测试法律援助中心{n}", region=region or city, city=city)
        db.session.add(agency)
        db.session.flush()
        return agency

    return make


@pytest.fixture
def make_firm(db: Any, make_region: Callable[..., Any]) -> Callable[..., Any]:
    from evalplat.organisations.models import Firm

    def make(name: str | None = None, city: Any = None) -> Firm:
        n = next(_seq)
        city = city or make_region()
        firm = Firm(name=name or f"测试律师事务所{n}", region=city, city=city)
        db.session.add(firm)
        db.session.flush()
        return firm

    return make


@pytest.fixture
def make_lawyer(db: Any, make_firm: Callable[..., Any]) -> Callable[..., Any]:
    from evalplat.organisations.models import Lawyer

    def make(name: str | None = None, firm: Any = None, years: int = 5) -> Lawyer:
        n = next(_seq)
        lawyer = Lawyer(name=name or f"律师{n}", licence_no=f"144072010{n:08d}", firm=firm or make_firm(),
                        years_of_practice=years, case_types=["criminal", "civil"])
        db.session.add(lawyer)
        db.session.flush()
        return lawyer

    return make


@pytest.fixture
def make_user(db: Any, make_agency: Callable[..., Any]) -> Callable[..., User]:
    from evalplat.accounts import operations

    def make(role: str | Role | list[Role | str] = Role.ORGANISER, agency: Any = None,
             username: str | None = None, password: str = TEST_PASSWORD) -> User:
        roles = [role] if isinstance(role, (str, Role)) else list(role)
        if Role.AGENCY_STAFF in {Role(r) for r in roles} and agency is None:
            agency = make_agency()
        user = operations.create_user(db.session, actor=None, username=username or f"user{next(_seq)}",
                                      display_name="测试用户", password=password, roles=roles, agency=agency)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_reviewer(db: Any, make_user: Callable[..., User], make_region: Callable[..., Any],
                  make_lawyer: Callable[..., Any]) -> Callable[..., Any]:
    from evalplat.organisations.models import ReviewerKind, ReviewerProfile

    def make(kind: str = "peer", city: Any = None, case_types: tuple[str, ...] = ("criminal", "civil"),
             capacity: int = 10, user: User | None = None, lawyer: Any = None,
             jurisdiction: Any = None) -> ReviewerProfile:
        from evalplat.organisations.jurisdiction import national_region

        city = city or make_region()
        role = Role.PEER_REVIEWER if kind == "peer" else Role.EVALUATOR
        user = user or make_user(role)
        if kind == "peer":
            lawyer = lawyer or make_lawyer()
        profile = ReviewerProfile(user=user, kind=ReviewerKind(kind), region=city, city=city,
                                  jurisdiction=jurisdiction or national_region(db.session),
                                  firm_id=lawyer.firm_id if lawyer else None, lawyer=lawyer,
                                  case_types=list(case_types), capacity=capacity)
        db.session.add(profile)
        db.session.commit()
        return profile

    return make


@pytest.fixture
def make_case(db: Any, make_agency: Callable[..., Any], make_lawyer: Callable[..., Any]) -> Callable[..., Any]:
    from evalplat.cases.models import Case
    from evalplat.organisations.models import CaseType

    def make(agency: Any = None, case_type: str = "criminal", lawyer: Any = None, number: str | None = None,
             year: int = 2024, released: bool = True, **fields: Any) -> Case:
        """A case; ``released``: its facts redacted and approved, as if the organiser had checked the case
        (reviewers are offered only such cases)."""
        n = next(_seq)
        lawyer = lawyer or make_lawyer()
        case = Case(agency=agency or make_agency(), case_number=number or f"援字〔{year}〕第{n:04d}号", year=year,
                    sequence_no=n, case_type=CaseType(case_type), cause=fields.pop("cause", "盗窃罪"),
                    assigned_on=fields.pop("assigned_on", date(year, 3, 1)),
                    closed_on=fields.pop("closed_on", date(year, 9, 1)), lawyer=lawyer,
                    firm_id=lawyer.firm_id, **fields)
        db.session.add(case)
        db.session.commit()
        if released:
            release_case(case)
        return case

    return make


def release_case(case: Any) -> None:
    """Redact the case's facts and mark the case's redaction approved (tests of what follows the check)."""
    from evalplat.cases.models import CaseRedaction, RedactionStatus
    from evalplat.cases.operations import facts_of_case, known_for_case, redact_facts

    facts = redact_facts(known_for_case(case), facts_of_case(case))
    db_session = _session_of(case)
    db_session.add(CaseRedaction(case_id=case.id, fields=facts.fields, spans=facts.spans, flags=facts.flags,
                                 open_flags=0, status=RedactionStatus.APPROVED))
    db_session.commit()


def _session_of(obj: Any) -> Any:
    from sqlalchemy.orm import object_session

    return object_session(obj)


def login_as(client: FlaskClient, user: User, password: str = TEST_PASSWORD) -> Any:
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302, f"login of {user.username} failed"
    return response


@pytest.fixture
def login() -> Callable[[FlaskClient, User], Any]:
    return login_as


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(db: Any) -> Callable[[], Any]:
    """``with count_queries() as q: …; assert q.count <= N`` — catches N+1 queries."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting
