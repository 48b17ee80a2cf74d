"""WTForms forms of the follow-up pages (回访): drawing a plan, the client's contact, a call, the questionnaire."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No")), SelectChoice("unknown", _l("Not known"))]
SATISFACTION = [SelectChoice(5, _l("Very satisfied")), SelectChoice(4, _l("Satisfied")),
                SelectChoice(3, _l("Neutral")), SelectChoice(2, _l("Dissatisfied")),
                SelectChoice(1, _l("Very dissatisfied"))]
#: The questionnaire (Rugao's nine questions; the ninth is the satisfaction level).
QUESTION_LABELS = {
    "preparation": _l("Was the lawyer well prepared?"),
    "evidence": _l("Did the lawyer collect evidence?"),
    "on_time": _l("Did the lawyer attend court (hearings) on time?"),
    "money_or_gifts": _l("Did the lawyer take money or gifts?"),
    "meals": _l("Did the lawyer accept meals?"),
    "private_fees": _l("Did the lawyer charge private fees?"),
    "opinions_adopted": _l("Were the lawyer's opinions adopted?"),
    "discipline": _l("Did the lawyer keep to professional discipline?"),
}


class DrawPlanForm(FlaskForm):
    agency = SelectField(_l("Agency"), coerce=int, choices=[], validate_choice=True)
    year = IntegerField(_l("Year of closing"), validators=[DataRequired(), NumberRange(2000, 2100)])
    mode = RadioField(_l("Cases to follow up"), default="share",
                      choices=[SelectChoice("all", _l("All closed cases")), SelectChoice("share", _l("A share")),
                               SelectChoice("count", _l("A fixed number"))])
    share = StringField(_l("Share (e.g. 30%)"), default="30%", validators=[Optional(), Length(max=16)])
    count = IntegerField(_l("Number of cases"), validators=[Optional(), NumberRange(1, 100000)])
    seed = StringField(_l("Seed of the draw"), validators=[DataRequired(), Length(max=64)])


class ContactForm(FlaskForm):
    phone = StringField(_l("Client's phone number"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Client's address"), validators=[Optional(), Length(max=200)])


class AttemptForm(FlaskForm):
    outcome = SelectField(_l("Outcome of the call"),
                          choices=[SelectChoice("no_answer", _l("No answer")),
                                   SelectChoice("out_of_service", _l("Number out of service")),
                                   SelectChoice("no_such_number", _l("Number does not exist")),
                                   SelectChoice("refused", _l("Client refused"))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class VisitForm(FlaskForm):
    preparation = RadioField(QUESTION_LABELS["preparation"], choices=YES_NO, validators=[DataRequired()])
    evidence = RadioField(QUESTION_LABELS["evidence"], choices=YES_NO, validators=[DataRequired()])
    on_time = RadioField(QUESTION_LABELS["on_time"], choices=YES_NO, validators=[DataRequired()])
    money_or_gifts = RadioField(QUESTION_LABELS["money_or_gifts"], choices=YES_NO, validators=[DataRequired()])
    meals = RadioField(QUESTION_LABELS["meals"], choices=YES_NO, validators=[DataRequired()])
    private_fees = RadioField(QUESTION_LABELS["private_fees"], choices=YES_NO, validators=[DataRequired()])
    opinions_adopted = RadioField(QUESTION_LABELS["opinions_adopted"], choices=YES_NO, validators=[DataRequired()])
    discipline = RadioField(QUESTION_LABELS["discipline"], choices=YES_NO, validators=[DataRequired()])
    satisfaction = RadioField(_l("Overall satisfaction"), choices=SATISFACTION, coerce=int,
                              validators=[DataRequired()])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=8000)])
    actions = TextAreaField(_l("Follow-up actions"), validators=[Optional(), Length(max=8000)])


class ImportResultsForm(FlaskForm):
    file = FileField(_l("Call-centre results (CSV or XLSX)"), validators=[FileRequired()])


class HandleComplaintForm(FlaskForm):
    note = TextAreaField(_l("How the complaint was handled"), validators=[DataRequired(), Length(max=8000)])
