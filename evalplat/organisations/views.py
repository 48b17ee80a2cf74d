"""Reviewer pool pages for organisers. Conflicts of interest: evalplat.assignments.views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts.models import Role
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations import importer, operations, queries
from evalplat.organisations.jurisdiction import may_hold_city
from evalplat.organisations.models import ReviewerProfile
from evalplat.params import page_arg
from evalplat.security import back_to, filter_id, load_or_404, roles
from forms.reviewers import ReviewerForm, ReviewerImportForm

bp = Blueprint("organisations", __name__, template_folder="templates")

PER_PAGE = 50


def _day(value: date | None) -> datetime | None:
    return datetime.combine(value, datetime.min.time(), tzinfo=UTC) if value else None


@bp.get("/reviewers")
@roles(Role.ORGANISER)
def reviewers() -> Any:
    page = page_arg()
    q = request.args.get("q", "").strip()
    city_id = filter_id("city", lambda region_id: may_hold_city(current_user, region_id))
    kind = request.args.get("kind", "")
    active = request.args.get("active", "1")
    rows, total = queries.reviewers_page(current_user, q=q, city_id=city_id, kind=kind, active=active, page=page, per_page=PER_PAGE)
    return render_template("organisations/reviewers.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           q=q, city_id=city_id, kind=kind, active=active, cities=queries.cities(current_user))


@bp.route("/reviewers/import", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def import_reviewers() -> Any:
    form = ReviewerImportForm()
    errors: list[importer.RowError] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            summary = importer.import_reviewers(db.session, actor=current_user, data=upload.read(),
                                                filename=upload.filename or "")
        except importer.ReviewerImportError as exc:
            db.session.rollback()
            errors = exc.errors
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_l("%(c)d reviewers created and %(u)d updated.", c=summary.created, u=summary.updated), "success")
            if summary.firms_created:
                flash(_l("New firms: %(f)s.", f="、".join(summary.firms_created)), "info")
            return redirect(url_for("organisations.reviewers"))
    return render_template("organisations/import.html", form=form, errors=errors, columns=importer.COLUMNS)


@bp.route("/reviewers/<int:reviewer_id>/edit", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def edit_reviewer(reviewer_id: int) -> Any:
    reviewer = load_or_404(ReviewerProfile, reviewer_id, lambda r: r.can_manage(current_user))
    form = ReviewerForm(obj=reviewer) if request.method == "GET" else ReviewerForm()
    cities = queries.cities(current_user)
    if reviewer.city is not None and reviewer.city not in cities:  # kept from before the pool was scoped
        cities.append(reviewer.city)
    form.city_id.choices = [SelectChoice(c.id, c.name) for c in cities]
    if request.method == "GET":
        form.available_from.data = reviewer.available_from.date() if reviewer.available_from else None
        form.available_until.data = reviewer.available_until.date() if reviewer.available_until else None
    if form.validate_on_submit():
        operations.update_reviewer(db.session, actor=current_user, reviewer=reviewer, city_id=form.city_id.data,
                                   organisation=form.organisation.data or None,
                                   years_of_practice=form.years_of_practice.data, case_types=form.case_types.data,
                                   capacity=form.capacity.data, available_from=_day(form.available_from.data),
                                   available_until=_day(form.available_until.data))
        db.session.commit()
        flash(_l("Reviewer saved."), "success")
        return redirect(url_for("organisations.reviewers"))
    return render_template("organisations/reviewer_form.html", form=form, reviewer=reviewer)


@bp.post("/reviewers/<int:reviewer_id>/active/<int:active>")
@roles(Role.ORGANISER)
def set_active(reviewer_id: int, active: int) -> Any:
    reviewer = load_or_404(ReviewerProfile, reviewer_id, lambda r: r.can_manage(current_user))
    made = operations.set_reviewer_active(db.session, actor=current_user, reviewer=reviewer, active=bool(active),
                                          now=utcnow())
    db.session.commit()
    if active:
        flash(_l("Reviewer activated."), "success")
    else:
        flash(_l("Reviewer deactivated; %(n)d cases re-assigned to other reviewers.", n=len(made)), "success")
    return redirect(back_to(url_for("organisations.reviewers")))
