"""E-mail through ``EVALPLAT_SMTP_URL``; without it (development) messages go to the log.

``smtp://user:password@host:587?from=noreply@example.org&starttls=1`` (plain SMTP, optionally STARTTLS) or
``smtps://…`` (TLS from the start). The password may be percent-encoded.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

log = logging.getLogger(__name__)

DEFAULT_FROM = "evalplat@localhost"


class MailError(Exception):
    """The configured server refused or could not be reached (the notification stays in the platform)."""


def send(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; True when it went to a server, False when it was only logged."""
    url = (current_app.config.get("EVALPLAT_SMTP_URL") or "").strip()
    if not url:
        log.info("e-mail (EVALPLAT_SMTP_URL unset, not sent) to %s: %s\n%s", to, subject, body)
        return False
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    message = EmailMessage()
    message["From"] = options.get("from", DEFAULT_FROM)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    try:
        if secure:
            client: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname or "localhost", port, timeout=10,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(parts.hostname or "localhost", port, timeout=10)
        with client:
            if not secure and options.get("starttls") in ("1", "true", "yes"):
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{parts.hostname}:{port}: {exc}") from exc
    return True
