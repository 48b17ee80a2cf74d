"""An import killed halfway (SIGKILL) leaves no partial data; running it again completes it, once, and a
further run changes nothing.

``flask --app wsgi cases import`` runs as a separate process on a throw-away database of the suite's kind
(a SQLite file, or a new PostgreSQL database on the test server when EVALPLAT_TEST_DATABASE_URL points at
PostgreSQL). The process is killed once its write pass has begun (its progress bar's "write" label on
stderr appears after the first chunk of 5,000 cases is in its open transaction; on PostgreSQL the test
also sees that transaction holding a transaction id). It is then run again to completion with the same
command, and the idempotence of a further run is checked in this process with the same importer.
"""

from __future__ import annotations

import csv
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from evalplat.cases.importer import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ROWS = 50_000
EARLIER = 200  # cases already in the database before the big import
AGENCIES = ("江海区法律援助处", "蓬江区法律援助处", "新会区法律援助中心", "台山市法律援助处")
LICENCES = ("14407201010100001", "14407201010100002", "14407201010100003")
TYPES = ("刑事", "民事", "行政", "非诉讼")
SECRET = "import-kill-test-secret-key-0123456789abcdef"  # noqa: S105 - test data
LIMIT_SECONDS = 180  # a bound for a slow machine; the import itself takes seconds


@pytest.fixture
def database_url(app: Flask, tmp_path: Path) -> Iterator[str]:
    """A throw-away database of the same kind as the suite's: a SQLite file or a new PostgreSQL database."""
    suite = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    if suite.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'import.db'}"
        return
    admin = suite.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"evalplat_import_kill_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield suite.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The migrated database with a small province, an app on it (for checks) and the command's environment."""
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.extensions import db
    from evalplat.files import CryptoError, generate_key
    from evalplat.files.encrypted_type import configure_keyring, current_keyring
    from evalplat.organisations.models import Agency, Firm, Lawyer, Region, RegionLevel

    try:
        previous = current_keyring()
    except CryptoError:
        previous = None
    keys = f"kill1:{generate_key()}"
    storage = f"file://{tmp_path / 'files'}"
    app = create_app({"EVALPLAT_ENV": "testing", "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url,
                      "EVALPLAT_STORAGE_URL": storage, "EVALPLAT_DATA_KEYS": keys, "EVALPLAT_JOBS_URL": ""})
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            province = Region(code="P44", name="广东省", level=RegionLevel.PROVINCE)
            city = Region(code="C4407", name="江门市", level=RegionLevel.CITY, parent=province)
            agencies = [Agency(code=f"JM{i:02d}", name=name, region=city, city=city)
                        for i, name in enumerate(AGENCIES)]
            firm = Firm(name="广东江海律师事务所", region=city, city=city)
            lawyers = [Lawyer(name=f"律师{i}", licence_no=lic, firm=firm, years_of_practice=5 + i,
                              case_types=["criminal", "civil"]) for i, lic in enumerate(LICENCES)]
            db.session.add_all([province, city, *agencies, firm, *lawyers])
            db.session.commit()
            ids = {a.name: a.id for a in agencies}
            db.session.remove()
        env = {**os.environ, "EVALPLAT_DATABASE_URL": database_url, "EVALPLAT_DATA_KEYS": keys,
               "EVALPLAT_STORAGE_URL": storage, "EVALPLAT_SECRET_KEY": SECRET, "EVALPLAT_ENV": "testing",
               "EVALPLAT_JOBS_URL": ""}
        yield {"app": app, "env": env, "agency_ids": ids}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        configure_keyring(previous)


def _row(n: int, year: int) -> list[str]:
    """Data row ``n`` in the template's column order (every field the template has, parties included)."""
    month, day = 1 + n % 9, 1 + n % 27
    values = {
        "agency": AGENCIES[n % len(AGENCIES)] if year == 2024 else AGENCIES[0],
        "case_number": f"江法援〔{year}〕第{n:06d}号", "year": str(year), "sequence_no": str(n + 1),
        "case_type": TYPES[n % len(TYPES)], "cause": "盗窃罪" if n % 2 else "劳动争议",
        "stage_reached": "一审", "applied_on": f"{year}-{month:02d}-{day:02d}",
        "assigned_on": f"{year}-{month:02d}-{day + 1:02d}", "first_meeting_on": f"{year}-{month:02d}-{day + 1:02d}",
        "closed_on": f"{year}-{month + 3:02d}-{day:02d}", "result": "判处有期徒刑一年",
        "lawyer_licence": LICENCES[n % len(LICENCES)], "client": f"受援人{n}",
        "opponent": f"对方{n}" if n % 3 == 0 else "", "court": "江海区人民法院",
    }
    return [values[c.key] for c in COLUMNS]


def _parties(n: int) -> int:
    return 3 if n % 3 == 0 else 2


def _write_csv(path: Path, rows: range, year: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.zh for c in COLUMNS])
        writer.writerows(_row(n, year) for n in rows)
    return path


