"""Labels of the codes the results and appeals pages show (kept here, next to the domain that stores them)."""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label as core_label
from evalplat.labels import register

LABELS: dict[str, Any] = register({
    "consensus": _l("Consensus"),
    "adjudicated": _l("Adjudicated"),
    "spread_above_threshold": _l("Totals too far apart"),
    "grades_apart": _l("Grades more than one band apart"),
    "veto_one_side": _l("Veto raised by only some reviewers"),
    "extreme_grade": _l("Extreme grade (always re-reviewed)"),
    "lenient": _l("Lenient"),
    "severe": _l("Severe"),
    "inconsistent": _l("Inconsistent"),
    "changed": _l("Result changed"),
    "upheld": _l("Result upheld"),
    "rejected": _l("Rejected"),
    "accepted": _l("Accepted for re-review"),
    "raw": _l("Raw"),
    "calibrated": _l("Bias-corrected"),
    "total": _l("Total score"),
    "mean": _l("Mean"),
    "median": _l("Median"),
    "trimmed": _l("Trimmed mean"),
})


def result_label(value: Any) -> str:
    """The translated label of a results code; other codes fall back to the platform's labels."""
    key = getattr(value, "value", value)
    text = LABELS.get(str(key)) if key is not None else None
    return str(text) if text is not None else core_label(value)


def reviewer_name(letter: str) -> str:
    """评估人A / Reviewer A."""
    from flask_babel import gettext as _

    return _("Reviewer %(letter)s", letter=letter)
