"""Closing reviews of case files: one per case, its checks (each level, each round) and their item marks."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

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


def closing_region(user: User) -> int | None:
    """The jurisdiction whose agencies' closing reviews the user checks as the bureau: an organiser's, or the
    jurisdiction of a bureau's second-level checker (one without an agency). None for anyone else — and for such
    an account without a jurisdiction, which then sees nothing (deny by default)."""
    roles = user.roles
    if Role.ORGANISER in roles or (Role.SECOND_CHECKER in roles and user.agency_id is None):
        return user.jurisdiction_id
    return None


def _own_agency(user: User) -> int | None:
    """The agency of its staff and of its own second-level checkers."""
    return user.agency_id if user.roles & {Role.AGENCY_STAFF, Role.SECOND_CHECKER} else None


def sees_closing_of(user: User, agency_id: int | None) -> bool:
    """Whether the user may see (and, with the role, check) the closing reviews of an agency."""
    from evalplat.organisations.jurisdiction import agency_region_id, is_within

    if agency_id is None:
        return False
    region = closing_region(user)
    if region is not None:
        return is_within(agency_region_id(agency_id), region)
    own = _own_agency(user)
    return own is not None and own == agency_id


def closing_filter(user: User, agency_column: Any) -> sa.ColumnElement[bool]:
    """:func:`sees_closing_of` as a WHERE clause on an agency id column (lists and the API, scoped in the query)."""
    from evalplat.organisations.jurisdiction import in_subtree
    from evalplat.organisations.models import Agency

    region = closing_region(user)
    if region is not None:
        return agency_column.in_(sa.select(Agency.id).where(in_subtree(Agency.region_id, region)))
    own = _own_agency(user)
    return agency_column == own if own is not None else sa.false()


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
        return sees_closing_of(user, self.agency_id)

    def can_check_first(self, user: User) -> bool:
        return Role.AGENCY_STAFF in user.roles and user.agency_id == self.agency_id

    def can_check_second(self, user: User) -> bool:
        """The agency's own second-level checker or the bureau (an organiser, or a checker without agency, of a
        jurisdiction the agency lies in)."""
        if Role.ORGANISER in user.roles:
            return user.can_view_agency(self.agency_id)
        return Role.SECOND_CHECKER in user.roles and sees_closing_of(user, self.agency_id)


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
