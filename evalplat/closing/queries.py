"""Reads of closing reviews, scoped in the query: the list of files (with cases not yet checked), one review's
history, the figures for the report and the API's view of a result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from evalplat.accounts.models import User
from evalplat.cases.models import Case
from evalplat.closing.checklist import load_checklists
from evalplat.closing.models import (
    PROBLEM_MARKS,
    CheckLevel,
    CheckOutcome,
    ClosingCheck,
    ClosingMark,
    ClosingReview,
    ClosingState,
    closing_filter,
)
from evalplat.db import Cols, DbSession
from evalplat.extensions import db
from evalplat.organisations.models import Agency

STATES = ("not_started", *(s.value for s in ClosingState))


def scoped(stmt: sa.Select[*Cols], user: User, agency_column: Any = Case.agency_id) -> sa.Select[*Cols]:
    """The statement limited to the agencies whose closing reviews the user sees (its jurisdiction's for an
    organiser or a bureau's checker, its own agency's for staff and the agency's checkers)."""
    return stmt.where(closing_filter(user, agency_column))


def review_list(user: User, *, state: str | None = None, agency_id: int | None = None, year: int | None = None,
                q: str | None = None, overdue_on: date | None = None, page: int = 1,
                per_page: int = 50) -> tuple[list[Any], int]:
    """Closed cases the user may see with their closing-review state (``not_started`` without a review)."""
    stmt = (sa.select(Case.id.label("case_id"), Case.case_number, Case.case_type, Case.year, Case.closed_on,
                      Agency.name.label("agency"), ClosingReview.id.label("review_id"),
                      sa.func.coalesce(sa.type_coerce(ClosingReview.state, sa.String), "not_started", type_=sa.String).label("state"),
                      ClosingReview.round, ClosingReview.due_on, ClosingReview.closed_at)
            .join(Agency, Agency.id == Case.agency_id)
            .outerjoin(ClosingReview, ClosingReview.case_id == Case.id))
    stmt = scoped(stmt, user)
    if state == "not_started":
        stmt = stmt.where(ClosingReview.id.is_(None))
    elif state in {s.value for s in ClosingState}:
        stmt = stmt.where(ClosingReview.state == ClosingState(state))
    if overdue_on is not None:
        stmt = stmt.where(ClosingReview.state == ClosingState.RETURNED, ClosingReview.due_on < overdue_on)
    if agency_id is not None:
        stmt = stmt.where(Case.agency_id == agency_id)
    if year is not None:
        stmt = stmt.where(Case.year == year)
    if q:
        stmt = stmt.where(Case.case_number.contains(q.strip(), autoescape=True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.order_by(Case.closed_on.desc().nulls_last(), Case.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def review_of_case(case_id: int) -> ClosingReview | None:
    return db.session.scalar(sa.select(ClosingReview).where(ClosingReview.case_id == case_id)
                             .options(selectinload(ClosingReview.checks).selectinload(ClosingCheck.marks)))


def open_problems(review: ClosingReview | None) -> list[ClosingMark]:
    """What a returned file lacks: the missing and defective items of the check that returned it."""
    if review is None or review.state != ClosingState.RETURNED or not review.checks:
        return []
    last = review.checks[-1]
    return [m for m in last.marks if m.status in PROBLEM_MARKS]


def result_document(review: ClosingReview | None, case: Case) -> dict[str, Any]:
    """The closing-review result of a case as plain JSON data (the API's, for the subsidy payment)."""
    book = load_checklists()
    out: dict[str, Any] = {"case_id": case.id, "case_number": case.case_number, "agency_code": case.agency.code,
                           "case_type": case.case_type.value, "state": review.state.value if review else "not_started",
                           "closed": bool(review and review.is_closed),
                           "closed_at": review.closed_at.isoformat() if review and review.closed_at else None}
    if review is None:
        return out
    checklist = book.get(review.checklist_code) if review.checklist_code in {c.code for c in book.lists} else None
    out.update(checklist=review.checklist_code, checklist_version=review.checklist_version, round=review.round,
               returns=review.returns, due_on=review.due_on.isoformat() if review.due_on else None,
               missing=[{"item": m.item_code, "status": m.status.value, "note": m.note,
                         "label": checklist.item(m.item_code).label.to_dict() if checklist else None}
                        for m in open_problems(review)],
               checks=[{"level": c.level, "round": c.round, "outcome": c.outcome.value,
                        "at": c.checked_at.isoformat()} for c in review.checks])
    return out


@dataclass(frozen=True)
class ClosingSummary:
    """Closing-review figures of a scope (the report's section, the quality profile)."""

    cases: int
    by_state: dict[str, int]
    first_checks: int
    first_passed: int
    second_checks: int
    second_passed: int
    top_missing: list[tuple[str, int]]

    @staticmethod
    def rate(passed: int, total: int) -> float | None:
        return passed / total if total else None

    @property
    def first_pass_rate(self) -> float | None:
        return self.rate(self.first_passed, self.first_checks)

    @property
    def second_pass_rate(self) -> float | None:
        return self.rate(self.second_passed, self.second_checks)


def closing_summary(session: DbSession, *, agency_ids: list[int] | None = None, year: int | None = None,
                    top: int = 10) -> ClosingSummary:
    """Pass rates at each level (share of checks passed) and the most often missing or defective items."""
    def where(stmt: sa.Select[*Cols]) -> sa.Select[*Cols]:
        if agency_ids is not None:
            stmt = stmt.where(Case.agency_id.in_(agency_ids))
        if year is not None:
            stmt = stmt.where(Case.year == year)
        return stmt

    cases = session.scalar(where(sa.select(sa.func.count(Case.id)))) or 0
    by_state = dict(session.execute(where(sa.select(ClosingReview.state, sa.func.count())
                                          .join(Case, Case.id == ClosingReview.case_id)
                                          .group_by(ClosingReview.state))).all())
    reviewed = sum(by_state.values())
    states = {"not_started": cases - reviewed, **{s.value: int(by_state.get(s, 0)) for s in ClosingState}}
    checks = session.execute(where(
        sa.select(ClosingCheck.level, ClosingCheck.outcome, sa.func.count())
        .join(ClosingReview, ClosingReview.id == ClosingCheck.review_id)
        .join(Case, Case.id == ClosingReview.case_id).group_by(ClosingCheck.level, ClosingCheck.outcome))).all()
    count = {(int(level), outcome): n for level, outcome, n in checks}
    missing = session.execute(where(
        sa.select(ClosingMark.item_code, sa.func.count())
        .join(ClosingCheck, ClosingCheck.id == ClosingMark.check_id)
        .join(ClosingReview, ClosingReview.id == ClosingCheck.review_id)
        .join(Case, Case.id == ClosingReview.case_id)
        .where(ClosingMark.status.in_(PROBLEM_MARKS))
        .group_by(ClosingMark.item_code).order_by(sa.func.count().desc(), ClosingMark.item_code).limit(top))).all()

    def level_total(level: CheckLevel) -> int:
        return sum(n for (lv, _), n in count.items() if lv == level)

    return ClosingSummary(cases=cases, by_state=states,
                          first_checks=level_total(CheckLevel.FIRST),
                          first_passed=count.get((CheckLevel.FIRST, CheckOutcome.PASSED), 0),
                          second_checks=level_total(CheckLevel.SECOND),
                          second_passed=count.get((CheckLevel.SECOND, CheckOutcome.PASSED), 0),
                          top_missing=[(code, int(n)) for code, n in missing])


def item_label(code: str, locale: str) -> str:
    """The label of an item code in any of the checklists (the report lists items across case types)."""
    for checklist in load_checklists().lists:
        if code in checklist.codes:
            return checklist.item(code).label.get(locale)
    return code
