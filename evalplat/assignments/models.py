"""Assignments: a sampled case offered to a reviewer, the runs that propose and commit them, and conflicts.

The tables (``assignments``, ``assignment_runs``, ``conflicts``) kept their names when the models moved here
from evalplat.campaigns (issue 12): no schema change.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User
    from evalplat.campaigns.models import Sample
    from evalplat.organisations.models import ReviewerProfile
    from evalplat.reviews.models import Review


class AssignmentRound(enum.StrEnum):
    CALIBRATION = "calibration"
    INITIAL = "initial"
    ADJUDICATION = "adjudication"
    APPEAL = "appeal"


class AssignmentState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class RunState(enum.StrEnum):
    PREVIEW = "preview"
    COMMITTED = "committed"
    UNDONE = "undone"
    DISCARDED = "discarded"


class ConflictSource(enum.StrEnum):
    COMPUTED = "computed"
    DECLARED = "declared"


class ConflictStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class Conflict(Model):
    """A reason a reviewer must not review a case (or a lawyer's, firm's or agency's cases)."""

    __tablename__ = "conflicts"
    __table_args__ = (
        sa.CheckConstraint(
            "case_id IS NOT NULL OR lawyer_id IS NOT NULL OR firm_id IS NOT NULL OR agency_id IS NOT NULL",
            name="has_target",
        ),
        sa.Index("ix_conflicts_reviewer_case", "reviewer_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewer_profiles.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"))
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    reason: Mapped[str] = mapped_column(sa.String(64))  # a code: same_region, same_firm, own_case, named_in_file…
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[ConflictSource] = mapped_column(enum_column(ConflictSource))
    status: Mapped[ConflictStatus] = mapped_column(enum_column(ConflictStatus), default=ConflictStatus.OPEN)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[ReviewerProfile] = relationship()

    def can_decide(self, user: User) -> bool:
        """The organisers who manage the reviewer, and the organiser running a campaign that draws on the
        reviewer's pool for a conflict with that campaign's case — only for a conflict whose named case, agency,
        firm and lawyer all lie in their jurisdiction (a city is not told of another province's case). See
        :func:`evalplat.organisations.jurisdiction.conflicts_decidable_by`."""
        from evalplat.extensions import db
        from evalplat.organisations.jurisdiction import conflicts_decidable_by

        return bool(db.session.scalar(sa.select(sa.exists().where(Conflict.id == self.id,
                                                                  conflicts_decidable_by(user)))))


class AssignmentRun(Model):
    __tablename__ = "assignment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    round: Mapped[AssignmentRound] = mapped_column(enum_column(AssignmentRound), default=AssignmentRound.INITIAL)
    state: Mapped[RunState] = mapped_column(enum_column(RunState), default=RunState.PREVIEW)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seed: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Pairs of a preview run, before they become Assignment rows on commit: [[sample_id, reviewer_id], …]
    proposed: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    committed_at: Mapped[datetime | None]


class Assignment(Model):
    """A sampled case offered to one reviewer in one round."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("sample_id", "reviewer_id", "round"),
        sa.Index("ix_assignments_reviewer_state", "reviewer_id", "state"),
        sa.Index("ix_assignments_sample_round", "sample_id", "round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewer_profiles.id"))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment_runs.id"), index=True)
    round: Mapped[AssignmentRound] = mapped_column(enum_column(AssignmentRound), default=AssignmentRound.INITIAL)
    state: Mapped[AssignmentState] = mapped_column(enum_column(AssignmentState), default=AssignmentState.OFFERED)
    due_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    conflict_declared: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    sample: Mapped[Sample] = relationship()
    reviewer: Mapped[ReviewerProfile] = relationship()
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)

    __mapper_args__ = {"version_id_col": version}

    def can_open(self, user: User) -> bool:
        """Only the assigned reviewer opens an assignment (the organiser manages it elsewhere); an offer only
        once its case's redaction is approved (until then it waits, invisible)."""
        from evalplat.cases.queries import is_released

        profile = user.reviewer_profile
        if profile is None or profile.id != self.reviewer_id or not user.is_reviewer:
            return False
        return self.state != AssignmentState.OFFERED or is_released(self.sample.case_id)

    def can_score(self, user: User) -> bool:
        return self.can_open(user) and self.state in (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
