"""WTForms forms of the appeal pages: filing an appeal, accepting or rejecting it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class AppealForm(FlaskForm):
    """An agency's objection to a case's result."""

    items = SelectMultipleField(_l("Items contested"), choices=[], validate_choice=True,
                                option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason for the appeal.")),
                                                     Length(max=8000)])
    attachments = MultipleFileField(_l("Attachments (PDF, Word, images, text)"), validators=[Optional()])


class AcceptAppealForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


class RejectAppealForm(FlaskForm):
    reasons = TextAreaField(_l("Reasons for rejecting"),
                            validators=[DataRequired(_l("Give the reasons for rejecting the appeal.")),
                                        Length(max=8000)])
