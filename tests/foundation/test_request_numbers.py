"""No 500s on odd numbers: ids, pages, years, limits and dates out of range or in other scripts' digits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from evalplat.params import MAX_ID, parse_int

ODD = [str(2**31), str(2**63), str(2**64 + 7), "9" * 40, "²", "٣", "1e3", "-1", str(MAX_ID)]
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _rules_with_params(app: Flask) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if "<" not in rule.rule or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            out.append((rule.rule, method))
    return out


def _routes() -> list[tuple[str, str]]:
    from evalplat import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "EVALPLAT_ENV": "testing"})
    return _rules_with_params(app)


ROUTES = _routes()


def test_every_int_route_parameter_is_bounded(app: Flask) -> None:
    converters = {type(c).__name__ for rule in app.url_map.iter_rules() for c in rule._converters.values()}
    assert "IntegerConverter" not in converters
    assert "BoundedIntConverter" in converters


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_route_with_huge_or_odd_number_gives_404_or_400_never_500(client: Any, make_user: Any, login: Any,
                                                                  rule: str, method: str) -> None:
    login(client, make_user("organiser"))
    for value in ODD:
        url = PARAM.sub(lambda m, v=value: v if m.group(1) in (None, "int", "string", "path") else "x", rule)
        response = client.open(url, method=method)
        assert response.status_code in (302, 400, 401, 403, 404, 405), (url, response.status_code)


QUERY_PAGES = ["/cases/", "/appeals/", "/audit", "/reviewers", "/conflicts", "/users", "/results/ours",
               "/rankings/all", "/rankings"]


@pytest.mark.parametrize("path", QUERY_PAGES)
@pytest.mark.parametrize("name", ["page", "year", "agency", "campaign", "city", "limit", "offset"])
def test_query_argument_huge_or_odd_gives_400_never_500(client: Any, make_user: Any, login: Any, path: str,
                                                        name: str) -> None:
    login(client, make_user("organiser"))
    for value in ODD:
        response = client.get(path, query_string={name: value})
        assert response.status_code in (200, 302, 400, 404), (path, name, value, response.status_code)


def test_page_in_superscript_digits_is_a_named_400(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    response = client.get("/cases/?page=²", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "page must be a whole number from 0 to 1000000000." in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2024-13-01", "２０２４-01-01", "²024-01-01"])
def test_audit_date_filter_out_of_range_is_a_named_400(client: Any, make_user: Any, login: Any, value: str) -> None:
    login(client, make_user("organiser"))
    response = client.get("/audit", query_string={"until": value}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "until must be a date written YYYY-MM-DD" in response.get_data(as_text=True)


def test_audit_date_filter_in_range_still_filters(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    assert client.get("/audit", query_string={"since": "2024-01-01", "until": "9998-12-31"}).status_code == 200


def test_rankings_scope_in_superscript_digits_is_404(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    assert client.get("/rankings/²").status_code == 404
    assert client.get(f"/rankings/{2**64}").status_code == 404


def test_api_limit_offset_and_scope_out_of_range_give_400_or_404(client: Any, db: Any, make_user: Any) -> None:
    from evalplat.api.operations import issue_token

    organiser = make_user("organiser")
    _, secret = issue_token(db.session, actor=organiser, name="probe", scopes=["rankings:read"])
    db.session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/campaigns/²/rankings/lawyers", headers=auth).status_code == 404
    assert client.get(f"/api/v1/campaigns/{2**64}/rankings/lawyers", headers=auth).status_code == 404
    for name in ("limit", "offset"):
        for value in ("²", str(2**64), "-1"):
            response = client.get("/api/v1/campaigns/all/rankings/lawyers", query_string={name: value}, headers=auth)
            assert response.status_code in (400, 404), (name, value)


def test_parse_int_takes_ascii_digits_in_range_only() -> None:
    assert [parse_int(v) for v in ("0", " 12 ", str(MAX_ID), str(MAX_ID + 1), "²", "٣", "", "1.0")] == [
        0, 12, MAX_ID, None, None, None, None, None]
