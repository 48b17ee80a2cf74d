"""Tokens for the read-only JSON API."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.db import utcnow
from evalplat.extensions import Model

API_SCOPES = ("rankings:read", "expert_pool:read", "priorities:read", "closing:read")
# A token lives this many days unless its issuer chooses otherwise, and never longer than the maximum: both set
# by the organiser on the token-lifetime page (ApiTokenPolicy); until then EVALPLAT_API_TOKEN_DAYS and
# EVALPLAT_API_TOKEN_MAX_DAYS, whose defaults these are.
DEFAULT_DAYS = 90
MAX_DAYS = 365
# No setting may let a token live longer than this (ten years).
LIMIT_DAYS = 3650


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    prefix: Mapped[str] = mapped_column(sa.String(12), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    # None: every published campaign; otherwise only these campaigns (and only once they are published).
    campaign_ids: Mapped[list[int] | None]

    @classmethod
    def issue(cls, name: str, scopes: list[str], created_by_id: int | None, *, expires_at: datetime | None = None,
              campaign_ids: Iterable[int] | None = None) -> tuple[ApiToken, str]:
        """A new token and its secret; only the hash is stored, the secret is shown once."""
        unknown = sorted(set(scopes) - set(API_SCOPES))
        if unknown:
            raise ValueError(f"unknown API scope(s): {', '.join(unknown)}")
        secret = "ep_" + secrets.token_urlsafe(32)
        return cls(name=name, prefix=secret[:10], token_hash=hash_token(secret), scopes=sorted(set(scopes)),
                   created_by_id=created_by_id, expires_at=expires_at or utcnow() + timedelta(days=DEFAULT_DAYS),
                   campaign_ids=sorted(set(campaign_ids)) if campaign_ids is not None else None), secret

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and scope in (self.scopes or [])

    def allows_campaign(self, campaign_id: int) -> bool:
        return self.campaign_ids is None or campaign_id in self.campaign_ids


class ApiTokenPolicy(Model):
    """The lifetime of new API tokens as a jurisdiction's organiser set it: at most one row per jurisdiction,
    absent until first saved. A jurisdiction's tokens follow its own row, else its nearest ancestor's, else the
    environment's EVALPLAT_API_TOKEN_DAYS / _MAX_DAYS (the nation's initial values); every ancestor's maximum caps
    it (a city may only shorten what its province allows). Tokens already issued keep their expiry."""

    __tablename__ = "api_token_policy"
    __table_args__ = (
        sa.CheckConstraint("default_days >= 1 AND default_days <= max_days", name="default_within_max"),
        sa.CheckConstraint(f"max_days <= {LIMIT_DAYS}", name="max_within_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), unique=True)
    default_days: Mapped[int]
    max_days: Mapped[int]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @staticmethod
    def can_edit(user: Any) -> bool:
        """Organisers set the lifetime of their own jurisdiction's tokens (within what the levels above allow)."""
        return bool(user.is_organiser) and getattr(user, "jurisdiction_id", None) is not None

    def __repr__(self) -> str:
        return (f"<ApiTokenPolicy {self.id} jurisdiction={self.jurisdiction_id} default={self.default_days} "
                f"max={self.max_days}>")
