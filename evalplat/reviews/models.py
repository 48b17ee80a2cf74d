"""Rubric versions, reviews and their item scores."""

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
    from evalplat.assignments.models import Assignment
    from evalplat.organisations.models import Region


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Grade(enum.StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"  # noqa: S105 - a grade, not a password
    FAIL = "fail"


class RubricVersion(Model):
    """One immutable version of a rubric definition; frozen once any review uses it.

    Owned by a jurisdiction (a region of the tree): the jurisdiction and the ones below it see and pin it, its
    own organisers revise it while no review uses it; a sibling never sees it. Versions are numbered per owner
    and key, continuing from the highest number the owner can see (a city's edit of the province's v2 is the
    city's v3)."""

    __tablename__ = "rubric_versions"
    __table_args__ = (sa.UniqueConstraint("jurisdiction_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32))  # e.g. "criminal", "civil_administrative"
    version: Mapped[int]
    case_types: Mapped[list[str]] = mapped_column(default=list)
    definition: Mapped[dict[str, Any]] = mapped_column()
    content_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    frozen: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)

    jurisdiction: Mapped[Region] = relationship()

    def __repr__(self) -> str:
        return f"<RubricVersion {self.id} {self.key} v{self.version} jurisdiction={self.jurisdiction_id}>"


class Review(Model):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"),
        sa.Index("ix_reviews_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"), unique=True)
    rubric_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"), index=True)
    state: Mapped[ReviewState] = mapped_column(enum_column(ReviewState), default=ReviewState.DRAFT)
    total: Mapped[float | None]
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))
    vetoes: Mapped[list[str]] = mapped_column(default=list)
    summary_comment: Mapped[str] = mapped_column(sa.Text, default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    rubric_version: Mapped[RubricVersion] = relationship()
    items: Mapped[list[ReviewItem]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                   order_by="ReviewItem.id")

    __mapper_args__ = {"version_id_col": version}

    def can_edit(self, user: User) -> bool:
        return self.state == ReviewState.DRAFT and self.assignment.can_open(user)


class ReviewItem(Model):
    __tablename__ = "review_items"
    __table_args__ = (sa.UniqueConstraint("review_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(sa.String(32))
    level: Mapped[str | None] = mapped_column(sa.String(1))
    points: Mapped[float | None]
    not_applicable: Mapped[bool] = mapped_column(default=False)
    veto: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    review: Mapped[Review] = relationship(back_populates="items")


class CalibrationReference(Model):
    """The organiser's reference scores for a training case of a calibration round.

    After submitting a calibration review the reviewer sees their points next to the group's mean and these
    reference points. ``items`` maps each item code to ``{"level", "points", "na", "veto", "comment"}``.
    """

    __tablename__ = "calibration_references"
    __table_args__ = (sa.CheckConstraint("total >= 0 AND total <= 100", name="total_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id", ondelete="CASCADE"), unique=True)
    rubric_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"), index=True)
    items: Mapped[dict[str, Any]] = mapped_column(default=dict)
    vetoes: Mapped[list[str]] = mapped_column(default=list)
    total: Mapped[float]
    grade: Mapped[Grade] = mapped_column(enum_column(Grade))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
