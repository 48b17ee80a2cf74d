"""``flask audit verify``: check the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from evalplat.audit.operations import iter_chain_breaks
from evalplat.extensions import db

audit = AppGroup("audit", help="The tamper-evident audit log.")


@audit.command("verify")
def verify() -> None:
    """Walk the whole chain; exit 1 and name every broken event when a row was edited or deleted."""
    breaks = 0
    for brk in iter_chain_breaks(db.session):
        breaks += 1
        click.echo(f"event {brk.event_id}: {brk.reason.replace('_', ' ')}", err=True)
    if breaks:
        click.echo(f"audit log is NOT intact: {breaks} problem(s)", err=True)
        sys.exit(1)
    click.echo("audit log intact")


def register(app: Flask) -> None:
    app.cli.add_command(audit)
