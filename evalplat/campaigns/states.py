"""The campaign state machine, in one place.

    draft → sampled → assigned → scoring → consolidating → published → appeals_closed → final
    (and assigned → sampled again, only while no review has started)

Every move goes through :func:`transition`: it checks that the edge exists, runs the built-in and the
connected preconditions, changes the state, and writes one audit event, all in the caller's transaction
(the view or CLI commits once). Other domains' preconditions are receivers of the
``campaign_precondition`` signal (:mod:`evalplat.signals`), connected by the factory with
:func:`precondition`, never at import time::

    def every_sample_has_a_result(session, campaign, now):
        missing = ...
        return _l("%(n)d samples have no result yet.", n=missing) if missing else None

    precondition(CampaignState.PUBLISHED)(every_sample_has_a_result)  # in evalplat.create_app

A precondition returns ``None`` when satisfied, or a (translatable) message saying what is missing; the
checks run in the order they were connected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentRun, AssignmentState, RunState
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign, CampaignRubric, CampaignState, Sample
from evalplat.db import DbSession
from evalplat.errors import InvalidTransition
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label, when
from evalplat.reviews.models import Review
from evalplat.signals import campaign_precondition

log = logging.getLogger(__name__)

S = CampaignState

# The edges of the machine: from-state → the states it may move to.
EDGES: dict[CampaignState, tuple[CampaignState, ...]] = {
    S.DRAFT: (S.SAMPLED,),
    S.SAMPLED: (S.ASSIGNED,),
    S.ASSIGNED: (S.SCORING, S.SAMPLED),
    S.SCORING: (S.CONSOLIDATING,),
    S.CONSOLIDATING: (S.PUBLISHED,),
    S.PUBLISHED: (S.APPEALS_CLOSED,),
    S.APPEALS_CLOSED: (S.FINAL,),
    S.FINAL: (),
}

# States in which the sample, the plan and the initial assignment can still change.
BEFORE_SCORING = frozenset({S.DRAFT, S.SAMPLED, S.ASSIGNED})

Precondition = Callable[[DbSession, Campaign, datetime], Any]


def precondition(to_state: CampaignState | str, *, from_state: CampaignState | str | None = None
                 ) -> Callable[[Precondition], Precondition]:
    """Connect a precondition for entering ``to_state`` (optionally only when coming from ``from_state``).

    The check is connected (strongly) to the ``campaign_precondition`` signal of :mod:`evalplat.signals`;
    the factory connects the other domains' checks with it.

    Parameters
    ----------
    to_state : CampaignState
        The state the check guards.
    from_state : CampaignState, optional
        Restrict the check to one edge.

    Returns
    -------
    callable
        A decorator that connects the function and returns it unchanged. The function takes ``(session, campaign, now)``
        and returns ``None`` when the move may go ahead, else a message naming what is missing.
    """
    sender = _sender(CampaignState(to_state), CampaignState(from_state) if from_state is not None else None)

    def decorate(check: Precondition) -> Precondition:
        campaign_precondition.connect(check, sender=sender, weak=False)
        return check

    return decorate


def _sender(to_state: CampaignState, from_state: CampaignState | None) -> str:
    return f"{from_state.value}->{to_state.value}" if from_state is not None else to_state.value


def unregister(check: Precondition) -> None:
    """Disconnect every connection of ``check``."""
    campaign_precondition.disconnect(check)


def allowed_targets(campaign: Campaign) -> tuple[CampaignState, ...]:
    """The states the campaign's current state has an edge to (preconditions not checked)."""
    return EDGES[campaign.state]


def problems(session: DbSession, campaign: Campaign, to_state: CampaignState | str, *, now: datetime) -> list[str]:
    """Messages of every unmet precondition for moving ``campaign`` to ``to_state`` (empty: it may move).

    Raises
    ------
    InvalidTransition
        When the machine has no edge from the current state to ``to_state``.
    """
    target = CampaignState(to_state)
    current = campaign.state
    if target not in EDGES[current]:
        allowed = ", ".join(label(s) for s in EDGES[current]) or "—"
        raise InvalidTransition(
            _l("A campaign in state %(cur)s cannot move to %(to)s; from here it can move to: %(allowed)s.",
               cur=label(current), to=label(target), allowed=allowed), code="campaign_bad_transition")
    found: list[str] = []
    for check in _BUILT_IN.get((current, target), ()):
        message = check(session, campaign, now)
        if message:
            found.append(str(message))
    connected = {id(receiver): receiver for sender in (_sender(target, None), _sender(target, current))
                 for receiver in campaign_precondition.receivers_for(sender)}
    for key in list(campaign_precondition.receivers):  # receiver ids, in the order they were connected
        receiver = connected.get(key)
        if receiver is None:
            continue
        message = receiver(session, campaign, now)
        if message:
            found.append(str(message))
    return found


