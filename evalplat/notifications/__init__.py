"""Notifications: an in-platform list per user, and e-mail through ``EVALPLAT_SMTP_URL``.

Events are found by scanning the state of the platform (:func:`operations.sync`): new offers, decisions to make,
deadlines approaching and passed, appeals filed and decided, results published, a case changed after its
reviewer began scoring it. Each (user, kind, object) is
notified once, so a scan may run as often as wanted: after the pages that cause events, from ``flask notify
due`` and as the ``notifications.sync`` job on the job backend.

Who is told, always inside the jurisdiction of the campaign the event belongs to: offers, decisions, deadlines
and case changes go to the assigned reviewer while the reviewer belongs to a pool the campaign may draw on (its
jurisdiction's or an ancestor's); a filed appeal to the organisers of the campaign's own jurisdiction (not its
parent's, not its children's); a decided appeal and published results to the staff of the appealing or sampled
agencies that lie in the campaign's jurisdiction.
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


def on_events_committed(sender: object) -> None:
    """Receiver of :data:`evalplat.signals.events_committed` (connected by the factory): queue a scan."""
    soon()
