"""Small forms of the reviewer workspace and of the organiser's rubric pages.

* :class:`RubricEditForm` -- edit a rubric definition as YAML or JSON text (validated by the rubric loader);
* :class:`DeclineForm` -- a reviewer declines an assignment, with the reason and an optional conflict;
* :class:`CalibrationForm` -- the organiser gives every reviewer the same training cases.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

DEFINITION_MAX_CHARS = 200_000


class RubricEditForm(FlaskForm):
    """The definition text; ``new_version`` keeps the edited version as it is and stores a new one."""

    definition = TextAreaField(_l("Definition (YAML or JSON)"),
                               validators=[DataRequired(), Length(max=DEFINITION_MAX_CHARS)],
                               render_kw={"rows": 30, "spellcheck": "false", "class": "code"})
    new_version = BooleanField(_l("Save as a new version"), default=True)
    save = SubmitField(_l("Save"))


class DeclineForm(FlaskForm):
    """Why the reviewer declines; ``conflict`` declares a conflict of interest with the case."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 4})
    conflict = BooleanField(_l("I have a conflict of interest with this case"))
    decline = SubmitField(_l("Decline the assignment"))


_IDS = re.compile(r"[\s,，;；]+")


def parse_ids(text: str) -> list[int]:
    """Case ids typed one per line or separated by commas; ``ValueError`` naming the first bad entry."""
    ids = []
    for part in _IDS.split(text or ""):
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or int(part) > 2**31 - 1:  # "²".isdigit() is true; INTEGER ids
            raise ValueError(part)
        ids.append(int(part))
    return ids


class CalibrationForm(FlaskForm):
    """Training cases (their ids in the cases list) and the due date of the calibration round."""

    # the cases ticked in the search results (the picker), and any typed ids
    picked = SelectMultipleField(coerce=int, validate_choice=False)
    case_ids = TextAreaField(_l("Training case ids"), validators=[Optional()], render_kw={"rows": 2})
    due_on = DateField(_l("Due date"), validators=[Optional()])
    start = SubmitField(_l("Give these cases to every reviewer"))

    def validate_case_ids(self, field: StringField) -> None:
        try:
            ids = parse_ids(field.data or "")
        except ValueError as error:
            raise ValidationError(_("%(value)s is not a case id (ids are whole numbers).",
                                    value=repr(str(error)))) from error
        if not ids and not self.picked.data:
            raise ValidationError(_("Choose at least one case."))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if ok and not self.ids():
            self.case_ids.errors = [*self.case_ids.errors, _("Choose at least one case.")]
            return False
        return ok

    def ids(self) -> list[int]:
        return list(dict.fromkeys([*(self.picked.data or []), *parse_ids(self.case_ids.data or "")]))
