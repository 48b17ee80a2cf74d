"""``flask backup`` and ``flask restore``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app

from evalplat.extensions import db
from evalplat.ops.backup import BackupError, backup, restore


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Backup file (default: instance/backups/evalplat-<UTC time>.<ext>).")
    def backup_command(out: Path | None) -> None:
        """Back up the configured database (SQLite online backup, or pg_dump on PostgreSQL)."""
        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if out is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            ext = "sqlite" if url.startswith("sqlite") else "pgdump"
            out = Path(current_app.instance_path) / "backups" / f"evalplat-{stamp}.{ext}"
        try:
            result = backup(url, out)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"backup written: {result.path} ({result.size:,} bytes, {result.kind})")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(source: Path, yes: bool) -> None:
        """Replace the configured database's contents with a backup."""
        if not yes:
            click.confirm("This replaces every row of the configured database. Continue?", abort=True)
        db.session.remove()
        db.engine.dispose()
        try:
            restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"restored from {source}")
