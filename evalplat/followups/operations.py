"""Follow-up visits (回访): every state change. Each step is audited in the caller's transaction; the client's
phone number and address never enter the audit log (only that they were set)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import Role, User
from evalplat.audit.operations import record
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.errors import DomainError, InvalidTransition, NotAllowed
from evalplat.followups.models import (
    BREACHES,
    QUESTIONS,
    AttemptOutcome,
    ComplaintState,
    FollowupAttempt,
    FollowupComplaint,
    FollowupPlan,
    FollowupTarget,
    FollowupVisit,
    PlanMode,
    TargetState,
    can_see_contacts,
)
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency
from evalplat.sampling import PopulationRecord, SamplingError, SamplingPlan, draw

__all__ = ["ANSWERS", "FollowupError", "Visit", "draw_plan", "handle_complaint", "record_attempt",
           "record_visit", "set_contact"]

ANSWERS = ("yes", "no", "unknown")
OUTCOME_STATE = {AttemptOutcome.OUT_OF_SERVICE: TargetState.UNREACHABLE,
                 AttemptOutcome.NO_SUCH_NUMBER: TargetState.UNREACHABLE,
                 AttemptOutcome.REFUSED: TargetState.REFUSED}


class FollowupError(DomainError):
    code = "followup_error"


def _staff_of(actor: User, agency_id: int) -> None:
    if not can_see_contacts(actor, agency_id):
        raise NotAllowed(_l("Only the follow-up staff of the case's own agency call its clients."),
                         code="not_own_agency")


# --- plans ----------------------------------------------------------------------------------------------------

def draw_plan(session: DbSession, *, actor: User, agency: Agency, year: int, mode: str, share: str | None = None,
              count: int | None = None, seed: str, now: datetime) -> FollowupPlan:
    """Draw an agency's follow-up plan for a year from its closed cases, reproducibly (evalplat.sampling).

    ``all`` takes every closed case, ``share`` a proportion (e.g. ``"30%"``), ``count`` a fixed number (all of
    them when fewer). Each target keeps its inclusion probability (drawn / population), for weighted figures.
    """
    if not actor.can_view_agency(agency.id):
        raise NotAllowed(_l("Only the organiser or the agency's own staff draw its follow-up plan."),
                         code="not_own_agency")
    if mode not in {m.value for m in PlanMode}:
        raise FollowupError(_l("Choose all, a share or a number of cases."), code="bad_mode")
    if not (seed or "").strip():
        raise FollowupError(_l("Give the seed of the draw."), code="seed_required")
    if session.scalar(sa.select(FollowupPlan.id).where(FollowupPlan.agency_id == agency.id,
                                                       FollowupPlan.year == year)):
        raise InvalidTransition(_l("This agency already has a follow-up plan for %(year)d.", year=year),
                                code="plan_exists")
    plan, records, lawyers = _population(session, agency, year, mode, share, count)
    result = draw(records, plan, seed.strip())
    probability = len(result.selected) / len(records)
    row = FollowupPlan(agency_id=agency.id, year=year, mode=PlanMode(mode), share=plan.rate,
                       count=count if mode == "count" else None, seed=result.seed, population=len(records),
                       population_digest=result.population_digest, algorithm=result.algorithm,
                       created_by_id=actor.id, created_at=now)
    session.add(row)
    session.flush()
    session.execute(sa.insert(FollowupTarget), [
        {"plan_id": row.id, "case_id": int(r.case_id), "agency_id": agency.id, "lawyer_id": lawyers[r.case_id],
         "position": n, "inclusion_probability": probability, "state": TargetState.PENDING, "attempts": 0,
         "version": 1} for n, r in enumerate(result.selected, start=1)])
    record(session, actor_id=actor.id, action="followup.plan_drawn", object_type="followup_plan", object_id=row.id,
           at=now, after={"agency_id": agency.id, "year": year, "mode": mode, "share": plan.rate, "count": count,
                          "seed": result.seed, "population": len(records), "drawn": len(result.selected),
                          "digest": result.population_digest})
    return row


def _population(session: DbSession, agency: Agency, year: int, mode: str, share: str | None,
                count: int | None) -> tuple[SamplingPlan, list[PopulationRecord], dict[str, int | None]]:
    try:
        plan = SamplingPlan({"all": "census", "share": "proportion", "count": "fixed"}[mode],
                            rate=share if mode == "share" else None,
                            per_stratum=count if mode == "count" else None, strata=("agency",),
                            take_all=mode == "count", minimum=1 if mode == "share" else 0)
    except SamplingError as error:
        raise FollowupError(_l("The plan is not valid: %(why)s", why=str(error)), code="bad_plan") from error
    cases = session.execute(sa.select(Case.id, Case.case_number, Case.case_type, Case.sequence_no, Case.closed_on,
                                      Case.lawyer_id)
                            .where(Case.agency_id == agency.id, Case.year == year,
                                   Case.closed_on.is_not(None))).all()
    if not cases:
        raise FollowupError(_l("The agency has no closed cases in %(year)d.", year=year), code="no_cases")
    records = [PopulationRecord(str(c.id), (agency.code, year, c.case_number), agency.code, c.case_type.value,
                                c.sequence_no, c.closed_on) for c in cases]
    return plan, records, {str(c.id): c.lawyer_id for c in cases}


def verify_plan(session: DbSession, plan: FollowupPlan) -> tuple[bool, str]:
    """Draw the plan again from today's closed cases and its seed: (same targets and population?, digest now)."""
    agency = session.get(Agency, plan.agency_id)
    assert agency is not None  # foreign key
    sampling, records, _ = _population(session, agency, plan.year, plan.mode.value, plan.share, plan.count)
    result = draw(records, sampling, plan.seed)
    drawn = [int(r.case_id) for r in result.selected]
    stored = list(session.scalars(sa.select(FollowupTarget.case_id).where(FollowupTarget.plan_id == plan.id)
                                  .order_by(FollowupTarget.position)))
    return drawn == stored and result.population_digest == plan.population_digest, result.population_digest


