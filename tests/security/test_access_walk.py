"""Every route of the URL map, every method, as every role and anonymously, with real objects from the world.

One crawl (module fixture) fetches every GET URL — arguments filled with every object of the world — as one
user per role and anonymously; the tests then check the declared policy, that no GET changed the database,
and the headers. Other methods are walked by their own test (state may change there; the world is restored).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import activate, restore, role_users, sign_in
from crawl import Fetched, allows, fetch, methods, object_values, routes, urls_for
from world import digest

from evalplat.extensions import db


def _login_redirect(f: Fetched) -> bool:
    return f.status == 302 and "/login" in f.headers.get("Location", "")


def policy_problem(f: Fetched, policy: Any, role: str) -> str | None:
    """Why the response breaks the declared policy (None when it keeps it)."""
    if f.error:
        return f"crashed: {f.error}"
    if f.status >= 500:
        return f"server error {f.status}"
    roles = None if role == "anonymous" else {role}
    if policy.kind == "api":
        return None if f.status == 401 else f"API without a token gave {f.status}"
    if allows(policy, roles):
        if f.status == 403 and policy.kind != "roles":
            return "403 for an allowed user"
        if f.status == 403 and "Access denied" in f.text and f.method == "GET":
            return "403 (whole area) for an allowed role"
        if _login_redirect(f) and roles is not None and f.endpoint != "accounts.logout":
            return "sent to the login page although signed in"
        return None
    if roles is None:
        if f.method == "GET" and not _login_redirect(f):
            return f"anonymous got {f.status} instead of the login page"
        if f.method != "GET" and not (_login_redirect(f) or f.status in (400, 401)):
            return f"anonymous {f.method} got {f.status}"
        return None
    return None if f.status == 403 else f"role outside the policy got {f.status}"


@pytest.fixture(scope="module")
def get_crawl(world_setup: Any) -> dict[str, Any]:
    app, world, template, live = world_setup
    restore(app, template, live)
    activate(app)
    fetched: list[Fetched] = []
    changed: dict[str, dict[str, tuple[str, str]]] = {}
    with app.app_context():
        values = object_values(db.session, world.staff[3])
        users = role_users(db.session, world)
        for role, user_id in users.items():
            client = sign_in(app, user_id)
            before = digest(db.session)
            for rule, _policy in routes(app):
                if "GET" in methods(rule):
                    fetched.extend(fetch(client, role, "GET", url, rule.endpoint) for url in urls_for(rule, values))
            db.session.remove()
            after = digest(db.session)
            changed[role] = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        db.session.remove()
    return {"fetched": fetched, "changed": changed, "policies": {r.endpoint: p for r, p in routes(app)},
            "world": world}


def test_every_get_route_keeps_its_policy_for_every_role(get_crawl: dict[str, Any]) -> None:
    fetched = get_crawl["fetched"]
    assert len({f.endpoint for f in fetched}) >= 60, "the crawl reached too few routes"
    problems = []
    for f in fetched:
        why = policy_problem(f, get_crawl["policies"][f.endpoint], f.role)
        if why:
            problems.append(f"{f.role} GET {f.url}: {why}")
    assert problems == [], "\n".join(problems[:40])


def test_allowed_roles_reach_real_objects(get_crawl: dict[str, Any]) -> None:
    """The crawl is not vacuous: each role gets real pages (200) on object routes of its area."""
    ok = {(f.role, f.endpoint) for f in get_crawl["fetched"] if f.status == 200}
    for role, endpoints in {
        "organiser": ["campaigns.show", "assignments.run", "results.sample", "appeals.detail", "cases.detail",
                      "cases.review", "appeals.attachment", "rankings.show", "reviews.rubric"],
        "agency_staff": ["results.agency_case", "cases.detail", "results.circular"],
        "peer_reviewer": ["reviews.case", "reviews.inbox"],
        "evaluator": ["reviews.case"],
    }.items():
        missing = [e for e in endpoints if (role, e) not in ok]
        assert missing == [], f"{role} never got a 200 from {missing}"


def test_no_get_changes_the_database(get_crawl: dict[str, Any]) -> None:
    assert {role: tables for role, tables in get_crawl["changed"].items() if tables} == {}


def test_security_headers_on_every_response(get_crawl: dict[str, Any]) -> None:
    problems = []
    for f in get_crawl["fetched"]:
        h = f.headers
        csp = h.get("Content-Security-Policy", "")
        if "frame-ancestors 'none'" not in csp or "script-src 'self'" not in csp or "unsafe-inline" in csp:
            problems.append(f"{f.url}: CSP {csp!r}")
        if "object-src 'none'" not in csp or "default-src 'self'" not in csp:
            problems.append(f"{f.url}: CSP lacks object-src/default-src: {csp!r}")
        if h.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{f.url}: no nosniff")
        if h.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"):
            problems.append(f"{f.url}: referrer policy {h.get('Referrer-Policy')}")
        if f.role != "anonymous" and f.status == 200 and "no-store" not in h.get("Cache-Control", ""):
            problems.append(f"{f.role} {f.url}: authenticated page without Cache-Control: no-store")
    assert problems == [], "\n".join(problems[:20])


def test_every_other_method_keeps_its_policy(world_app: Any, world: Any) -> None:
    """POST (and any other method) to every route as every role; CSRF off so the policy itself answers."""
    values = object_values(db.session, world.staff[3])
    users = role_users(db.session, world)
    problems = []
    for role, user_id in users.items():
        client = sign_in(world_app, user_id)
        rules = [(r, p) for r, p in routes(world_app) if set(methods(r)) - {"GET"}]
        rules.sort(key=lambda rp: rp[0].endpoint == "accounts.logout")  # signing out last
        for rule, policy in rules:
            for method in sorted(set(methods(rule)) - {"GET"}):
                url = urls_for(rule, values, first=True)
                if not url:
                    continue
                f = fetch(client, role, method, url[0], rule.endpoint, data={})
                why = policy_problem(f, policy, role)
                if why:
                    problems.append(f"{role} {method} {f.url}: {why}")
    assert problems == [], "\n".join(problems[:40])


def test_user_text_is_escaped_on_every_page(get_crawl: dict[str, Any]) -> None:
    """Each payload (review comment, decline/appeal/decision reasons, display name) shows as text, never markup."""
    payloads = get_crawl["world"].payloads
    assert set(payloads) >= {"review_summary", "review_item_comment", "appeal_reason", "decline_reason",
                             "staff_display_name", "decision_reasons"}
    shown: dict[str, int] = dict.fromkeys(payloads, 0)
    problems = []
    for f in get_crawl["fetched"]:
        if "text/html" not in f.headers.get("Content-Type", ""):
            continue
        for name, payload in payloads.items():
            marker = payload.split('"')[1]  # xss-<field>
            if marker not in f.text:
                continue
            shown[name] += 1
            if "<script>alert(" in f.text or "<img src=x onerror" in f.text:
                problems.append(f"{f.role} {f.url}: {name} rendered as markup")
    assert problems == [], "\n".join(problems[:20])
    assert [n for n, count in shown.items() if count == 0] == [], "payloads never displayed (test would be vacuous)"
