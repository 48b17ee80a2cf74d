"""CSRF on every state-changing route, and IDOR pairs on every object route."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from conftest import role_users, sign_in
from crawl import methods, object_values, routes, urls_for
from world import digest

from evalplat.appeals.models import Appeal
from evalplat.assignments.models import Assignment, AssignmentRound
from evalplat.campaigns.models import Sample
from evalplat.cases.models import Case, Document
from evalplat.extensions import db
from evalplat.organisations.models import ReviewerProfile
from evalplat.params import opaque_id


def test_every_state_changing_route_refuses_a_missing_or_wrong_token(world_app: Any, world: Any) -> None:
    values = object_values(db.session, world.staff[3])
    users = role_users(db.session, world)
    clients = {role: sign_in(world_app, uid) for role, uid in users.items()}
    world_app.config["WTF_CSRF_ENABLED"] = True
    before = digest(db.session)
    posted, problems = 0, []
    for rule, _policy in routes(world_app):
        for method in sorted(set(methods(rule)) - {"GET"}):
            for url in urls_for(rule, values, first=True):
                for role, client in clients.items():
                    for token in (None, "forged-token"):
                        data = {} if token is None else {"csrf_token": token}
                        response = client.open(url, method=method, data=data)
                        posted += 1
                        if response.status_code in (302, 303) and "/login" not in response.headers.get("Location", ""):
                            problems.append(f"{role} {method} {url} without a valid token: {response.status_code}")
                        elif response.status_code == 200:
                            problems.append(f"{role} {method} {url} without a valid token answered 200")
    db.session.remove()
    after = digest(db.session)
    assert posted > 100
    assert problems == [], "\n".join(problems[:30])
    assert {t: (before[t], after[t]) for t in before if before[t] != after[t]} == {}


def test_csrf_token_of_another_session_is_refused(world_app: Any, world: Any) -> None:
    from tests_support import csrf_token

    victim, attacker = sign_in(world_app, world.staff[0]), sign_in(world_app, world.staff[1])
    world_app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(attacker.get("/account/password").get_data(as_text=True))
    response = victim.post("/logout", data={"csrf_token": token})
    assert victim.get("/home").status_code == 200, "victim was signed out with another session's token"
    assert response.status_code in (302, 400)


def _assert_hidden(response: Any, secrets: list[str], what: str) -> None:
    assert response.status_code == 404, f"{what}: {response.status_code}"
    body = response.get_data(as_text=True)
    leaked = [s for s in secrets if s and s in body]
    assert leaked == [], f"{what}: the 404 page names {leaked}"


def test_idor_agency_b_cannot_open_agency_a_objects(world_app: Any, world: Any) -> None:
    a_agency, b_staff = world.agencies[0], world.staff[1]
    client = sign_in(world_app, b_staff)
    cases = db.session.scalars(sa.select(Case).where(Case.agency_id == a_agency)).all()
    assert cases
    for case in cases:
        secret = world.secrets[case.id]
        hide = [case.case_number, secret.name, secret.id_number]
        _assert_hidden(client.get(f"/cases/{case.id}"), hide, f"case {case.id}")
        for post in (f"/cases/{case.id}/process", f"/cases/{case.id}/documents"):
            assert client.post(post).status_code in (403, 404), post
        for doc in db.session.scalars(sa.select(Document.id).where(Document.case_id == case.id)):
            for post in (f"/cases/documents/{doc}/retry", f"/cases/documents/{doc}/delete"):
                assert client.post(post).status_code in (403, 404), post
        for sample in db.session.scalars(sa.select(Sample).where(Sample.case_id == case.id)):
            _assert_hidden(client.get(f"/results/ours/{sample.id}"), hide + [sample.code], f"result {sample.id}")
            _assert_hidden(client.get(f"/appeals/new/{sample.id}"), hide + [sample.code], f"appeal form {sample.id}")
            response = client.post(f"/appeals/new/{sample.id}", data={"reason": "x", "items": ["total"]})
            assert response.status_code == 404, f"appeal POST on {sample.id}: {response.status_code}"
    job = client.get("/cases/jobs/" + "0" * 31 + "1")  # the job belongs to agency 0's staff
    assert job.status_code == 404
    appeals = db.session.scalars(sa.select(Appeal).where(Appeal.agency_id == a_agency)).all()
    others = db.session.scalars(sa.select(Appeal).where(Appeal.agency_id != world.agencies[1])).all()
    assert others
    for appeal in [*appeals, *others]:
        _assert_hidden(client.get(f"/appeals/{appeal.id}"), [appeal.reason[:20]], f"appeal {appeal.id}")
        for att in appeal.attachments:
            _assert_hidden(client.get(f"/appeals/{appeal.id}/attachments/{att.id}"), [att.original_filename],
                           f"attachment {att.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appeal)) == len(
        db.session.scalars(sa.select(Appeal)).all())


def test_idor_reviewer_x_cannot_touch_reviewer_y_assignments(world_app: Any, world: Any) -> None:
    users = role_users(db.session, world)
    me = db.session.scalar(sa.select(ReviewerProfile).where(ReviewerProfile.user_id == users["peer_reviewer"]))
    assert me is not None
    theirs = db.session.scalars(sa.select(Assignment).where(Assignment.reviewer_id != me.id)).all()
    client = sign_in(world_app, me.user_id)
    before = digest(db.session)
    checked = 0
    for assignment in theirs[:40]:
        code = assignment.sample.code
        for url in (f"/reviews/{opaque_id(assignment.id)}", f"/reviews/{opaque_id(assignment.id)}/decline",
                    f"/results/decisions/{opaque_id(assignment.id)}"):
            _assert_hidden(client.get(url), [code, assignment.sample.case.case_number], url)
        for url, data in ((f"/reviews/{opaque_id(assignment.id)}/accept", {}),
                          (f"/reviews/{opaque_id(assignment.id)}/decline", {"reason": "x"}),
                          (f"/reviews/{opaque_id(assignment.id)}", {"action": "submit"}),
                          (f"/results/decisions/{opaque_id(assignment.id)}", {"total": "50", "reasons": "x"})):
            assert client.post(url, data=data).status_code == 404, url
        checked += 1
    db.session.remove()
    assert checked >= 10
    assert digest(db.session) == before


def test_idor_adjudicator_of_another_case(world_app: Any, world: Any) -> None:
    decisions = db.session.scalars(sa.select(Assignment).where(
        Assignment.round.in_([AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL]))).all()
    assert len({a.reviewer_id for a in decisions}) >= 1
    reviewers = db.session.scalars(sa.select(ReviewerProfile)).all()
    checked = 0
    for assignment in decisions:
        stranger = next(r for r in reviewers if r.id != assignment.reviewer_id)
        client = sign_in(world_app, stranger.user_id)
        _assert_hidden(client.get(f"/results/decisions/{opaque_id(assignment.id)}"), [assignment.sample.code],
                       f"decision {assignment.id}")
        assert client.post(f"/results/decisions/{opaque_id(assignment.id)}", data={"total": "1", "reasons": "x"}
                           ).status_code == 404
        checked += 1
    assert checked
