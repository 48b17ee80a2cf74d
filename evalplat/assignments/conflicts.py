"""Conflicts of interest: computed from the pool and the cases, declared by reviewers, decided by the organiser.

Conflicts are stored with a reason code and a target:

=================  ===========  ==========================================  ==========================
reason             target       found by                                    status when found
=================  ===========  ==========================================  ==========================
``same_region``    agency       reviewer's city = the agency's city (地区回避)  confirmed (a campaign rule)
``same_firm``      firm         reviewer's own firm                         confirmed (always a rule)
``own_case``       lawyer       the reviewer is the handling lawyer         confirmed (always a rule)
``named_in_file``  case         the reviewer's name in the case's parties   open (the organiser decides)
                                or documents
``declared``       case         the reviewer, when accepting or declining   open (the organiser decides)
=================  ===========  ==========================================  ==========================

The first three are enforced by the assignment rules themselves (region, firm, lawyer); their rows
document them and cannot be dismissed. Case conflicts block the pair unless dismissed.
"""


from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments.models import Conflict, ConflictSource, ConflictStatus
from evalplat.audit.operations import record
from evalplat.cases.models import (
    DOCUMENT_TEXT_CONTEXT,
    PARTY_NAME_CONTEXT,
    Case,
    CaseParty,
    Document,
    decrypt_column,
)
from evalplat.db import DbSession
from evalplat.errors import DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, Lawyer, ReviewerProfile

RULE_REASONS = frozenset({"same_region", "same_firm", "own_case"})
CASE_REASONS = frozenset({"named_in_file", "declared"})
_CHUNK = 2000


class ConflictError(DomainError):
    code = "conflict_error"
    status = 400


# --- conflicts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictCount:
    same_region: int = 0
    same_firm: int = 0
    own_case: int = 0
    named_in_file: int = 0

    @property
    def total(self) -> int:
        return self.same_region + self.same_firm + self.own_case + self.named_in_file


def _existing_keys(session: DbSession, reviewer_ids: Iterable[int]) -> set[tuple[Any, ...]]:
    stmt = sa.select(Conflict.reviewer_id, Conflict.reason, Conflict.case_id, Conflict.lawyer_id, Conflict.firm_id,
                     Conflict.agency_id).where(Conflict.reviewer_id.in_(list(reviewer_ids)))
    return {tuple(row) for row in session.execute(stmt)}


