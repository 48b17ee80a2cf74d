"""Closing-review pages: the list of files, one case's checklist with both levels and the history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.cases.models import Case
from evalplat.closing import operations, queries
from evalplat.closing.api import api_bp
from evalplat.closing.labels import closing_label
from evalplat.closing.models import ClosingState, MarkStatus, sees_closing_of
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.params import int_arg, page_arg
from evalplat.security import filter_id, load_or_404, roles
from forms.closing import FirstLevelForm, SecondLevelForm, marks_from

# No url_prefix: the nested API blueprint lives under /api/v1/closing, the pages under /closing.
bp = Blueprint("closing", __name__, template_folder="templates")
bp.register_blueprint(api_bp)

PER_PAGE = 50
CHECKERS = (Role.ORGANISER, Role.AGENCY_STAFF, Role.SECOND_CHECKER)


def _case(case_id: int) -> Case:
    return load_or_404(Case, case_id, lambda case: sees_closing_of(current_user, case.agency_id))


def _may_filter_agency(agency_id: int) -> bool:
    """The agencies whose closing reviews the list may be filtered to: those the user sees there."""
    return sees_closing_of(current_user, agency_id)


@bp.get("/closing/")
@roles(*CHECKERS)
def index() -> Any:
    page = page_arg()
    state = request.args.get("state") or None
    overdue = request.args.get("overdue") == "1"
    rows, total = queries.review_list(current_user, state=state, agency_id=filter_id("agency", _may_filter_agency),
                                      year=int_arg("year"), q=request.args.get("q") or None,
                                      overdue_on=utcnow().date() if overdue else None, page=page, per_page=PER_PAGE)
    return render_template("closing/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           state=state, overdue=overdue, states=queries.STATES, closing_label=closing_label,
                           today=utcnow().date())


@bp.get("/closing/cases/<int:case_id>")
@roles(*CHECKERS)
def detail(case_id: int) -> Any:
    case = _case(case_id)
    review = queries.review_of_case(case.id)
    book = operations.load_checklists()
    checklist = operations.checklist_of(review) if review else book.for_case(case.case_type.value,
                                                                             case.stage_reached)
    return render_template("closing/detail.html", case=case, review=review, checklist=checklist,
                           problems=queries.open_problems(review), first_form=FirstLevelForm(),
                           second_form=SecondLevelForm(), marks=list(MarkStatus), closing_label=closing_label,
                           lang=str(get_locale() or "zh"), ClosingState=ClosingState,
                           can_first=(review.can_check_first(current_user) if review
                                      else Role.AGENCY_STAFF in current_user.roles
                                      and current_user.agency_id == case.agency_id),
                           can_second=bool(review and review.can_check_second(current_user)
                                           and review.first_checker_id != current_user.id))


@bp.post("/closing/cases/<int:case_id>/first")
@roles(Role.AGENCY_STAFF)
def first(case_id: int) -> Any:
    case = _case(case_id)
    form = FirstLevelForm()
    if not form.validate():
        flash(_("The deadline is not a valid date."), "error")
        return redirect(url_for("closing.detail", case_id=case.id))
    checklist = operations.load_checklists().for_case(case.case_type.value, case.stage_reached)
    review = queries.review_of_case(case.id)
    codes = operations.checklist_of(review).codes if review else checklist.codes
    review = operations.check_first_level(db.session, actor=current_user, case=case,
                                          marks=marks_from(request.form, codes), note=form.note.data or "",
                                          due_on=form.due_on.data, now=utcnow())
    db.session.commit()
    if review.state == ClosingState.RETURNED:
        flash(_("The file is returned for its missing materials."), "warning")
    else:
        flash(_("The first level passed; the file waits for the second level."), "success")
    return redirect(url_for("closing.detail", case_id=case.id))


@bp.post("/closing/cases/<int:case_id>/second")
@roles(Role.ORGANISER, Role.SECOND_CHECKER)
def second(case_id: int) -> Any:
    case = _case(case_id)
    review = queries.review_of_case(case.id)
    if review is None:
        flash(_("This file has not passed the first level yet."), "error")
        return redirect(url_for("closing.detail", case_id=case.id))
    form = SecondLevelForm()
    if not form.validate():
        flash(_("Choose to confirm or to return the file."), "error")
        return redirect(url_for("closing.detail", case_id=case.id))
    confirm = form.decision.data == "confirm"
    operations.check_second_level(db.session, actor=current_user, review=review, confirm=confirm,
                                  marks=marks_from(request.form, operations.checklist_of(review).codes),
                                  note=form.note.data or "", due_on=form.due_on.data, now=utcnow())
    db.session.commit()
    flash(_("The case is closed.") if confirm else _("The file is returned for its missing materials."),
          "success" if confirm else "warning")
    return redirect(url_for("closing.detail", case_id=case.id))
