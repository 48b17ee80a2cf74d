"""Translated labels for the codes the closing review stores (states, outcomes, marks)."""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label

LABELS: dict[str, Any] = {
    # review states
    "not_started": _l("Not checked yet"),
    "awaiting_first": _l("Awaiting first-level check"),
    "awaiting_second": _l("Awaiting second-level check"),
    "returned": _l("Returned for missing materials"),
    "closed": _l("Closed (both levels passed)"),
    # check outcomes
    "passed": _l("Passed"),
    # marks
    "present": _l("Present"),
    "missing": _l("Missing"),
    "defective": _l("Defective"),
    "not_applicable": _l("Not applicable"),
    # levels
    "1": _l("First level (agency)"),
    "2": _l("Second level"),
}


def closing_label(value: Any) -> str:
    """The translated label of a code of this domain; unknown codes are shown as they are."""
    return label(value, LABELS)
