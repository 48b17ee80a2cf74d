"""Appeal pages: the list, filing an appeal (agency staff), the appeal with the organiser's decision."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts.models import Role
from evalplat.appeals import operations, queries
from evalplat.appeals.models import Appeal, AppealAttachment
from evalplat.campaigns.models import PUBLISHED_STATES, Sample
from evalplat.db import utcnow
from evalplat.errors import flash_form_errors
from evalplat.extensions import db
from evalplat.params import page_arg
from evalplat.results.operations import current_result
from evalplat.results.queries import case_feedback
from evalplat.security import load_or_404, roles
from evalplat.signals import events_committed
from forms.appeals import AcceptAppealForm, AppealForm, RejectAppealForm

bp = Blueprint("appeals", __name__, url_prefix="/appeals", template_folder="templates")

PER_PAGE = 50
STAFF = (Role.ORGANISER, Role.AGENCY_STAFF)


def _storage() -> Any:
    from evalplat.services import get_storage

    return get_storage()


def _lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "zh")


@bp.get("/")
@roles(*STAFF)
def index() -> Any:
    page = page_arg()
    state = request.args.get("state") or None
    rows, total = queries.appeal_list(current_user, state=state, page=page, per_page=PER_PAGE)
    return render_template("appeals/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE, state=state)


def _own_sample(sample_id: int) -> Sample:
    """A published case of the user's own agency; another agency's case is 404."""
    return load_or_404(Sample, sample_id, lambda s: current_user.agency_id is not None
                       and s.case.agency_id == current_user.agency_id
                       and s.campaign.state in PUBLISHED_STATES and not s.is_training)


@bp.route("/new/<int:sample_id>", methods=["GET", "POST"])
@roles(Role.AGENCY_STAFF)
def new(sample_id: int) -> Any:
    sample = _own_sample(sample_id)
    result = current_result(db.session, sample.id)
    if result is None:
        abort(404)
    labels = _item_names(sample)
    form = AppealForm()
    form.items.choices = [SelectChoice("total", labels["total"])] + [
        SelectChoice(code, labels.get(code, code)) for code in (result.item_points or {})]
    if form.validate_on_submit():
        files = [(f.filename or "attachment", f.read()) for f in (form.attachments.data or [])
                 if getattr(f, "filename", None)]
        appeal = operations.file_appeal(db.session, actor=current_user, sample=sample, reason=form.reason.data or "",
                                        contested_items=form.items.data or [], attachments=files,
                                        storage=_storage() if files else None, now=utcnow())
        db.session.commit()
        events_committed.send()
        flash(_("Your appeal on case %(number)s is filed.", number=sample.case.case_number), "success")
        return redirect(url_for("appeals.detail", appeal_id=appeal.id))
    return render_template("appeals/new.html", form=form, sample=sample, result=result,
                           problem=operations.window_problem(sample.campaign, utcnow()))


def _item_names(sample: Sample) -> dict[str, str]:
    """The rubric items of the sample's case by code, in the reader's language ("total": the overall score)."""
    feedback = case_feedback(sample, locale=_lang())
    return {"total": _("Total score and grade"), **({i["code"]: i["label"] for i in feedback.items} if feedback else {})}


def _appeal(appeal_id: int) -> Appeal:
    return load_or_404(Appeal, appeal_id, lambda a: a.can_view(current_user))


@bp.get("/<int:appeal_id>")
@roles(*STAFF)
def detail(appeal_id: int) -> Any:
    appeal = _appeal(appeal_id)
    sample = db.get_or_404(Sample, appeal.sample_id)
    return render_template("appeals/detail.html", appeal=appeal, sample=sample, item_names=_item_names(sample),
                           result=current_result(db.session, appeal.sample_id),
                           accept_form=AcceptAppealForm(), reject_form=RejectAppealForm())


@bp.post("/<int:appeal_id>/accept")
@roles(Role.ORGANISER)
def accept(appeal_id: int) -> Any:
    appeal = _appeal(appeal_id)
    form = AcceptAppealForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("appeals.detail", appeal_id=appeal.id))
    operations.accept_appeal(db.session, actor=current_user, appeal=appeal, note=form.note.data or "", now=utcnow())
    db.session.commit()
    events_committed.send()
    flash(_("The appeal is accepted; a new reviewer re-reviews the case."), "success")
    return redirect(url_for("appeals.detail", appeal_id=appeal.id))


@bp.post("/<int:appeal_id>/reject")
@roles(Role.ORGANISER)
def reject(appeal_id: int) -> Any:
    appeal = _appeal(appeal_id)
    form = RejectAppealForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("appeals.detail", appeal_id=appeal.id))
    operations.reject_appeal(db.session, actor=current_user, appeal=appeal, reasons=form.reasons.data or "",
                             now=utcnow())
    db.session.commit()
    events_committed.send()
    flash(_("The appeal is rejected."), "success")
    return redirect(url_for("appeals.detail", appeal_id=appeal.id))


@bp.get("/<int:appeal_id>/attachments/<int:attachment_id>")
@roles(*STAFF)
def attachment(appeal_id: int, attachment_id: int) -> Any:
    appeal = _appeal(appeal_id)
    row = db.session.get(AppealAttachment, attachment_id)
    if row is None or row.appeal_id != appeal.id:
        abort(404)
    data = _storage().get(row.storage_key)
    return Response(data, mimetype=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(row.original_filename)}",
        "X-Content-Type-Options": "nosniff"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
