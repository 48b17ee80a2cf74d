"""``flask notify due``: store and e-mail every notification not yet given (deadlines approaching and passed,
offers, decisions, appeals, publications). Run it from cron, or enqueue the ``notifications.sync`` job."""

from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.group("notify")
    def notify() -> None:
        """Notifications and reminders."""

    @notify.command("due")
    @click.option("--no-mail", is_flag=True, help="Store the notifications without sending e-mail.")
    @click.option("--job", "as_job", is_flag=True, help="Run it on the job backend instead of here.")
    def due(no_mail: bool, as_job: bool) -> None:
        """Remind reviewers of deadlines and tell everyone what waits for them."""
        from evalplat import jobs
        from evalplat.db import utcnow
        from evalplat.extensions import db
        from evalplat.notifications import operations

        if as_job:
            click.echo(f"queued job {jobs.enqueue('notifications.sync')}")
            return
        counts = operations.sync(db.session, now=utcnow(), send_mail=not no_mail)
        db.session.commit()
        total = sum(counts.values())
        click.echo(f"{total} notifications" + (": " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
                                              if total else ""))
