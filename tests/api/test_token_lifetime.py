"""The organiser sets how long API tokens live (issue 13 item 4): a default and a maximum kept in the database,
audited, validated (default ≤ maximum, both within 1 … 3650 days, the bounds named in the error), used when tokens
are issued; the environment's EVALPLAT_API_TOKEN_DAYS / _MAX_DAYS are the initial values.

Per jurisdiction (issue 19): a city sets a shorter lifetime for its own tokens, never a longer one than its
province allows; lowering the province's maximum caps the city's."""

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
    assert event.before == {"default_days": 30, "max_days": 60, "from_environment": True, "own": False}
    assert event.after == {"default_days": 14, "max_days": 120, "jurisdiction_id": organiser.jurisdiction_id}
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


@pytest.fixture
def levels(db: Any, make_user: Any, make_region: Any) -> dict[str, Any]:
    """The nation's organiser, a province's, a city's below it and a sibling city's, each with its jurisdiction."""
    from evalplat.organisations.jurisdiction import national_region

    nation = national_region(db.session)
    province = make_region("广东省", level="province", parent=nation)
    city = make_region("江门市", parent=province)
    sibling = make_region("佛山市", parent=province)
    users = {}
    for name, region in (("nation", nation), ("province", province), ("city", city), ("sibling", sibling)):
        users[name] = make_user(Role.ORGANISER)
        users[name].jurisdiction_id = region.id
    db.session.commit()
    return users


def _issue(client: Any, db: Any, name: str, days: str | None = None) -> ApiToken | None:
    data = {"name": name, "scopes": ["rankings:read"], **({"days": days} if days else {})}
    client.post("/settings/api-tokens", data=data)
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name))


def test_a_city_sets_a_shorter_lifetime_for_its_own_tokens_only(client: Any, db: Any, login: Any,
                                                                levels: dict[str, Any]) -> None:
    login(client, levels["province"])
    assert client.post("/settings/api-tokens/lifetime", data={"default_days": "60", "max_days": "180"}
                       ).status_code == 302
    client.post("/logout")
    login(client, levels["city"])
    page = client.get("/settings/api-tokens/lifetime").get_data(as_text=True)
    assert 'id="lifetime-cap"' in page  # it follows the province and says its cap
    assert "180" in page
    assert client.post("/settings/api-tokens/lifetime", data={"default_days": "7", "max_days": "30"}
                       ).status_code == 302
    policy = db.session.scalar(sa.select(ApiTokenPolicy).where(
        ApiTokenPolicy.jurisdiction_id == levels["city"].jurisdiction_id))
    assert (policy.default_days, policy.max_days, policy.updated_by_id) == (7, 30, levels["city"].id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api_token.lifetime_set")
                              .order_by(AuditEvent.id.desc()))
    assert event.before == {"default_days": 60, "max_days": 180, "from_environment": False, "own": False}
    assert event.after == {"default_days": 7, "max_days": 30, "jurisdiction_id": levels["city"].jurisdiction_id}
    assert 6 < _days(_issue(client, db, "市令牌")) <= 7
    assert _issue(client, db, "市长令牌", "31") is None
    client.post("/logout")
    # the sibling city and the province keep the province's lifetime
    for who in ("sibling", "province"):
        login(client, levels[who])
        assert 59 < _days(_issue(client, db, f"{who}令牌")) <= 60
        assert 179 < _days(_issue(client, db, f"{who}长令牌", "180")) <= 180
        client.post("/logout")


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "The maximum (200 days) must not exceed the maximum 广东省 allows (180 days)."),
    ("zh", "最长有效期（200 天）不得超过广东省允许的最长有效期（180 天）。"),
])
def test_a_city_cannot_set_a_longer_maximum_than_its_province(client: Any, db: Any, login: Any,
                                                              levels: dict[str, Any], lang: str, said: str) -> None:
    login(client, levels["province"])
    client.post("/settings/api-tokens/lifetime", data={"default_days": "60", "max_days": "180"})
    client.post("/logout")
    login(client, levels["city"])
    client.post(f"/language/{lang}")
    answer = client.post("/settings/api-tokens/lifetime", data={"default_days": "30", "max_days": "200"})
    assert answer.status_code == 200
    assert said in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(ApiTokenPolicy).where(
        ApiTokenPolicy.jurisdiction_id == levels["city"].jurisdiction_id)) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "api_token.lifetime_set")) == 1  # the province's only


def test_lowering_the_provinces_maximum_caps_the_citys(app: Any, client: Any, db: Any, login: Any,
                                                       levels: dict[str, Any]) -> None:
    login(client, levels["province"])
    client.post("/settings/api-tokens/lifetime", data={"default_days": "60", "max_days": "180"})
    client.post("/logout")
    login(client, levels["city"])
    client.post("/settings/api-tokens/lifetime", data={"default_days": "90", "max_days": "120"})
    assert 89 < _days(_issue(client, db, "九十天")) <= 90
    client.post("/logout")
    login(client, levels["province"])
    client.post("/settings/api-tokens/lifetime", data={"default_days": "20", "max_days": "45"})
    client.post("/logout")
    lifetime = operations.token_lifetime(db.session, app.config, levels["city"].jurisdiction_id)
    assert (lifetime.default_days, lifetime.max_days, lifetime.capped) == (45, 45, True)
    login(client, levels["city"])
    assert 'id="lifetime-capped"' in client.get("/settings/api-tokens/lifetime").get_data(as_text=True)
    assert _issue(client, db, "一百天", "100") is None
    assert 44 < _days(_issue(client, db, "封顶")) <= 45
    # the nation's organiser lowering the nation's maximum caps both levels below
    client.post("/logout")
    login(client, levels["nation"])
    client.post("/settings/api-tokens/lifetime", data={"default_days": "10", "max_days": "15"})
    lifetime = operations.token_lifetime(db.session, app.config, levels["city"].jurisdiction_id)
    assert (lifetime.default_days, lifetime.max_days) == (15, 15)
