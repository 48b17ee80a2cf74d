"""WTForms forms for signing in and managing accounts (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

ROLE_CHOICES = [
    SelectChoice("organiser", _l("Organiser")),
    SelectChoice("agency_staff", _l("Agency staff")),
    SelectChoice("peer_reviewer", _l("Peer reviewer")),
    SelectChoice("evaluator", _l("Third-party evaluator")),
    SelectChoice("adjudicator", _l("Adjudicator")),
    SelectChoice("second_checker", _l("Second-level file checker")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    totp = StringField(_l("One-time code"), validators=[Optional(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=64)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=128)])
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, validators=[DataRequired()])
    agency_id = SelectField(_l("Agency"), coerce=int, validate_choice=True)
    # the organiser's jurisdiction for a new organiser: the creator's own or one below it (choices set by the view)
    jurisdiction_id = SelectField(_l("Jurisdiction"), coerce=int, validate_choice=True)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "new-password"})


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "new-password"})
    must_change = BooleanField(_l("Ask the user to change it at next sign-in"), default=True)


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with a CSRF token."""


class TotpEnableForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(min=6, max=8)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class TotpDisableForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class ClearThrottleForm(FlaskForm):
    """The organiser's button that forgets the failed sign-ins of one account or address."""

    kind = SelectField(choices=[SelectChoice("account", _l("Account")), SelectChoice("address", _l("Address"))])
    key = StringField(validators=[DataRequired(), Length(max=64)])
