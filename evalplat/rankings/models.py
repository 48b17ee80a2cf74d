"""Versions of the source weights of a jurisdiction's rankings and expert-pool rule (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.db import utcnow
from evalplat.extensions import Model


class RankingWeights(Model):
    """One version of the weights a jurisdiction's rankings give each source (peer review, self-evaluation,
    follow-ups, closing review). Rows are never changed or deleted: a new setting is a new version, so every
    ranking and pool decision can name the version it used. No row: version 0, the peer review alone."""

    __tablename__ = "ranking_weights"
    __table_args__ = (sa.UniqueConstraint("jurisdiction_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    version: Mapped[int]
    weights: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<RankingWeights {self.id} jurisdiction={self.jurisdiction_id} v{self.version}>"
