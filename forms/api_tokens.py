"""WTForms form for issuing an API token."""

from __future__ import annotations

from typing import Any

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


class TokenLifetimeForm(FlaskForm):
    """The organiser's default and maximum lifetime of new API tokens (bounds checked by the operation too)."""

    default_days = IntegerField(_l("Default lifetime (days)"), validators=[DataRequired(), NumberRange(min=1)],
                                description=_l("A new token is valid this long unless its issuer chooses otherwise."))
    max_days = IntegerField(_l("Maximum lifetime (days)"), validators=[DataRequired(), NumberRange(min=1)],
                            description=_l("No token may be issued for longer. Tokens already issued keep their "
                                           "expiry."))

    def limit(self, limit_days: int) -> None:
        """Both fields within 1 … ``limit_days``."""
        for field in (self.default_days, self.max_days):
            field.validators = [DataRequired(), NumberRange(min=1, max=limit_days)]

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        default, maximum = self.default_days.data, self.max_days.data
        if default is not None and maximum is not None and default > maximum:
            self.default_days.errors = [*self.default_days.errors,
                                        _l("The default lifetime (%(default)d days) must not exceed the maximum "
                                           "(%(max)d days).", default=default, max=maximum)]
            return False
        return True
