"""Closing reviews of case files: one per case, its checks (each level, each round) and their item marks."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.accounts.models import Role
from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User
    from evalplat.cases.models import Case


class ClosingState(enum.StrEnum):
    AWAITING_FIRST = "awaiting_first"     # no first-level check yet (or a returned file came back)
    AWAITING_SECOND = "awaiting_second"   # first level passed; a different person confirms or returns
    RETURNED = "returned"                 # materials missing or defective: back to the lawyer's agency
    CLOSED = "closed"                     # both levels passed: the case is closed


class CheckLevel(enum.IntEnum):
    FIRST = 1
    SECOND = 2


class CheckOutcome(enum.StrEnum):
    PASSED = "passed"
    RETURNED = "returned"


class MarkStatus(enum.StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    DEFECTIVE = "defective"
    NOT_APPLICABLE = "not_applicable"


PROBLEM_MARKS = (MarkStatus.MISSING, MarkStatus.DEFECTIVE)


def closing_scope(user: User) -> int | None | bool:
    """Which agencies' closing reviews the user may see: ``None`` every agency (the organiser and the bureau's
    second-level checkers), an agency id (its staff and its own second-level checkers), ``False`` none."""
    roles = user.roles
    if Role.ORGANISER in roles:
        return None
    if Role.SECOND_CHECKER in roles and user.agency_id is None:
        return None
    if roles & {Role.AGENCY_STAFF, Role.SECOND_CHECKER} and user.agency_id is not None:
        return user.agency_id
    return False


class ClosingReview(Model):
    """The closing review of one case's file (结案审查)."""

    __tablename__ = "closing_reviews"
    __table_args__ = (sa.Index("ix_closing_reviews_agency_state", "agency_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    state: Mapped[ClosingState] = mapped_column(enum_column(ClosingState), default=ClosingState.AWAITING_FIRST)
    checklist_code: Mapped[str] = mapped_column(sa.String(40))
    checklist_version: Mapped[str] = mapped_column(sa.String(20))
    round: Mapped[int] = mapped_column(default=1)
    returns: Mapped[int] = mapped_column(default=0)
    due_on: Mapped[date | None]
    first_checker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    checks: Mapped[list[ClosingCheck]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                      order_by="ClosingCheck.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_closed(self) -> bool:
        return self.state == ClosingState.CLOSED

    def can_view(self, user: User) -> bool:
        if user.is_organiser:
            return user.can_view_agency(self.agency_id)
        scope = closing_scope(user)
        return scope is None or (scope is not False and scope == self.agency_id)

    def can_check_first(self, user: User) -> bool:
        return Role.AGENCY_STAFF in user.roles and user.agency_id == self.agency_id

    def can_check_second(self, user: User) -> bool:
        """The agency's own second-level checker or the bureau (organiser, or a checker without agency)."""
        roles = user.roles
        if Role.ORGANISER in roles:
            return user.can_view_agency(self.agency_id)
        return Role.SECOND_CHECKER in roles and user.agency_id in (None, self.agency_id)


class ClosingCheck(Model):
    """One level's check of one round: who, when, the outcome, and what it found missing (history kept)."""

    __tablename__ = "closing_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("closing_reviews.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]
    round: Mapped[int]
    outcome: Mapped[CheckOutcome] = mapped_column(enum_column(CheckOutcome))
    checker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    due_on: Mapped[date | None]

    review: Mapped[ClosingReview] = relationship(back_populates="checks")
    marks: Mapped[list[ClosingMark]] = relationship(cascade="all, delete-orphan", order_by="ClosingMark.id")


class ClosingMark(Model):
    """The mark of one checklist item in one check."""

    __tablename__ = "closing_marks"
    __table_args__ = (sa.Index("ix_closing_marks_status_item", "status", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(sa.ForeignKey("closing_checks.id", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[MarkStatus] = mapped_column(enum_column(MarkStatus))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
