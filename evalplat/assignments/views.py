"""Assignment pages for organisers: a campaign's runs (preview, commit, undo, discard, override) and conflicts.

The URLs are the ones these pages had under the campaign and reviewer-pool areas.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts.models import Role
from evalplat.assignments import conflicts as conflict_ops
from evalplat.assignments import operations, queries
from evalplat.assignments.models import AssignmentRun, Conflict
from evalplat.campaigns.models import Campaign, Sample
from evalplat.campaigns.operations import in_user_language
from evalplat.confirm import require_confirmation
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.jurisdiction import pools_for_campaign, runs_campaign
from evalplat.organisations.models import ReviewerProfile
from evalplat.params import page_arg
from evalplat.security import back_to, filter_id, load_or_404, roles
from evalplat.signals import events_committed
from forms.campaigns import OverrideForm

bp = Blueprint("assignments", __name__, template_folder="templates")

PER_PAGE = 50


def _campaign(campaign_id: int) -> Campaign:
    return load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))


def _run(campaign: Campaign, run_id: int) -> AssignmentRun:
    return load_or_404(AssignmentRun, run_id, lambda r: r.campaign_id == campaign.id)


def _back_to_campaign(campaign: Campaign) -> Any:
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


# --- runs ------------------------------------------------------------------------------------------------
@bp.post("/campaigns/<int:campaign_id>/runs")
@roles(Role.ORGANISER)
def preview(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    run = operations.preview_run(db.session, campaign=campaign, actor=current_user, now=utcnow())
    db.session.commit()
    return redirect(url_for("assignments.run", campaign_id=campaign.id, run_id=run.id))


@bp.get("/campaigns/<int:campaign_id>/runs/<int:run_id>")
@roles(Role.ORGANISER)
def run(campaign_id: int, run_id: int) -> Any:
    campaign = _campaign(campaign_id)
    the_run = _run(campaign, run_id)
    page = page_arg()
    pairs, total = queries.run_pairs_page(the_run, page=page, per_page=PER_PAGE)
    form = OverrideForm()
    choices = [SelectChoice(0, "—")] + [SelectChoice(rid, label) for rid, label in queries.active_reviewer_choices(campaign)]
    form.remove_reviewer_id.choices = choices
    form.add_reviewer_id.choices = choices[1:]
    form.sample_code.choices = [SelectChoice("", "—")] + [SelectChoice(code, text) for code, text in
                                                          queries.run_sample_choices(the_run)]
    problems = (the_run.summary or {}).get("problems", [])
    overrides = (the_run.summary or {}).get("overrides", [])
    names = queries.reviewer_labels({r for o in overrides for r in (o.get("removed"), o.get("reviewer_id")) if r})
    return render_template("assignments/run.html", campaign=campaign, run=the_run, loads=queries.run_loads(the_run),
                           pairs=pairs, total=total, page=page, per_page=PER_PAGE, form=form, problems=problems,
                           english=in_user_language("en", "zh") == "en", names=names)


@bp.post("/campaigns/<int:campaign_id>/runs/<int:run_id>/commit")
@roles(Role.ORGANISER)
def commit(campaign_id: int, run_id: int) -> Any:
    campaign = _campaign(campaign_id)
    require_confirmation()
    count = operations.commit_run(db.session, run=_run(campaign, run_id), actor=current_user, now=utcnow())
    db.session.commit()
    events_committed.send()
    flash(_l("%(n)d assignments offered to reviewers.", n=count), "success")
    return _back_to_campaign(campaign)


@bp.post("/campaigns/<int:campaign_id>/runs/<int:run_id>/undo")
@roles(Role.ORGANISER)
def undo(campaign_id: int, run_id: int) -> Any:
    campaign = _campaign(campaign_id)
    count = operations.undo_run(db.session, run=_run(campaign, run_id), actor=current_user, now=utcnow())
    db.session.commit()
    flash(_l("Assignment undone: %(n)d assignments removed.", n=count), "success")
    return _back_to_campaign(campaign)


@bp.post("/campaigns/<int:campaign_id>/runs/<int:run_id>/discard")
@roles(Role.ORGANISER)
def discard(campaign_id: int, run_id: int) -> Any:
    campaign = _campaign(campaign_id)
    operations.discard_run(db.session, run=_run(campaign, run_id), actor=current_user, now=utcnow())
    db.session.commit()
    flash(_l("Preview discarded."), "success")
    return _back_to_campaign(campaign)


@bp.post("/campaigns/<int:campaign_id>/runs/<int:run_id>/override")
@roles(Role.ORGANISER)
def override(campaign_id: int, run_id: int) -> Any:
    campaign = _campaign(campaign_id)
    the_run = _run(campaign, run_id)
    form = OverrideForm()
    form.remove_reviewer_id.choices = form.add_reviewer_id.choices = form.sample_code.choices = []
    if not form.validate_on_submit():
        raise operations.AssignmentError(_l("Give the case code, the reviewer and a reason."))
    sample = db.session.scalar(sa.select(Sample).where(Sample.campaign_id == campaign.id,
                                                       Sample.code == form.sample_code.data.strip()))
    if sample is None:
        raise operations.AssignmentError(_l("No case %(c)s in this campaign.", c=form.sample_code.data))
    # a reviewer outside the pools the campaign draws on is as unknown as a missing one
    pools = sa.select(ReviewerProfile).where(pools_for_campaign(campaign))
    add = db.session.scalar(pools.where(ReviewerProfile.id == form.add_reviewer_id.data))
    remove = (db.session.scalar(pools.where(ReviewerProfile.id == form.remove_reviewer_id.data))
              if form.remove_reviewer_id.data else None)
    if add is None:
        raise operations.AssignmentError(_l("Choose the reviewer to add."))
    check = operations.override_pair(db.session, run=the_run, sample=sample, remove=remove, add=add,
                                     reason=form.reason.data, actor=current_user, now=utcnow(),
                                     accept_conflict=form.accept_conflict.data)
    db.session.commit()
    flash(_l("Override recorded."), "success")
    for warning in check.conflicts + check.warnings:
        flash(_l("Warning: %(w)s", w=warning), "warning")
    return redirect(url_for("assignments.run", campaign_id=campaign.id, run_id=the_run.id))


# --- conflicts of interest -------------------------------------------------------------------------------
@bp.get("/conflicts")
@roles(Role.ORGANISER)
def conflicts() -> Any:
    page = page_arg()
    campaign_id = filter_id("campaign", lambda found: runs_campaign(current_user, found))
    status = request.args.get("status", "")
    reason = request.args.get("reason", "")
    rows, total = queries.conflicts_page(current_user, campaign_id=campaign_id, status=status, reason=reason, page=page,
                                         per_page=PER_PAGE)
    return render_template("assignments/conflicts.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           campaign_id=campaign_id, status=status, reason=reason, reasons=queries.REASON_LABELS,
                           rule_reasons=conflict_ops.RULE_REASONS)


@bp.post("/conflicts/<int:conflict_id>/<decision>")
@roles(Role.ORGANISER)
def decide_conflict(conflict_id: int, decision: str) -> Any:
    conflict = load_or_404(Conflict, conflict_id, lambda c: c.can_decide(current_user))
    if decision not in ("confirm", "dismiss"):
        return redirect(url_for("assignments.conflicts"))
    conflict_ops.decide_conflict(db.session, conflict=conflict, confirm=decision == "confirm", actor=current_user,
                                 now=utcnow())
    db.session.commit()
    flash(_l("Conflict confirmed.") if decision == "confirm" else _l("Conflict dismissed."), "success")
    return redirect(back_to(url_for("assignments.conflicts")))