# --- calls ----------------------------------------------------------------------------------------------------

def set_contact(session: DbSession, *, actor: User, target: FollowupTarget, phone: str | None, address: str | None,
                now: datetime) -> FollowupTarget:
    """Set the client's phone number and address (encrypted at rest; never written to the audit log)."""
    _staff_of(actor, target.agency_id)
    phone = (phone or "").strip()[:40]
    if phone and not all(ch.isdigit() or ch in "+-() " for ch in phone):
        raise FollowupError(_l("The phone number may hold digits, spaces, +, - and brackets only."),
                            code="bad_phone")
    target.phone = phone or None
    target.address = (address or "").strip()[:200] or None
    session.flush()
    record(session, actor_id=actor.id, action="followup.contact_set", object_type="followup_target",
           object_id=target.id, at=now, after={"phone_set": bool(phone), "address_set": bool(target.address)})
    return target


def record_attempt(session: DbSession, *, actor: User, target: FollowupTarget, outcome: str, note: str = "",
                   at: datetime, source: str = "manual") -> FollowupAttempt:
    """Record one call attempt (reached, no answer, out of service, no such number, refused)."""
    _staff_of(actor, target.agency_id)
    if outcome not in {o.value for o in AttemptOutcome}:
        raise FollowupError(_l("%(value)s is not a call outcome.", value=outcome), code="bad_outcome")
    if target.state == TargetState.VISITED:
        raise InvalidTransition(_l("This client has been visited already."), code="already_visited")
    attempt = FollowupAttempt(target_id=target.id, at=at, outcome=AttemptOutcome(outcome), caller_id=actor.id,
                              source=source, note=(note or "").strip()[:500])
    session.add(attempt)
    target.attempts += 1
    target.state = OUTCOME_STATE.get(attempt.outcome, TargetState.PENDING)
    session.flush()
    record(session, actor_id=actor.id, action="followup.attempt", object_type="followup_target",
           object_id=target.id, at=at, after={"outcome": outcome, "attempt_id": attempt.id, "source": source})
    return attempt


