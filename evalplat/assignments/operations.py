"""Assignment operations: engine input from the database, preview runs, commit, undo, overrides,
incremental re-assignment and adjudication assignments.

Engine ids are text: a case is a Sample id, a reviewer a ReviewerProfile id; regions are city ids, firms
``f<id>`` and lawyers ``l<id>``, so a reviewer and the handling lawyer compare equal exactly when they are
the same person. Case conflicts (named in the file, declared) that are not dismissed go into
``Case.conflicts``; regional avoidance, firm and own-case rules are the engine's hard rules.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignment import Case as EngineCase
from evalplat.assignment import InfeasibleAssignment, Rules, solve
from evalplat.assignment import Reviewer as EngineReviewer
from evalplat.assignments import states as assignment_states
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentRun, AssignmentState, RunState
from evalplat.audit.operations import record
from evalplat.campaigns import states
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.cases.models import Case
from evalplat.db import DbSession, affected_rows
from evalplat.errors import ConcurrentChange, DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, ReviewerKind, ReviewerProfile

log = logging.getLogger(__name__)

LIVE = (AssignmentState.OFFERED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED)
_INSERT_CHUNK = 5000


class AssignmentError(DomainError):
    code = "assignment_error"
    status = 400


def _lang_pick(english: str, chinese: str) -> str:
    from evalplat.campaigns.operations import in_user_language

    return in_user_language(english, chinese)


def problem_messages(exc: InfeasibleAssignment) -> list[dict[str, Any]]:
    """The engine's explanation as plain data (code, both languages, the cases concerned)."""
    return [{"code": p.code, "en": p.message_en, "zh": p.message_zh, "case_ids": list(p.case_ids[:50]),
             "params": {k: v for k, v in p.params.items() if isinstance(v, (int, float, str))}}
            for p in exc.problems]


def rules_for(campaign: Campaign, *, seed: int | None = None, per_case: int | None = None,
              min_evaluators: int | None = None) -> Rules:
    """The engine rules of a campaign (``assignment_rules`` holds regional_avoidance, case_type_match and
    max_pair_probability)."""
    extra = campaign.assignment_rules or {}
    return Rules(per_case=per_case if per_case is not None else campaign.reviewers_per_case,
                 min_evaluators=min_evaluators if min_evaluators is not None else campaign.min_evaluators,
                 regional_avoidance=bool(extra.get("regional_avoidance", True)),
                 case_type_match=str(extra.get("case_type_match", "preferred")),
                 max_pair_probability=extra.get("max_pair_probability"),
                 seed=int(seed if seed is not None else extra.get("seed", 0)))


# --- engine input from the database ---------------------------------------------------------------------


def engine_cases(session: DbSession, campaign: Campaign, sample_ids: Iterable[int] | None = None) -> list[EngineCase]:
    """Engine cases for a campaign's samples (all, or the given ones): two queries whatever the size."""
    from evalplat.assignments.conflicts import blocking_case_conflicts

    stmt = (sa.select(Sample.id, Sample.case_id, Case.case_type, Agency.city_id, Case.firm_id, Case.lawyer_id)
            .join(Case, Case.id == Sample.case_id).join(Agency, Agency.id == Case.agency_id)
            .where(Sample.campaign_id == campaign.id).order_by(Sample.id))
    case_select = sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id)
    if sample_ids is not None:
        wanted = sorted(set(sample_ids))
        stmt = stmt.where(Sample.id.in_(wanted))
        case_select = case_select.where(Sample.id.in_(wanted))
    conflicts = blocking_case_conflicts(session, case_select)
    out = []
    for sample_id, case_id, case_type, city_id, firm_id, lawyer_id in session.execute(stmt):
        out.append(EngineCase(str(sample_id), str(case_type), str(city_id),
                              firm=f"f{firm_id}" if firm_id else None, lawyer=f"l{lawyer_id}" if lawyer_id else None,
                              conflicts=frozenset(str(r) for r in conflicts.get(case_id, ()))))
    return out


def campaign_loads(session: DbSession, campaign: Campaign) -> dict[int, int]:
    """Reviewer id → live assignments in the campaign (all rounds), one aggregate query."""
    stmt = (sa.select(Assignment.reviewer_id, sa.func.count()).join(Sample, Sample.id == Assignment.sample_id)
            .where(Sample.campaign_id == campaign.id, Assignment.state.in_(LIVE)).group_by(Assignment.reviewer_id))
    return {rid: n for rid, n in session.execute(stmt)}


