"""Case import speed: 1,400,000 CSV rows into SQLite with validation vs a bare sqlite3 executemany; PostgreSQL beside.

Usage: .venv/bin/python bench/bench_import.py [ROWS] [--no-postgres]
       .venv/bin/python bench/bench_import.py [ROWS] --validator-only

``--validator-only`` times the row validator alone (no database, no file reading): the same generated rows,
read into memory first, through ``_Validator.validate``; then the same rows each with one bad cell (an
unknown licence number), which take the second, collecting pass. Best of three.

The bare baseline reads the same CSV with the csv module and inserts the same rows with one
``executemany`` into an identical, freshly migrated ``cases`` table (agency looked up in a dict, no other
checks). The platform path is ``evalplat.cases.importer.import_cases`` — both passes, validation, duplicate
detection and the insert — then a commit. The importer raises SQLite's page cache to
``BULK_CACHE_KIB`` for its write pass; a second bare run with the same cache is printed for reference.
Rows carry no party names (encrypting names costs about 11 µs each and is measured separately with a
smaller file). PostgreSQL runs when 127.0.0.1:5432 is reachable.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["法律援助机构", "案号", "年度", "序号", "案件类型", "案由", "申请日期", "指派日期", "结案日期",
          "承办律师执业证号"]
TYPES = ["刑事", "民事", "行政", "非诉讼"]
CAUSES = ["盗窃罪", "故意伤害罪", "劳动争议", "婚姻家庭纠纷", "交通事故责任纠纷", "工伤认定"]


def machine() -> str:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()} · {cpu} · {os.cpu_count()} cores · {mem:.0f} GiB · Python {platform.python_version()}"
            f" · SQLite {sqlite3.sqlite_version}")


def generate(path: Path, rows: int, agencies: int, lawyers: int, parties: bool = False) -> None:
    rng = random.Random(20240601)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER + (["受援人"] if parties else []))
        for i in range(rows):
            agency = i % agencies
            month = rng.randint(1, 9)
            record = [f"A{agency:04d}", f"援〔2024〕第{i:07d}号", "2024", str(i // agencies + 1),
                      TYPES[i % 4], CAUSES[i % len(CAUSES)], f"2024-{month:02d}-01", f"2024-{month:02d}-03",
                      f"2024-{month + 2:02d}-15", f"L{rng.randrange(lawyers):08d}"]
            if parties:
                record.append(f"当事人{i}")
            writer.writerow(record)


def make_app(url: str, tmp: Path):  # type: ignore[no-untyped-def]
    from evalplat import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_ENV": "testing", "TESTING": True,
                      "SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
                      "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}",
                      "EVALPLAT_DATA_KEYS": "b1:" + __import__("evalplat.files", fromlist=["x"]).generate_key()})
    with app.app_context():
        import logging

        from flask_migrate import upgrade

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade(directory=str(ROOT / "migrations"))
    return app


def seed(app, agencies: int, lawyers: int) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from evalplat.extensions import db
    from evalplat.organisations.models import Agency, Firm, Lawyer, Region

    with app.app_context():
        db.session.add(Region(id=1, code="440000", name="广东省", level="province"))
        db.session.flush()
        db.session.execute(sa.insert(Agency), [{"id": i + 1, "code": f"A{i:04d}", "name": f"第{i}法律援助处",
                                                "region_id": 1, "city_id": 1} for i in range(agencies)])
        db.session.execute(sa.insert(Firm), [{"id": 1, "name": "律所", "region_id": 1, "city_id": 1}])
        db.session.execute(sa.insert(Lawyer), [{"name": f"律师{i}", "licence_no": f"L{i:08d}", "firm_id": 1,
                                                "years_of_practice": 5, "case_types": []} for i in range(lawyers)])
        db.session.commit()


def run_import(app, path: Path) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from evalplat.cases import importer
    from evalplat.extensions import db

    with app.app_context():
        started = time.perf_counter()
        report = importer.import_cases(db.session, actor=None, source=path)
        if not report.ok:
            raise SystemExit(f"import failed: {[e.as_dict() for e in report.errors[:5]]}")
        db.session.commit()
        return time.perf_counter() - started, report.created


def bare(db_path: Path, path: Path, agencies: int, cache_kib: int | None = None) -> float:
    """csv.reader + one executemany into an identical cases table, no validation.

    ``cache_kib`` sets SQLite's page cache as the importer does for its write pass (default: SQLite's 2 MiB).
    """
    ids = {f"A{i:04d}": i + 1 for i in range(agencies)}
    types = {"刑事": "criminal", "民事": "civil", "行政": "administrative", "非诉讼": "non_litigation"}
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    if cache_kib:
        connection.execute(f"PRAGMA cache_size=-{cache_kib}")
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        stamp = "2024-12-01 00:00:00.000000"
        connection.executemany(
            "INSERT INTO cases (agency_id, case_number, year, sequence_no, case_type, cause, stage_reached, "
            "applied_on, assigned_on, closed_on, result, created_at) VALUES (?,?,?,?,?,?,'',?,?,?,'',?)",
            ((ids[r[0]], r[1], int(r[2]), int(r[3]), types[r[4]], r[5], r[6], r[7], r[8], stamp) for r in reader))
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def postgres_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=2) as conn:
            conn.execute("DROP DATABASE IF EXISTS evalplat_bench_import")
            conn.execute("CREATE DATABASE evalplat_bench_import")
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL: not reachable ({type(exc).__name__}); skipped")
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/evalplat_bench_import"


def drop_postgres() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS evalplat_bench_import WITH (FORCE)")


def bench_validator(rows: int, agencies: int, lawyers: int) -> None:
    """µs per row of the importer's validator on clean rows and on rows with one error each."""
    from evalplat.cases import importer

    with tempfile.TemporaryDirectory() as tmpdir:
        path = Path(tmpdir) / "cases.csv"
        generate(path, rows, agencies, lawyers)
        with path.open(encoding="utf-8", newline="") as fh:
            header, *data = list(csv.reader(fh))
    names = {f"A{i:04d}": i + 1 for i in range(agencies)} | {f"第{i}法律援助处": i + 1 for i in range(agencies)}
    lookups = importer._Lookups(names, {i + 1: f"第{i}法律援助处" for i in range(agencies)},
                                {f"L{i:08d}": (i + 1, 1) for i in range(lawyers)}, set(), None)
    licence = header.index("承办律师执业证号")
    bad = [[*cells[:licence], "unknown", *cells[licence + 1:]] for cells in data]
    for label, table in (("clean rows", data), ("rows with one error each", bad)):
        best = float("inf")
        for _ in range(3):
            report = importer.ImportReport("bench.csv")
            positions = importer._read_header(header, report, 100)
            validate = importer._Validator(lookups, positions, report, 100, len(header)).validate
            started = time.perf_counter()
            for number, cells in enumerate(table, start=2):
                validate(number, cells)
            best = min(best, time.perf_counter() - started)
        assert report.error_count == (0 if table is data else len(table))
        print(f"validator, {label}: {best / len(table) * 1e6:6.2f} µs/row ({len(table):,} rows, best of 3)")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 1_400_000
    agencies, lawyers = 150, 20_000
    print(f"machine: {machine()}")
    if "--validator-only" in sys.argv:
        bench_validator(rows, agencies, lawyers)
        return
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        csv_path = tmp / "cases.csv"
        t = time.perf_counter()
        generate(csv_path, rows, agencies, lawyers)
        print(f"generated {rows:,} rows, {csv_path.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - t:.1f} s")

        app = make_app(f"sqlite:///{tmp / 'platform.db'}", tmp)
        seed(app, agencies, lawyers)
        # the bare baselines get their own migrated databases with the same schema and seed
        for name in ("bare.db", "bare_cache.db"):
            bare_app = make_app(f"sqlite:///{tmp / name}", tmp)
            seed(bare_app, agencies, lawyers)
            with bare_app.app_context():
                from evalplat.extensions import db

                db.engine.dispose()

        from evalplat.cases.importer import BULK_CACHE_KIB

        bare_s = bare(tmp / "bare.db", csv_path, agencies)
        bare_cache_s = bare(tmp / "bare_cache.db", csv_path, agencies, BULK_CACHE_KIB)
        platform_s, created = run_import(app, csv_path)
        again_s, _ = run_import(app, csv_path)
        print(f"SQLite bare executemany:          {bare_s:7.2f} s  ({rows / bare_s:,.0f} rows/s)")
        print(f"SQLite bare, {BULK_CACHE_KIB // 1024} MiB page cache:   {bare_cache_s:7.2f} s  (the importer's cache; for reference)")
        print(f"SQLite evalplat import+validate:  {platform_s:7.2f} s  ({created:,} rows, {rows / platform_s:,.0f} rows/s)"
              f"  ratio {platform_s / bare_s:.2f}x (target <= 3x); {platform_s / bare_cache_s:.2f}x the same-cache bare")
        print(f"SQLite re-import (idempotent, 0 written): {again_s:.2f} s")

        small = tmp / "parties.csv"
        generate(small, 100_000, agencies, lawyers, parties=True)
        small_app = make_app(f"sqlite:///{tmp / 'parties.db'}", tmp)
        seed(small_app, agencies, lawyers)
        parties_s, _ = run_import(small_app, small)
        print(f"SQLite import of 100,000 rows with one encrypted party name each: {parties_s:.2f} s")

        url = None if "--no-postgres" in sys.argv else postgres_url()
        if url:
            try:
                pg_app = make_app(url, tmp)
                seed(pg_app, agencies, lawyers)
                pg_s, _ = run_import(pg_app, csv_path)
                print(f"PostgreSQL evalplat import+validate (COPY): {pg_s:7.2f} s  ({rows / pg_s:,.0f} rows/s)")
                with pg_app.app_context():
                    from evalplat.extensions import db

                    db.engine.dispose()
            finally:
                drop_postgres()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")



if __name__ == "__main__":
    main()
