"""Results pages: consolidation and reliability (organiser), decisions (adjudicators), agency results, circular."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts.models import Role
from evalplat.assignments.models import Assignment, AssignmentRound
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases.queries import reviewer_documents
from evalplat.confirm import require_confirmation
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.labels import per_request
from evalplat.organisations.jurisdiction import agencies_within, can_read_results_of
from evalplat.organisations.models import Agency
from evalplat.params import page_arg
from evalplat.results import operations, queries, snapshots
from evalplat.results.labels import result_label, reviewer_name
from evalplat.reviews.rubrics import rubric_for_assignment
from evalplat.security import filter_id, load_or_404, roles
from evalplat.signals import events_committed
from forms.results import ComputeForm, DecisionForm, OfficialScoresForm

bp = Blueprint("results", __name__, url_prefix="/results", template_folder="templates")
bp.app_template_filter("rlabel")(per_request(result_label))
bp.app_context_processor(lambda: {"reviewer_name": reviewer_name})

PER_PAGE = 50
REVIEWERS = (Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR)


def _lang() -> str:
    return str(get_locale() or "zh")


def _campaign(campaign_id: int) -> Campaign:
    return load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))


# --- organiser ------------------------------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>")
@roles(Role.ORGANISER)
def campaign(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    page = page_arg()
    rows, total = queries.results_page(c, page=page, per_page=PER_PAGE)
    return render_template("results/campaign.html", campaign=c, overview=queries.overview(c), rows=rows,
                           total=total, page=page, per_page=PER_PAGE,
                           official_form=OfficialScoresForm(choice=c.official_scores),
                           weighted=queries.weighted_figures(db.session, c))


@bp.post("/campaigns/<int:campaign_id>/consolidate")
@roles(Role.ORGANISER)
def consolidate(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    outcome = operations.consolidate(db.session, campaign=c, actor=current_user, now=utcnow(), require_full=False)
    db.session.commit()
    if outcome.consensus or outcome.escalated or outcome.unassigned:
        flash(_("%(c)d cases consolidated, %(e)d sent to adjudication, %(w)d still waiting for reviews.",
                c=len(outcome.consensus), e=len(outcome.escalated), w=outcome.waiting), "success")
    else:  # each case is consolidated when its last review comes in: usually nothing is left for this pass
        seen = queries.overview(c)
        flash(_("Nothing new to consolidate. Cases with a result: %(r)d (a case is consolidated as soon as its last "
                "review comes in); with adjudicators: %(a)d; still waiting for reviews: %(w)d.",
                r=sum(seen.by_kind.values()), a=seen.adjudicating, w=outcome.waiting), "info")
    if outcome.unassigned:
        flash(_("No adjudicator could be found for %(codes)s: %(why)s", codes=", ".join(outcome.unassigned[:20]),
                why=" ".join(outcome.problems)), "error")
    return redirect(url_for("results.campaign", campaign_id=c.id))


@bp.post("/campaigns/<int:campaign_id>/official")
@roles(Role.ORGANISER)
def official(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    form = OfficialScoresForm()
    if not form.validate_on_submit():
        flash(_("Choose raw or bias-corrected scores."), "error")
        return redirect(url_for("results.campaign", campaign_id=c.id))
    n = operations.set_official_scores(db.session, campaign=c, actor=current_user, choice=form.choice.data,
                                       now=utcnow())
    db.session.commit()
    flash(_("Official scores: %(choice)s (%(n)d results updated).", choice=form.choice.data, n=n), "success")
    return redirect(url_for("results.campaign", campaign_id=c.id))


@bp.post("/campaigns/<int:campaign_id>/circular")
@roles(Role.ORGANISER)
def publish_circular(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    require_confirmation()
    operations.publish_circular(db.session, campaign=c, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("The circular's province-wide figures are published."), "success")
    return redirect(url_for("results.circular", campaign_id=c.id))


@bp.get("/campaigns/<int:campaign_id>/reliability")
@roles(Role.ORGANISER)
def reliability(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    page = page_arg()
    view = snapshots.panel_view(db.session, c, locale=_lang())
    side, total = queries.calibrated_page(c, view.corrected, page=page, per_page=PER_PAGE)
    return render_template("results/reliability.html", campaign=c, view=view, panel=view.panel, side=side,
                           total=total, page=page, per_page=PER_PAGE, flags=queries, form=ComputeForm())


@bp.post("/campaigns/<int:campaign_id>/reliability/compute")
@roles(Role.ORGANISER)
def compute_reliability(campaign_id: int) -> Any:
    c = _campaign(campaign_id)
    if not ComputeForm().validate_on_submit():
        abort(400)
    outcome, snapshot = snapshots.request_figures(db.session, c, actor_id=current_user.id)
    db.session.commit()
    if snapshot is not None:
        flash(_("The figures were computed in %(s).1f s and stored.", s=snapshot.seconds), "success")
    elif outcome == "running":
        flash(_("The figures are already being computed."), "info")
    else:
        flash(_("The figures are being computed in the background; this page shows them when they are ready."),
              "info")
    return redirect(url_for("results.reliability", campaign_id=c.id))


@bp.get("/samples/<int:sample_id>")
@roles(Role.ORGANISER)
def sample(sample_id: int) -> Any:
    s = load_or_404(Sample, sample_id, lambda x: x.campaign.can_manage(current_user))
    return render_template("results/sample.html", sample=s, results=queries.history(s.id),
                           reviews=queries.earlier_reviews(s.id, rounds=tuple(AssignmentRound)))


# --- adjudicators and appeal re-reviewers --------------------------------------------------------------------


@bp.get("/decisions")
@roles(*REVIEWERS)
def decisions() -> Any:
    return render_template("results/decisions.html", rows=queries.open_decisions(current_user))


@bp.route("/decisions/<oid:assignment_id>", methods=["GET", "POST"])
@roles(*REVIEWERS)
def decide(assignment_id: int) -> Any:
    assignment = load_or_404(Assignment, assignment_id, lambda a: a.can_open(current_user)
                             and a.round in operations.DECISION_STATES)
    _row, rubric = rubric_for_assignment(db.session, assignment)
    form = DecisionForm()
    form.vetoes.choices = [SelectChoice(item.code, item.label.get(_lang())) for item in rubric.veto_items]
    if form.validate_on_submit():
        operations.decide(db.session, assignment=assignment, actor=current_user, total=float(form.total.data),
                          vetoes=form.vetoes.data or [], reasons=form.reasons.data or "", now=utcnow())
        db.session.commit()
        events_committed.send()
        flash(_("Your decision on case %(code)s is recorded.", code=assignment.sample.code), "success")
        return redirect(url_for("results.decisions"))
    sample_row = assignment.sample
    appeal = None
    if assignment.round == AssignmentRound.APPEAL:
        from evalplat.appeals.models import Appeal

        found = db.session.scalar(db.select(Appeal).where(Appeal.sample_id == sample_row.id))
        appeal = queries.appeal_for_rereview(found, sample_row.case, rubric, locale=_lang()) if found else None
    return render_template("results/decide.html", assignment=assignment, sample=sample_row, form=form,
                           rubric=rubric, lang=_lang(), documents=reviewer_documents(sample_row.case_id),
                           reviews=queries.earlier_reviews(sample_row.id, rounds=(AssignmentRound.INITIAL,)),
                           current=operations.current_result(db.session, sample_row.id), appeal=appeal,
                           case_type=sample_row.case.case_type)


# --- agencies ---------------------------------------------------------------------------------------------------


def _agency_id() -> int:
    """The agency whose results are shown: the user's own; the organiser picks one with ?agency=."""
    if current_user.is_organiser:
        chosen = filter_id("agency", current_user.can_view_agency)
        if chosen is not None:
            return chosen
        first = db.session.scalar(db.select(Agency.id).where(Agency.id.in_(agencies_within(current_user)))
                                  .order_by(Agency.id).limit(1))
        if first is None:
            abort(404)
        return int(first)
    if current_user.agency_id is None:
        abort(404)
    return int(current_user.agency_id)


