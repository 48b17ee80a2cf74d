"""WTForms forms for case intake: import, document upload and redaction review (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

BAD_FILE_CHOICES = [
    SelectChoice("skip", _l("Skip bad files and import the rest")),
    SelectChoice("stop", _l("Stop at the first bad file (import nothing)")),
]

DOCUMENT_KIND_CHOICES = [
    SelectChoice("", _l("Guess from the file name")),
    SelectChoice("application", _l("Application")),
    SelectChoice("assignment_letter", _l("Assignment letter")),
    SelectChoice("agreement", _l("Agreement and power of attorney")),
    SelectChoice("meeting_notes", _l("Meeting notes")),
    SelectChoice("file_reading_notes", _l("File-reading notes")),
    SelectChoice("opinion", _l("Defence or representation opinion")),
    SelectChoice("judgment", _l("Judgment or ruling")),
    SelectChoice("closing_report", _l("Closing report")),
    SelectChoice("other", _l("Other")),
]

SPAN_KIND_CHOICES = [
    SelectChoice("person", _l("Person")),
    SelectChoice("org", _l("Organisation")),
    SelectChoice("place", _l("Place")),
    SelectChoice("address", _l("Address")),
    SelectChoice("id_card", _l("ID number")),
    SelectChoice("phone", _l("Phone number")),
    SelectChoice("number", _l("Other number")),
]


class ImportForm(FlaskForm):
    """Upload a CSV or XLSX of closed cases, optionally with a zip of their files."""

    cases_file = FileField(_l("Cases (CSV or XLSX)"), validators=[FileRequired()])
    files_zip = FileField(_l("Files (zip, one folder per case number)"), validators=[Optional()])
    on_bad_file = SelectField(_l("When a file is bad"), choices=BAD_FILE_CHOICES, default="skip")


class EvidenceReasonForm(FlaskForm):
    """Removing a document; for a case frozen by peer review, with the organiser's reason."""

    reason = TextAreaField(_l("Reason for changing a frozen case's file"), validators=[Optional(), Length(max=2000)])


class UploadForm(FlaskForm):
    """Upload files on a case's page."""

    files = MultipleFileField(_l("Files (PDF, DOCX, TXT or scanned images)"), validators=[DataRequired()])
    kind = SelectField(_l("Kind of document"), choices=DOCUMENT_KIND_CHOICES, default="")
    on_bad_file = SelectField(_l("When a file is bad"), choices=BAD_FILE_CHOICES, default="skip")
    reason = TextAreaField(_l("Reason for changing a frozen case's file"), validators=[Optional(), Length(max=2000)])


class AddSpanForm(FlaskForm):
    """Redact more: offsets of a stretch of the original text, or a string to redact everywhere in the case."""

    text = StringField(_l("Text to redact everywhere"), validators=[Optional(), Length(max=200)])
    start = IntegerField(_l("From offset"), validators=[Optional(), NumberRange(min=0, max=10**9)])
    end = IntegerField(_l("To offset"), validators=[Optional(), NumberRange(min=1, max=10**9)])
    kind = SelectField(_l("Kind"), choices=SPAN_KIND_CHOICES, default="person")

    def validate_text(self, field: StringField) -> None:
        has_text = bool((field.data or "").strip())
        has_offsets = self.start.data is not None and self.end.data is not None
        if has_text == has_offsets:
            raise ValidationError(_l("Give either the text to redact or both offsets."))
        if has_offsets and self.end.data <= self.start.data:
            raise ValidationError(_l("The end offset must be after the start offset."))


class RemoveSpanForm(FlaskForm):
    """Keep a stretch that the automatic redaction removed."""

    start = IntegerField(validators=[NumberRange(min=0, max=10**9)])
    end = IntegerField(validators=[NumberRange(min=1, max=10**9)])


class DismissFlagForm(FlaskForm):
    """The checker has looked at a flagged stretch and finds it fine (no target: every open flag of the case)."""

    target = StringField(validators=[Optional(), Length(max=40)])
    start = IntegerField(validators=[Optional(), NumberRange(min=0, max=10**9)])
    end = IntegerField(validators=[Optional(), NumberRange(min=1, max=10**9)])

    def validate_target(self, field: StringField) -> None:
        if field.data and (self.start.data is None or self.end.data is None):
            raise ValidationError(_l("A flag is named by its document and both offsets."))


class BulkApproveForm(FlaskForm):
    """Approve, in one step, every case of the campaign waiting for the checker with no open flag."""

    expected = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=10**9)])
    confirm = BooleanField(_l("I have checked the flagged cases; approve these cases without opening them."),
                           validators=[DataRequired(_l("Tick the box to confirm the approval."))])


class CaseCorrectionForm(FlaskForm):
    """The organiser corrects a case's fields (values checked by evalplat.cases.corrections, which names a bad one)."""

    cause = StringField(_l("Cause"), validators=[Optional(), Length(max=128)])
    stage_reached = StringField(_l("Stages reached"), validators=[Optional(), Length(max=64)])
    result = StringField(_l("Result of the case"), validators=[Optional(), Length(max=128)])
    applied_on = StringField(_l("Application date"), validators=[Optional(), Length(max=32)],
                             description=_l("YYYY-MM-DD; empty if unknown."))
    assigned_on = StringField(_l("Assignment date"), validators=[Optional(), Length(max=32)],
                              description=_l("YYYY-MM-DD; empty if unknown."))
    first_meeting_on = StringField(_l("First meeting"), validators=[Optional(), Length(max=32)],
                                   description=_l("YYYY-MM-DD; empty if unknown."))
    lawyer = StringField(_l("Handling lawyer (licence number)"), validators=[Optional(), Length(max=32)],
                         description=_l("The firm follows the lawyer."))
    client = StringField(_l("Client"), validators=[Optional(), Length(max=2000)],
                         description=_l("Several names separated by 、"))
    opponent = StringField(_l("Opposing party"), validators=[Optional(), Length(max=2000)],
                           description=_l("Several names separated by 、"))
    court = StringField(_l("Court"), validators=[Optional(), Length(max=2000)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("Audited; reviewers who began scoring the case read it (redacted)."))
