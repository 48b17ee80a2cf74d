"""Issue and revoke API tokens (organisers; audited without the secret)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from evalplat.accounts.models import User
from evalplat.api.models import API_SCOPES, ApiToken
from evalplat.audit.operations import record
from evalplat.db import utcnow
from evalplat.errors import DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l


def issue_token(session: Session, *, actor: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only the hash is stored)."""
    name = name.strip()
    if not name:
        raise DomainError(_l("Give the token a name."), code="token_name_missing", status=400)
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown or not scopes:
        raise DomainError(_l("Choose at least one known scope."), code="token_scopes_invalid", status=400)
    token, secret = ApiToken.issue(name, scopes, actor.id)
    session.add(token)
    session.flush()
    record(session, actor_id=actor.id, action="api_token.issue", object_type="api_token", object_id=token.id,
           after={"name": token.name, "prefix": token.prefix, "scopes": token.scopes})
    return token, secret


def revoke_token(session: Session, *, actor: User, token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise InvalidTransition(_l("The token is already revoked."))
    token.revoked_at = utcnow()
    record(session, actor_id=actor.id, action="api_token.revoke", object_type="api_token", object_id=token.id,
           before={"revoked": False}, after={"revoked": True})