def engine_reviewers(session: DbSession, campaign: Campaign, *, now: datetime, loads: dict[int, int] | None = None,
                     only: Iterable[int] | None = None, decisions: bool = False) -> list[EngineReviewer]:
    """Active, available reviewers with their capacity left in this campaign (one query).

    With ``only``, exactly those reviewers are returned whatever their state, with capacity ``loads`` (used to
    pass reviewers whose existing pairs are kept as fixed). Users who are adjudicators and not also peer
    reviewers or evaluators take only decisions (adjudications, appeal re-reviews): ``decisions=True``.
    """
    loads = loads or {}
    due = now + timedelta(days=campaign.due_days)
    stmt = sa.select(ReviewerProfile.id, ReviewerProfile.kind, ReviewerProfile.city_id, ReviewerProfile.firm_id,
                     ReviewerProfile.lawyer_id, ReviewerProfile.case_types, ReviewerProfile.capacity)
    if only is not None:
        stmt = stmt.where(ReviewerProfile.id.in_(list(only)))
    else:
        from evalplat.organisations.jurisdiction import pools_for_campaign

        # the pools of the campaign's jurisdiction and of its ancestors (a city uses the province's experts)
        stmt = stmt.where(pools_for_campaign(campaign), ReviewerProfile.active.is_(True),
                          sa.or_(ReviewerProfile.available_until.is_(None), ReviewerProfile.available_until >= now),
                          sa.or_(ReviewerProfile.available_from.is_(None), ReviewerProfile.available_from <= due))
        if not decisions:
            from evalplat.accounts.models import Role, UserRole

            stmt = stmt.where(sa.select(UserRole.user_id).where(
                UserRole.user_id == ReviewerProfile.user_id,
                UserRole.role.in_([Role.PEER_REVIEWER, Role.EVALUATOR])).exists())
    out = []
    for rid, kind, city_id, firm_id, lawyer_id, case_types, capacity in session.execute(stmt.order_by(ReviewerProfile.id)):
        left = loads.get(rid, 0) if only is not None else capacity - loads.get(rid, 0)
        if left < 1:
            continue
        peer = kind == ReviewerKind.PEER
        out.append(EngineReviewer(str(rid), str(kind), str(city_id), firm=f"f{firm_id}" if peer and firm_id else None,
                                  lawyer=f"l{lawyer_id}" if peer and lawyer_id else None,
                                  case_types=frozenset(case_types or ()), capacity=left))
    return out


# --- preview, commit, undo, discard --------------------------------------------------------------------


def _initial_runs(session: DbSession, campaign: Campaign, state: RunState) -> list[AssignmentRun]:
    return list(session.scalars(sa.select(AssignmentRun).where(
        AssignmentRun.campaign_id == campaign.id, AssignmentRun.round == AssignmentRound.INITIAL,
        AssignmentRun.state == state).order_by(AssignmentRun.id)))


