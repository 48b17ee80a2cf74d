"""WTForms forms of the closing review: the first-level checklist and the second level's decision.

The checklist's items differ per case type and stage, so their marks are read from the submitted form by
:func:`marks_from` (fields ``mark-<item>`` and ``note-<item>``); the fixed fields are WTForms fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

MARK_FIELD = "mark-"
NOTE_FIELD = "note-"


class FirstLevelForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])
    due_on = DateField(_l("Deadline for missing materials (when any; 15 days by default)"),
                       validators=[Optional()])


class SecondLevelForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("confirm", _l("Confirm: the file is complete")),
                                                   SelectChoice("return", _l("Return: materials missing"))],
                          validators=[DataRequired(_l("Choose to confirm or to return the file."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])
    due_on = DateField(_l("Deadline for missing materials (when any; 15 days by default)"),
                       validators=[Optional()])


def marks_from(formdata: Mapping[str, Any], codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The marks given for the checklist's items: ``{code: (status, note)}``; unmarked items are left out."""
    out = {}
    for code in codes:
        status = (formdata.get(MARK_FIELD + code) or "").strip()
        if status:
            out[code] = (status, (formdata.get(NOTE_FIELD + code) or "").strip())
    return out
