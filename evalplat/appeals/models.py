"""Objections by agencies to published results (异议/复核)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model, db

if TYPE_CHECKING:
    from evalplat.accounts.models import User


class AppealState(enum.StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DECIDED = "decided"


class Appeal(Model):
    __tablename__ = "appeals"
    __table_args__ = (sa.Index("ix_appeals_agency_state", "agency_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    filed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    contested_items: Mapped[list[str]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(sa.Text)
    # The reason as re-reviewers read it: redacted with the case's known names when it is filed; the
    # organiser sees this text before accepting the appeal.
    reason_redacted: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[AppealState] = mapped_column(enum_column(AppealState), default=AppealState.FILED)
    decision: Mapped[str | None] = mapped_column(sa.Text)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    attachments: Mapped[list[AppealAttachment]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def can_view(self, user: User) -> bool:
        """The appealing agency's staff; among organisers, those who run the campaign (they decide it)."""
        if user.is_organiser:
            from evalplat.campaigns.models import Campaign, Sample

            session = sa.orm.object_session(self) or db.session
            campaign = session.scalar(sa.select(Campaign).join(Sample, Sample.campaign_id == Campaign.id)
                                      .where(Sample.id == self.sample_id))
            return campaign is not None and campaign.can_manage(user)
        return user.can_view_agency(self.agency_id)


class AppealAttachment(Model):
    __tablename__ = "appeal_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    original_filename: Mapped[str] = mapped_column(sa.String(256))
    storage_key: Mapped[str] = mapped_column(sa.String(128))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    # The attachment's text as re-reviewers read it (extracted and redacted when filed); None when no text
    # could be read from the file (re-reviewers are then told an attachment exists but not shown it).
    redacted_text: Mapped[str | None] = mapped_column(sa.Text)
