"""A bureau's second-level closing checker (no agency) works for a jurisdiction (issue 19): it sees, checks and
— through its organiser's API tokens — serves the closing reviews of the agencies inside it only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts import operations as accounts
from evalplat.accounts.models import Role, User
from evalplat.api.models import ApiToken
from evalplat.closing import operations
from evalplat.closing.checklist import load_checklists
from evalplat.closing.models import ClosingReview, ClosingState
from evalplat.db import utcnow

# who may see the closing review of a case of the county agency under P1C1
CHECKERS = {"P1C1": True, "P1": True, "P1C1K": True, "P1C2": False, "P2": False, "P2C1": False}


@pytest.fixture
def scene(db: Any, make_case: Any) -> Any:
    tree = build_tree(db.session)
    agency = tree.agencies["P1C1K"]
    staff = accounts.create_user(db.session, actor=None, username="staff.k", display_name="县职员", password=PASSWORD,
                                 roles=[Role.AGENCY_STAFF], agency=agency)
    case = make_case(agency=agency, case_type="criminal", stage_reached="一审", number="结案〔2024〕秘字第1号")
    checklist = load_checklists().for_case(case.case_type.value, case.stage_reached)
    review = operations.check_first_level(db.session, actor=staff, case=case,
                                          marks={item.code: "present" for item in checklist.items}, now=utcnow())
    checkers = {name: accounts.create_user(db.session, actor=None, username=f"bureau.{name.lower()}",
                                           display_name=f"{name}二级审查", password=PASSWORD,
                                           roles=[Role.SECOND_CHECKER], jurisdiction=tree.regions[name])
                for name in CHECKERS}
    db.session.commit()
    return tree, case, review, checkers


def _client(app: Any, user: User) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code in (302, 303)
    return client


def test_bureau_checkers_see_and_check_only_their_jurisdictions_agencies(app: Any, db: Any, scene: Any) -> None:
    tree, case, review, checkers = scene
    for name, allowed in CHECKERS.items():
        client = _client(app, checkers[name])
        listing = client.get("/closing/").get_data(as_text=True)
        assert (case.case_number in listing) == allowed, name
        assert client.get(f"/closing/cases/{case.id}").status_code == (200 if allowed else 404), name
        assert client.get(f"/closing/?agency={tree.agencies['P1C1K'].id}").status_code in (
            (200,) if allowed else (400, 404)), name
        if not allowed:
            assert client.post(f"/closing/cases/{case.id}/second", data={"decision": "confirm"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(ClosingReview, review.id).state == ClosingState.AWAITING_SECOND  # refusals changed nothing
    # the city's bureau confirms its county agency's file
    client = _client(app, checkers["P1C1"])
    assert client.post(f"/closing/cases/{case.id}/second", data={"decision": "confirm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ClosingReview, review.id).state == ClosingState.CLOSED


def test_a_bureau_checker_without_a_jurisdiction_sees_nothing(app: Any, db: Any, scene: Any) -> None:
    _tree, case, _review, checkers = scene
    lost = checkers["P1"]
    lost.jurisdiction_id = None
    db.session.commit()
    client = _client(app, lost)
    assert case.case_number not in client.get("/closing/").get_data(as_text=True)
    assert client.get(f"/closing/cases/{case.id}").status_code == 404


def test_closing_api_serves_the_issuers_jurisdiction_only(app: Any, db: Any, scene: Any) -> None:
    tree, case, review, checkers = scene
    operations.check_second_level(db.session, actor=checkers["P1"], review=review, confirm=True, now=utcnow())
    db.session.commit()
    agency = tree.agencies["P1C1K"]
    for name, allowed in CHECKERS.items():
        token, secret = ApiToken.issue(f"结案{name}", ["closing:read"], tree.organisers[name].id,
                                       expires_at=utcnow() + timedelta(days=5))
        db.session.add(token)
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        one = client.get(f"/api/v1/closing/cases/{case.id}", headers=headers)
        closed = client.get(f"/api/v1/closing/closed?agency={agency.code}", headers=headers)
        if allowed:
            assert (one.status_code, one.json["state"]) == (200, "closed"), name
            assert [item["case_id"] for item in closed.json["items"]] == [case.id], name
        else:
            assert (one.status_code, closed.status_code) == (404, 404), name
            assert case.case_number not in one.get_data(as_text=True) + closed.get_data(as_text=True)


def test_an_organiser_gives_a_bureau_checker_a_jurisdiction_inside_its_own_only(app: Any, db: Any,
                                                                                 scene: Any) -> None:
    tree, _case, _review, _checkers = scene
    city = _client(app, tree.organisers["P1C1"])
    for username, region, made in (("bureau.county", "P1C1K", True), ("bureau.up", "P1", False),
                                   ("bureau.sibling", "P1C2", False)):
        city.post("/admin/users/new", data={"username": username, "display_name": "二级审查",
                                            "roles": ["second_checker"], "agency_id": 0,
                                            "jurisdiction_id": tree.regions[region].id,
                                            "password": "Another-bureau-passphrase-2024"})
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert (user is not None) == made, username
        if made:
            assert user.jurisdiction_id == tree.regions[region].id