def _snapshot(app: Flask) -> dict[str, tuple[int, int]]:
    """(row count, sum of ids) of every table an import writes: any added or removed row changes it."""
    from evalplat.extensions import db

    tables = ("cases", "case_parties", "documents", "audit_events")
    with app.app_context():
        out = {t: tuple(db.session.execute(sa.text(f"SELECT count(*), coalesce(sum(id), 0) FROM {t}")).one())  # noqa: S608
               for t in tables}
        db.session.remove()
    return out


def _writing_uncommitted(app: Flask) -> None:
    """On PostgreSQL, check that the import's transaction has written rows (it holds a transaction id)."""
    url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    if url.get_backend_name() != "postgresql":
        return  # SQLite shows no other connection's open transaction
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        writers = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL").fetchone()
    assert writers is not None
    assert writers[0] == 1, "the import had not begun writing when it was killed"


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _kill_when_writing(command: list[str], env: dict[str, str], just_before: Callable[[], None]) -> str:
    """Start the import, SIGKILL it once its write pass has begun (calling ``just_before`` first); its stderr."""
    started = time.monotonic()
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []
    writing = False
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        stderr, stdout = process.stderr, process.stdout
        assert stderr is not None
        assert stdout is not None

        def pump() -> None:
            for line in stderr:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            while not writing and time.monotonic() - started < LIMIT_SECONDS:
                try:
                    line = lines.get(timeout=1)
                except queue.Empty:
                    continue
                if line is None:  # the process ended by itself
                    break
                seen.append(line)
                writing = line.startswith("write")
            if writing:
                just_before()
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)  # mid-write; or the time limit passed: never leave it running
            process.wait(60)
            reader.join(10)
        out = stdout.read()
    assert writing, f"the import never reached its write pass (exit {process.returncode}): {''.join(seen)[-2000:]}"
    assert process.returncode == -signal.SIGKILL, (
        f"the import was not killed mid-write (exit {process.returncode}); stdout: {out[-500:]}")
    assert "cases imported" not in out
    return "".join(seen)


def test_an_import_killed_while_writing_leaves_nothing_and_a_rerun_completes_it(
        target: dict[str, Any], tmp_path: Path) -> None:
    from evalplat.cases import importer
    from evalplat.cases.models import Case, CaseParty
    from evalplat.extensions import db

    app, env, agency_ids = target["app"], target["env"], target["agency_ids"]
    with app.app_context():
        earlier = importer.import_cases(db.session, actor=None,
                                        source=_write_csv(tmp_path / "earlier.csv", range(EARLIER), 2023))
        assert earlier.ok, earlier.errors[:3]
        db.session.commit()
        db.session.remove()
    big = _write_csv(tmp_path / "cases.csv", range(ROWS), 2024)
    before = _snapshot(app)
    assert before["cases"][0] == EARLIER

    stderr = _kill_when_writing(_flask("cases", "import", str(big)), env, lambda: _writing_uncommitted(app))
    assert "validate" in stderr  # it got through the first pass …
    assert _snapshot(app) == before, "a killed import left rows behind"  # … and nothing of the second stayed

    done = subprocess.run(_flask("cases", "import", str(big)), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=LIMIT_SECONDS, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{ROWS} rows: {ROWS} cases imported, 0 already present" in done.stdout
    expected = {(agency_ids[AGENCIES[n % len(AGENCIES)]], f"江法援〔2024〕第{n:06d}号"): _parties(n)
                for n in range(ROWS)}
    with app.app_context():
        rows = db.session.execute(
            sa.select(Case.agency_id, Case.case_number, sa.func.count(CaseParty.id))
            .outerjoin(CaseParty, CaseParty.case_id == Case.id).where(Case.year == 2024)
            .group_by(Case.id, Case.agency_id, Case.case_number)).all()
        counted = Counter((a, n) for a, n, _p in rows)
        assert len(rows) == ROWS
        assert max(counted.values()) == 1, "a case was imported twice"
        assert {(a, n): p for a, n, p in rows} == expected  # every row, with its parties, exactly once
        sample = db.session.scalar(sa.select(CaseParty).join(Case).where(
            Case.case_number == "江法援〔2024〕第000003号", CaseParty.role == "opponent"))
        assert sample is not None
        assert sample.name == "对方3"  # stored encrypted, readable with the key ring
        db.session.remove()
    complete = _snapshot(app)
    assert complete["cases"][0] == EARLIER + ROWS
    assert complete["documents"] == before["documents"]

    with app.app_context():  # the same import once more (in this process: the command was run twice above)
        again = importer.import_cases(db.session, actor=None, source=big)
        assert again.ok
        assert (again.rows, again.created, again.unchanged) == (ROWS, 0, ROWS)
        db.session.commit()
        db.session.remove()
    after = _snapshot(app)
    assert {t: v for t, v in after.items() if t != "audit_events"} == \
        {t: v for t, v in complete.items() if t != "audit_events"}, "a second run changed the data"
