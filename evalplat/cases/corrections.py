"""The organiser corrects a case's fields (issue 13): with a reason, audited, and — once the case is frozen for peer
review — recorded for the reviewers who already began scoring it, who are notified.

What may be corrected is what a reviewer reads or what the redaction knows: the free-text facts (cause, stages,
result), the key dates except the closing date, the handling lawyer (and with it the firm) and the parties named
for redaction (client, opposing party, court). The agency, case number, year, sequence number, case type and
closing date define the campaign's frozen population — its published SHA-256 digest and the reproducible draw are
computed from them — so they stay as imported; a case imported with a wrong one is a different case.

A corrected field that feeds the redaction (the facts, the lawyer and firm, the parties' names) re-runs it: an
approved redaction keeps its text and gets the new result as a proposal the checker accepts or rejects
(:func:`evalplat.cases.operations.settle_proposals`); a pending one is replaced. A corrected lawyer or party list
recomputes the case's conflicts, and assignments that now break a rule are reported to the organiser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.anonymise import redact
from evalplat.audit.operations import record
from evalplat.cases import importer
from evalplat.cases.models import Case, CaseParty, EvidenceChange, PartyRole
from evalplat.db import DbSession, utcnow
from evalplat.errors import DomainError, NotAllowed
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Lawyer
from evalplat.tabular import parse_date

TEXT_FIELDS = ("cause", "stage_reached", "result")
DATE_FIELDS = ("applied_on", "assigned_on", "first_meeting_on")
PARTY_FIELDS: dict[str, PartyRole] = {"client": PartyRole.CLIENT, "opponent": PartyRole.OPPONENT,
                                      "court": PartyRole.COURT}
#: the fields the organiser may correct, in the order of the form
CORRECTABLE = (*TEXT_FIELDS, *DATE_FIELDS, "lawyer", *PARTY_FIELDS)
#: the fields that define the frozen population (and its digest): never corrected here
FIXED = ("agency", "case_number", "year", "sequence_no", "case_type", "closed_on")
#: corrected fields whose new value changes what the redaction removes or produces
FEEDS_REDACTION = frozenset({*TEXT_FIELDS, "lawyer", *PARTY_FIELDS})
#: personal names: the audit log records that they changed, not the names (they are encrypted at rest)
PERSONAL = frozenset(PARTY_FIELDS)
_SPLIT = re.compile(r"[;；、,，/]+")


class CorrectionInvalid(DomainError):
    """A value the correction refuses; ``field`` names the form field it concerns (None: the whole form)."""

    code = "correction_invalid"
    status = 400

    def __init__(self, message: Any, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


@dataclass
class Correction:
    """What a correction did: the fields changed, whether the redaction was re-run (and now waits for the
    checker), how many reviewers had begun scoring the case, and assignments that now break a rule."""

    changed: list[str]
    redaction_rerun: bool = False
    reviewers_told: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _names(case: Case, role: PartyRole) -> list[str]:
    return [p.name for p in case.parties if p.role == role]


def current_values(case: Case) -> dict[str, str]:
    """The correctable fields as the form shows them (dates ISO, the lawyer by licence, names joined by 、)."""
    out: dict[str, str] = {name: getattr(case, name) or "" for name in TEXT_FIELDS}
    for name in DATE_FIELDS:
        value = getattr(case, name)
        out[name] = value.isoformat() if value else ""
    out["lawyer"] = case.lawyer.licence_no if case.lawyer is not None else ""
    for name, role in PARTY_FIELDS.items():
        out[name] = "、".join(_names(case, role))
    return out


def _typed(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(case, name) or "" for name in TEXT_FIELDS}
    out.update({name: getattr(case, name) for name in DATE_FIELDS})
    out["lawyer"] = case.lawyer_id
    out.update({name: sorted(_names(case, role)) for name, role in PARTY_FIELDS.items()})
    return out


def _parse(session: DbSession, case: Case, values: Mapping[str, str | None]) -> dict[str, Any]:
    """The submitted values, typed and checked; the first bad one is refused by name."""
    text = {name: (values.get(name) or "").strip() for name in CORRECTABLE}
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        limit = importer.MAX_LENGTH[name]
        if len(text[name]) > limit:
            raise CorrectionInvalid(_l("%(field)s is longer than %(limit)d characters.", field=field_label(name),
                                       limit=limit), field=name)
        out[name] = text[name]
    for name in DATE_FIELDS:
        parsed: date | None = None
        if text[name]:
            parsed = parse_date(text[name])
            if parsed is None:
                raise CorrectionInvalid(_l("%(field)s: “%(value)s” is not a date (use YYYY-MM-DD).",
                                           field=field_label(name), value=text[name]), field=name)
        out[name] = parsed
    applied, assigned, closed = out["applied_on"], out["assigned_on"], case.closed_on
    if assigned and closed and closed < assigned:
        raise CorrectionInvalid(_l("The assignment date %(assigned)s is after the closing date %(closed)s.",
                                   assigned=assigned.isoformat(), closed=closed.isoformat()), field="assigned_on")
    if assigned and applied and assigned < applied:
        raise CorrectionInvalid(_l("The assignment date %(assigned)s is before the application date %(applied)s.",
                                   assigned=assigned.isoformat(), applied=applied.isoformat()), field="assigned_on")
    meeting = out["first_meeting_on"]
    if meeting and closed and closed < meeting:
        raise CorrectionInvalid(_l("The first meeting %(meeting)s is after the closing date %(closed)s.",
                                   meeting=meeting.isoformat(), closed=closed.isoformat()), field="first_meeting_on")
    out["lawyer"] = None
    if text["lawyer"]:
        lawyer = session.scalar(sa.select(Lawyer).where(Lawyer.licence_no == text["lawyer"]))
        if lawyer is None:
            raise CorrectionInvalid(_l("No lawyer has licence number “%(value)s”.", value=text["lawyer"]),
                                    field="lawyer")
        out["lawyer"] = lawyer
    for name in PARTY_FIELDS:
        names = [n.strip() for n in _SPLIT.split(text[name]) if n.strip()]
        if any(len(n) > 200 for n in names):
            raise CorrectionInvalid(_l("%(field)s: a name is longer than %(limit)d characters.",
                                       field=field_label(name), limit=200), field=name)
        out[name] = sorted(dict.fromkeys(names))
    return out


FIELD_LABELS: dict[str, Any] = {
    "cause": _l("Cause"),
    "stage_reached": _l("Stages reached"),
    "result": _l("Result of the case"),
    "applied_on": _l("Application date"),
    "assigned_on": _l("Assignment date"),
    "first_meeting_on": _l("First meeting"),
    "lawyer": _l("Handling lawyer (licence number)"),
    "client": _l("Client"),
    "opponent": _l("Opposing party"),
    "court": _l("Court"),
    "agency": _l("Agency"),
    "case_number": _l("Case number"),
    "year": _l("Year"),
    "sequence_no": _l("Sequence number"),
    "case_type": _l("Case type"),
    "closed_on": _l("Closing date"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _audit_value(name: str, value: Any) -> Any:
    if name in PERSONAL:
        return len(value)  # how many names, never the names
    if name == "lawyer":
        return value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _merge_known(*knowns: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for known in knowns:
        for category, names in known.items():
            bucket = out.setdefault(category, [])
            bucket.extend(n for n in names if n not in bucket)
    return out


def correct_case(session: DbSession, *, actor: User, case: Case, values: Mapping[str, str | None], reason: str | None,
                 now: datetime | None = None) -> Correction:
    """Correct the case's :data:`CORRECTABLE` fields with a reason (the caller commits).

    Raises
    ------
    NotAllowed
        When ``actor`` is not an organiser who may see the case.
    CorrectionInvalid
        Without a reason, with nothing changed, or with a bad value (named).
    """
    from evalplat.cases.operations import known_for_case, redact_case

    if not case.can_correct(actor):
        raise NotAllowed(_l("Only the organiser corrects a case's fields."))
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionInvalid(_l("Give the reason for the correction (it is audited, and reviewers who began "
                                   "scoring the case read it)."), field="reason", code="correction_reason_missing")
    reason = reason[:2000]
    now = now or utcnow()
    new = _parse(session, case, values)
    before = _typed(case)
    after = dict(new, lawyer=new["lawyer"].id if new["lawyer"] is not None else None)
    changed = [name for name in CORRECTABLE if before[name] != after[name]]
    if not changed:
        raise CorrectionInvalid(_l("Nothing was changed: every field has the value the case already has."),
                                code="correction_unchanged")
    known_before = known_for_case(case)
    for name in (*TEXT_FIELDS, *DATE_FIELDS):
        setattr(case, name, new[name])
    if "lawyer" in changed:
        lawyer = new["lawyer"]
        case.lawyer, case.firm = lawyer, (lawyer.firm if lawyer is not None else None)
    for name, role in PARTY_FIELDS.items():
        if name in changed:
            for party in [p for p in case.parties if p.role == role]:
                case.parties.remove(party)
            for person in new[name]:
                party = CaseParty(role=role)
                party.name = person
                case.parties.append(party)
    case.import_digest = importer.case_digest(case)  # a re-import of the corrected row is a no-op
    session.flush()
    frozen = case.evidence_frozen()
    record(session, actor_id=actor.id, action="cases.fields_corrected", object_type="case", object_id=case.id,
           before={name: _audit_value(name, before[name]) for name in changed},
           after={"fields": {name: _audit_value(name, after[name]) for name in changed}, "reason": reason,
                  "frozen": frozen}, at=now)
    result = Correction(changed)
    if frozen:
        known = _merge_known(known_before, known_for_case(case))
        session.add(EvidenceChange(case_id=case.id, actor_id=actor.id, at=now, action="fields_corrected",
                                   fields=changed, reason=reason, reason_redacted=redact(reason, known).text))
        result.reviewers_told = mark_samples_changed(session, case.id, now)
    if FEEDS_REDACTION.intersection(changed) and _has_redaction(case):
        redact_case(session, case.id)
        result.redaction_rerun = True
    if {"lawyer", *PARTY_FIELDS}.intersection(changed):
        result.conflicts = _conflicts_now(session, case, actor, now)
    return result


def _has_redaction(case: Case) -> bool:
    return case.facts_redaction is not None or any(d.redaction is not None for d in case.documents)


def mark_samples_changed(session: DbSession, case_id: int, now: datetime) -> int:
    """Stamp the case's samples as changed (the reviewer's page looks no further otherwise); returns how many
    reviewers had begun scoring the case before ``now`` (they are notified by the next scan)."""
    from evalplat.assignments.models import Assignment, AssignmentState
    from evalplat.campaigns.models import Sample
    from evalplat.organisations.models import ReviewerProfile
    from evalplat.reviews.models import Review

    session.execute(sa.update(Sample).where(Sample.case_id == case_id).values(evidence_changed_at=now)
                    .execution_options(synchronize_session=False))
    return int(session.scalar(
        sa.select(sa.func.count(sa.distinct(ReviewerProfile.user_id)))
        .join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
        .join(Sample, Sample.id == Assignment.sample_id)
        .join(Review, Review.assignment_id == Assignment.id)
        .where(Sample.case_id == case_id, Review.started_at < now,
               Assignment.state.in_([AssignmentState.ACCEPTED, AssignmentState.SUBMITTED]))) or 0)


def _conflicts_now(session: DbSession, case: Case, actor: User, now: datetime) -> list[dict[str, Any]]:
    """Recompute the case's conflicts; the open assignments of the case whose reviewer now breaks a rule."""
    from evalplat.assignments.conflicts import compute_conflicts
    from evalplat.assignments.models import Assignment, AssignmentState
    from evalplat.assignments.operations import check_pair
    from evalplat.campaigns.models import Campaign, Sample

    compute_conflicts(session, case_ids=[case.id], actor=actor, now=now)
    out = []
    rows = session.execute(
        sa.select(Assignment, Sample, Campaign).join(Sample, Sample.id == Assignment.sample_id)
        .join(Campaign, Campaign.id == Sample.campaign_id)
        .where(Sample.case_id == case.id,
               Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
        .order_by(Assignment.id)).all()
    for assignment, sample, campaign in rows:
        check = check_pair(session, campaign, sample, assignment.reviewer)
        if check.conflicts:
            out.append({"code": sample.code, "campaign_id": campaign.id, "reviewer": assignment.reviewer.user.display_name,
                        "conflicts": list(check.conflicts)})
    return out
