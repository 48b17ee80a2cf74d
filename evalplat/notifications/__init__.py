"""Notifications: an in-platform list per user, and e-mail through ``EVALPLAT_SMTP_URL``.

Events are found by scanning the state of the platform (:func:`operations.sync`): new offers, decisions to make,
deadlines approaching and passed, appeals filed and decided, results published, a case changed after its
reviewer began scoring it. Each (user, kind, object) is
notified once, so a scan may run as often as wanted: after the pages that cause events, from ``flask notify
due`` and as the ``notifications.sync`` job on the job backend.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def soon() -> None:
    """Queue a scan for new notifications (after a page that caused events has committed)."""
    from evalplat import jobs

    try:
        jobs.enqueue("notifications.sync")
    except Exception as exc:  # noqa: BLE001 - a missed scan is caught up by the next one or `flask notify due`
        log.warning("notifications scan not queued: %s", exc)
