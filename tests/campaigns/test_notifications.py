"""Notifications: stored once per event, listed with an unread count, e-mailed to a real SMTP server (aiosmtpd)
unless the user opted out, and the overdue reminders of ``flask notify due``."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.assignments.models import Assignment
from evalplat.db import utcnow
from evalplat.notifications import operations
from evalplat.notifications.models import EmailChoice, Kind, Notification
from evalplat.params import opaque_id


def _assign(db: Any, campaign: Any, organiser: Any, now: Any) -> list[Assignment]:
    from evalplat.assignments import operations as assigning

    run = assigning.preview_run(db.session, campaign=campaign, actor=organiser, now=now)
    assigning.commit_run(db.session, run=run, actor=organiser, now=now)
    future = utcnow() + timedelta(days=20)
    rows = list(db.session.scalars(sa.select(Assignment).order_by(Assignment.id)))
    for a in rows:
        a.due_at = future
    db.session.commit()
    return rows


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(app: Any) -> Iterator[_Inbox]:
    """A real SMTP server on a free port; the app sends to it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    before = app.config.get("EVALPLAT_SMTP_URL")
    app.config["EVALPLAT_SMTP_URL"] = f"smtp://127.0.0.1:{port}?from=evalplat@example.org"
    try:
        yield inbox
    finally:
        app.config["EVALPLAT_SMTP_URL"] = before
        controller.stop()


def _subject(message: Any) -> str:
    return re.sub(r"\s+", " ", str(make_header(decode_header(message["Subject"]))))


def test_offers_are_notified_once_listed_and_counted_in_the_header(client: Any, login: Any, db: Any, province: Any,
                                                                   sampled_campaign: Any, now: Any) -> None:
    rows = _assign(db, sampled_campaign, province.organiser, now)
    counts = operations.sync(db.session, now=utcnow(), send_mail=False)
    db.session.commit()
    assert counts[Kind.OFFER] == len(rows)
    assert sum(operations.sync(db.session, now=utcnow(), send_mail=False).values()) == 0  # once per event
    mine = [a for a in rows if a.reviewer_id == rows[0].reviewer_id]
    login(client, rows[0].reviewer.user)
    client.post("/language/en")
    home = client.get("/home").get_data(as_text=True)
    assert re.search(rf'Notifications <span class="badge badge-unread">{len(mine)}</span>', home)
    page = client.get("/notifications").get_data(as_text=True)
    assert f"Case {mine[0].sample.code} is offered to you for review" in page
    assert f'href="/reviews/{opaque_id(mine[0].id)}"' in page
    assert client.post("/notifications/read").status_code == 302
    assert "badge-unread" not in client.get("/home").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.read_at.is_(None), Notification.user_id == rows[0].reviewer.user_id)) == 0


def test_flask_notify_due_emails_the_overdue_reminder_to_a_real_smtp_server(
        runner: Any, db: Any, province: Any, sampled_campaign: Any, now: Any, smtp_server: _Inbox) -> None:
    rows = _assign(db, sampled_campaign, province.organiser, now)
    late = rows[0]
    late.due_at = utcnow() - timedelta(days=1)
    user = late.reviewer.user
    user.email, user.locale = "late.reviewer@example.org", "en"
    db.session.commit()
    result = runner.invoke(args=["notify", "due"])
    assert result.exit_code == 0, result.output
    assert "overdue 1" in result.output
    to_late = [m for m in smtp_server.messages if m["To"] == "late.reviewer@example.org"]
    subjects = [_subject(m) for m in to_late]
    assert any(f"case {late.sample.code} was due on" in s and "overdue" in s for s in subjects), subjects
    assert all(m["From"] == "evalplat@example.org" for m in to_late)
    db.session.expire_all()
    stored = db.session.scalar(sa.select(Notification).where(Notification.kind == Kind.OVERDUE))
    assert stored.user_id == user.id
    assert stored.emailed_at is not None
    # a second run finds nothing new and sends nothing
    sent = len(smtp_server.messages)
    assert "0 notifications" in runner.invoke(args=["notify", "due"]).output
    assert len(smtp_server.messages) == sent


def test_a_user_who_opts_out_gets_no_email_but_still_the_notification(client: Any, login: Any, db: Any,
                                                                      province: Any, sampled_campaign: Any, now: Any,
                                                                      smtp_server: _Inbox) -> None:
    rows = _assign(db, sampled_campaign, province.organiser, now)
    user = rows[0].reviewer.user
    user.email = "quiet@example.org"
    db.session.commit()
    login(client, user)
    page = client.get("/notifications/email").get_data(as_text=True)
    assert 'name="offer" value="yes" checked' in page
    wanted = {k.value: "yes" for k in Kind if k != Kind.OFFER}
    assert client.post("/notifications/email", data=wanted).status_code == 302
    assert db.session.scalar(sa.select(EmailChoice.kind).where(EmailChoice.user_id == user.id)) == Kind.OFFER
    operations.sync(db.session, now=utcnow())
    db.session.commit()
    assert not [m for m in smtp_server.messages if m["To"] == "quiet@example.org"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.kind == Kind.OFFER)) >= 1


def test_an_unreachable_mail_server_keeps_the_notification(db: Any, app: Any, province: Any,
                                                           sampled_campaign: Any, now: Any) -> None:
    rows = _assign(db, sampled_campaign, province.organiser, now)
    rows[0].reviewer.user.email = "someone@example.org"
    db.session.commit()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app.config["EVALPLAT_SMTP_URL"] = f"smtp://127.0.0.1:{closed}"
    try:
        counts = operations.sync(db.session, now=utcnow())
        db.session.commit()
    finally:
        app.config["EVALPLAT_SMTP_URL"] = ""
    assert counts[Kind.OFFER] == len(rows)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.emailed_at.is_not(None))) == 0
