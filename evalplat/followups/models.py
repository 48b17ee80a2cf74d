"""Follow-up plans, their targets (with the client's contact, encrypted at rest), attempts, visits, complaints."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.accounts.models import Role
from evalplat.cases.models import decrypt_column, encrypt_column
from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User

PHONE_CONTEXT = "followup_targets.phone"
ADDRESS_CONTEXT = "followup_targets.address"


class PlanMode(enum.StrEnum):
    ALL = "all"        # every closed case of the year
    SHARE = "share"    # a share of them (Rugao: 30 %)
    COUNT = "count"    # a fixed number (Tancheng: 50)


class TargetState(enum.StrEnum):
    PENDING = "pending"          # not reached yet (no attempt, or only unanswered ones)
    VISITED = "visited"          # reached and the questionnaire recorded
    UNREACHABLE = "unreachable"  # number out of service or does not exist
    REFUSED = "refused"          # the client declined the visit


class AttemptOutcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    OUT_OF_SERVICE = "out_of_service"
    NO_SUCH_NUMBER = "no_such_number"
    REFUSED = "refused"


class ComplaintState(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


#: Yes/no questions of the questionnaire (Rugao's nine, the ninth being overall satisfaction on five levels).
QUESTIONS = ("preparation", "evidence", "on_time", "money_or_gifts", "meals", "private_fees", "opinions_adopted",
             "discipline")
#: Answers that are a breach and open a complaint: question → the answer that reports it.
BREACHES = {"money_or_gifts": "yes", "meals": "yes", "private_fees": "yes", "on_time": "no"}
SATISFIED = 4  # satisfied or very satisfied (levels 4 and 5 of 1-5)


def can_see_contacts(user: User, agency_id: int) -> bool:
    """Clients' phone numbers and addresses: only the follow-up staff (agency staff) of that agency."""
    return Role.AGENCY_STAFF in user.roles and user.agency_id == agency_id


class FollowupPlan(Model):
    __tablename__ = "followup_plans"
    __table_args__ = (sa.UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    year: Mapped[int]
    mode: Mapped[PlanMode] = mapped_column(enum_column(PlanMode))
    share: Mapped[str | None] = mapped_column(sa.String(16))
    count: Mapped[int | None]
    seed: Mapped[str] = mapped_column(sa.String(64))
    population: Mapped[int] = mapped_column(default=0)
    population_digest: Mapped[str] = mapped_column(sa.String(64), default="")
    algorithm: Mapped[str] = mapped_column(sa.String(32), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def can_view(self, user: User) -> bool:
        return user.can_view_agency(self.agency_id)


class FollowupTarget(Model):
    """A drawn case to call, with its inclusion probability (for weighted estimates) and the client's contact."""

    __tablename__ = "followup_targets"
    __table_args__ = (sa.UniqueConstraint("plan_id", "case_id"),
                      sa.Index("ix_followup_targets_agency_state", "agency_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("followup_plans.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"), index=True)
    position: Mapped[int]
    inclusion_probability: Mapped[float]
    state: Mapped[TargetState] = mapped_column(enum_column(TargetState), default=TargetState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # Encrypted at rest like the parties' names (evalplat.cases.models): the columns hold AES-GCM tokens.
    phone_ciphertext: Mapped[str | None] = mapped_column("phone", sa.Text)
    address_ciphertext: Mapped[str | None] = mapped_column("address", sa.Text)
    version: Mapped[int] = mapped_column(default=1)

    plan: Mapped[FollowupPlan] = relationship()
    visit: Mapped[FollowupVisit | None] = relationship(back_populates="target", uselist=False)

    __mapper_args__ = {"version_id_col": version}

    @property
    def phone(self) -> str | None:
        return decrypt_column(self.phone_ciphertext, PHONE_CONTEXT)

    @phone.setter
    def phone(self, value: str | None) -> None:
        self.phone_ciphertext = encrypt_column(value or None, PHONE_CONTEXT)

    @property
    def address(self) -> str | None:
        return decrypt_column(self.address_ciphertext, ADDRESS_CONTEXT)

    @address.setter
    def address(self, value: str | None) -> None:
        self.address_ciphertext = encrypt_column(value or None, ADDRESS_CONTEXT)

    def can_view(self, user: User) -> bool:
        return user.can_view_agency(self.agency_id)

    def can_call(self, user: User) -> bool:
        return can_see_contacts(user, self.agency_id)


class FollowupAttempt(Model):
    __tablename__ = "followup_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(sa.ForeignKey("followup_targets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome))
    caller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(sa.String(16), default="manual")  # manual | import
    note: Mapped[str] = mapped_column(sa.String(500), default="")


class FollowupVisit(Model):
    """The questionnaire of a completed visit."""

    __tablename__ = "followup_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(sa.ForeignKey("followup_targets.id", ondelete="CASCADE"), unique=True)
    attempt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("followup_attempts.id", ondelete="SET NULL"))
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    satisfaction: Mapped[int]
    remarks: Mapped[str] = mapped_column(sa.Text, default="")
    actions: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    caller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    target: Mapped[FollowupTarget] = relationship(back_populates="visit")


class FollowupComplaint(Model):
    """A breach the client reported in a visit (a fee, a gift, a meal, an absence): the organiser sees it at once."""

    __tablename__ = "followup_complaints"
    __table_args__ = (sa.Index("ix_followup_complaints_state_opened", "state", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("followup_visits.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"), index=True)
    kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    state: Mapped[ComplaintState] = mapped_column(enum_column(ComplaintState), default=ComplaintState.OPEN)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]
    handling_note: Mapped[str] = mapped_column(sa.Text, default="")

    def can_view(self, user: User) -> bool:
        return user.can_view_agency(self.agency_id)
