"""JSON API: token auth (missing, wrong scope, revoked), endpoints, OpenAPI document, token pages."""

from __future__ import annotations

from typing import Any

import pytest

from evalplat.api.models import API_SCOPES, ApiToken


def _token(db: Any, scopes: list[str]) -> tuple[ApiToken, str]:
    token, secret = ApiToken.issue("case assignment system", scopes, None)
    db.session.add(token)
    db.session.commit()
    return token, secret


def _get(client: Any, url: str, secret: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.get(url, headers=headers)


def test_missing_token_is_401_json(small_campaign: Any, client: Any) -> None:
    r = _get(client, f"/api/v1/campaigns/{small_campaign.campaign.id}/rankings/lawyers")
    assert r.status_code == 401
    assert r.json["error"] == "missing_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(small_campaign: Any, client: Any) -> None:
    r = _get(client, "/api/v1/campaigns", "ep_not-a-real-token")
    assert r.status_code == 401
    assert r.json["error"] == "invalid_token"


def test_wrong_scope_is_403(small_campaign: Any, client: Any, db: Any) -> None:
    _, secret = _token(db, ["priorities:read"])
    r = _get(client, f"/api/v1/campaigns/{small_campaign.campaign.id}/expert-pool", secret)
    assert r.status_code == 403
    assert r.json["error"] == "insufficient_scope"
    assert _get(client, f"/api/v1/campaigns/{small_campaign.campaign.id}/priorities", secret).status_code == 200


def test_revoked_token_is_401(small_campaign: Any, client: Any, db: Any, make_user: Any, login: Any) -> None:
    token, secret = _token(db, ["rankings:read"])
    assert _get(client, "/api/v1/campaigns", secret).status_code == 200
    login(client, make_user("organiser"))
    assert client.post(f"/settings/api-tokens/{token.id}/revoke").status_code == 302
    r = _get(client, "/api/v1/campaigns", secret)
    assert r.status_code == 401
    assert r.json["error"] == "revoked_token"


def test_rankings_endpoint_matches_the_rankings(small_campaign: Any, client: Any, db: Any) -> None:
    from evalplat.rankings.queries import rankings_for

    _, secret = _token(db, ["rankings:read"])
    cid = small_campaign.campaign.id
    body = _get(client, f"/api/v1/campaigns/{cid}/rankings/lawyers", secret).json
    rset = rankings_for(db.session, [small_campaign.campaign])
    assert body["total"] == 4
    assert [i["id"] for i in body["items"]] == [r.key for r in rset.lawyers.rows]
    assert {i["name"]: i["n"] for i in body["items"]} == {"张稳": 20, "李幸": 1, "王弱": 3, "赵中": 2}
    page = _get(client, f"/api/v1/campaigns/{cid}/rankings/cities?limit=1&offset=1", secret).json
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert _get(client, f"/api/v1/campaigns/{cid}/rankings/reviewers", secret).status_code == 404
    assert _get(client, f"/api/v1/campaigns/{cid}/rankings/lawyers?limit=0", secret).status_code == 400
    assert _get(client, "/api/v1/campaigns/99999/rankings/lawyers", secret).status_code == 404
    assert _get(client, "/api/v1/campaigns/all/rankings/agencies", secret).json["total"] == 3


def test_expert_pool_and_priorities_never_expose_reviewers(small_campaign: Any, client: Any, db: Any) -> None:
    _, secret = _token(db, ["expert_pool:read", "priorities:read"])
    cid = small_campaign.campaign.id
    everyone = _get(client, f"/api/v1/campaigns/{cid}/expert-pool?eligible=false", secret).json
    assert everyone["total"] == 4
    eligible = _get(client, f"/api/v1/campaigns/{cid}/expert-pool", secret).json
    assert all(i["eligible"] for i in eligible["items"])
    assert eligible["total"] < 4
    lucky = next(i for i in everyone["items"] if i["name"] == "李幸")
    assert lucky["reasons"][0]["code"] == "too_few_cases"
    prio = _get(client, f"/api/v1/campaigns/{cid}/priorities", secret).json
    assert {i["name"] for i in prio["items"]} == {"张稳", "李幸", "王弱", "赵中"}
    text = str(everyone) + str(prio)
    for reviewer in small_campaign.reviewers:
        assert reviewer.user.username not in text
        assert reviewer.lawyer.name not in text


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _check(value: Any, schema: dict[str, Any], doc: dict[str, Any], where: str) -> None:
    """A small JSON-schema check of the response against the document (types, required, enums, arrays)."""
    if "$ref" in schema:
        schema = _resolve(doc, schema["$ref"])
    kind = schema.get("type")
    py = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "boolean": bool}
    if kind:
        assert isinstance(value, py[kind]), f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], where
    for name in schema.get("required", []):
        assert name in value, f"{where}: missing {name}"
    for name, sub in schema.get("properties", {}).items():
        if isinstance(value, dict) and name in value:
            _check(value[name], sub, doc, f"{where}.{name}")
    if kind == "array":
        for i, item in enumerate(value):
            _check(item, schema["items"], doc, f"{where}[{i}]")