def preview_run(session: DbSession, *, campaign: Campaign, actor: User | None, now: datetime,
                seed: int | None = None, compute_conflicts: bool = True) -> AssignmentRun:
    """Run the engine over the campaign's samples and store the proposed pairs as a preview run.

    When no assignment obeys the rules the run is still stored, with no pairs and the engine's explanation
    in ``summary["problems"]`` (both languages), so the preview page can show what to change.
    """
    if campaign.state != CampaignState.SAMPLED:
        raise InvalidTransition(_l("Reviewers can be assigned only to a sampled campaign (state now: %(s)s).",
                                   s=campaign.state.value), code="assign_wrong_state")
    if _initial_runs(session, campaign, RunState.COMMITTED):
        raise InvalidTransition(_l("An assignment run is already committed; undo it first."), code="already_assigned")
    if compute_conflicts:
        from evalplat.assignments.conflicts import compute_conflicts as find_conflicts

        find_conflicts(session, case_ids=list(session.scalars(
            sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id))), actor=actor, now=now)
    rules = rules_for(campaign, seed=seed)
    started = time.perf_counter()
    cases = engine_cases(session, campaign)
    reviewers = engine_reviewers(session, campaign, now=now)
    built = time.perf_counter() - started
    summary: dict[str, Any] = {"cases": len(cases), "reviewers": len(reviewers), "rules": {
        "per_case": rules.per_case, "min_evaluators": rules.min_evaluators,
        "regional_avoidance": rules.regional_avoidance, "case_type_match": rules.case_type_match,
        "max_pair_probability": rules.max_pair_probability, "seed": rules.seed}, "overrides": []}
    proposed: list[list[int]] = []
    try:
        solution = solve(cases, reviewers, rules)
    except InfeasibleAssignment as exc:
        summary["problems"] = problem_messages(exc)
    else:
        proposed = [[int(c), int(r)] for c, r in solution.pairs]
        summary.update(pairs=len(proposed), mismatches=solution.mismatches, objective=solution.objective,
                       lower_bound=solution.lower_bound, gap=solution.gap, eligible_pairs=solution.eligible_pairs,
                       candidate_arcs=solution.candidate_arcs, rounds=solution.rounds)
    summary["seconds"] = {"build": round(built, 3), "solve": round(time.perf_counter() - started - built, 3)}
    log.info("assignment solve, campaign %s: status %s, %d cases x %d reviewers, %d pairs, objective %s, gap %s, "
             "build %.3f s, solve %.3f s", campaign.id, "infeasible" if "problems" in summary else "optimal",
             len(cases), len(reviewers), len(proposed), summary.get("objective"), summary.get("gap"),
             summary["seconds"]["build"], summary["seconds"]["solve"])
    run = AssignmentRun(campaign_id=campaign.id, round=AssignmentRound.INITIAL, state=RunState.PREVIEW,
                        params=summary["rules"], seed=rules.seed, summary=summary, proposed=proposed,
                        created_by_id=actor.id if actor else None, created_at=now)
    session.add(run)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="assignment.previewed", object_type="assignment_run",
           object_id=run.id, at=now, after={"campaign_id": campaign.id, "pairs": len(proposed),
                                            "feasible": "problems" not in summary, "rules": summary["rules"]})
    return run


def _claim_run(session: DbSession, run: AssignmentRun, from_state: RunState, to_state: RunState,
               now: datetime | None = None) -> None:
    """Move a run between states with a conditional UPDATE: of two concurrent callers exactly one wins."""
    values: dict[str, Any] = {"state": to_state}
    if now is not None:
        values["committed_at"] = now
    result = session.execute(sa.update(AssignmentRun).where(AssignmentRun.id == run.id,
                                                            AssignmentRun.state == from_state).values(**values)
                             .execution_options(synchronize_session=False))
    if affected_rows(result) != 1:
        raise ConcurrentChange(_l("This assignment run is no longer a %(s)s (someone else acted on it); reload "
                                  "the page.", s=from_state.value), code="run_changed")
    session.refresh(run)


def commit_run(session: DbSession, *, run: AssignmentRun, actor: User | None, now: datetime) -> int:
    """Commit a preview run: insert its Assignment rows (offered, with a due date) and move the campaign to
    assigned. Returns the number of assignments created."""
    campaign = session.get(Campaign, run.campaign_id)
    assert campaign is not None
    if run.state != RunState.PREVIEW:
        raise InvalidTransition(_l("Only a preview run can be committed."), code="run_not_preview")
    if not run.proposed:
        raise AssignmentError(_l("This run has no assignment to commit; see the problems it lists."),
                              code="run_empty")
    if campaign.state != CampaignState.SAMPLED:
        raise InvalidTransition(_l("Reviewers can be assigned only to a sampled campaign (state now: %(s)s).",
                                   s=campaign.state.value), code="assign_wrong_state")
    _claim_run(session, run, RunState.PREVIEW, RunState.COMMITTED, now)
    due = now + timedelta(days=campaign.due_days)
    reasons = {(o["sample_id"], o["reviewer_id"]): o["reason"] for o in (run.summary or {}).get("overrides", [])}
    rows = [{"sample_id": s, "reviewer_id": r, "run_id": run.id, "round": AssignmentRound.INITIAL,
             "state": AssignmentState.OFFERED, "due_at": due, "override_reason": reasons.get((s, r)),
             "conflict_declared": False, "created_at": now, "updated_at": now, "version": 1}
            for s, r in run.proposed]
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(sa.insert(Assignment), rows[start:start + _INSERT_CHUNK])
    for other in _initial_runs(session, campaign, RunState.PREVIEW):
        other.state = RunState.DISCARDED
    record(session, actor_id=actor.id if actor else None, action="assignment.committed", object_type="assignment_run",
           object_id=run.id, at=now, after={"campaign_id": campaign.id, "assignments": len(rows),
                                            "due_at": due, "overrides": len(reasons)})
    states.transition(session, campaign, CampaignState.ASSIGNED, actor=actor, now=now, detail={"run_id": run.id})
    return len(rows)


