"""WTForms form of the self-evaluation (一案一评); the items' levels are read by :func:`levels_from`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

LEVEL_FIELD = "level-"


class SelfEvaluationForm(FlaskForm):
    remarks = TextAreaField(_l("Remarks (the agency's own view)"), validators=[Optional(), Length(max=4000)])
    authority_feedback = TextAreaField(_l("Feedback of the court or procuratorate (征询办案机关意见), if any"),
                                       validators=[Optional(), Length(max=8000)])
    feedback_file = FileField(_l("Their written feedback (PDF, Word, image), optional"), validators=[Optional()])


def levels_from(formdata: Mapping[str, Any], codes: Iterable[str]) -> dict[str, str]:
    return {code: formdata.get(LEVEL_FIELD + code, "").strip() for code in codes
            if formdata.get(LEVEL_FIELD + code, "").strip()}
