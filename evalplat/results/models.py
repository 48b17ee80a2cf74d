"""Consolidated results of sampled cases; the newest current row is the case's result, the rest history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model
from evalplat.reviews.models import Grade


class ResultKind(enum.StrEnum):
    CONSENSUS = "consensus"
    ADJUDICATED = "adjudicated"
    APPEAL = "appeal"


class Result(Model):
    __tablename__ = "results"
    __table_args__ = (
        # (sample, current, id): "the current result of a sample" (ORDER BY id DESC LIMIT 1) reads one index
        # entry; with (sample, current) PostgreSQL without fresh statistics scanned the primary key backwards.
        sa.Index("ix_results_sample_current", "sample_id", "current", "id"),
        sa.CheckConstraint("total >= 0 AND total <= 100", name="total_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id", ondelete="CASCADE"))
    kind: Mapped[ResultKind] = mapped_column(enum_column(ResultKind))
    total: Mapped[float]
    grade: Mapped[Grade] = mapped_column(enum_column(Grade))
    raw_total: Mapped[float | None]
    calibrated_total: Mapped[float | None]
    item_points: Mapped[dict[str, Any]] = mapped_column(default=dict)
    vetoes: Mapped[list[str]] = mapped_column(default=list)
    method: Mapped[str] = mapped_column(sa.String(32), default="mean")
    disagreement: Mapped[list[str]] = mapped_column(default=list)
    reasons: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReliabilitySnapshot(Model):
    """The reliability panel of a campaign as last computed, with the fingerprint of the data it rests on.

    At national scale the panel takes a minute or more to compute, so pages show this snapshot and say
    whether the data have changed since (see :mod:`evalplat.results.snapshots`). One row per campaign.
    """

    __tablename__ = "reliability_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seconds: Mapped[float] = mapped_column(default=0.0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
