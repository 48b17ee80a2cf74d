"""Issue and revoke API tokens (organisers; audited without the secret)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.api.models import API_SCOPES, DEFAULT_DAYS, LIMIT_DAYS, MAX_DAYS, ApiToken, ApiTokenPolicy
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign
from evalplat.db import DbSession, utcnow
from evalplat.errors import DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Lifetime:
    """How long new API tokens live: the default and the maximum in days, and who set them last (None: the
    environment's initial values)."""

    default_days: int
    max_days: int
    updated_by_id: int | None = None
    updated_at: datetime | None = None

    @property
    def from_environment(self) -> bool:
        return self.updated_at is None


def token_lifetime(session: DbSession, config: Mapping[str, Any]) -> Lifetime:
    """The organiser's token lifetime, or the environment's (``EVALPLAT_API_TOKEN_DAYS`` / ``_MAX_DAYS``) until
    an organiser has saved one."""
    row = session.scalar(sa.select(ApiTokenPolicy).order_by(ApiTokenPolicy.id).limit(1))
    if row is not None:
        return Lifetime(row.default_days, row.max_days, row.updated_by_id, row.updated_at)
    return Lifetime(int(config.get("EVALPLAT_API_TOKEN_DAYS") or DEFAULT_DAYS),
                    int(config.get("EVALPLAT_API_TOKEN_MAX_DAYS") or MAX_DAYS))


class LifetimeInvalid(DomainError):
    code = "token_lifetime_invalid"
    status = 400


def check_lifetime(default_days: int, max_days: int) -> None:
    """Refuse a lifetime outside 1 … :data:`LIMIT_DAYS` days, or a default above the maximum (naming the bounds)."""
    for value in (default_days, max_days):
        if not 1 <= value <= LIMIT_DAYS:
            raise LifetimeInvalid(_l("A token lifetime must be between 1 and %(limit)d days, not %(n)d.",
                                     limit=LIMIT_DAYS, n=value))
    if default_days > max_days:
        raise LifetimeInvalid(_l("The default lifetime (%(default)d days) must not exceed the maximum "
                                 "(%(max)d days).", default=default_days, max=max_days))


def set_token_lifetime(session: DbSession, *, actor: User, default_days: int, max_days: int,
                       config: Mapping[str, Any], now: datetime | None = None) -> Lifetime:
    """Set the default and maximum lifetime of new API tokens (platform-wide, audited).

    Tokens already issued keep their expiry; a shorter maximum applies to the next token issued.
    """
    if not ApiTokenPolicy.can_edit(actor):
        raise DomainError(_l("Only an organiser of the nation or of a province sets how long API tokens live."),
                          code="forbidden", status=403)
    check_lifetime(default_days, max_days)
    before = token_lifetime(session, config)
    row = session.scalar(sa.select(ApiTokenPolicy).order_by(ApiTokenPolicy.id).limit(1).with_for_update())
    if row is None:
        row = ApiTokenPolicy(id=1, default_days=default_days, max_days=max_days)
        session.add(row)
    row.default_days, row.max_days = default_days, max_days
    row.updated_by_id, row.updated_at = actor.id, now or utcnow()
    session.flush()
    record(session, actor_id=actor.id, action="api_token.lifetime_set", object_type="api_token_policy",
           object_id=row.id, before={"default_days": before.default_days, "max_days": before.max_days,
                                     "from_environment": before.from_environment},
           after={"default_days": default_days, "max_days": max_days})
    return token_lifetime(session, config)


def issue_token(session: DbSession, *, actor: User, name: str, scopes: list[str], days: int = DEFAULT_DAYS,
                max_days: int = MAX_DAYS, campaign_ids: Sequence[int] | None = None,
                now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only the hash is stored).

    The token expires after ``days`` (1 … ``max_days``); with ``campaign_ids`` it reads only those campaigns.
    Whatever it names, the API serves published campaigns only.
    """
    name = name.strip()
    if not name:
        raise DomainError(_l("Give the token a name."), code="token_name_missing", status=400)
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown or not scopes:
        raise DomainError(_l("Choose at least one known scope."), code="token_scopes_invalid", status=400)
    if not 1 <= days <= max_days:
        raise DomainError(_l("A token is valid for 1 to %(n)d days.", n=max_days), code="token_days_invalid",
                          status=400)
    if campaign_ids is not None:
        wanted = set(campaign_ids)
        from evalplat.organisations.jurisdiction import campaigns_visible_to

        # campaigns the issuer reads: another jurisdiction's are as unknown as missing ones
        known = set(session.scalars(sa.select(Campaign.id).where(Campaign.id.in_(wanted),
                                                                 campaigns_visible_to(actor)))) if wanted else set()
        if not wanted or known != wanted:
            raise DomainError(_l("Choose campaigns that exist, or none for every published campaign."),
                              code="token_campaigns_invalid", status=400)
    token, secret = ApiToken.issue(name, scopes, actor.id, expires_at=(now or utcnow()) + timedelta(days=days),
                                   campaign_ids=campaign_ids)
    session.add(token)
    session.flush()
    record(session, actor_id=actor.id, action="api_token.issue", object_type="api_token", object_id=token.id,
           after={"name": token.name, "prefix": token.prefix, "scopes": token.scopes,
                  "expires_at": token.expires_at.isoformat(), "campaign_ids": token.campaign_ids})
    return token, secret


def revoke_token(session: DbSession, *, actor: User, token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise InvalidTransition(_l("The token is already revoked."))
    token.revoked_at = utcnow()
    record(session, actor_id=actor.id, action="api_token.revoke", object_type="api_token", object_id=token.id,
           before={"revoked": False}, after={"revoked": True})