def transition(session: DbSession, campaign: Campaign, to_state: CampaignState | str, *, actor: User | None,
               now: datetime, detail: dict[str, Any] | None = None) -> Campaign:
    """Move a campaign to ``to_state`` after checking the edge and every precondition.

    Parameters
    ----------
    session : Session
        The caller's session; nothing is committed here.
    campaign : Campaign
        The campaign to move.
    to_state : CampaignState or str
        The target state.
    actor : User or None
        Who moves it (``None`` for the system).
    now : datetime
        Timezone-aware time of the move.
    detail : dict, optional
        Extra language-neutral values for the audit event.

    Returns
    -------
    Campaign
        The same campaign, in its new state (its version is bumped on flush).

    Raises
    ------
    InvalidTransition
        When the edge does not exist or a precondition is unmet; the message lists every problem.
    """
    target = CampaignState(to_state)
    unmet = problems(session, campaign, target, now=now)
    if unmet:
        raise InvalidTransition(
            _l("The campaign cannot move to %(to)s yet: %(problems)s", to=label(target),
               problems=" ".join(unmet)), code="campaign_precondition")
    before = campaign.state
    campaign.state = target
    if target == S.PUBLISHED and campaign.published_at is None:
        campaign.published_at = now
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="campaign.transition", object_type="campaign",
           object_id=campaign.id, before={"state": before}, after={"state": target, **(detail or {})}, at=now)
    log.info("campaign %s: %s -> %s%s", campaign.id, before.value, target.value,
             " (results published)" if target == S.PUBLISHED else "")
    return campaign


# --- built-in preconditions ---------------------------------------------------------------------------


def sample_count(session: DbSession, campaign: Campaign) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Sample)
                          .where(Sample.campaign_id == campaign.id)) or 0


def reviews_started(session: DbSession, campaign: Campaign) -> int:
    """Initial-round assignments of the campaign that have a review or were submitted."""
    stmt = (sa.select(sa.func.count()).select_from(Assignment).join(Sample, Sample.id == Assignment.sample_id)
            .outerjoin(Review, Review.assignment_id == Assignment.id)
            .where(Sample.campaign_id == campaign.id,
                   sa.or_(Review.id.is_not(None), Assignment.state == AssignmentState.SUBMITTED)))
    return session.scalar(stmt) or 0


def undercovered_samples(session: DbSession, campaign: Campaign) -> int:
    """Samples with fewer live initial assignments than the campaign's reviewers per case."""
    live = (sa.select(Assignment.sample_id, sa.func.count().label("n")).join(Sample, Sample.id == Assignment.sample_id)
            .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.INITIAL,
                   Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED,
                                         AssignmentState.SUBMITTED]))
            .group_by(Assignment.sample_id).subquery())
    stmt = (sa.select(sa.func.count()).select_from(Sample).outerjoin(live, live.c.sample_id == Sample.id)
            .where(Sample.campaign_id == campaign.id,
                   sa.func.coalesce(live.c.n, 0) < campaign.reviewers_per_case))
    return session.scalar(stmt) or 0


def _has_samples(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    if not sample_count(session, campaign):
        return _l("No cases have been drawn.")
    return None


def _has_committed_run(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    committed = session.scalar(sa.select(sa.func.count()).select_from(AssignmentRun).where(
        AssignmentRun.campaign_id == campaign.id, AssignmentRun.round == AssignmentRound.INITIAL,
        AssignmentRun.state == RunState.COMMITTED))
    if not committed:
        return _l("No assignment run has been committed.")
    return None


def _every_sample_covered(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    short = undercovered_samples(session, campaign)
    if short:
        return _l("%(n)d sampled cases have fewer than %(k)d reviewers.", n=short, k=campaign.reviewers_per_case)
    return None


def _no_review_started(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    started = reviews_started(session, campaign)
    if started:
        return _l("%(n)d reviews have already started.", n=started)
    return None


def _no_committed_run(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    if _has_committed_run(session, campaign, now) is None:
        return _l("Undo the committed assignment run first.")
    return None


def _rubrics_pinned(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    from evalplat.cases.models import Case

    folded = campaign.plan is not None and campaign.plan.fold_administrative
    types = set(session.scalars(sa.select(Case.case_type).join(Sample, Sample.case_id == Case.id)
                                .where(Sample.campaign_id == campaign.id).distinct()))
    pinned = set(session.scalars(sa.select(CampaignRubric.case_type)
                                 .where(CampaignRubric.campaign_id == campaign.id)))
    missing = sorted(t.value for t in types if t.value not in pinned
                     and not (folded and t.value == "administrative" and "civil" in pinned))
    if missing:
        return _l("No rubric is pinned for case types: %(types)s.", types=", ".join(label(t) for t in missing))
    return None


def _appeal_window_closed(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    if campaign.appeal_closes_at is not None and now < campaign.appeal_closes_at:
        return _l("The appeal window is open until %(at)s.", at=when(campaign.appeal_closes_at))
    return None


def _appeal_window_set(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    if campaign.appeal_closes_at is None:
        return _l("No appeal window is set: agencies could not appeal. Set it in the campaign settings first.")
    closes = campaign.appeal_closes_at if campaign.appeal_closes_at.tzinfo else \
        campaign.appeal_closes_at.replace(tzinfo=now.tzinfo)
    if closes <= now:
        return _l("The appeal window closed on %(at)s: agencies could not appeal. Move it in the campaign settings.",
                  at=when(campaign.appeal_closes_at))
    return None


_BUILT_IN: dict[tuple[CampaignState, CampaignState], tuple[Precondition, ...]] = {
    (S.DRAFT, S.SAMPLED): (_has_samples,),
    (S.SAMPLED, S.ASSIGNED): (_has_committed_run, _every_sample_covered),
    (S.ASSIGNED, S.SAMPLED): (_no_review_started, _no_committed_run),
    (S.ASSIGNED, S.SCORING): (_every_sample_covered, _rubrics_pinned),
    (S.CONSOLIDATING, S.PUBLISHED): (_appeal_window_set,),
    (S.PUBLISHED, S.APPEALS_CLOSED): (_appeal_window_closed,),
}
