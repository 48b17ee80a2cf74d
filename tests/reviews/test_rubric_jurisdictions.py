"""Rubric versions owned by jurisdictions (issue 19): a jurisdiction sees and pins its own and its ancestors'
versions, edits an ancestor's into a version of its own, and never sees or pins a sibling's or a child's."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.campaigns import operations as ops
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.reviews.models import RubricVersion


@pytest.fixture
def tree(db: Any) -> Any:
    built = build_tree(db.session)
    ops.ensure_rubric_versions(db.session, actor=None)  # the nation's, from the platform's files
    db.session.commit()
    return built


def _client(app: Any, user: Any) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code in (302, 303)
    return client


def _national(db: Any) -> RubricVersion:
    return db.session.scalar(sa.select(RubricVersion).where(RubricVersion.key == "criminal"))


def _edited(row: RubricVersion, label: str) -> str:
    data = dict(row.definition)
    items = [dict(i) for i in data["items"]]
    items[0]["label"] = {"zh": label, "en": label}
    data["items"] = items
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _derive(app: Any, tree: Any, who: str, base: RubricVersion, label: str) -> RubricVersion:
    response = _client(app, tree.organisers[who]).post(f"/rubrics/{base.id}/edit",
                                                       data={"definition": _edited(base, label), "new_version": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    version_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    from evalplat.extensions import db

    return db.session.get(RubricVersion, version_id)


def test_editing_the_provinces_rubric_makes_the_citys_own_version_and_leaves_the_provinces(app: Any, db: Any,
                                                                                           tree: Any) -> None:
    national = _national(db)
    province = _derive(app, tree, "P1", national, "省的评分项")
    assert province.jurisdiction_id == tree.regions["P1"].id
    assert province.version == national.version + 1
    before = (province.content_hash, province.definition)
    # the city edits the province's unused version with "revise in place" asked: it still gets its own version
    city = _derive(app, tree, "P1C1", province, "市的评分项")
    db.session.expire_all()
    assert city.jurisdiction_id == tree.regions["P1C1"].id
    assert city.version == province.version + 1
    assert city.definition["items"][0]["label"]["zh"] == "市的评分项"
    province = db.session.get(RubricVersion, province.id)
    assert (province.content_hash, province.definition) == before
    # its own unused version it revises in place
    again = _derive(app, tree, "P1C1", city, "市的评分项（改）")
    assert again.id == city.id
    assert again.definition["items"][0]["label"]["zh"] == "市的评分项（改）"


def test_a_jurisdiction_sees_its_own_and_its_ancestors_versions_never_a_siblings_or_a_childs(app: Any, db: Any,
                                                                                             tree: Any) -> None:
    national = _national(db)
    province = _derive(app, tree, "P1", national, "省的评分项")
    city = _derive(app, tree, "P1C1", province, "市一的评分项")
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(RubricVersion))
    expected = {  # who sees which of the three (the nation's is everyone's)
        "P1C1": {national.id, province.id, city.id}, "P1C1K": {national.id, province.id, city.id},
        "P1": {national.id, province.id}, "P1C2": {national.id, province.id}, "P2": {national.id},
        "P2C1": {national.id},
    }
    for who, visible in expected.items():
        client = _client(app, tree.organisers[who])
        listing = client.get("/rubrics/").get_data(as_text=True)
        for row, label in ((province, "省的评分项"), (city, "市一的评分项")):
            page = client.get(f"/rubrics/{row.id}")
            edit = client.get(f"/rubrics/{row.id}/edit")
            if row.id in visible:
                assert (page.status_code, edit.status_code) == (200, 200), who
                assert label in page.get_data(as_text=True)
            else:
                assert (page.status_code, edit.status_code) == (404, 404), who
                assert client.post(f"/rubrics/{row.id}/edit", data={"definition": _edited(row, "越界")}
                                   ).status_code == 404
        assert (f'/rubrics/{city.id}"' in listing) == (city.id in visible), who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RubricVersion)) == stored  # refusals made none


def test_pinning_follows_the_campaigns_jurisdiction(app: Any, db: Any, tree: Any) -> None:
    national = _national(db)
    province = _derive(app, tree, "P1", national, "省的评分项")
    sibling = _derive(app, tree, "P1C2", province, "市二的评分项")
    campaign = Campaign(name="市一评估", code_prefix="CITY1", year=2024, state=CampaignState.DRAFT,
                        jurisdiction=tree.regions["P1C1"])
    db.session.add(campaign)
    db.session.commit()
    # newest wins among the city's own and its ancestors' versions: the province's, not the sibling's higher one
    pinned = ops.pin_rubrics(db.session, actor=tree.organisers["P1C1"], campaign=campaign)
    assert pinned["criminal"] == province.id
    assert sibling.version > province.version
    # the sibling's version, named explicitly, through the page: refused by name, nothing pinned changes
    client = _client(app, tree.organisers["P1C1"])
    response = client.post(f"/campaigns/{campaign.id}/rubrics", data={"version_id": sibling.id},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "not one of this campaign&#39;s jurisdiction" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {r.case_type: r.rubric_version_id for r in db.session.get(Campaign, campaign.id).rubrics}["criminal"] \
        == province.id
    # the picker offers the visible versions only, and pins the one chosen
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'value="{province.id}"' in page
    assert f'value="{national.id}"' in page
    assert f'value="{sibling.id}"' not in page
    assert client.post(f"/campaigns/{campaign.id}/rubrics", data={"version_id": national.id}).status_code == 302
    db.session.expire_all()
    assert {r.case_type: r.rubric_version_id for r in db.session.get(Campaign, campaign.id).rubrics}["criminal"] \
        == national.id
