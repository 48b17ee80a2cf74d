"""The organiser sets how long API tokens live (issue 13 item 4): a default and a maximum kept in the database,
audited, validated (default ≤ maximum, both within 1 … 3650 days, the bounds named in the error), used when tokens
are issued; the environment's EVALPLAT_API_TOKEN_DAYS / _MAX_DAYS are the initial values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.accounts.models import Role
from evalplat.api import operations
from evalplat.api.models import ApiToken, ApiTokenPolicy
from evalplat.audit.models import AuditEvent
from evalplat.db import utcnow


def _days(token: ApiToken) -> float:
    return (token.expires_at - utcnow()).total_seconds() / 86400


@pytest.fixture
def environment_30_60(app: Any) -> Iterator[None]:
    app.config.update(EVALPLAT_API_TOKEN_DAYS=30, EVALPLAT_API_TOKEN_MAX_DAYS=60)
    try:
        yield
    finally:
        app.config.update(EVALPLAT_API_TOKEN_DAYS=90, EVALPLAT_API_TOKEN_MAX_DAYS=365)


def test_environment_values_are_the_initial_token_lifetime(client: Any, db: Any, make_user: Any, login: Any,
                                                           environment_30_60: None) -> None:
    login(client, make_user(Role.ORGANISER))
    client.post("/language/en")
    page = client.get("/settings/api-tokens/lifetime").get_data(as_text=True)
    assert 'name="default_days" type="number" value="30"' in page or 'value="30"' in page
    assert 'value="60"' in page
    assert "EVALPLAT_API_TOKEN_DAYS" in page  # says where the values come from until saved here
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiTokenPolicy)) == 0


def test_organiser_sets_token_lifetime_audited_and_new_tokens_follow_it(client: Any, db: Any, make_user: Any,
                                                                         login: Any, environment_30_60: None) -> None:
    organiser = make_user(Role.ORGANISER)
    login(client, organiser)
    answer = client.post("/settings/api-tokens/lifetime", data={"default_days": "14", "max_days": "120"})
    assert answer.status_code == 302
    policy = db.session.scalar(sa.select(ApiTokenPolicy))
    assert (policy.default_days, policy.max_days, policy.updated_by_id) == (14, 120, organiser.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api_token.lifetime_set"))
    assert event.before == {"default_days": 30, "max_days": 60, "from_environment": True}
    assert event.after == {"default_days": 14, "max_days": 120}
    assert int(event.actor_id) == organiser.id

    client.post("/settings/api-tokens", data={"name": "默认期限", "scopes": ["rankings:read"]})
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "默认期限"))
    assert 13 < _days(token) <= 14  # the organiser's default, not the environment's 30
    client.post("/settings/api-tokens", data={"name": "九十天", "scopes": ["rankings:read"], "days": "90"})
    assert 89 < _days(db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "九十天"))) <= 90  # above env max
    refused = client.post("/settings/api-tokens", data={"name": "太长", "scopes": ["rankings:read"], "days": "121"})
    assert "120" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "太长")) is None
    tokens_page = client.get("/settings/api-tokens").get_data(as_text=True)
    assert 'id="token-lifetime"' in tokens_page
    assert "/settings/api-tokens/lifetime" in tokens_page


@pytest.mark.parametrize(("lang", "data", "said"), [
    ("en", {"default_days": "100", "max_days": "50"},
     "The default lifetime (100 days) must not exceed the maximum (50 days)."),
    ("zh", {"default_days": "100", "max_days": "50"}, "默认有效期（100 天）不得超过最长有效期（50 天）。"),
    ("en", {"default_days": "30", "max_days": "4000"}, "3650"),
    ("en", {"default_days": "0", "max_days": "30"}, "3650"),
    ("en", {"default_days": "三十", "max_days": "60"}, "Default lifetime"),
])
def test_token_lifetime_outside_its_bounds_is_refused_naming_them(client: Any, db: Any, make_user: Any, login: Any,
                                                                 lang: str, data: dict[str, str], said: str) -> None:
    login(client, make_user(Role.ORGANISER))
    client.post(f"/language/{lang}")
    answer = client.post("/settings/api-tokens/lifetime", data=data)
    assert answer.status_code == 200
    assert said in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiTokenPolicy)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "api_token.lifetime_set")) == 0


def test_token_lifetime_operation_refuses_a_default_above_the_maximum(app: Any, db: Any, make_user: Any) -> None:
    organiser = make_user(Role.ORGANISER)
    with app.test_request_context(headers={"Accept-Language": "en"}), \
            pytest.raises(operations.LifetimeInvalid) as refused:
        operations.set_token_lifetime(db.session, actor=organiser, default_days=400, max_days=365, config=app.config)
    assert "400" in str(refused.value.message)
    assert "365" in str(refused.value.message)


@pytest.mark.parametrize("role", [Role.AGENCY_STAFF, Role.PEER_REVIEWER, Role.ADJUDICATOR])
def test_only_organisers_set_the_token_lifetime(client: Any, db: Any, make_user: Any, make_agency: Any, login: Any,
                                                role: Role) -> None:
    login(client, make_user(role, agency=make_agency() if role == Role.AGENCY_STAFF else None))
    assert client.get("/settings/api-tokens/lifetime").status_code == 403
    assert client.post("/settings/api-tokens/lifetime", data={"default_days": "3000", "max_days": "3650"}
                       ).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiTokenPolicy)) == 0


def test_a_city_organiser_reads_the_platform_wide_lifetime_but_does_not_set_it(client: Any, db: Any, make_user: Any,
                                                                               make_region: Any, login: Any) -> None:
    user = make_user(Role.ORGANISER)
    user.jurisdiction_id = make_region("江门市").id
    db.session.commit()
    login(client, user)
    page = client.get("/settings/api-tokens/lifetime")
    assert page.status_code == 200
    assert 'id="lifetime-read-only"' in page.get_data(as_text=True)
    assert client.post("/settings/api-tokens/lifetime", data={"default_days": "30", "max_days": "3650"}
                       ).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiTokenPolicy)) == 0