def undo_run(session: DbSession, *, run: AssignmentRun, actor: User | None, now: datetime) -> int:
    """Undo a committed initial run while no review has started: its assignments (and the re-assignments
    made since) are deleted and the campaign goes back to sampled. Returns the number deleted."""
    campaign = session.get(Campaign, run.campaign_id)
    assert campaign is not None
    if run.state != RunState.COMMITTED or run.round != AssignmentRound.INITIAL:
        raise InvalidTransition(_l("Only a committed assignment run can be undone."), code="run_not_committed")
    started = states.reviews_started(session, campaign)
    if started or campaign.state != CampaignState.ASSIGNED:
        raise InvalidTransition(_l("Reviews have started (%(n)d); the assignment can no longer be undone.",
                                   n=started), code="undo_refused")
    _claim_run(session, run, RunState.COMMITTED, RunState.UNDONE)
    samples = sa.select(Sample.id).where(Sample.campaign_id == campaign.id)
    deleted = affected_rows(session.execute(sa.delete(Assignment).where(Assignment.sample_id.in_(samples),
                                                                        Assignment.round == AssignmentRound.INITIAL)
                                            .execution_options(synchronize_session=False)))
    record(session, actor_id=actor.id if actor else None, action="assignment.undone", object_type="assignment_run",
           object_id=run.id, at=now, after={"campaign_id": campaign.id, "deleted": deleted})
    states.transition(session, campaign, CampaignState.SAMPLED, actor=actor, now=now, detail={"run_id": run.id})
    return deleted


def discard_run(session: DbSession, *, run: AssignmentRun, actor: User | None, now: datetime) -> None:
    """Discard a preview run."""
    _claim_run(session, run, RunState.PREVIEW, RunState.DISCARDED)
    record(session, actor_id=actor.id if actor else None, action="assignment.discarded", object_type="assignment_run",
           object_id=run.id, at=now)


# --- overrides ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairCheck:
    """Why a reviewer may not (or should not) review a sample: hard-rule breaches and softer warnings."""

    conflicts: list[str]
    warnings: list[str]


def check_pair(session: DbSession, campaign: Campaign, sample: Sample, reviewer: ReviewerProfile,
               extra_load: int = 0) -> PairCheck:
    """Rule codes the pair breaks: same_region, same_firm, own_case, case conflicts; warnings: type
    mismatch, over capacity, inactive."""
    from evalplat.assignments.conflicts import blocking_case_conflicts

    case = sample.case
    rules = rules_for(campaign)
    conflicts: list[str] = []
    if rules.regional_avoidance and case.agency.city_id == reviewer.city_id:
        conflicts.append("same_region")
    if reviewer.kind == ReviewerKind.PEER and reviewer.firm_id and reviewer.firm_id == case.firm_id:
        conflicts.append("same_firm")
    if reviewer.lawyer_id and reviewer.lawyer_id == case.lawyer_id:
        conflicts.append("own_case")
    if reviewer.id in blocking_case_conflicts(session, [case.id]).get(case.id, set()):
        conflicts.append("case_conflict")
    warnings: list[str] = []
    if case.case_type.value not in (reviewer.case_types or []):
        warnings.append("type_mismatch")
    if campaign_loads(session, campaign).get(reviewer.id, 0) + extra_load >= reviewer.capacity:
        warnings.append("over_capacity")
    if not reviewer.active:
        warnings.append("inactive")
    return PairCheck(conflicts, warnings)


