"""List filters and the reviewer form inside a jurisdiction (issue 19).

A list filter naming an object of another jurisdiction (``/cases/?agency=…``) is refused with a 404 that names
the filter, never answered with an empty list; the reviewer form offers and accepts only the cities of the
organiser's province, and a posted city of another province is refused with a message naming it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts.models import Role, User
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.cases.models import Case, CaseType
from evalplat.errors import DomainError
from evalplat.organisations import importer, operations
from evalplat.organisations.models import ReviewerKind, ReviewerProfile


@pytest.fixture
def scene(db: Any) -> Any:
    """The tree, a case of each city's agency, a campaign of P1C1 and one of P1C2, a reviewer of P1C1's pool."""
    tree = build_tree(db.session)
    s = db.session
    cases = {}
    for name in ("P1C1", "P1C2", "P2C1"):
        cases[name] = Case(agency=tree.agencies[name], case_number=f"{name}〔2024〕第1号", year=2024, sequence_no=1,
                           case_type=CaseType.CRIMINAL, cause="盗窃罪")
    campaigns = {name: Campaign(name=f"{name}评估", code_prefix=f"F{name}", year=2024, state=CampaignState.SAMPLED,
                                jurisdiction=tree.regions[name]) for name in ("P1C1", "P1C2")}
    user = User(username="pool.reviewer", display_name="池中评审员", password_hash="x")
    user.set_roles({Role.EVALUATOR})
    s.add_all([*cases.values(), *campaigns.values(), user])
    s.flush()
    reviewer = ReviewerProfile(user_id=user.id, kind=ReviewerKind.EVALUATOR, region=tree.regions["P1C1K"],
                               city=tree.regions["P1C1"], jurisdiction=tree.regions["P1C1"], organisation="大学")
    s.add(reviewer)
    s.commit()
    return tree, cases, campaigns, reviewer


def _signed_in(app: Any, user: User) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


# (url with {own} / {foreign} in place of the filter's value, what the filter names)
FILTERS = [
    ("/cases/?agency={}", "agency"),
    ("/cases/?campaign={}", "campaign"),
    ("/cases/campaigns/{campaign}/redaction?agency={}", "agency"),
    ("/closing/?agency={}", "agency"),
    ("/reviewers?city={}", "city"),
    ("/conflicts?campaign={}", "campaign"),
    ("/results/ours?agency={}", "agency"),
]


@pytest.mark.parametrize(("url", "kind"), FILTERS)
def test_a_filter_naming_another_jurisdictions_object_is_refused_by_name(app: Any, scene: Any, url: str,
                                                                         kind: str) -> None:
    tree, _cases, campaigns, _reviewer = scene
    own = {"agency": tree.agencies["P1C1"].id, "campaign": campaigns["P1C1"].id, "city": tree.regions["P1C2"].id}
    # another province's agency and city; the sibling city's campaign
    foreign = {"agency": tree.agencies["P2C1"].id, "campaign": campaigns["P1C2"].id, "city": tree.regions["P2C1"].id}
    client = _signed_in(app, tree.organisers["P1C1"])
    campaign = campaigns["P1C1"].id
    assert client.get(url.format(own[kind], campaign=campaign)).status_code == 200
    refused = client.get(url.format(foreign[kind], campaign=campaign))
    assert refused.status_code == 404
    name = url.split("?")[1].split("=")[0]
    assert f"{name}={foreign[kind]}" in refused.get_data(as_text=True)
    # a missing object answers the same (ids cannot be probed)
    missing = client.get(url.format(999999, campaign=campaign))
    assert missing.status_code == 404
    assert f"{name}=999999" in missing.get_data(as_text=True)


def test_the_own_agency_filter_still_lists_its_cases(app: Any, scene: Any) -> None:
    tree, cases, _campaigns, _reviewer = scene
    client = _signed_in(app, tree.organisers["P1"])
    body = client.get(f"/cases/?agency={tree.agencies['P1C2'].id}").get_data(as_text=True)
    assert cases["P1C2"].case_number in body
    assert cases["P1C1"].case_number not in body


def test_a_result_campaign_the_user_may_not_read_is_refused_not_replaced(app: Any, scene: Any) -> None:
    tree, _cases, campaigns, _reviewer = scene
    client = _signed_in(app, tree.organisers["P1C1"])
    response = client.get(f"/results/ours?campaign={campaigns['P1C2'].id}")
    assert response.status_code == 404
    assert f"campaign={campaigns['P1C2'].id}" in response.get_data(as_text=True)


def test_reviewer_form_offers_only_the_cities_of_the_organisers_province(app: Any, scene: Any) -> None:
    tree, _cases, _campaigns, reviewer = scene
    body = _signed_in(app, tree.organisers["P1C1"]).get(f"/reviewers/{reviewer.id}/edit").get_data(as_text=True)
    assert "省1市2" in body  # a neighbouring city of the province: a city's pool borrows from it
    assert "省2市1" not in body
    assert "省2市2" not in body
    listing = _signed_in(app, tree.organisers["P2"]).get("/reviewers").get_data(as_text=True)
    assert "省2市1" in listing
    assert "省1市1" not in listing


def _edit(client: Any, reviewer: Any, city_id: int) -> Any:
    return client.post(f"/reviewers/{reviewer.id}/edit", data={
        "city_id": city_id, "organisation": "大学", "years_of_practice": 5, "case_types": ["criminal"],
        "capacity": 3}, follow_redirects=True)


def test_a_posted_city_of_another_province_is_refused_with_its_name(app: Any, db: Any, scene: Any) -> None:
    tree, _cases, _campaigns, reviewer = scene
    client = _signed_in(app, tree.organisers["P1C1"])
    response = _edit(client, reviewer, tree.regions["P2C1"].id)
    assert "省2市1" in response.get_data(as_text=True)  # the message names the city refused
    db.session.expire_all()
    assert db.session.get(ReviewerProfile, reviewer.id).city_id == tree.regions["P1C1"].id
    _edit(client, reviewer, tree.regions["P1C2"].id)
    db.session.expire_all()
    assert db.session.get(ReviewerProfile, reviewer.id).city_id == tree.regions["P1C2"].id


def test_update_reviewer_refuses_a_foreign_city_by_code(db: Any, scene: Any) -> None:
    tree, _cases, _campaigns, reviewer = scene
    with pytest.raises(DomainError) as refused:
        operations.update_reviewer(db.session, actor=tree.organisers["P1C1"], reviewer=reviewer,
                                   city_id=tree.regions["P2C2"].id)
    assert refused.value.code == "city_outside_jurisdiction"
    # the command line (no actor) places a reviewer anywhere
    operations.update_reviewer(db.session, actor=None, reviewer=reviewer, city_id=tree.regions["P2C2"].id)
    assert reviewer.city_id == tree.regions["P2C2"].id


def test_reviewer_import_refuses_a_row_whose_city_lies_in_another_province(db: Any, scene: Any) -> None:
    tree, *_ = scene
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["username", "姓名", "类型", "所在市", "执业年限", "案件类型", "承担量"])
    writer.writerow(["near.city", "近市", "第三方", "省1市2", "3", "刑事", "2"])
    writer.writerow(["far.city", "远省", "第三方", "省2市1", "3", "刑事", "2"])
    data = out.getvalue().encode("utf-8-sig")
    with pytest.raises(importer.ReviewerImportError) as refused:
        importer.import_reviewers(db.session, actor=tree.organisers["P1C1"], data=data, filename="pool.csv")
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "city")]
    assert "省2市1" in refused.value.errors[0].message
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "near.city")) is None  # all or nothing
