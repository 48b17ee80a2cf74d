"""``flask reviewers import FILE``: import the reviewer pool from CSV or XLSX (all rows or none)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from evalplat.extensions import db
from evalplat.organisations import importer

reviewers_cli = AppGroup("reviewers", help="Manage the reviewer pool.")


@reviewers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(path: Path) -> None:
    """Import reviewers from a CSV or XLSX file; with any bad row nothing is written."""
    try:
        summary = importer.import_reviewers(db.session, actor=None, data=path.read_bytes(), filename=path.name)
    except importer.ReviewerImportError as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(f"{path.name}: row {error.row}, column {error.column}: {error.message}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problems; nothing was imported") from None
    db.session.commit()
    click.echo(f"{summary.created} reviewers created, {summary.updated} updated"
               + (f", new firms: {', '.join(summary.firms_created)}" if summary.firms_created else ""))


def register(app: Flask) -> None:
    app.cli.add_command(reviewers_cli)