def override_pair(session: DbSession, *, run: AssignmentRun, sample: Sample, remove: ReviewerProfile | None,
                  add: ReviewerProfile, reason: str, actor: User, now: datetime,
                  accept_conflict: bool = False) -> PairCheck:
    """Replace one proposed pair of a preview run (or add one) by the organiser's choice.

    A reason is always required and kept; when the new pair breaks a conflict rule the override is refused
    unless ``accept_conflict`` is set, and the broken rules are recorded with the reason.
    """
    text = (reason or "").strip()
    if not text:
        raise AssignmentError(_l("Give a reason for the override."), code="override_reason_required")
    if run.state != RunState.PREVIEW:
        raise InvalidTransition(_l("Only a preview run can be changed; undo the committed run first."),
                                code="run_not_preview")
    campaign = session.get(Campaign, run.campaign_id)
    assert campaign is not None
    if sample.campaign_id != campaign.id:
        raise AssignmentError(_l("The case is not in this campaign."), code="wrong_campaign")
    from evalplat.organisations.jurisdiction import ancestor_region_ids

    if add.jurisdiction_id not in ancestor_region_ids(campaign.jurisdiction_id, session):
        raise AssignmentError(_l("The reviewer is not in a pool this campaign may draw on."),
                              code="reviewer_outside_pools")
    pairs = [list(p) for p in run.proposed]
    current = {r for s, r in pairs if s == sample.id}
    if add.id in current:
        raise AssignmentError(_l("This reviewer is already assigned to the case."), code="already_paired")
    if remove is not None and remove.id not in current:
        raise AssignmentError(_l("The reviewer to replace is not assigned to the case."), code="not_paired")
    planned = sum(1 for _s, r in pairs if r == add.id)
    check = check_pair(session, campaign, sample, add, extra_load=planned)
    if check.conflicts and not accept_conflict:
        raise AssignmentError(_l("Warning: this pair breaks the conflict rules (%(c)s). Confirm to override them.",
                                 c=", ".join(check.conflicts)), code="override_breaks_conflict")
    if remove is not None:
        pairs = [p for p in pairs if not (p[0] == sample.id and p[1] == remove.id)]
    pairs.append([sample.id, add.id])
    run.proposed = sorted(pairs)
    summary = dict(run.summary or {})
    summary["overrides"] = [*summary.get("overrides", []), {
        "sample_id": sample.id, "removed": remove.id if remove else None, "reviewer_id": add.id, "reason": text,
        "conflicts": check.conflicts, "warnings": check.warnings, "by": actor.id, "at": now.isoformat()}]
    summary["pairs"] = len(pairs)
    run.summary = summary
    session.flush()
    record(session, actor_id=actor.id, action="assignment.overridden", object_type="assignment_run",
           object_id=run.id, at=now, after={"sample_id": sample.id, "removed": remove.id if remove else None,
                                            "added": add.id, "reason": text, "conflicts": check.conflicts,
                                            "warnings": check.warnings})
    return check


# --- incremental re-assignment --------------------------------------------------------------------------


