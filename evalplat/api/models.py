"""Tokens for the read-only JSON API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.db import utcnow
from evalplat.extensions import db

API_SCOPES = ("rankings:read", "expert_pool:read", "priorities:read")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(db.Model):
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

    @classmethod
    def issue(cls, name: str, scopes: list[str], created_by_id: int | None) -> tuple[ApiToken, str]:
        """A new token and its secret; only the hash is stored, the secret is shown once."""
        unknown = sorted(set(scopes) - set(API_SCOPES))
        if unknown:
            raise ValueError(f"unknown API scope(s): {', '.join(unknown)}")
        secret = "ep_" + secrets.token_urlsafe(32)
        return cls(name=name, prefix=secret[:10], token_hash=hash_token(secret), scopes=sorted(set(scopes)),
                   created_by_id=created_by_id), secret

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and scope in (self.scopes or [])
