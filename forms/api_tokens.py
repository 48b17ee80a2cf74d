"""WTForms form for issuing an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

SCOPE_CHOICES = [SelectChoice("rankings:read", _l("Rankings")),
                 SelectChoice("expert_pool:read", _l("Expert pool")),
                 SelectChoice("priorities:read", _l("Assignment priorities"))]


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name (who uses it)"), validators=[DataRequired(), Length(max=64)])
    scopes = SelectMultipleField(_l("Scopes"), choices=SCOPE_CHOICES, validators=[DataRequired()])