def test_openapi_document_is_valid_and_matches_responses(small_campaign: Any, client: Any, db: Any,
                                                         app: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None, ref
    rules = {r.rule.replace("<", "{").replace(">", "}").replace("{int:", "{") for r in app.url_map.iter_rules()
             if r.rule.startswith("/api/v1/") and r.rule != "/api/v1/openapi.json"}
    assert set(doc["paths"]) == rules
    for path, item in doc["paths"].items():
        params = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert params == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}, path
        assert set(item["get"]["security"][0]["bearer"]) <= set(API_SCOPES)
    _, secret = _token(db, ["rankings:read", "expert_pool:read", "priorities:read"])
    cid = small_campaign.campaign.id
    for path, schema_name in ((f"/api/v1/campaigns/{cid}/rankings/lawyers", "RankingPage"),
                              (f"/api/v1/campaigns/{cid}/rankings/agencies", "RankingPage"),
                              (f"/api/v1/campaigns/{cid}/expert-pool?eligible=false", "PoolPage"),
                              (f"/api/v1/campaigns/{cid}/priorities", "PriorityPage"),
                              ("/api/v1/campaigns", "CampaignList")):
        r = _get(client, path, secret)
        assert r.status_code == 200, path
        _check(r.json, {"$ref": f"#/components/schemas/{schema_name}"}, doc, path)
    error = _get(client, "/api/v1/campaigns")
    _check(error.json, {"$ref": "#/components/schemas/Error"}, doc, "error")


