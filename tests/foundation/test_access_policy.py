"""Every route declares who may enter; anonymous users and wrong roles are kept out."""


import pytest
from tests_support import fill_rule

from evalplat.accounts.models import Role
from evalplat.security import policy_for


def _sample_url(rule) -> str:
    return fill_rule(rule, 1, "1")


def test_every_route_declares_an_access_policy(app):
    undeclared = [r.endpoint for r in app.url_map.iter_rules() if policy_for(app, r.endpoint) is None]
    assert undeclared == [], f"routes without an access policy: {undeclared}"


def test_anonymous_is_sent_to_login_from_every_non_public_page(app, client):
    for rule in app.url_map.iter_rules():
        policy = policy_for(app, rule.endpoint)
        if policy.kind in ("public", "api"):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(_sample_url(rule), method=method)
        assert response.status_code in (302, 401), (rule.rule, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("role", [r for r in Role])
def test_role_routes_refuse_other_roles(app, client, make_user, login, role):
    user = make_user(role)
    login(client, user)
    for rule in app.url_map.iter_rules():
        policy = policy_for(app, rule.endpoint)
        if policy.kind != "roles" or "GET" not in rule.methods or rule.arguments:
            continue
        response = client.get(_sample_url(rule))
        if role in policy.roles:
            assert response.status_code != 403, rule.rule
        else:
            assert response.status_code == 403, (rule.rule, role)


def test_undeclared_route_is_denied(app):
    from flask import Flask

    from evalplat.security import enforce

    probe = Flask("probe")
    probe.before_request(enforce)

    @probe.get("/open")
    def open_view():
        return "should never be served"

    with probe.test_client() as c:
        assert c.get("/open").status_code == 403