@dataclass
class Reassignment:
    """Outcome of a re-assignment: the new assignments, and why some cases could not be covered."""

    assignments: list[Assignment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def reassign_samples(session: DbSession, campaign: Campaign, sample_ids: set[int], round_: AssignmentRound,
                      dropped: set[tuple[int, int]], *, actor: User | None, now: datetime,
                      per_case: int | None = None, min_evaluators: int | None = None,
                      exclude_reviewers: Iterable[int] = ()) -> Reassignment:
    """Fill the given samples back up to ``per_case`` live reviewers in ``round_``, keeping every live pair,
    never offering a case again to someone who had it, and touching no other case."""
    if not sample_ids:
        return Reassignment()
    history = session.execute(sa.select(Assignment.sample_id, Assignment.reviewer_id, Assignment.state,
                                        Assignment.round).where(Assignment.sample_id.in_(sample_ids))).all()
    fixed = [(s, r) for s, r, st, rd in history if rd == round_ and st in LIVE and (s, r) not in dropped]
    seen = {(s, r) for s, r, _st, _rd in history}
    blocked = {str(r) for r in exclude_reviewers}
    loads = campaign_loads(session, campaign)
    fixed_count: dict[int, int] = defaultdict(int)
    for _s, r in fixed:
        fixed_count[r] += 1
    reviewers = engine_reviewers(session, campaign, now=now, loads={
        rid: n - fixed_count.get(rid, 0) for rid, n in loads.items()},
        decisions=round_ in (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL))
    known = {r.id for r in reviewers}
    # Reviewers of kept pairs who are no longer in the pool (unavailable, capacity lowered) still hold them.
    missing = {r: n for r, n in fixed_count.items() if str(r) not in known}
    if missing:
        reviewers += engine_reviewers(session, campaign, now=now, loads=missing, only=missing)
        known = {r.id for r in reviewers}
    cases = engine_cases(session, campaign, sample_ids)
    rules = rules_for(campaign, per_case=per_case, min_evaluators=min_evaluators)
    exclude = [(str(s), str(r)) for s, r in seen if str(r) in known] + [
        (c.id, r) for c in cases for r in blocked if r in known]
    fixed_pairs = [(str(s), str(r)) for s, r in fixed if str(r) in known]
    try:
        solution = _solve_preferring_adjudicators(session, round_, cases, reviewers, rules, fixed_pairs, exclude)
    except InfeasibleAssignment as exc:
        problems = problem_messages(exc)
        record(session, actor_id=actor.id if actor else None, action="assignment.reassign_failed",
               object_type="campaign", object_id=campaign.id, at=now,
               after={"samples": sorted(sample_ids), "round": round_, "problems": [p["en"] for p in problems]})
        return Reassignment(problems=[_lang_pick(p["en"], p["zh"]) for p in problems])
    due = now + timedelta(days=campaign.due_days)
    made = []
    for case_id, reviewer_id in solution.new_pairs:
        assignment = Assignment(sample_id=int(case_id), reviewer_id=int(reviewer_id), round=round_,
                                state=AssignmentState.OFFERED, due_at=due, created_at=now, updated_at=now)
        session.add(assignment)
        made.append(assignment)
    session.flush()
    for assignment in made:
        record(session, actor_id=actor.id if actor else None, action="assignment.created", object_type="assignment",
               object_id=assignment.id, at=now, after={"sample_id": assignment.sample_id,
                                                       "reviewer_id": assignment.reviewer_id, "round": round_})
    return Reassignment(assignments=made)


def adjudicator_profiles(session: DbSession, profile_ids: Iterable[str]) -> set[str]:
    """The profiles (engine ids) among ``profile_ids`` whose user holds the adjudicator role."""
    from evalplat.accounts.models import Role, UserRole

    ids = [int(i) for i in profile_ids]
    if not ids:
        return set()
    return {str(i) for i in session.scalars(
        sa.select(ReviewerProfile.id).join(UserRole, UserRole.user_id == ReviewerProfile.user_id)
        .where(ReviewerProfile.id.in_(ids), UserRole.role == Role.ADJUDICATOR))}


def _solve_preferring_adjudicators(session: DbSession, round_: AssignmentRound, cases: list[Any],
                                   reviewers: list[Any], rules: Any, fixed_pairs: list[tuple[str, str]],
                                   exclude: list[tuple[str, str]]) -> Any:
    """Adjudication and appeal rounds go to adjudicators (users with that role) when they can take them all,
    else to the whole pool; other rounds to the whole pool."""
    if round_ in (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL):
        chosen = adjudicator_profiles(session, [r.id for r in reviewers])
        if chosen:
            keep = chosen | {r for _c, r in fixed_pairs}
            narrowed = [r for r in reviewers if r.id in keep]
            try:
                return solve(cases, narrowed, rules, fixed=fixed_pairs,
                             exclude=[(c, r) for c, r in exclude if r in keep])
            except InfeasibleAssignment:
                pass
    return solve(cases, reviewers, rules, fixed=fixed_pairs, exclude=exclude)


def reassign_declined(session: DbSession, *, assignment: Assignment, actor: User | None, now: datetime) -> Reassignment:
    """Replace a declined (or withdrawn) assignment by a new reviewer for the same case; nothing else moves.

    The caller (the reviewer workspace) first marks the assignment declined. The new reviewer obeys the same
    rules, has never had the case, and keeps the case's evaluator minimum. When nobody eligible is left the
    case stays short, the reasons are returned in ``problems`` and written to the audit log.

    Returns
    -------
    Reassignment
    """
    if assignment.state not in (AssignmentState.DECLINED, AssignmentState.WITHDRAWN):
        raise InvalidTransition(_l("Only a declined or withdrawn assignment is re-assigned."),
                                code="not_declined")
    sample = assignment.sample
    campaign = sample.campaign
    if campaign.state not in (CampaignState.ASSIGNED, CampaignState.SCORING):
        raise InvalidTransition(_l("Re-assignment happens only while the campaign is assigned or scoring."),
                                code="reassign_wrong_state")
    per_case = campaign.reviewers_per_case if assignment.round in (AssignmentRound.INITIAL,
                                                                    AssignmentRound.CALIBRATION) else None
    live = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.sample_id == sample.id, Assignment.round == assignment.round, Assignment.state.in_(LIVE))) or 0
    if per_case is None:
        per_case = live + 1  # adjudication / appeal rounds: one replacement
    min_evaluators = min(campaign.min_evaluators, per_case) if assignment.round == AssignmentRound.INITIAL else 0
    return reassign_samples(session, campaign, {sample.id}, assignment.round, set(), actor=actor, now=now,
                             per_case=per_case, min_evaluators=min_evaluators)


