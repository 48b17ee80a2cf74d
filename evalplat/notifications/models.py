"""A notification (language-neutral: a kind code, parameters and a link; translated when shown) and e-mail choices."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.accounts.models import User
from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model


class NotificationKind(enum.StrEnum):
    OFFER = "offer"                    # a case offered to a reviewer
    DECISION = "decision"              # an adjudication or appeal re-review offered
    DUE_SOON = "due_soon"              # a deadline within two days
    OVERDUE = "overdue"                # a deadline passed
    APPEAL_FILED = "appeal_filed"      # to organisers
    APPEAL_DECIDED = "appeal_decided"  # to the agency
    PUBLISHED = "published"            # results published, to the agency
    CASE_CHANGED = "case_changed"      # a case's file or fields changed after the reviewer began scoring it


Kind = NotificationKind


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "kind", "object_id"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind))
    object_id: Mapped[int]  # the assignment, appeal or campaign the notification is about
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    endpoint: Mapped[str] = mapped_column(sa.String(64), default="")  # the page to open, with params["args"]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    def can_view(self, user: User) -> bool:
        return self.user_id == user.id

    def __repr__(self) -> str:
        return f"<Notification id={self.id} user={self.user_id} kind={self.kind}>"


class EmailChoice(Model):
    """A kind of notification the user does not want by e-mail (absent: e-mail is sent)."""

    __tablename__ = "notification_email_opt_outs"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind), primary_key=True)
