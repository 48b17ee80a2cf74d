"""Self-evaluation pages (一案一评): the agency's list of cases to evaluate and the short form of a case."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.cases.models import Case
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.params import page_arg
from evalplat.security import load_or_404, roles
from evalplat.selfeval import operations, queries
from evalplat.selfeval.form import load_form
from evalplat.selfeval.models import can_evaluate
from forms.selfeval import SelfEvaluationForm, levels_from

bp = Blueprint("selfeval", __name__, url_prefix="/self-evaluation", template_folder="templates")

PER_PAGE = 50
STAFF = (Role.ORGANISER, Role.AGENCY_STAFF)


def _case(case_id: int) -> Case:
    return load_or_404(Case, case_id, lambda c: current_user.can_view_agency(c.agency_id))


@bp.get("/")
@roles(*STAFF)
def index() -> Any:
    page = page_arg()
    todo = request.args.get("todo") == "1"
    rows, total = queries.evaluation_list(current_user, todo=todo, q=request.args.get("q") or None, page=page,
                                          per_page=PER_PAGE)
    return render_template("selfeval/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE, todo=todo)


@bp.get("/cases/<int:case_id>")
@roles(*STAFF)
def detail(case_id: int) -> Any:
    case = _case(case_id)
    form = load_form()
    return render_template("selfeval/detail.html", case=case, evaluation=queries.evaluation_of_case(case.id),
                           items=form.items(case.case_type.value), sform=form, form=SelfEvaluationForm(),
                           lang=str(get_locale() or "zh"), can_edit=can_evaluate(current_user, case.agency_id))


@bp.post("/cases/<int:case_id>")
@roles(Role.AGENCY_STAFF)
def submit(case_id: int) -> Any:
    case = _case(case_id)
    form = SelfEvaluationForm()
    if not form.validate():
        flash(_("The remarks or the feedback are too long."), "error")
        return redirect(url_for("selfeval.detail", case_id=case.id))
    upload = form.feedback_file.data
    attachment = (upload.filename or "feedback", upload.read()) if getattr(upload, "filename", None) else None
    from evalplat.services import get_storage

    operations.evaluate_case(db.session, actor=current_user, case=case,
                             levels=levels_from(request.form, load_form().codes[case.case_type.value]),
                             remarks=form.remarks.data or "", authority_feedback=form.authority_feedback.data or "",
                             attachment=attachment, storage=get_storage() if attachment else None, now=utcnow())
    db.session.commit()
    flash(_("The agency's evaluation of case %(number)s is recorded.", number=case.case_number), "success")
    return redirect(url_for("selfeval.detail", case_id=case.id))


@bp.get("/cases/<int:case_id>/feedback")
@roles(*STAFF)
def feedback(case_id: int) -> Any:
    case = _case(case_id)
    evaluation = queries.evaluation_of_case(case.id)
    if evaluation is None or not evaluation.feedback_storage_key:
        abort(404)
    from urllib.parse import quote

    from evalplat.services import get_storage

    return Response(get_storage().get(evaluation.feedback_storage_key),
                    mimetype=evaluation.feedback_content_type or "application/octet-stream",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''"
                                                    + quote(evaluation.feedback_filename or "feedback", safe=""),
                             "X-Content-Type-Options": "nosniff"})