def reassign_withdrawn_reviewer(session: DbSession, *, reviewer: ReviewerProfile, actor: User | None,
                                now: datetime) -> list[Assignment]:
    """A reviewer left the pool: withdraw their offered or accepted assignments without a submitted review and
    re-assign only those cases (per campaign). Returns the new assignments."""
    from evalplat.reviews.models import Review, ReviewState

    open_rows = session.scalars(
        sa.select(Assignment).outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.reviewer_id == reviewer.id,
               Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]),
               sa.or_(Review.id.is_(None), Review.state != ReviewState.SUBMITTED))).all()
    made: list[Assignment] = []
    by_campaign: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in open_rows:
        assignment_states.withdraw(assignment, now=now)
        by_campaign[assignment.sample.campaign_id].append(assignment)
    session.flush()
    for campaign_id, rows in by_campaign.items():
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        record(session, actor_id=actor.id if actor else None, action="assignment.withdrawn", object_type="campaign",
               object_id=campaign_id, at=now, after={"reviewer_id": reviewer.id, "assignments": [a.id for a in rows]})
        if campaign.state not in (CampaignState.ASSIGNED, CampaignState.SCORING):
            continue
        for round_ in {a.round for a in rows}:
            ids = {a.sample_id for a in rows if a.round == round_}
            if round_ == AssignmentRound.INITIAL:
                made += reassign_samples(session, campaign, ids, round_, set(), actor=actor, now=now).assignments
            else:
                for sample_id in ids:
                    live = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
                        Assignment.sample_id == sample_id, Assignment.round == round_,
                        Assignment.state.in_(LIVE))) or 0
                    made += reassign_samples(session, campaign, {sample_id}, round_, set(), actor=actor, now=now,
                                              per_case=live + 1, min_evaluators=0).assignments
    return made


def create_adjudication_assignment(session: DbSession, *, sample: Sample, round: AssignmentRound | str,  # noqa: A002
                                   actor: User | None, now: datetime,
                                   exclude_reviewer_ids: Iterable[int] = ()) -> Assignment:
    """Offer a sample to one more reviewer, for adjudication or an appeal re-review.

    The reviewer obeys the campaign's conflict rules, has capacity left, has never had this case in any
    round, and is not in ``exclude_reviewer_ids``; among those the engine prefers a type match and the
    lightest load.

    Raises
    ------
    AssignmentError
        When no reviewer qualifies; the message says why.
    """
    round_ = AssignmentRound(round)
    if round_ not in (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL):
        raise AssignmentError(_l("Use the adjudication or appeal round."), code="bad_round")
    campaign = sample.campaign
    live = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.sample_id == sample.id, Assignment.round == round_, Assignment.state.in_(LIVE))) or 0
    result = reassign_samples(session, campaign, {sample.id}, round_, set(), actor=actor, now=now,
                               per_case=live + 1, min_evaluators=0, exclude_reviewers=exclude_reviewer_ids)
    if not result.assignments:
        raise AssignmentError(_l("No eligible reviewer is left for case %(code)s: %(why)s", code=sample.code,
                                 why=" ".join(result.problems) or "—"), code="no_adjudicator")
    return result.assignments[0]
