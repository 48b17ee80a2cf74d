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
    """How long a jurisdiction's new API tokens live: the default and the maximum in days, who set them last
    (None: the environment's initial values) and for which jurisdiction, and the cap the levels above put on the
    maximum (``cap_jurisdiction_id`` None: the environment's maximum, or for the nation the platform's limit)."""

    default_days: int
    max_days: int
    updated_by_id: int | None = None
    updated_at: datetime | None = None
    jurisdiction_id: int | None = None  # whose setting applies (None: the environment's)
    own: bool = False  # the jurisdiction has a setting of its own
    cap_days: int = LIMIT_DAYS
    cap_jurisdiction_id: int | None = None
    own_max_days: int | None = None  # its own saved maximum, before the cap (to say that a parent capped it)

    @property
    def from_environment(self) -> bool:
        return self.updated_at is None

    @property
    def capped(self) -> bool:
        return self.own_max_days is not None and self.own_max_days > self.max_days


def _chain(session: DbSession, jurisdiction_id: int | None) -> list[int]:
    """The jurisdiction's ancestors from the nation down to itself."""
    from evalplat.organisations.jurisdiction import ancestor_region_ids, national_region
    from evalplat.organisations.models import Region

    nation = national_region(session).id
    if jurisdiction_id is None:
        return [nation]
    parents = dict(session.execute(sa.select(Region.id, Region.parent_id)
                                   .where(Region.id.in_(ancestor_region_ids(jurisdiction_id, session)))).all())
    chain: list[int] = []
    at: int | None = jurisdiction_id
    while at is not None and at not in chain:
        chain.append(at)
        at = parents.get(at)
    if nation not in chain:  # a region hung under no province lies within the nation all the same
        chain.append(nation)
    return chain[::-1]


def token_lifetime(session: DbSession, config: Mapping[str, Any], jurisdiction_id: int | None = None) -> Lifetime:
    """The lifetime of new tokens of a jurisdiction (the nation when None): its own setting, else its nearest
    ancestor's, else the environment's (``EVALPLAT_API_TOKEN_DAYS`` / ``_MAX_DAYS``); every maximum above it caps
    it, and the default never exceeds the maximum."""
    chain = _chain(session, jurisdiction_id)
    rows = {row.jurisdiction_id: row for row in session.scalars(
        sa.select(ApiTokenPolicy).where(ApiTokenPolicy.jurisdiction_id.in_(chain)))}
    default = int(config.get("EVALPLAT_API_TOKEN_DAYS") or DEFAULT_DAYS)
    maximum = int(config.get("EVALPLAT_API_TOKEN_MAX_DAYS") or MAX_DAYS)
    cap, cap_from = LIMIT_DAYS, None  # the nation's own setting is bounded by the platform's limit only
    source: ApiTokenPolicy | None = None
    for level, region_id in enumerate(chain):
        if region_id == chain[-1]:
            break
        row = rows.get(region_id)
        if row is not None:
            maximum = min(row.max_days, maximum) if level else row.max_days
            default, source = row.default_days, row
            cap_from = region_id
        cap = maximum
    own = rows.get(chain[-1])
    if own is not None:
        maximum = min(own.max_days, cap)
        default, source = own.default_days, own
    default = min(default, maximum)
    return Lifetime(default, maximum, source.updated_by_id if source else None,
                    source.updated_at if source else None, source.jurisdiction_id if source else None,
                    own=own is not None, cap_days=cap, cap_jurisdiction_id=cap_from,
                    own_max_days=own.max_days if own is not None else None)


class LifetimeInvalid(DomainError):
    code = "token_lifetime_invalid"
    status = 400


class LifetimeAboveParent(LifetimeInvalid):
    code = "token_lifetime_above_parent"


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
    """Set the default and maximum lifetime of the new API tokens of the actor's jurisdiction (audited).

    The maximum may not exceed what the jurisdiction above allows (``token_lifetime_above_parent``, naming it
    and its maximum). Tokens already issued keep their expiry; a shorter maximum applies to the next token
    issued here and, as a cap, below.
    """
    from evalplat.organisations.models import Region

    if not ApiTokenPolicy.can_edit(actor):
        raise DomainError(_l("Only an organiser sets how long its jurisdiction's API tokens live."),
                          code="forbidden", status=403)
    check_lifetime(default_days, max_days)
    jurisdiction_id = actor.jurisdiction_id
    before = token_lifetime(session, config, jurisdiction_id)
    if max_days > before.cap_days:
        above = session.get(Region, before.cap_jurisdiction_id) if before.cap_jurisdiction_id else None
        if above is None:
            raise LifetimeAboveParent(_l("The maximum (%(max)d days) must not exceed the server's maximum "
                                         "(%(cap)d days, EVALPLAT_API_TOKEN_MAX_DAYS).", max=max_days,
                                         cap=before.cap_days))
        raise LifetimeAboveParent(_l("The maximum (%(max)d days) must not exceed the maximum %(above)s allows "
                                     "(%(cap)d days).", max=max_days, above=above.display_name,
                                     cap=before.cap_days))
    row = session.scalar(sa.select(ApiTokenPolicy).where(ApiTokenPolicy.jurisdiction_id == jurisdiction_id)
                         .with_for_update())
    if row is None:
        row = ApiTokenPolicy(jurisdiction_id=jurisdiction_id, default_days=default_days, max_days=max_days)
        session.add(row)
    row.default_days, row.max_days = default_days, max_days
    row.updated_by_id, row.updated_at = actor.id, now or utcnow()
    session.flush()
    record(session, actor_id=actor.id, action="api_token.lifetime_set", object_type="api_token_policy",
           object_id=row.id, before={"default_days": before.default_days, "max_days": before.max_days,
                                     "from_environment": before.from_environment, "own": before.own},
           after={"default_days": default_days, "max_days": max_days, "jurisdiction_id": jurisdiction_id})
    return token_lifetime(session, config, jurisdiction_id)


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
