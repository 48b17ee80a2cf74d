"""WTForms form for issuing an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

SCOPE_CHOICES = [SelectChoice("rankings:read", _l("Rankings")),
                 SelectChoice("expert_pool:read", _l("Expert pool")),
                 SelectChoice("priorities:read", _l("Assignment priorities")),
                 SelectChoice("closing:read", _l("Closing-review results (subsidy payment)"))]


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name (who uses it)"), validators=[DataRequired(), Length(max=64)])
    scopes = SelectMultipleField(_l("Scopes"), choices=SCOPE_CHOICES, validators=[DataRequired()])
    days = IntegerField(_l("Valid for (days)"), validators=[Optional(), NumberRange(min=1)])
    campaigns = SelectMultipleField(_l("Only these campaigns"), coerce=int, validators=[Optional()],
                                    description=_l("None chosen: every published campaign. Whatever is chosen, "
                                                   "only published results are served."))

    def limit_days(self, max_days: int) -> None:
        """The organiser's maximum (EVALPLAT_API_TOKEN_MAX_DAYS) bounds the field."""
        self.days.validators = [Optional(), NumberRange(min=1, max=max_days)]
        self.days.description = _l("At most %(n)d days.", n=max_days)
