"""Issue and revoke API tokens (organisers; audited without the secret)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from evalplat.accounts.models import User
from evalplat.api.models import API_SCOPES, DEFAULT_DAYS, MAX_DAYS, ApiToken
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign
from evalplat.db import utcnow
from evalplat.errors import DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l


def issue_token(session: Session, *, actor: User, name: str, scopes: list[str], days: int = DEFAULT_DAYS,
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
        known = set(session.scalars(sa.select(Campaign.id).where(Campaign.id.in_(wanted)))) if wanted else set()
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


def revoke_token(session: Session, *, actor: User, token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise InvalidTransition(_l("The token is already revoked."))
    token.revoked_at = utcnow()
    record(session, actor_id=actor.id, action="api_token.revoke", object_type="api_token", object_id=token.id,
           before={"revoked": False}, after={"revoked": True})
