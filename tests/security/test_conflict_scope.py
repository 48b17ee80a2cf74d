"""A reviewer's conflicts name only what the deciding organiser may see (issue 19).

A reviewer of a city's pool can have a conflict on a case of another province — the platform finds the
reviewer's name in that case's file, or the reviewer declares it. The city's organiser manages the reviewer but
must not learn that case's number, agency, firm or lawyer, nor decide the conflict; the organiser of a
jurisdiction that holds both the reviewer and the case (here the nation) still sees and decides it.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.assignments.models import Conflict, ConflictSource, ConflictStatus
from evalplat.extensions import db


def _client(app: Any, user: Any) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code in (302, 303)
    return client


@pytest.fixture
def scene(db: Any) -> dict[str, Any]:
    from evalplat.accounts import operations as accounts
    from evalplat.accounts.models import Role, User
    from evalplat.cases.models import Case, CaseType
    from evalplat.organisations.models import Firm, Lawyer, ReviewerKind, ReviewerProfile

    s = db.session
    tree = build_tree(s)
    city, far = tree.regions["P1C1"], tree.regions["P2C1"]
    reviewer_user = User(username="reviewer.city", display_name="市评审员", password_hash="x")
    reviewer_user.set_roles({Role.EVALUATOR})
    s.add(reviewer_user)
    s.flush()
    reviewer = ReviewerProfile(user_id=reviewer_user.id, kind=ReviewerKind.EVALUATOR, region=city, city=city,
                               jurisdiction=city, organisation="市大学")
    far_firm = Firm(name="远省律师事务所", region=far, city=far)
    far_lawyer = Lawyer(name="远省律师", licence_no="14507000011111", firm=far_firm, years_of_practice=3)
    s.add_all([reviewer, far_firm, far_lawyer])
    s.flush()
    far_case = Case(agency=tree.agencies["P2C1"], case_number="远案〔2024〕第0042号", year=2024, sequence_no=42,
                    case_type=CaseType.CIVIL, cause="劳动争议", lawyer=far_lawyer, firm_id=far_firm.id)
    own_case = Case(agency=tree.agencies["P1C1K"], case_number="本案〔2024〕第0007号", year=2024, sequence_no=7,
                    case_type=CaseType.CIVIL, cause="劳动争议")
    s.add_all([far_case, own_case])
    s.flush()
    foreign = [Conflict(reviewer_id=reviewer.id, case_id=far_case.id, reason="named_in_file",
                        source=ConflictSource.COMPUTED),
               Conflict(reviewer_id=reviewer.id, agency_id=tree.agencies["P2C1"].id, reason="declared",
                        source=ConflictSource.DECLARED),
               Conflict(reviewer_id=reviewer.id, firm_id=far_firm.id, reason="declared", source=ConflictSource.DECLARED),
               Conflict(reviewer_id=reviewer.id, lawyer_id=far_lawyer.id, reason="declared",
                        source=ConflictSource.DECLARED)]
    own = Conflict(reviewer_id=reviewer.id, case_id=own_case.id, reason="named_in_file", source=ConflictSource.COMPUTED)
    s.add_all([*foreign, own])
    national = accounts.create_user(s, actor=None, username="org.nation", display_name="全国组织者",
                                    password=PASSWORD, roles=[Role.ORGANISER], jurisdiction=tree.nation)
    s.commit()
    return {"tree": tree, "foreign": [c.id for c in foreign], "own": own.id, "national": national,
            "names": ["远案〔2024〕第0042号", tree.agencies["P2C1"].name, "远省律师事务所", "远省律师"]}


def test_a_city_organiser_is_not_told_of_its_reviewers_conflicts_in_another_province(app: Any, scene: Any) -> None:
    tree = scene["tree"]
    client = _client(app, tree.organisers["P1C1"])
    page = client.get("/conflicts?status=open").get_data(as_text=True)
    assert "本案〔2024〕第0007号" in page  # its own case's conflict is listed
    for name in scene["names"]:
        assert name not in page, name
    for conflict_id in scene["foreign"]:
        assert client.post(f"/conflicts/{conflict_id}/dismiss", data={}).status_code == 404
    statuses = db.session.scalars(sa.select(Conflict.status).where(Conflict.id.in_(scene["foreign"]))).all()
    assert set(statuses) == {ConflictStatus.OPEN}
    assert client.post(f"/conflicts/{scene['own']}/dismiss", data={}).status_code in (302, 303)


def test_the_home_page_counts_only_the_conflicts_the_organiser_may_decide(app: Any, scene: Any) -> None:
    from evalplat.db import utcnow
    from evalplat.main.queries import organiser_todo

    with app.test_request_context():
        assert organiser_todo(scene["tree"].organisers["P1C1"], now=utcnow())["conflicts"].count == 1
        assert organiser_todo(scene["national"], now=utcnow())["conflicts"].count == 5


def test_the_nation_sees_and_decides_a_conflict_across_provinces(app: Any, scene: Any) -> None:
    client = _client(app, scene["national"])
    page = client.get("/conflicts?status=open").get_data(as_text=True)
    for name in scene["names"]:
        assert name in page, name
    assert client.post(f"/conflicts/{scene['foreign'][0]}/confirm", data={}).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Conflict, scene["foreign"][0]).status == ConflictStatus.CONFIRMED
