"""Closing review (结案审查), two levels (档案二级审查). Every state change of a closing review is here.

    awaiting_first ──first level, all present──► awaiting_second ──second level confirms──► closed
          ▲   │                                       │
          │   └─first level finds gaps─► returned ◄───┘ second level returns (lists what is missing)
          └──────────── the file comes back (a new round) ──┘

The first level is agency staff of the case's agency; the second a different person: the agency's
second-level checker or the bureau. A returned file carries the missing or defective items and a deadline;
every check is kept with its marks. Each step is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.cases.models import Case
from evalplat.closing.checklist import Checklist, load_checklists
from evalplat.closing.labels import closing_label
from evalplat.closing.models import (
    PROBLEM_MARKS,
    CheckLevel,
    CheckOutcome,
    ClosingCheck,
    ClosingMark,
    ClosingReview,
    ClosingState,
    MarkStatus,
)
from evalplat.db import DbSession
from evalplat.errors import DomainError, InvalidTransition, NotAllowed
from evalplat.i18n import lazy_gettext as _l

__all__ = ["DEFAULT_RETURN_DAYS", "ClosingError", "Mark", "check_first_level", "check_second_level",
           "checklist_of", "review_for"]

DEFAULT_RETURN_DAYS = 15
MAX_NOTE = 500


class ClosingError(DomainError):
    code = "closing_error"


@dataclass(frozen=True)
class Mark:
    status: MarkStatus
    note: str = ""


def checklist_of(review: ClosingReview) -> Checklist:
    """The checklist a review was opened with (a review keeps its list when the definition changes)."""
    book = load_checklists()
    try:
        return book.get(review.checklist_code)
    except KeyError:
        raise ClosingError(_l("Checklist %(code)s is no longer defined.", code=review.checklist_code),
                           code="checklist_gone") from None


def review_for(session: DbSession, case: Case, *, now: datetime) -> ClosingReview:
    """The case's closing review, opened (awaiting the first level) with the checklist of its type and stage."""
    review = session.scalar(sa.select(ClosingReview).where(ClosingReview.case_id == case.id))
    if review is not None:
        return review
    book = load_checklists()
    checklist = book.for_case(case.case_type.value, case.stage_reached)
    review = ClosingReview(case_id=case.id, agency_id=case.agency_id, state=ClosingState.AWAITING_FIRST,
                           checklist_code=checklist.code, checklist_version=book.version, created_at=now,
                           updated_at=now)
    session.add(review)
    session.flush()
    return review


def _parse_marks(checklist: Checklist, marks: Mapping[str, Mark | tuple[str, str] | str], *,
                 complete: bool) -> dict[str, Mark]:
    parsed: dict[str, Mark] = {}
    unknown = [code for code in marks if code not in checklist.codes]
    if unknown:
        raise ClosingError(_l("Not items of this checklist: %(items)s.", items=", ".join(sorted(unknown))),
                           code="unknown_items")
    for code, raw in marks.items():
        if isinstance(raw, Mark):
            mark = raw
        else:
            status, note = (raw, "") if isinstance(raw, str) else raw
            if status not in {s.value for s in MarkStatus}:
                raise ClosingError(_l("Item %(item)s: %(value)s is not a mark (present, missing, defective, "
                                      "not applicable).", item=code, value=status), code="bad_mark")
            mark = Mark(MarkStatus(status), (note or "").strip()[:MAX_NOTE])
        if mark.status == MarkStatus.NOT_APPLICABLE and checklist.item(code).required:
            raise ClosingError(_l("Item %(item)s is required in every file of this kind; it cannot be marked "
                                  "not applicable.", item=code), code="required_item")
        parsed[code] = mark
    if complete:
        unmarked = [code for code in checklist.codes if code not in parsed]
        if unmarked:
            raise ClosingError(_l("Mark every item of the checklist; not marked: %(items)s.",
                                  items=", ".join(unmarked)), code="unmarked_items")
    return parsed


def _due(due_on: date | None, now: datetime) -> date:
    if due_on is None:
        return now.date() + timedelta(days=DEFAULT_RETURN_DAYS)
    if due_on < now.date():
        raise ClosingError(_l("The deadline for the missing materials cannot be in the past."), code="due_past")
    return due_on


def _record_check(session: DbSession, review: ClosingReview, *, level: CheckLevel, outcome: CheckOutcome,
                  actor: User, marks: Mapping[str, Mark], note: str, due_on: date | None,
                  now: datetime) -> ClosingCheck:
    check = ClosingCheck(review_id=review.id, level=int(level), round=review.round, outcome=outcome,
                         checker_id=actor.id, checked_at=now, note=(note or "").strip()[:4000], due_on=due_on)
    check.marks = [ClosingMark(item_code=code, status=mark.status, note=mark.note) for code, mark in marks.items()]
    review.checks.append(check)
    return check


