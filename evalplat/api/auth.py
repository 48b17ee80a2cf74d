"""Bearer-token authentication of the JSON API.

Routes tagged ``@api_scope("…")`` (evalplat.security) pass the global access hook; the API blueprint's
``before_request`` calls :func:`authenticate`, which answers 401 for a missing, unknown or revoked token and
403 for a token without the route's scope — always as JSON, with ``WWW-Authenticate`` on 401.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, jsonify, request

from evalplat.api.models import ApiToken, hash_token
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.security import policy_for

TOUCH_EVERY = timedelta(minutes=10)


def _error(status: int, code: str, detail: str, scope: str | None = None) -> Any:
    response = jsonify(error=code, detail=detail)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="evalplat"' + (
            "" if code == "missing_token" else ', error="invalid_token"')
    elif status == 403 and scope:
        response.headers["WWW-Authenticate"] = f'Bearer realm="evalplat", error="insufficient_scope", scope="{scope}"'
    return response


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def find_token(secret: str) -> ApiToken | None:
    digest = hash_token(secret)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def authenticate() -> Any:
    """``before_request`` of the API blueprint; ``None`` lets the request through (token in ``g.api_token``)."""
    policy = policy_for(current_app, request.endpoint)
    if policy is None or policy.kind != "api":
        return None
    secret = bearer_secret()
    if secret is None:
        return _error(401, "missing_token", "Send the API token as 'Authorization: Bearer <token>'.")
    token = find_token(secret)
    if token is None:
        return _error(401, "invalid_token", "The API token is unknown.")
    if token.revoked_at is not None:
        return _error(401, "revoked_token", "The API token has been revoked.")
    now = utcnow()
    if token.is_expired(now):
        return _error(401, "expired_token", "The API token has expired; ask the organiser for a new one.")
    if not token.allows(policy.scope or ""):
        return _error(403, "insufficient_scope", f"The API token lacks the scope '{policy.scope}'.", policy.scope)
    g.api_token = token
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        # bookkeeping for the token list (not a domain change, not audited), at most every few minutes
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return None

