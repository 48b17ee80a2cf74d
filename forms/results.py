"""WTForms forms of the results pages: an adjudicator's or re-reviewer's decision, the official-score choice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from forms.numbers import FiniteDecimalField

OFFICIAL_CHOICES = [SelectChoice("raw", _l("Raw scores (combined reviewers' totals)")),
                    SelectChoice("calibrated", _l("Bias-corrected scores (reviewer leniency removed)"))]


class DecisionForm(FlaskForm):
    """The decision on a case: total, the veto items that stand, and the reasons (required)."""

    total = FiniteDecimalField(_l("Decided total (0–100)"), places=1,
                         validators=[DataRequired(_l("Give the decided total.")), NumberRange(0, 100)])
    vetoes = SelectMultipleField(_l("Veto items that stand (force fail)"), choices=[], validate_choice=True,
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(_l("Give the reasons for the decision.")),
                                                       Length(max=8000)])


class OfficialScoresForm(FlaskForm):
    """Which totals are official for a campaign."""

    choice = SelectField(_l("Official scores"), choices=OFFICIAL_CHOICES)


class ComputeForm(FlaskForm):
    """Recompute a campaign's reliability figures (the button carries only the CSRF token)."""