@pytest.mark.usefixtures("small_campaign")
def test_token_page_shows_secret_once(client: Any, db: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    page = client.post("/settings/api-tokens", data={"name": "指派系统", "scopes": ["priorities:read"]})
    html = page.get_data(as_text=True)
    token = db.session.query(ApiToken).one()
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith(token.prefix)
    assert token.token_hash != secret
    assert secret not in client.get("/settings/api-tokens").get_data(as_text=True)
    assert _get(client, "/api/v1/campaigns/all/priorities", secret).status_code == 200


def test_token_pages_are_for_organisers(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("agency_staff"))
    assert client.get("/settings/api-tokens").status_code == 403


def _set_state(db: Any, campaign: Any, state: str) -> None:
    from evalplat.campaigns.models import Campaign, CampaignState

    db.session.get(Campaign, campaign.id).state = CampaignState(state)
    db.session.commit()


def test_api_serves_only_published_campaigns(small_campaign: Any, client: Any, db: Any) -> None:
    """Issue 13 item 4: a campaign still in scoring never leaves the platform, in any feed."""
    _, secret = _token(db, ["rankings:read", "expert_pool:read", "priorities:read"])
    cid = small_campaign.campaign.id
    feeds = [f"/api/v1/campaigns/{cid}/rankings/lawyers", f"/api/v1/campaigns/{cid}/expert-pool?eligible=false",
             f"/api/v1/campaigns/{cid}/priorities", "/api/v1/campaigns/all/rankings/lawyers",
             "/api/v1/campaigns/all/expert-pool?eligible=false", "/api/v1/campaigns/all/priorities"]
    published = {url: _get(client, url, secret) for url in feeds}
    assert all(r.status_code == 200 and r.json["items"] for r in published.values()), "published data is served"
    assert [c["id"] for c in _get(client, "/api/v1/campaigns", secret).json["items"]] == [cid]
    _set_state(db, small_campaign.campaign, "scoring")
    assert _get(client, "/api/v1/campaigns", secret).json["items"] == []
    lawyer = next(iter(small_campaign.lawyers.values()))
    for url in feeds:
        r = _get(client, url, secret)
        assert r.status_code == 404, url
        assert lawyer.name not in r.get_data(as_text=True)
        assert lawyer.licence_no not in r.get_data(as_text=True)


def test_api_token_limited_to_named_campaigns(small_campaign: Any, client: Any, db: Any, make_user: Any,
                                             make_region: Any, make_agency: Any, make_lawyer: Any, make_case: Any,
                                             make_reviewer: Any) -> None:
    from rankings.rankfixtures import build_campaign

    from evalplat.api.operations import issue_token

    cid = small_campaign.campaign.id
    other = build_campaign(db, make_region, make_agency, make_lawyer, make_case, make_reviewer, make_user,
                           year=2023, prefix="O", reuse=small_campaign).campaign
    organiser = make_user("organiser")
    _, narrow = issue_token(db.session, actor=organiser, name="只看一个", scopes=["rankings:read"],
                            campaign_ids=[other.id])
    db.session.commit()
    assert [c["id"] for c in _get(client, "/api/v1/campaigns", narrow).json["items"]] == [other.id]
    assert _get(client, f"/api/v1/campaigns/{cid}/rankings/lawyers", narrow).status_code == 404
    assert _get(client, f"/api/v1/campaigns/{other.id}/rankings/lawyers", narrow).status_code == 200
    assert _get(client, "/api/v1/campaigns/all/rankings/lawyers", narrow).json["scope"]["campaign_ids"] == [other.id]


def test_expired_api_token_is_refused(small_campaign: Any, client: Any, db: Any) -> None:
    from datetime import timedelta

    from evalplat.db import utcnow

    token, secret = _token(db, ["rankings:read"])
    assert _get(client, "/api/v1/campaigns", secret).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    r = _get(client, "/api/v1/campaigns", secret)
    assert r.status_code == 401
    assert r.json["error"] == "expired_token"


def test_token_lifetime_defaults_and_is_capped_by_the_organisers_settings(app: Any, client: Any, db: Any,
                                                                         make_user: Any, login: Any) -> None:
    from evalplat.db import utcnow

    login(client, make_user("organiser"))
    app.config.update(EVALPLAT_API_TOKEN_DAYS=30, EVALPLAT_API_TOKEN_MAX_DAYS=60)
    try:
        client.post("/settings/api-tokens", data={"name": "默认期限", "scopes": ["rankings:read"]})
        token = db.session.query(ApiToken).one()
        assert 29 < (token.expires_at - utcnow()).total_seconds() / 86400 <= 30
        page = client.post("/settings/api-tokens", data={"name": "太长", "scopes": ["rankings:read"], "days": 61})
        assert db.session.query(ApiToken).count() == 1
        assert "60" in page.get_data(as_text=True)
    finally:
        app.config.update(EVALPLAT_API_TOKEN_DAYS=90, EVALPLAT_API_TOKEN_MAX_DAYS=365)


@pytest.mark.parametrize("path", ["/api/v1/campaigns", "/api/v1/campaigns/all/priorities",
                                  "/api/v1/no-such-thing", "/api/v1/openapi.json"])
def test_every_api_response_is_no_store(small_campaign: Any, client: Any, db: Any, path: str) -> None:
    _, secret = _token(db, ["rankings:read", "priorities:read"])
    for headers in ({"Authorization": f"Bearer {secret}"}, {}):
        assert client.get(path, headers=headers).headers.get("Cache-Control") == "no-store", (path, headers)
