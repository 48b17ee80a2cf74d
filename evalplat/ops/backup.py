"""Backups of the configured database and their restore.

SQLite is copied with its online backup API (consistent while the platform runs); PostgreSQL is dumped with
``pg_dump --format=custom`` and restored with ``pg_restore --clean``. Uploaded files live in the storage
backend and are backed up with it (a directory or an object store), not here.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why in one line."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--username", url.username or "postgres",
            "--dbname", url.database or "postgres"]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    import os

    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client)")
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{command[0]} failed: {first[0] if first else 'exit ' + str(done.returncode)}")


def backup(database_url: str, target: Path) -> BackupResult:
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return BackupResult(target, target.stat().st_size, "sqlite")
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)
        return BackupResult(target, target.stat().st_size, "pg_dump")
    raise BackupError(f"no backup method for {url.get_backend_name()}")


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup's."""
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with source.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not an SQLite backup")
        src = sqlite3.connect(source)
        dest = sqlite3.connect(_sqlite_path(url))
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    if url.get_backend_name() == "postgresql":
        with source.open("rb") as fh:
            if fh.read(5) != b"PGDMP":
                raise BackupError(f"{source} is not a pg_dump custom-format backup")
        args, env = _pg_args(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(source)], env)
        return
    raise BackupError(f"no restore method for {url.get_backend_name()}")
