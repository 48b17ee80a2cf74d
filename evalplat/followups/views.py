"""Follow-up pages (回访): plans, the call list, one client's calls and questionnaire, complaints, rates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.cases.models import Case
from evalplat.db import utcnow
from evalplat.errors import flash_form_errors
from evalplat.extensions import db
from evalplat.followups import operations, queries
from evalplat.followups.importer import ImportRefused, import_results
from evalplat.followups.labels import followup_label
from evalplat.followups.models import (
    QUESTIONS,
    FollowupComplaint,
    FollowupPlan,
    FollowupTarget,
    TargetState,
    can_see_contacts,
)
from evalplat.labels import label
from evalplat.organisations.jurisdiction import agency_scope, organiser_agency_ids
from evalplat.organisations.models import Agency
from evalplat.params import page_arg
from evalplat.security import load_or_404, roles
from forms.followups import (
    QUESTION_LABELS,
    AttemptForm,
    ContactForm,
    DrawPlanForm,
    HandleComplaintForm,
    ImportResultsForm,
    VisitForm,
)

bp = Blueprint("followups", __name__, url_prefix="/followups", template_folder="templates")

PER_PAGE = 50
STAFF = (Role.ORGANISER, Role.AGENCY_STAFF)


def _draw_form() -> DrawPlanForm:
    form = DrawPlanForm()
    agencies = db.session.execute(sa.select(Agency.id, Agency.name).order_by(Agency.name)
                                  .where(agency_scope(current_user, Agency.id))).all()
    form.agency.choices = [(a.id, a.name) for a in agencies]
    return form


@bp.get("/")
@roles(*STAFF)
def index() -> Any:
    form = _draw_form()
    if form.year.data is None:
        form.year.data = utcnow().year - 1
    return render_template("followups/index.html", plans=queries.plan_list(current_user), form=form,
                           followup_label=followup_label)


@bp.post("/plans")
@roles(*STAFF)
def draw() -> Any:
    form = _draw_form()
    if not form.validate():
        flash(_("Check the plan: %(fields)s.", fields=", ".join(str(getattr(form, f).label.text)
                                                              for f in form.errors)), "error")
        return redirect(url_for("followups.index"))
    agency = load_or_404(Agency, form.agency.data, lambda a: current_user.can_view_agency(a.id))
    plan = operations.draw_plan(db.session, actor=current_user, agency=agency, year=form.year.data,
                                mode=form.mode.data, share=form.share.data, count=form.count.data,
                                seed=form.seed.data or "", now=utcnow())
    db.session.commit()
    flash(_("The follow-up plan is drawn."), "success")
    return redirect(url_for("followups.plan", plan_id=plan.id))


def _plan(plan_id: int) -> FollowupPlan:
    return load_or_404(FollowupPlan, plan_id, lambda p: p.can_view(current_user))


@bp.get("/plans/<int:plan_id>")
@roles(*STAFF)
def plan(plan_id: int) -> Any:
    found = _plan(plan_id)
    state = request.args.get("state") or None
    if state not in {s.value for s in TargetState}:
        state = None
    rows, total = queries.call_list(found, state=state, page=page_arg(), per_page=PER_PAGE)
    return render_template("followups/plan.html", plan=found, rows=rows, total=total, page=page_arg(),
                           per_page=PER_PAGE, state=state, states=[s.value for s in TargetState],
                           agency=db.session.get(Agency, found.agency_id), import_form=ImportResultsForm(),
                           contacts=can_see_contacts(current_user, found.agency_id), followup_label=followup_label)


@bp.get("/plans/<int:plan_id>/calls.csv")
@roles(*STAFF)
def export_calls(plan_id: int) -> Any:
    """The call list as CSV; clients' phone numbers and addresses only for the agency's own follow-up staff."""
    from flask import Response

    from reports.spreadsheet import csv_bytes

    found = _plan(plan_id)
    contacts = can_see_contacts(current_user, found.agency_id)
    rows, _total = queries.call_list(found, state=None, page=1, per_page=10**7)
    head = [_("Case number"), _("Case type"), _("Lawyer"), _("Calls"), _("State")]
    if contacts:
        head += [_("Phone"), _("Address")]
    table = [head]
    for r in rows:
        target = r.FollowupTarget
        line = [r.case_number, label(r.case_type), r.lawyer or "", target.attempts, followup_label(target.state)]
        table.append(line + ([target.phone or "", target.address or ""] if contacts else []))
    return Response(csv_bytes(table), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=followups-{found.agency_id}-{found.year}.csv",
        "X-Content-Type-Options": "nosniff"})


@bp.post("/plans/<int:plan_id>/import")
@roles(Role.AGENCY_STAFF)
def import_calls(plan_id: int) -> Any:
    found = _plan(plan_id)
    form = ImportResultsForm()
    if not form.validate():
        flash(_("Choose a CSV or XLSX file."), "error")
        return redirect(url_for("followups.plan", plan_id=found.id))
    upload = form.file.data
    try:
        written = import_results(db.session, actor=current_user, agency_id=found.agency_id, source=upload.read(),
                                 filename=upload.filename or "upload")
    except ImportRefused as refused:
        db.session.rollback()
        return render_template("followups/import_problems.html", plan=found, problems=refused.problems,
                               filename=upload.filename or "upload"), 400
    db.session.commit()
    flash(_("%(n)d calls imported.", n=written), "success")
    return redirect(url_for("followups.plan", plan_id=found.id))


def _target(target_id: int) -> FollowupTarget:
    return load_or_404(FollowupTarget, target_id, lambda t: t.can_view(current_user))


@bp.get("/targets/<int:target_id>")
@roles(*STAFF)
def target(target_id: int) -> Any:
    found = _target(target_id)
    contact = ContactForm()
    can_call = found.can_call(current_user)
    if can_call:
        contact.phone.data, contact.address.data = found.phone, found.address
    return render_template("followups/target.html", target=found, case=db.session.get(Case, found.case_id),
                           attempts=queries.attempts_of(found.id), can_call=can_call, contact_form=contact,
                           attempt_form=AttemptForm(), visit_form=VisitForm(), questions=QUESTIONS,
                           question_labels=QUESTION_LABELS, followup_label=followup_label)


@bp.post("/targets/<int:target_id>/contact")
@roles(Role.AGENCY_STAFF)
def contact(target_id: int) -> Any:
    found = _target(target_id)
    form = ContactForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("followups.target", target_id=found.id))
    operations.set_contact(db.session, actor=current_user, target=found, phone=form.phone.data,
                           address=form.address.data, now=utcnow())
    db.session.commit()
    flash(_("The client's contact is saved."), "success")
    return redirect(url_for("followups.target", target_id=found.id))


@bp.post("/targets/<int:target_id>/attempt")
@roles(Role.AGENCY_STAFF)
def attempt(target_id: int) -> Any:
    found = _target(target_id)
    form = AttemptForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for("followups.target", target_id=found.id))
    operations.record_attempt(db.session, actor=current_user, target=found, outcome=form.outcome.data,
                              note=form.note.data or "", at=utcnow())
    db.session.commit()
    flash(_("The call is recorded."), "success")
    return redirect(url_for("followups.target", target_id=found.id))


@bp.post("/targets/<int:target_id>/visit")
@roles(Role.AGENCY_STAFF)
def visit(target_id: int) -> Any:
    found = _target(target_id)
    form = VisitForm()
    if not form.validate():
        flash(_("Answer every question of the questionnaire."), "error")
        return redirect(url_for("followups.target", target_id=found.id))
    answers = {q: getattr(form, q).data for q in QUESTIONS}
    operations.record_visit(db.session, actor=current_user, target=found,
                            visit=operations.Visit(answers, form.satisfaction.data, form.remarks.data or "",
                                                   form.actions.data or ""), at=utcnow())
    db.session.commit()
    flash(_("The visit is recorded."), "success")
    return redirect(url_for("followups.target", target_id=found.id))


@bp.get("/complaints")
@roles(*STAFF)
def complaints() -> Any:
    state = request.args.get("state") or None
    rows, total = queries.complaint_list(current_user, state=state, page=page_arg(), per_page=PER_PAGE)
    return render_template("followups/complaints.html", rows=rows, total=total, page=page_arg(), per_page=PER_PAGE,
                           state=state, form=HandleComplaintForm(), followup_label=followup_label)


@bp.post("/complaints/<int:complaint_id>/handle")
@roles(Role.ORGANISER)
def handle(complaint_id: int) -> Any:
    complaint = load_or_404(FollowupComplaint, complaint_id, lambda c: c.can_view(current_user))
    form = HandleComplaintForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("followups.complaints"))
    operations.handle_complaint(db.session, actor=current_user, complaint=complaint, note=form.note.data or "",
                                now=utcnow())
    db.session.commit()
    flash(_("The complaint is marked handled."), "success")
    return redirect(url_for("followups.complaints"))


@bp.get("/rates")
@roles(*STAFF)
def rates() -> Any:
    by = "lawyer" if request.args.get("by") == "lawyer" else "agency"
    scope = organiser_agency_ids(current_user) if current_user.is_organiser else [current_user.agency_id or -1]
    items = queries.rates(db.session, by=by, agency_ids=scope)
    return render_template("followups/rates.html", items=items, total=queries.totals(items), by=by)