def _return(review: ClosingReview, due_on: date) -> None:
    review.state = ClosingState.RETURNED
    review.due_on = due_on
    review.returns += 1


def _audit(session: DbSession, review: ClosingReview, actor: User, action: str, before: str, now: datetime,
           **after: Any) -> None:
    session.flush()
    record(session, actor_id=actor.id, action=action, object_type="closing_review", object_id=review.id, at=now,
           before={"state": before, "round": review.round},
           after={"state": review.state.value, "case_id": review.case_id, **after})


def check_first_level(session: DbSession, *, actor: User, case: Case, marks: Mapping[str, Any], note: str = "",
                      due_on: date | None = None, now: datetime) -> ClosingReview:
    """First level: agency staff mark every checklist item present, missing, defective (or not applicable).

    With every item present (or not applicable) the file goes to the second level; otherwise it is returned
    to the lawyer with the missing and defective items and a deadline (``due_on``, by default
    :data:`DEFAULT_RETURN_DAYS` days on).

    Raises
    ------
    NotAllowed
        The actor is not staff of the case's agency.
    InvalidTransition
        The file waits for the second level or is closed.
    ClosingError
        An item unmarked or unknown, a required item marked not applicable, a deadline in the past.
    """
    review = review_for(session, case, now=now)
    if not review.can_check_first(actor):
        raise NotAllowed(_l("Only staff of the case's own agency check its file at the first level."),
                         code="not_own_agency")
    if review.state not in (ClosingState.AWAITING_FIRST, ClosingState.RETURNED):
        raise InvalidTransition(_l("This file is %(state)s; the first level checks a file that is new or came "
                                   "back after a return.", state=closing_label(review.state)),
                                code="closing_wrong_state")
    parsed = _parse_marks(checklist_of(review), marks, complete=True)
    before = review.state.value
    if review.state == ClosingState.RETURNED:
        review.round += 1
    problems = sorted(code for code, mark in parsed.items() if mark.status in PROBLEM_MARKS)
    review.first_checker_id = actor.id
    review.updated_at = now
    if problems:
        due = _due(due_on, now)
        _record_check(session, review, level=CheckLevel.FIRST, outcome=CheckOutcome.RETURNED, actor=actor,
                      marks=parsed, note=note, due_on=due, now=now)
        _return(review, due)
    else:
        _record_check(session, review, level=CheckLevel.FIRST, outcome=CheckOutcome.PASSED, actor=actor,
                      marks=parsed, note=note, due_on=None, now=now)
        review.state = ClosingState.AWAITING_SECOND
        review.due_on = None
    _audit(session, review, actor, "closing.first_level", before, now, missing=problems)
    return review


def check_second_level(session: DbSession, *, actor: User, review: ClosingReview, confirm: bool,
                       marks: Mapping[str, Any] | None = None, note: str = "", due_on: date | None = None,
                       now: datetime) -> ClosingReview:
    """Second level: a person other than the first-level checker confirms the file (the case closes) or
    returns it, listing the items missing or defective.

    Raises
    ------
    NotAllowed
        The actor is neither the agency's second-level checker nor the bureau, or checked the first level.
    InvalidTransition
        The file does not wait for the second level.
    ClosingError
        A return without any item marked missing or defective.
    """
    if not review.can_check_second(actor):
        raise NotAllowed(_l("Only the agency's second-level checker or the bureau checks at the second level."),
                         code="not_second_checker")
    if review.state != ClosingState.AWAITING_SECOND:
        raise InvalidTransition(_l("This file is %(state)s; only a file that passed the first level is checked "
                                   "at the second level.", state=closing_label(review.state)),
                                code="closing_wrong_state")
    if actor.id == review.first_checker_id:
        raise NotAllowed(_l("The second level must be checked by a different person from the first."),
                         code="same_checker")
    before = review.state.value
    review.updated_at = now
    if confirm:
        _record_check(session, review, level=CheckLevel.SECOND, outcome=CheckOutcome.PASSED, actor=actor,
                      marks={}, note=note, due_on=None, now=now)
        review.state = ClosingState.CLOSED
        review.closed_at = now
        review.due_on = None
        _audit(session, review, actor, "closing.confirmed", before, now)
        return review
    parsed = _parse_marks(checklist_of(review), marks or {}, complete=False)
    problems = {code: mark for code, mark in parsed.items() if mark.status in PROBLEM_MARKS}
    if not problems:
        raise ClosingError(_l("To return a file, mark the items that are missing or defective."),
                           code="return_without_items")
    due = _due(due_on, now)
    _record_check(session, review, level=CheckLevel.SECOND, outcome=CheckOutcome.RETURNED, actor=actor,
                  marks=problems, note=note, due_on=due, now=now)
    _return(review, due)
    _audit(session, review, actor, "closing.returned", before, now, missing=sorted(problems))
    return review
