"""The agency's own evaluation of a closed case (一案一评), one per case."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.accounts.models import Role
from evalplat.db import utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User


class SelfEvaluation(Model):
    """The agency's own view of a closed case's quality: levels of the form's items, the score, and the handling
    authority's feedback (征询办案机关意见) when it gave one."""

    __tablename__ = "self_evaluations"
    __table_args__ = (sa.Index("ix_self_evaluations_agency_score", "agency_id", "score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    form_version: Mapped[str] = mapped_column(sa.String(20))
    levels: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    score: Mapped[float]
    remarks: Mapped[str] = mapped_column(sa.Text, default="")
    authority_feedback: Mapped[str] = mapped_column(sa.Text, default="")
    feedback_filename: Mapped[str | None] = mapped_column(sa.String(256))
    feedback_storage_key: Mapped[str | None] = mapped_column(sa.String(128))
    feedback_content_type: Mapped[str | None] = mapped_column(sa.String(128))
    evaluated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def can_view(self, user: User) -> bool:
        return user.can_view_agency(self.agency_id)


def can_evaluate(user: User, agency_id: int) -> bool:
    return Role.AGENCY_STAFF in user.roles and user.agency_id == agency_id
