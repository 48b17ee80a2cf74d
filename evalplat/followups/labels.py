"""Translated labels for the codes follow-ups store (plan modes, target states, call outcomes, answers)."""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label

LABELS: dict[str, Any] = {
    "all": _l("All closed cases"), "share": _l("A share"), "count": _l("A fixed number"),
    "pending": _l("To call"), "visited": _l("Visited"), "unreachable": _l("Unreachable"), "refused": _l("Refused"),
    "reached": _l("Reached"), "no_answer": _l("No answer"), "out_of_service": _l("Number out of service"),
    "no_such_number": _l("Number does not exist"),
    "yes": _l("Yes"), "no": _l("No"), "unknown": _l("Not known"),
    "open": _l("To handle"), "handled": _l("Handled"),
    "money_or_gifts": _l("Money or gifts taken"), "meals": _l("Meals accepted"), "private_fees": _l("Private fees"),
    "on_time": _l("Absent or late at court"),
}


def followup_label(value: Any) -> str:
    return label(value, LABELS)
