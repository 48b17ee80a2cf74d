"""The reliability panel as a stored snapshot: computed once per state of the data, shown on every page view.

At national scale (70,000 cases, 210,000 reviews) the panel and the bias-corrected totals take a minute or
more, far beyond a page view. A campaign keeps its last computed figures in :class:`ReliabilitySnapshot`
together with a *fingerprint* of the data they rest on (the submitted initial reviews, the adjudications and
the current results). A page compares the fingerprint with the data's current one:

- equal: the snapshot is shown as current;
- different or missing, and the campaign small (at most ``EVALPLAT_RELIABILITY_LIVE_MAX`` initial reviews):
  the figures are computed on the page, as before, and not stored (a GET changes nothing);
- different or missing, and the campaign large: the last snapshot is shown marked out of date (or nothing),
  with a button that recomputes it in the background (``results.reliability`` job) — or
  ``flask --app wsgi results reliability CAMPAIGN_ID``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from evalplat import jobs
from evalplat.assignments.models import Assignment, AssignmentRound
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign, Sample
from evalplat.db import DbSession, utcnow
from evalplat.extensions import db
from evalplat.jobs.models import JobRecord, JobState
from evalplat.jobs.tracking import run_tracked, submit_job
from evalplat.results.models import ReliabilitySnapshot, Result
from evalplat.results.operations import OPEN
from evalplat.results.queries import Panel, json_safe, panel_from_figures, reliability_figures
from evalplat.reviews.models import Review, ReviewState

#: Bumped whenever :func:`reliability_figures` changes what it computes, so older snapshots count as stale.
FIGURES_VERSION = 1
TASK = "results.reliability"


@dataclass(frozen=True)
class DataState:
    """What the panel rests on now: its fingerprint and the number of submitted initial reviews."""

    fingerprint: str
    reviews: int


def data_state(session: DbSession, campaign: Campaign) -> DataState:
    """The current fingerprint of a campaign's reliability data (three aggregate queries, no rows read out).

    Submitted initial reviews (count, sum of their row versions — every re-submission bumps one — and the
    newest submission time), adjudication assignments (count, open ones, highest id) and current results
    (count, highest id).
    """
    in_campaign = sa.and_(Sample.campaign_id == campaign.id, Sample.is_training.is_(False))
    reviews = session.execute(
        sa.select(sa.func.count(Review.id), sa.func.coalesce(sa.func.sum(Review.version), 0),
                  sa.func.max(Review.submitted_at))
        .join(Assignment, Assignment.id == Review.assignment_id).join(Sample, Sample.id == Assignment.sample_id)
        .where(in_campaign, Assignment.round == AssignmentRound.INITIAL, Review.state == ReviewState.SUBMITTED)).one()
    adjudications = session.execute(
        sa.select(sa.func.count(Assignment.id), sa.func.count(Assignment.id).filter(Assignment.state.in_(OPEN)),
                  sa.func.max(Assignment.id))
        .join(Sample, Sample.id == Assignment.sample_id)
        .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION)).one()
    results = session.execute(
        sa.select(sa.func.count(Result.id), sa.func.max(Result.id)).join(Sample, Sample.id == Result.sample_id)
        .where(Sample.campaign_id == campaign.id, Result.current.is_(True))).one()
    newest = reviews[2].isoformat() if isinstance(reviews[2], datetime) else str(reviews[2])
    parts = [FIGURES_VERSION, campaign.id, reviews[0], reviews[1], newest, *adjudications, *results]
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return DataState(digest, int(reviews[0] or 0))


def latest(session: DbSession, campaign: Campaign) -> ReliabilitySnapshot | None:
    return session.scalar(sa.select(ReliabilitySnapshot).where(ReliabilitySnapshot.campaign_id == campaign.id))


def compute(session: DbSession, campaign: Campaign, *, actor_id: int | None = None) -> ReliabilitySnapshot:
    """Compute the figures now and store them as the campaign's snapshot (the caller commits); audited.

    The fingerprint is read before the figures, so data that change while they are computed leave the
    snapshot marked out of date rather than wrongly current.
    """
    state = data_state(session, campaign)
    started = time.perf_counter()
    figures = reliability_figures(session, campaign)
    seconds = round(time.perf_counter() - started, 3)
    values = {"fingerprint": state.fingerprint, "figures": json_safe(figures), "seconds": seconds,
              "computed_at": utcnow()}
    # Lock the campaign row: two computations at once store one after the other, never two rows.
    session.execute(sa.select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    snapshot = latest(session, campaign)
    if snapshot is None:
        snapshot = ReliabilitySnapshot(campaign_id=campaign.id, **values)
        session.add(snapshot)
    else:
        for key, value in values.items():
            setattr(snapshot, key, value)
    record(session, actor_id=actor_id, action="results.reliability_computed", object_type="campaign",
           object_id=campaign.id, after={"reviews": figures["reviews"], "cases": figures["cases"], "seconds": seconds})
    session.flush()
    return snapshot


@dataclass
class PanelView:
    """What the reliability page shows.

    ``state``: ``current`` (stored snapshot, data unchanged), ``live`` (computed for this page),
    ``stale`` (stored snapshot, data changed since) or ``missing`` (none stored, too large to compute here).
    """

    panel: Panel | None
    corrected: dict[str, float]
    state: str
    computed_at: datetime | None = None
    seconds: float | None = None
    job: JobRecord | None = None


def live_limit() -> int:
    return int(current_app.config["EVALPLAT_RELIABILITY_LIVE_MAX"])


def panel_view(session: DbSession, campaign: Campaign, *, locale: str) -> PanelView:
    """The panel for a page view: the snapshot when current, else live when small, else the stale snapshot."""
    state = data_state(session, campaign)
    snapshot = latest(session, campaign)
    if snapshot is not None and snapshot.fingerprint == state.fingerprint:
        return PanelView(panel_from_figures(snapshot.figures, locale=locale), snapshot.figures["corrected"],
                         "current", snapshot.computed_at, snapshot.seconds)
    if state.reviews <= live_limit():
        figures = reliability_figures(session, campaign)
        return PanelView(panel_from_figures(figures, locale=locale), figures["corrected"], "live")
    job = running_job(session, campaign)
    if snapshot is None:
        return PanelView(None, {}, "missing", job=job)
    return PanelView(panel_from_figures(snapshot.figures, locale=locale), snapshot.figures["corrected"], "stale",
                     snapshot.computed_at, snapshot.seconds, job)


def running_job(session: DbSession, campaign: Campaign) -> JobRecord | None:
    """The campaign's queued or running recomputation, if any."""
    return session.scalar(sa.select(JobRecord).where(
        JobRecord.task == TASK, JobRecord.object_type == "campaign", JobRecord.object_id == campaign.id,
        JobRecord.state.in_([JobState.QUEUED, JobState.RUNNING])).order_by(JobRecord.created_at.desc()).limit(1))


