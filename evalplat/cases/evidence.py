"""What reviewers are told when an organiser changes the file or the fields of a case they have begun scoring.

A panel on the reviewer's case page (evalplat.reviews' case panels) lists the changes to the frozen case's
file or fields made after the reviewer started scoring it: when, what (a document of which kind added, removed or
reprocessed; which fields corrected), and the organiser's reason as redacted with the case's known names when it was written.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup

from evalplat.cases.corrections import field_label
from evalplat.cases.labels import case_label
from evalplat.cases.models import EvidenceChange
from evalplat.extensions import db


def changes_after(case_id: int, since: Any) -> list[EvidenceChange]:
    return list(db.session.scalars(sa.select(EvidenceChange)
                                   .where(EvidenceChange.case_id == case_id, EvidenceChange.at > since)
                                   .order_by(EvidenceChange.at, EvidenceChange.id)))


def field_list(fields: list[str] | None) -> str:
    """The corrected fields' labels in the reader's language, separated by middle dots."""
    return " · ".join(str(field_label(name)) for name in fields or [])


def evidence_panel(assignment: Any, review: Any) -> Markup | None:
    """The changes to the case's file since this reviewer began scoring it (None if they have not begun)."""
    changed = assignment.sample.evidence_changed_at
    if review is None or changed is None or changed <= review.started_at:
        return None  # no query on the usual page view
    changes = changes_after(assignment.sample.case_id, review.started_at)
    if not changes:
        return None
    return Markup(render_template("cases/_evidence_changes.html", changes=changes,  # noqa: S704 - autoescaped template
                                  case_label=case_label, field_list=field_list))
