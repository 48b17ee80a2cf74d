"""Translated labels for stored codes (enums, roles, states), kept outside the database."""

from __future__ import annotations

from enum import Enum
from typing import Any

from evalplat.i18n import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # roles
    "organiser": _l("Organiser"),
    "agency_staff": _l("Agency staff"),
    "peer_reviewer": _l("Peer reviewer"),
    "evaluator": _l("Third-party evaluator"),
    "adjudicator": _l("Adjudicator"),
    "second_checker": _l("Second-level file checker"),
    # case types
    "criminal": _l("Criminal"),
    "civil": _l("Civil"),
    "administrative": _l("Administrative"),
    "non_litigation": _l("Non-litigation"),
    # reviewer kinds
    "peer": _l("Peer lawyer"),
    # grades
    "excellent": _l("Excellent"),
    "good": _l("Good"),
    "pass": _l("Pass"),
    "fail": _l("Fail"),
    # campaign states
    "draft": _l("Draft"),
    "sampled": _l("Sampled"),
    "assigned": _l("Assigned"),
    "scoring": _l("Scoring"),
    "consolidating": _l("Consolidating"),
    "published": _l("Published"),
    "appeals_closed": _l("Appeals closed"),
    "final": _l("Final"),
    # assignment states
    "offered": _l("To accept"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "submitted": _l("Submitted"),
    "withdrawn": _l("Withdrawn"),
    # appeal states
    "filed": _l("Filed"),
    "rejected": _l("Rejected"),
    "decided": _l("Decided"),
    # assignment rounds
    "calibration": _l("Calibration"),
    "initial": _l("Initial review"),
    "adjudication": _l("Adjudication"),
    "appeal": _l("Appeal re-review"),
    # region levels
    "province": _l("Province"),
    "city": _l("Prefecture-level city"),
    "county": _l("County"),
}


def label(value: Any, table: dict[str, Any] | None = None) -> str:
    """The translated label of a stored code (from ``table``, default the shared one); unknown codes as they are."""
    if value is None:
        return ""
    key = value.value if isinstance(value, Enum) else str(value)
    text = (LABELS if table is None else table).get(key)
    return str(text) if text is not None else key


FILTERS = {"label": label}