@dataclass(frozen=True)
class Visit:
    """The questionnaire of a visit: yes/no/unknown answers, satisfaction 1-5, remarks and follow-up actions."""

    answers: Mapping[str, str]
    satisfaction: int
    remarks: str = ""
    actions: str = ""


def check_visit(visit: Visit) -> list[tuple[str, Any]]:
    """Problems of a questionnaire as (field, message); empty when it is complete and valid."""
    problems: list[tuple[str, Any]] = []
    for question in QUESTIONS:
        if visit.answers.get(question) not in ANSWERS:
            problems.append((question, _l("answer yes, no or unknown")))
    extra = sorted(set(visit.answers) - set(QUESTIONS))
    if extra:
        problems.append((extra[0], _l("not a question of the questionnaire")))
    if not isinstance(visit.satisfaction, int) or not 1 <= visit.satisfaction <= 5:
        problems.append(("satisfaction", _l("satisfaction is a level from 1 (very dissatisfied) to 5 (very "
                                            "satisfied)")))
    return problems


def record_visit(session: DbSession, *, actor: User, target: FollowupTarget, visit: Visit, at: datetime,
                 attempt: FollowupAttempt | None = None, source: str = "manual") -> FollowupVisit:
    """Record the questionnaire of a completed visit. A reported fee, gift, meal or absence opens a complaint,
    which the organiser's complaint list shows at once."""
    _staff_of(actor, target.agency_id)
    problems = check_visit(visit)
    if problems:
        raise FollowupError(_l("The questionnaire is incomplete: %(field)s: %(why)s", field=problems[0][0],
                               why=problems[0][1]), code="bad_questionnaire")
    if target.state == TargetState.VISITED:
        raise InvalidTransition(_l("This client has been visited already."), code="already_visited")
    if attempt is None:
        attempt = record_attempt(session, actor=actor, target=target, outcome="reached", at=at, source=source)
    row = FollowupVisit(target_id=target.id, attempt_id=attempt.id, answers=dict(visit.answers),
                        satisfaction=visit.satisfaction, remarks=visit.remarks.strip()[:8000],
                        actions=visit.actions.strip()[:8000], at=at, caller_id=actor.id)
    session.add(row)
    target.state = TargetState.VISITED
    session.flush()
    record(session, actor_id=actor.id, action="followup.visit", object_type="followup_target", object_id=target.id,
           at=at, after={"visit_id": row.id, "satisfaction": visit.satisfaction, "answers": dict(visit.answers)})
    kinds = [q for q, answer in BREACHES.items() if visit.answers.get(q) == answer]
    if kinds:
        case_lawyer = session.scalar(sa.select(Case.lawyer_id).where(Case.id == target.case_id))
        complaint = FollowupComplaint(visit_id=row.id, case_id=target.case_id, agency_id=target.agency_id,
                                      lawyer_id=case_lawyer, kinds=kinds, opened_at=at)
        session.add(complaint)
        session.flush()
        record(session, actor_id=actor.id, action="followup.complaint_opened", object_type="followup_complaint",
               object_id=complaint.id, at=at, after={"case_id": target.case_id, "kinds": kinds})
    return row


def handle_complaint(session: DbSession, *, actor: User, complaint: FollowupComplaint, note: str,
                     now: datetime) -> FollowupComplaint:
    """The organiser records how a complaint was handled."""
    if Role.ORGANISER not in actor.roles:
        raise NotAllowed(_l("Only the organiser handles complaints."), code="not_organiser")
    if complaint.state != ComplaintState.OPEN:
        raise InvalidTransition(_l("This complaint has been handled already."), code="complaint_handled")
    text = (note or "").strip()
    if not text:
        raise FollowupError(_l("Say how the complaint was handled."), code="note_required")
    complaint.state = ComplaintState.HANDLED
    complaint.handled_by_id = actor.id
    complaint.handled_at = now
    complaint.handling_note = text[:8000]
    session.flush()
    record(session, actor_id=actor.id, action="followup.complaint_handled", object_type="followup_complaint",
           object_id=complaint.id, at=now, before={"state": "open"}, after={"state": "handled", "note": text[:2000]})
    return complaint