def compute_conflicts(session: DbSession, *, case_ids: Iterable[int], actor: User | None,
                      now: datetime) -> ConflictCount:
    """Find and store the conflicts between the active reviewers and the given cases (idempotent).

    Parameters
    ----------
    case_ids : iterable of int
        Usually a campaign's sampled cases.

    Returns
    -------
    ConflictCount
        How many new conflicts of each kind were stored.
    """
    ids = sorted(set(case_ids))
    reviewers = session.execute(
        sa.select(ReviewerProfile.id, ReviewerProfile.city_id, ReviewerProfile.firm_id, ReviewerProfile.lawyer_id,
                  User.display_name, Lawyer.name)
        .join(User, User.id == ReviewerProfile.user_id).outerjoin(Lawyer, Lawyer.id == ReviewerProfile.lawyer_id)
        .where(ReviewerProfile.active.is_(True))).all()
    if not reviewers or not ids:
        return ConflictCount()
    existing = _existing_keys(session, (r[0] for r in reviewers))
    rows: list[dict[str, Any]] = []

    def add(reviewer_id: int, reason: str, status: ConflictStatus, *, case_id: int | None = None,
            lawyer_id: int | None = None, firm_id: int | None = None, agency_id: int | None = None,
            detail: str = "") -> None:
        key = (reviewer_id, reason, case_id, lawyer_id, firm_id, agency_id)
        if key in existing:
            return
        existing.add(key)
        rows.append({"reviewer_id": reviewer_id, "reason": reason, "case_id": case_id, "lawyer_id": lawyer_id,
                     "firm_id": firm_id, "agency_id": agency_id, "detail": detail, "source": ConflictSource.COMPUTED,
                     "status": status, "created_at": now,
                     "decided_at": now if status == ConflictStatus.CONFIRMED else None})

    # Structural conflicts, over the agencies, firms and lawyers of these cases (one aggregate query each).
    agencies_by_city: dict[int, list[int]] = defaultdict(list)
    lawyers: set[int] = set()
    firms: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for agency_id, city_id in session.execute(
                sa.select(Agency.id, Agency.city_id).join(Case, Case.agency_id == Agency.id)
                .where(Case.id.in_(chunk)).distinct()):
            if agency_id not in agencies_by_city[city_id]:
                agencies_by_city[city_id].append(agency_id)
        for lawyer_id, firm_id in session.execute(
                sa.select(Case.lawyer_id, Case.firm_id).where(Case.id.in_(chunk)).distinct()):
            if lawyer_id:
                lawyers.add(lawyer_id)
            if firm_id:
                firms.add(firm_id)
    confirmed = ConflictStatus.CONFIRMED
    counts: dict[str, int] = defaultdict(int)
    for reviewer_id, city_id, firm_id, lawyer_id, _name, _lawyer_name in reviewers:
        before = len(rows)
        for agency_id in agencies_by_city.get(city_id, ()):
            add(reviewer_id, "same_region", confirmed, agency_id=agency_id)
        counts["same_region"] += len(rows) - before
        if firm_id and firm_id in firms:
            before = len(rows)
            add(reviewer_id, "same_firm", confirmed, firm_id=firm_id)
            counts["same_firm"] += len(rows) - before
        if lawyer_id and lawyer_id in lawyers:
            before = len(rows)
            add(reviewer_id, "own_case", confirmed, lawyer_id=lawyer_id)
            counts["own_case"] += len(rows) - before

    # Names in the file: parties and document text, matched against every reviewer's name at once.
    by_name: dict[str, set[int]] = defaultdict(set)
    for reviewer_id, _city, _firm, _lawyer, display_name, lawyer_name in reviewers:
        for name in {display_name, lawyer_name}:
            if name and len(name.strip()) >= 2:
                by_name[name.strip()].add(reviewer_id)
    handling = dict(session.execute(sa.select(Case.id, Lawyer.name).join(Lawyer, Lawyer.id == Case.lawyer_id)
                                    .where(Case.id.in_(ids))).all()) if len(ids) <= _CHUNK else {}
    if by_name:
        pattern = re.compile("|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True)))
        found: dict[int, dict[str, str]] = defaultdict(dict)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            if len(ids) > _CHUNK:
                handling.update(session.execute(sa.select(Case.id, Lawyer.name).join(Lawyer, Lawyer.id == Case.lawyer_id)
                                                .where(Case.id.in_(chunk))).all())
            for case_id, token in session.execute(sa.select(CaseParty.case_id, CaseParty.name_ciphertext)
                                                  .where(CaseParty.case_id.in_(chunk))):
                for hit in pattern.findall(decrypt_column(token, PARTY_NAME_CONTEXT) or ""):
                    found[case_id].setdefault(hit, "party")
            for case_id, title, ciphertext in session.execute(
                    sa.select(Document.case_id, Document.title, Document.extracted_ciphertext)
                    .where(Document.case_id.in_(chunk), Document.extracted_ciphertext.is_not(None))):
                for hit in set(pattern.findall(decrypt_column(ciphertext, DOCUMENT_TEXT_CONTEXT) or "")):
                    found[case_id].setdefault(hit, f"document:{title}"[:120])
        for case_id, hits in found.items():
            for name, where in hits.items():
                if handling.get(case_id) == name:
                    continue  # the handling lawyer's own name: covered by own_case
                for reviewer_id in by_name[name]:
                    before = len(rows)
                    add(reviewer_id, "named_in_file", ConflictStatus.OPEN, case_id=case_id, detail=where)
                    counts["named_in_file"] += len(rows) - before
    for start in range(0, len(rows), 5000):
        session.execute(sa.insert(Conflict), rows[start:start + 5000])
    result = ConflictCount(**{k: counts.get(k, 0) for k in ("same_region", "same_firm", "own_case", "named_in_file")})
    if result.total:
        record(session, actor_id=actor.id if actor else None, action="conflicts.computed", object_type="conflicts",
               after={"cases": len(ids), **{k: counts.get(k, 0) for k in sorted(counts)}}, at=now)
    return result


def declare_conflict(session: DbSession, *, reviewer: ReviewerProfile, case: Case, reason: str,
                     actor: User | None, now: datetime | None = None) -> Conflict:
    """A reviewer declares a conflict with a case (when accepting or declining it).

    Parameters
    ----------
    reviewer : ReviewerProfile
    case : Case
    reason : str
        The reviewer's own words (kept as the conflict's detail).
    actor : User or None
        Who records it (normally the reviewer's own account).

    Returns
    -------
    Conflict
        An open declared conflict (an existing open or confirmed one is returned as it is).
    """
    text = (reason or "").strip()
    if not text:
        raise ConflictError(_l("Say briefly why there is a conflict of interest."), code="conflict_reason_required")
    existing = session.scalar(sa.select(Conflict).where(
        Conflict.reviewer_id == reviewer.id, Conflict.case_id == case.id, Conflict.reason == "declared",
        Conflict.status != ConflictStatus.DISMISSED))
    if existing is not None:
        return existing
    conflict = Conflict(reviewer_id=reviewer.id, case_id=case.id, reason="declared", detail=text[:2000],
                        source=ConflictSource.DECLARED, status=ConflictStatus.OPEN)
    if now is not None:
        conflict.created_at = now
    session.add(conflict)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="conflict.declared", object_type="conflict",
           object_id=conflict.id, after={"reviewer_id": reviewer.id, "case_id": case.id, "detail": text[:2000]},
           at=now)
    return conflict


