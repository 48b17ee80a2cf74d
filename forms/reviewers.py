"""WTForms forms of the reviewer pool: import file, edit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

CASE_TYPE_CHOICES = [SelectChoice("criminal", _l("Criminal")), SelectChoice("civil", _l("Civil")),
                     SelectChoice("administrative", _l("Administrative")),
                     SelectChoice("non_litigation", _l("Non-litigation"))]


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReviewerImportForm(FlaskForm):
    file = FileField(_l("Reviewer file (CSV or XLSX)"),
                     validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a .csv or .xlsx file."))])


class ReviewerForm(FlaskForm):
    # the operation refuses a city outside the organiser's province with a message naming it
    city_id = SelectField(_l("City"), coerce=int, validate_choice=False)
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=128)])
    years_of_practice = IntegerField(_l("Years of practice"), validators=[NumberRange(0, 80)])
    case_types = _Checkboxes(_l("Case types"), choices=CASE_TYPE_CHOICES, validators=[DataRequired()])
    capacity = IntegerField(_l("Capacity (cases per campaign)"), validators=[NumberRange(1, 10000)])
    available_from = DateField(_l("Available from"), validators=[Optional()])
    available_until = DateField(_l("Available until"), validators=[Optional()])
