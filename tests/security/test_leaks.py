"""What agencies and reviewers can read: never a reviewer's identity (except their own), never unredacted text.

Every page, download, export, API answer and error page an agency or a reviewer can reach is fetched (each
reviewer of the world, each agency's staff) and searched for every reviewer's name, username, firm (or
organisation) and licence number, and for the client's name, ID number and phone from each original file.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from conftest import activate, restore, sign_in
from crawl import Fetched, allows, fetch, methods, object_values, routes, urls_for

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.organisations.models import ReviewerProfile
from evalplat.params import opaque_id

EXTRA_URLS = ["/no/such/page", "/reviews/999999", "/results/ours/999999", "/appeals/999999"]


def _reachable(app: Any, user: User, values: dict[str, list[str]], own: dict[str, list[str]]) -> list[tuple[str, str]]:
    out = []
    for rule, policy in routes(app):
        if "GET" not in methods(rule) or not allows(policy, {str(r) for r in user.roles}):
            continue
        out.extend((url, rule.endpoint) for url in urls_for(rule, {**values, **own}))
    return out + [(u, "-") for u in EXTRA_URLS]


@pytest.fixture(scope="module")
def people_crawl(world_setup: Any) -> dict[str, Any]:
    """Responses of every reviewer (own assignments) and every agency's staff, per user id."""
    app, world, template, live = world_setup
    restore(app, template, live)
    activate(app)
    seen: dict[int, list[Fetched]] = {}
    with app.app_context():
        values = object_values(db.session, world.staff[3])
        reviewer_users = [i.user_id for i in world.reviewers] + world.ids["adjudicator"]
        for user_id in reviewer_users + world.staff:
            user = db.session.get(User, user_id)
            assert user is not None
            own: dict[str, list[str]] = {}
            if user.reviewer_profile is not None:
                own["assignment_id"] = [opaque_id(a) for a in db.session.scalars(
                    sa.select(Assignment.id).where(Assignment.reviewer_id == user.reviewer_profile.id))]
            urls = _reachable(app, user, values, own)
            client = sign_in(app, user_id)
            seen[user_id] = [fetch(client, "user", "GET", url, endpoint) for url, endpoint in urls]
            db.session.remove()
        agency_of = {u: db.session.get(User, u).agency_id for u in world.staff}  # type: ignore[union-attr]
        case_agency = {cid: aid for cid, aid in db.session.execute(sa.select(Case.id, Case.agency_id))}
    return {"seen": seen, "world": world, "agency_of": agency_of, "case_agency": case_agency}


def _hits(fetched: list[Fetched], needles: dict[str, str]) -> list[str]:
    out = []
    for f in fetched:
        low = f.text.lower()
        out.extend(f"{f.url} [{f.status}] shows {what}" for what, needle in needles.items() if needle.lower() in low)
    return out


def test_the_crawl_reads_real_pages(people_crawl: dict[str, Any]) -> None:
    seen = people_crawl["seen"]
    world = people_crawl["world"]
    reviewer_case_pages = sum(1 for i in world.reviewers for f in seen[i.user_id]
                              if f.endpoint == "reviews.case" and f.status == 200)
    assert reviewer_case_pages >= 3 * len(world.secrets) // 2, "reviewers opened too few case pages"
    shown = [f for i in world.reviewers for f in seen[i.user_id] if f.endpoint == "reviews.case" and "本院认为" in f.text]
    assert len(shown) >= len(world.secrets), "the case pages do not show the (redacted) case files"
    staff_pages = [f for s in world.staff for f in seen[s] if f.status == 200]
    assert {f.endpoint for f in staff_pages} >= {"results.agency_case", "cases.detail", "appeals.detail",
                                                 "results.agency_results"}


def test_agencies_never_learn_who_reviewed(people_crawl: dict[str, Any]) -> None:
    world = people_crawl["world"]
    needles = {f"{r.strings[0]}'s {k}": s for r in world.reviewers
               for k, s in zip(("name", "username", "firm", "licence"), r.strings, strict=False)}
    hits = [f"staff {u}: {h}" for u in world.staff for h in _hits(people_crawl["seen"][u], needles)]
    assert hits == [], "\n".join(hits[:30])


def test_reviewers_never_learn_who_else_reviewed(people_crawl: dict[str, Any]) -> None:
    world = people_crawl["world"]
    hits = []
    for me in world.reviewers:
        others = {f"{r.strings[0]}'s {k}": s for r in world.reviewers if r.user_id != me.user_id
                  for k, s in zip(("name", "username", "firm", "licence"), r.strings, strict=False)}
        hits.extend(f"{me.strings[1]}: {h}" for h in _hits(people_crawl["seen"][me.user_id], others))
    adjudicator = world.ids["adjudicator"][0]
    everyone = {f"{r.strings[0]}'s {k}": s for r in world.reviewers
                for k, s in zip(("name", "username", "firm", "licence"), r.strings, strict=False)}
    hits.extend(f"adjudicator: {h}" for h in _hits(people_crawl["seen"][adjudicator], everyone))
    assert hits == [], "\n".join(hits[:30])


def test_reviewers_never_see_unredacted_text(people_crawl: dict[str, Any]) -> None:
    world = people_crawl["world"]
    needles = {f"case {cid} client {k}": v for cid, s in world.secrets.items()
               for k, v in (("name", s.name), ("ID number", s.id_number), ("phone", s.phone))}
    hits = []
    for user_id in [r.user_id for r in world.reviewers] + world.ids["adjudicator"]:
        hits.extend(f"reviewer user {user_id}: {h}" for h in _hits(people_crawl["seen"][user_id], needles))
    assert hits == [], "\n".join(hits[:30])


def test_agencies_never_see_other_agencies_clients(people_crawl: dict[str, Any]) -> None:
    world = people_crawl["world"]
    hits = []
    for staff in world.staff:
        mine = people_crawl["agency_of"][staff]
        needles = {f"case {cid} client {k}": v for cid, s in world.secrets.items()
                   if people_crawl["case_agency"][cid] != mine
                   for k, v in (("name", s.name), ("ID number", s.id_number), ("phone", s.phone))}
        hits.extend(f"staff {staff}: {h}" for h in _hits(people_crawl["seen"][staff], needles))
    assert hits == [], "\n".join(hits[:30])


def test_reviewer_identity_is_in_the_database(world_app: Any, world: Any) -> None:
    """The needles searched for are real: each reviewer's strings are stored and an organiser sees them."""
    profile = db.session.get(ReviewerProfile, world.reviewers[0].profile_id)
    assert profile is not None
    assert profile.user.display_name in world.reviewers[0].strings
    organiser = sign_in(world_app, world.organiser)
    page = organiser.get("/reviewers").get_data(as_text=True)
    assert world.reviewers[0].strings[0] in page