def decide_conflict(session: DbSession, *, conflict: Conflict, confirm: bool, actor: User, now: datetime) -> Conflict:
    """The organiser confirms or dismisses a conflict; rule conflicts (region, firm, own case) cannot be
    dismissed, since the assignment rules enforce them anyway."""
    if conflict.reason in RULE_REASONS and not confirm:
        raise InvalidTransition(_l("This conflict follows from the assignment rules (same region, same firm or "
                                   "own case) and cannot be dismissed."), code="conflict_is_rule")
    target = ConflictStatus.CONFIRMED if confirm else ConflictStatus.DISMISSED
    if conflict.status == target:
        return conflict
    before = conflict.status
    conflict.status = target
    conflict.decided_by_id = actor.id
    conflict.decided_at = now
    session.flush()
    record(session, actor_id=actor.id, action="conflict.confirmed" if confirm else "conflict.dismissed",
           object_type="conflict", object_id=conflict.id, before={"status": before}, after={"status": target}, at=now)
    return conflict


def blocking_case_conflicts(session: DbSession, case_ids: sa.Select[Any] | Iterable[int]) -> dict[int, set[int]]:
    """Case id → reviewer ids with a case conflict that is not dismissed.

    ``case_ids`` is a select of case ids (one query, e.g. a campaign's samples) or a collection of ids.
    """
    out: dict[int, set[int]] = defaultdict(set)
    selects = [case_ids] if isinstance(case_ids, sa.Select) else [
        ids[start:start + 10_000] for ids in [sorted(set(case_ids))] for start in range(0, len(ids), 10_000)]
    for chosen in selects:
        for case_id, reviewer_id in session.execute(
                sa.select(Conflict.case_id, Conflict.reviewer_id).where(
                    Conflict.case_id.in_(chosen), Conflict.status != ConflictStatus.DISMISSED)):
            assert case_id is not None  # selected by case id
            out[case_id].add(reviewer_id)
    return out
