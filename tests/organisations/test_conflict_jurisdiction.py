"""Conflicts of the reviewers a campaign draws on (issue 19): the organiser who runs a campaign decides the
conflicts of any reviewer of its pools and of its ancestors' pools with its campaign's cases — a city decides a
province expert's conflict with its own case — without any right over the reviewer's profile; a sibling city, or
a case outside the city's campaigns, still cannot."""

from __future__ import annotations

from typing import Any

import pytest
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts import operations as accounts
from evalplat.accounts.models import Role
from evalplat.assignments.models import Conflict, ConflictSource, ConflictStatus
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.organisations.models import ReviewerKind, ReviewerProfile


@pytest.fixture
def scene(db: Any, make_case: Any) -> Any:
    tree = build_tree(db.session)
    expert_user = accounts.create_user(db.session, actor=None, username="expert.province", display_name="省专家",
                                       password=PASSWORD, roles=[Role.EVALUATOR])
    expert = ReviewerProfile(user_id=expert_user.id, kind=ReviewerKind.EVALUATOR, region=tree.regions["P1C2"],
                             city=tree.regions["P1C2"], jurisdiction=tree.regions["P1"], organisation="省专家库")
    sampled = make_case(agency=tree.agencies["P1C1K"], number="市案〔2024〕第1号")
    unsampled = make_case(agency=tree.agencies["P1C1K"], number="市案〔2024〕第2号")
    campaign = Campaign(name="市一评估", code_prefix="CITYC", year=2024, state=CampaignState.SAMPLED,
                        jurisdiction=tree.regions["P1C1"], scope_kind="agencies",
                        scope_agency_ids=[tree.agencies["P1C1K"].id])
    db.session.add_all([expert, campaign])
    db.session.flush()
    db.session.add(Sample(campaign_id=campaign.id, case_id=sampled.id, code="CITYC-00001", stratum="s"))
    on_campaign = Conflict(reviewer_id=expert.id, case_id=sampled.id, reason="declared",
                           source=ConflictSource.DECLARED)
    off_campaign = Conflict(reviewer_id=expert.id, case_id=unsampled.id, reason="declared",
                            source=ConflictSource.DECLARED)
    db.session.add_all([on_campaign, off_campaign])
    db.session.commit()
    return tree, expert, campaign, on_campaign, off_campaign


def _client(app: Any, user: Any) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code in (302, 303)
    return client


def test_city_decides_a_province_experts_conflict_with_its_own_campaigns_case(app: Any, db: Any,
                                                                             scene: Any) -> None:
    tree, expert, campaign, on_campaign, _off = scene
    city = _client(app, tree.organisers["P1C1"])
    listing = city.get(f"/conflicts?campaign={campaign.id}&status=open").get_data(as_text=True)
    assert "expert.province" in listing
    assert f"/conflicts/{on_campaign.id}/dismiss" in listing
    assert city.get(f"/campaigns/{campaign.id}").status_code == 200
    assert city.post(f"/conflicts/{on_campaign.id}/dismiss").status_code == 302
    db.session.expire_all()
    decided = db.session.get(Conflict, on_campaign.id)
    assert (decided.status, decided.decided_by_id) == (ConflictStatus.DISMISSED, tree.organisers["P1C1"].id)


def test_deciding_the_conflict_gives_the_city_no_right_over_the_experts_profile(app: Any, db: Any,
                                                                               scene: Any) -> None:
    tree, expert, _campaign, on_campaign, _off = scene
    city = _client(app, tree.organisers["P1C1"])
    assert city.post(f"/conflicts/{on_campaign.id}/confirm").status_code == 302
    assert city.get(f"/reviewers/{expert.id}/edit").status_code == 404
    assert city.post(f"/reviewers/{expert.id}/active/0").status_code == 404
    assert "expert.province" not in city.get("/reviewers?q=expert").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReviewerProfile, expert.id).active


def test_a_sibling_city_and_a_case_outside_the_citys_campaigns_stay_refused(app: Any, db: Any, scene: Any) -> None:
    tree, _expert, campaign, on_campaign, off_campaign = scene
    sibling = _client(app, tree.organisers["P1C2"])
    assert sibling.post(f"/conflicts/{on_campaign.id}/dismiss").status_code == 404
    assert "expert.province" not in sibling.get("/conflicts?status=open").get_data(as_text=True)
    city = _client(app, tree.organisers["P1C1"])
    # the same expert's conflict with a case of the city's agency that no campaign of the city samples
    assert city.post(f"/conflicts/{off_campaign.id}/dismiss").status_code == 404
    db.session.expire_all()
    assert db.session.get(Conflict, on_campaign.id).status == ConflictStatus.OPEN
    assert db.session.get(Conflict, off_campaign.id).status == ConflictStatus.OPEN
    # the province, owner of the pool, decides both as before
    province = _client(app, tree.organisers["P1"])
    assert province.post(f"/conflicts/{off_campaign.id}/dismiss").status_code == 302
    db.session.expire_all()
    assert db.session.get(Conflict, off_campaign.id).status == ConflictStatus.DISMISSED
