"""The reviewer's workspace (inbox, case page, accept/decline) and the organiser's rubric and calibration pages.

Other domains add a panel to the case page (for example what an adjudicator sees of the earlier reviews)
with :func:`register_case_panel`; templates may also extend ``reviews/case.html`` and fill the
``extra_panels`` block.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from evalplat.accounts.models import Role
from evalplat.assignments.models import Assignment, AssignmentState
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.labels import LABELS as CASE_LABELS
from evalplat.cases.queries import reviewer_documents
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label
from evalplat.reviews import operations, queries
from evalplat.reviews.models import CalibrationReference, Review, ReviewState, RubricVersion
from evalplat.reviews.rubrics import (
    definition_text,
    parse_definition_text,
    reviews_under,
    rubric_for_assignment,
    rubric_of,
    save_rubric_version,
    version_for_sample,
)
from evalplat.security import allowed_or_404, load_or_404, roles
from forms.review import SUBMIT, ItemEntry, initial_data, review_form_class
from forms.rubric_admin import CalibrationForm, DeclineForm, RubricEditForm
from forms.rubrics import RubricDefinitionError

bp = Blueprint("reviews", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets/reviews")

REVIEWERS = (Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR)

CasePanel = Callable[[Assignment, Review | None], Markup | str | None]
_CASE_PANELS: list[CasePanel] = []


def register_case_panel(panel: CasePanel) -> CasePanel:
    """Add ``panel(assignment, review) -> HTML or None`` to the case page, under the case facts.

    The panel decides for itself what the reviewer may see (an adjudicator, for example, sees the earlier
    reviews of the case; an initial reviewer sees nothing extra, so the panel returns ``None``).
    """
    if panel not in _CASE_PANELS:
        _CASE_PANELS.append(panel)
    return panel


def unregister_case_panel(panel: CasePanel) -> None:
    _CASE_PANELS[:] = [p for p in _CASE_PANELS if p is not panel]


def _mine(assignment_id: int) -> Assignment:
    return load_or_404(Assignment, assignment_id, lambda a: a.can_open(current_user))


# --- the reviewer ------------------------------------------------------------------------------------------


@bp.get("/reviews/")
@roles(*REVIEWERS)
def inbox() -> Any:
    rows = queries.inbox(db.session, current_user.reviewer_profile, now=utcnow())
    return render_template("reviews/inbox.html", rows=rows, left=queries.remaining(rows),
                           has_profile=current_user.reviewer_profile is not None)


@bp.post("/reviews/<oid:assignment_id>/accept")
@roles(*REVIEWERS)
def accept(assignment_id: int) -> Any:
    assignment = _mine(assignment_id)
    operations.accept_assignment(db.session, assignment=assignment, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("Assignment accepted. You can score the case now."), "success")
    return redirect(url_for(".case", assignment_id=assignment_id))


@bp.route("/reviews/<oid:assignment_id>/decline", methods=["GET", "POST"])
@roles(*REVIEWERS)
def decline(assignment_id: int) -> Any:
    assignment = _mine(assignment_id)
    form = DeclineForm()
    if form.validate_on_submit():
        outcome = operations.decline_assignment(db.session, assignment=assignment, actor=current_user,
                                                reason=form.reason.data or "", conflict=bool(form.conflict.data),
                                                now=utcnow())
        db.session.commit()
        code = assignment.sample.code
        if outcome.reassigned:
            flash(_("You declined case %(code)s; it has been offered to another reviewer.", code=code), "success")
        else:
            flash(_("You declined case %(code)s; the organiser will find another reviewer.", code=code), "success")
        for problem in outcome.problems:
            flash(problem, "warning")
        return redirect(url_for(".inbox"))
    return render_template("reviews/decline.html", assignment=assignment, form=form), 422 if form.errors else 200


@bp.route("/reviews/<oid:assignment_id>", methods=["GET", "POST"])
@roles(*REVIEWERS)
def case(assignment_id: int) -> Any:
    assignment = allowed_or_404(queries.case_assignment(db.session, assignment_id),
                                lambda a: a.can_open(current_user))
    row, rubric = rubric_for_assignment(db.session, assignment)
    review = assignment.review
    form_class = review_form_class(rubric)
    status = 200
    if request.method == "POST":
        operations.ensure_scorable(db.session, assignment=assignment, actor=current_user)
        form = form_class()
        valid = form.validate_on_submit()
        if valid and form.mode == SUBMIT and not form.confirmed.data:
            form.confirmed.errors = [*form.confirmed.errors, _(
                "Nothing was submitted: tick the box to confirm. Your scores are still on the page.")]
            valid = False
        if valid:
            scores = form.scores()
            operation = operations.submit_review if scores.mode == SUBMIT else operations.save_draft
            now = utcnow()
            operation(db.session, assignment=assignment, actor=current_user, data=scores, now=now)
            db.session.commit()
            flash(_("Review submitted. Thank you.") if scores.mode == SUBMIT
                  else _("Draft saved at %(time)s.", time=now.strftime("%H:%M")), "success")
            return redirect(url_for(".case", assignment_id=assignment_id, _anchor="rubric"))
        status = 422
    else:
        entries: list[ItemEntry] = []
        if review is not None:
            entries = list(operations.scores_from_items(rubric, review.items).entries.values())
        form = form_class(data=initial_data(entries)) if entries else form_class()
    locked = review is not None and review.state == ReviewState.SUBMITTED
    comparison = queries.calibration_comparison(db.session, assignment=assignment, rubric=rubric) if locked else None
    # A panel returns Markup for trusted HTML; plain text is escaped.
    panels = [escape(html) for html in (panel(assignment, review) for panel in _CASE_PANELS) if html]
    return render_template(
        "reviews/case.html", assignment=assignment, review=review, rubric=rubric, version=row, form=form,
        facts=queries.facts_of(assignment.sample),
        documents=reviewer_documents(assignment.sample.case_id), locked=locked,
        can_score=assignment.state == AssignmentState.ACCEPTED and not locked,
        comparison=comparison, panels=panels, format_total=queries.format_total), status


# --- the organiser: rubric versions ----------------------------------------------------------------------


@bp.get("/rubrics/")
@roles(Role.ORGANISER)
def rubrics() -> Any:
    return render_template("reviews/rubrics.html", rows=queries.rubric_versions(db.session, current_user))


@bp.post("/rubrics/import")
@roles(Role.ORGANISER)
def import_rubrics() -> Any:
    from evalplat.campaigns.operations import ensure_rubric_versions

    ensure_rubric_versions(db.session, actor=current_user)
    db.session.commit()
    flash(_("The platform's rubric files are stored as versions."), "success")
    return redirect(url_for(".rubrics"))


@bp.route("/rubrics/<int:version_id>", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def rubric(version_id: int) -> Any:
    """A version and a working preview of its form: posting it computes the total and stores nothing."""
    row = load_or_404(RubricVersion, version_id, current_user.can_use_rubric)
    rubric_ = rubric_of(row)
    form = review_form_class(rubric_)()
    evaluation = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            scores = form.scores()
            if scores.complete:
                evaluation = scores.evaluate(rubric_)
        else:
            status = 422
    return render_template("reviews/rubric.html", version=row, rubric=rubric_, form=form, evaluation=evaluation,
                           reviews=reviews_under(db.session, row),
                           revisable=current_user.can_manage_rubric(row)), status


@bp.route("/rubrics/<int:version_id>/edit", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def edit_rubric(version_id: int) -> Any:
    row = load_or_404(RubricVersion, version_id, current_user.can_use_rubric)
    form = RubricEditForm(data={"definition": definition_text(row), "new_version": True}
                          if request.method == "GET" else None)
    problems: list[Any] = []
    if form.validate_on_submit():
        source = f"{row.key} v{row.version}"
        try:
            data = parse_definition_text(form.definition.data or "", source=source)
            saved = save_rubric_version(db.session, actor=current_user, base=row, data=data,
                                        new_version=bool(form.new_version.data), now=utcnow())
        except RubricDefinitionError as error:
            db.session.rollback()
            problems = list(error.problems)
        else:
            db.session.commit()
            flash(_("Saved as version %(v)s.", v=saved.row.version) if saved.created
                  else _("Version %(v)s revised.", v=saved.row.version), "success")
            return redirect(url_for(".rubric", version_id=saved.row.id))
    status = 422 if problems or form.errors else 200
    return render_template("reviews/rubric_edit.html", version=row, form=form, problems=problems,
                           reviews=reviews_under(db.session, row),
                           revisable=current_user.can_manage_rubric(row)), status


# --- the organiser: calibration --------------------------------------------------------------------------


@bp.get("/calibration/")
@roles(Role.ORGANISER)
def calibration_campaigns() -> Any:
    return render_template("reviews/calibration_campaigns.html",
                           campaigns=queries.campaigns_for_calibration(db.session, current_user))


@bp.route("/calibration/<int:campaign_id>", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def calibration(campaign_id: int) -> Any:
    campaign = load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))
    form = CalibrationForm()
    if form.validate_on_submit():
        due = (datetime.combine(form.due_on.data, time(23, 59), tzinfo=UTC) if form.due_on.data else None)
        made = operations.start_calibration(db.session, actor=current_user, campaign=campaign, case_ids=form.ids(),
                                            due_at=due, now=utcnow())
        db.session.commit()
        flash(_("%(n)d calibration assignments offered.", n=len(made)), "success")
        return redirect(url_for(".calibration", campaign_id=campaign_id))
    q = (request.args.get("q") or "").strip()[:64]
    return render_template("reviews/calibration.html", campaign=campaign, form=form, q=q,
                           found=queries.case_search(db.session, q) if q else [],
                           rows=queries.training_samples(db.session, campaign_id),
                           format_total=queries.format_total), 422 if form.errors else 200


@bp.route("/calibration/samples/<int:sample_id>/reference", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def reference(sample_id: int) -> Any:
    sample = load_or_404(Sample, sample_id, lambda s: s.is_training and s.campaign.can_manage(current_user))
    row = version_for_sample(db.session, sample.id)
    rubric_ = rubric_of(row)
    form_class = review_form_class(rubric_)
    existing = db.session.scalar(db.select(CalibrationReference).where(CalibrationReference.sample_id == sample_id))
    status = 200
    if request.method == "POST":
        form = form_class(mode=SUBMIT)
        if form.validate_on_submit():
            operations.record_reference(db.session, actor=current_user, sample=sample, rubric_row=row,
                                        data=form.scores(), note="", now=utcnow())
            db.session.commit()
            flash(_("Reference scores recorded for %(code)s.", code=sample.code), "success")
            return redirect(url_for(".calibration", campaign_id=sample.campaign_id))
        status = 422
    elif existing is not None and existing.rubric_version_id == row.id:
        form = form_class(data=initial_data(queries.reference_entries(existing)))
    else:
        form = form_class()
    return render_template("reviews/reference.html", sample=sample, form=form, rubric=rubric_,
                           facts=queries.case_facts(db.session, sample.id),
                           documents=reviewer_documents(sample.case_id)), status


def _label_choices() -> dict[str, Any]:
    return {"to_accept": _l("To accept"), "to_score": _l("To score"), "draft": _l("Draft"),
            "submitted": _l("Submitted"), "overdue": _l("Overdue")}


@bp.app_template_filter("inbox_status")
def inbox_status(value: Any) -> str:
    return str(_label_choices().get(str(value), value))


_INTERVALS = {"applied_to_assigned": _l("Application to assignment"),
              "assigned_to_first_meeting": _l("Assignment to first meeting"),
              "assigned_to_closed": _l("Assignment to closing")}


@bp.app_template_filter("interval_label")
def interval_label(value: str) -> str:
    return str(_INTERVALS.get(value, value))


@bp.app_template_filter("round_label")
def round_label(value: Any) -> str:
    """An assignment round's label, from the one table of rounds (evalplat.labels)."""
    return label(value)


@bp.app_template_filter("document_kind")
def document_kind(value: Any) -> str:
    """A document kind's label, from the one table of document kinds (evalplat.cases.labels)."""
    return label(value, CASE_LABELS)


__all__ = ["bp", "register_case_panel", "unregister_case_panel"]