@bp.get("/ours")
@roles(Role.AGENCY_STAFF, Role.ORGANISER)
def agency_results() -> Any:
    agency_id = _agency_id()
    campaigns = queries.visible_campaigns(current_user)
    chosen_id = filter_id("campaign", lambda found: any(c.id == found for c in campaigns))
    chosen = next((c for c in campaigns if c.id == chosen_id), campaigns[0] if campaigns else None)
    page = page_arg()
    rows, total = queries.agency_results(agency_id, chosen, page=page, per_page=PER_PAGE) if chosen else ([], 0)
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        abort(404)
    agencies = db.session.execute(db.select(Agency.id, Agency.name).where(Agency.id.in_(agencies_within(
        current_user))).order_by(Agency.name)).all() if current_user.is_organiser else []
    return render_template("results/agency.html", agency=agency, campaigns=campaigns, chosen=chosen, rows=rows,
                           total=total, page=page, per_page=PER_PAGE, agencies=agencies)


def _own_sample(sample_id: int) -> Sample:
    """A published sample of the user's agency (organiser: any); 404 otherwise."""
    return load_or_404(Sample, sample_id, lambda s: s.case.can_view_original(current_user)
                       and s.campaign.results_published and not s.is_training
                       and (not current_user.is_organiser or can_read_results_of(current_user, s.campaign)))


@bp.get("/ours/<int:sample_id>")
@roles(Role.AGENCY_STAFF, Role.ORGANISER)
def agency_case(sample_id: int) -> Any:
    s = _own_sample(sample_id)
    feedback = queries.case_feedback(s, locale=_lang())
    if feedback is None:
        abort(404)
    from evalplat.appeals.operations import window_problem

    return render_template("results/agency_case.html", fb=feedback, campaign=s.campaign,
                           appeal_problem=window_problem(s.campaign, utcnow()))


def _may_read_circular(campaign: Campaign) -> bool:
    """Organisers: their own or a sub-jurisdiction's once results are published, an ancestor's once its circular
    is; agency staff: a published circular."""
    if not campaign.results_published:
        return False
    published = campaign.circular_published_at is not None
    if current_user.is_organiser:
        return campaign.can_read(current_user) or (published and can_read_results_of(current_user, campaign))
    return published


@bp.get("/campaigns/<int:campaign_id>/circular")
@roles(Role.AGENCY_STAFF, Role.ORGANISER)
def circular(campaign_id: int) -> Any:
    c = load_or_404(Campaign, campaign_id, _may_read_circular)
    rows = queries.circular(c)
    return render_template("results/circular.html", campaign=c, rows=rows, totals=queries.grade_totals(rows))