def request_figures(session: DbSession, campaign: Campaign, *, actor_id: int
                    ) -> tuple[str, ReliabilitySnapshot | None]:
    """An organiser asks for the figures; returns what happened and the new snapshot, if any.

    ``("computed", snapshot)``: a small campaign's figures computed and stored now (the caller commits);
    ``("queued", None)``: the ``results.reliability`` job queued for a large one; ``("running", None)``: a
    computation is already queued or running.
    """
    if running_job(session, campaign) is not None:
        return "running", None
    if data_state(session, campaign).reviews <= live_limit():
        return "computed", compute(session, campaign, actor_id=actor_id)
    submit_job(session, TASK, actor_id=actor_id, object_type="campaign", object_id=campaign.id, args=(campaign.id, actor_id))
    return "queued", None


@jobs.task(TASK, timeout=6 * 3600)
def reliability_task(job_id: str, campaign_id: int, actor_id: int | None = None) -> str:
    """Background task: compute and store a campaign's reliability snapshot."""
    def work(_progress: Any) -> str:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign with id {campaign_id}")
        snapshot = compute(db.session, campaign, actor_id=actor_id)
        db.session.commit()
        return json.dumps({"reviews": snapshot.figures["reviews"], "seconds": round(snapshot.seconds, 1)})
    return str(run_tracked(job_id, work))
