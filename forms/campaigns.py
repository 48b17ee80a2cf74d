"""WTForms forms of the campaign pages: settings, sampling plan, seed, assignment overrides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forms.numbers import FiniteDecimalField

SCOPE_CHOICES = [SelectChoice("province", _l("Whole province")), SelectChoice("city", _l("One city")),
                 SelectChoice("agencies", _l("Chosen agencies"))]
MODE_CHOICES = [SelectChoice("fixed", _l("Fixed number per stratum")),
                SelectChoice("proportion", _l("Proportion per stratum")),
                SelectChoice("designated", _l("Designated sequence numbers")),
                SelectChoice("census", _l("Every case (census)")),
                SelectChoice("risk", _l("Risk-weighted (over-samples cases flagged by the post-case checks)"))]
STRATA_CHOICES = [SelectChoice("agency,case_type", _l("Agency × case type")),
                  SelectChoice("case_type", _l("Case type")), SelectChoice("agency", _l("Agency")),
                  SelectChoice("agency,case_type,year", _l("Agency × case type × closing year"))]
MATCH_CHOICES = [SelectChoice("preferred", _l("Preferred")), SelectChoice("required", _l("Required"))]


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2100)])
    code_prefix = StringField(_l("Code prefix"), validators=[DataRequired(), Length(min=2, max=12)],
                              description=_l("Sample codes start with it, e.g. GD2024-00001."))
    scope_kind = SelectField(_l("Scope"), choices=SCOPE_CHOICES)
    scope_region_id = SelectField(_l("City"), coerce=int, validate_choice=False)
    scope_agency_ids = SelectMultipleField(_l("Agencies"), coerce=int, validate_choice=True,
                                           description=_l("For a campaign of chosen agencies: pick them by city "
                                                          "(hold Ctrl or ⌘ to choose several; type to jump)."))
    reviewers_per_case = IntegerField(_l("Reviewers per case"), validators=[NumberRange(1, 9)], default=3)
    min_evaluators = IntegerField(_l("Minimum third-party evaluators per case"), validators=[NumberRange(0, 9)],
                                  default=0)
    regional_avoidance = BooleanField(_l("Regional avoidance (no reviewer from the case's city)"), default=True)
    case_type_match = SelectField(_l("Reviewer handles the case type"), choices=MATCH_CHOICES)
    max_pair_probability = StringField(_l("Randomised mode: highest probability of any reviewer–case pair"),
                                       validators=[Optional(), Length(max=10)],
                                       description=_l("Empty for the optimal assignment; e.g. 0.5."))
    due_days = IntegerField(_l("Days to review"), validators=[NumberRange(1, 365)], default=21)
    max_spread = IntegerField(_l("Escalate when scores differ by more than"), validators=[NumberRange(0, 100)],
                              default=15)
    band_excellent = IntegerField(_l("Excellent from"), validators=[NumberRange(1, 100)], default=90)
    band_good = IntegerField(_l("Good from"), validators=[NumberRange(1, 100)], default=80)
    band_pass = IntegerField(_l("Pass from"), validators=[NumberRange(1, 100)], default=60)
    appeal_opens_at = DateTimeLocalField(_l("Appeals open (local time)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    appeal_closes_at = DateTimeLocalField(_l("Appeals close (local time)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class PlanForm(FlaskForm):
    mode = SelectField(_l("Mode"), choices=MODE_CHOICES)
    strata = SelectField(_l("Strata"), choices=STRATA_CHOICES)
    fold_administrative = BooleanField(_l("Count administrative cases as civil"), default=True)
    per_stratum = IntegerField(_l("Cases per stratum"), validators=[Optional(), NumberRange(1, 10000)])
    rate = StringField(_l("Proportion"), validators=[Optional(), Length(max=12)],
                       description=_l("e.g. 0.1 or 10%"))
    minimum = IntegerField(_l("At least"), validators=[Optional(), NumberRange(0, 10000)], default=0)
    maximum = IntegerField(_l("At most"), validators=[Optional(), NumberRange(1, 10000)])
    sequence_numbers = StringField(_l("Designated sequence numbers"), validators=[Optional(), Length(max=400)],
                                   description=_l("Comma-separated, e.g. 11, 12"))
    take_all = BooleanField(_l("Take the whole stratum when it has fewer cases than asked"))
    boost = FiniteDecimalField(_l("Risk weight of one signal"), places=None,
                               validators=[Optional(), NumberRange(0, 100)],
                               description=_l("Risk-weighted mode: a case's chance grows with 1 + this × its risk "
                                              "signals (returned at the second-level closing review, a self-score "
                                              "below 60, a complaint from a follow-up visit). 0 gives every case the "
                                              "same chance; default 3. Give either cases per stratum or a "
                                              "proportion."))


class SeedForm(FlaskForm):
    seed = StringField(_l("Seed from a public source"), validators=[Optional(), Length(max=128)],
                       description=_l("Leave empty to generate a random seed."))
    source = StringField(_l("Where the seed comes from"), validators=[Optional(), Length(max=200)])


class OverrideForm(FlaskForm):
    # the campaign's cases by code (choices set by the run page); an unknown code is refused by the view by name
    sample_code = SelectField(_l("Case code"), validators=[DataRequired(), Length(max=32)], validate_choice=False)
    remove_reviewer_id = SelectField(_l("Replace reviewer"), coerce=int, validate_choice=False)
    add_reviewer_id = SelectField(_l("With reviewer"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    accept_conflict = BooleanField(_l("I know this pair breaks a conflict rule; override it"))
