"""The jurisdiction tree: subtree and ancestor look-ups, what an organiser manages and reads, and the checks
that keep campaigns and accounts inside a jurisdiction."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts import operations as accounts
from evalplat.accounts.models import Role, User
from evalplat.campaigns import operations as campaigns
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.organisations import jurisdiction as j
from evalplat.organisations.models import Agency, ReviewerKind, ReviewerProfile


@pytest.fixture
def tree(db: Any) -> Any:
    return build_tree(db.session)


def _ids(tree: Any, *names: str) -> set[int]:
    return {tree.regions[n].id for n in names}


def test_descendants_are_the_subtree_with_itself(tree: Any) -> None:
    assert j.descendant_region_ids(tree.regions["P1"].id) == _ids(tree, "P1", "P1C1", "P1C1K", "P1C2", "P1C2K")
    assert j.descendant_region_ids(tree.regions["P2C1"].id) == _ids(tree, "P2C1", "P2C1K")
    assert j.descendant_region_ids(tree.regions["P1C2K"].id) == _ids(tree, "P1C2K")


def test_the_nation_contains_every_region_even_one_without_a_parent(tree: Any, make_region: Any) -> None:
    stray = make_region(level="city")  # an import that forgot the province
    everything = j.descendant_region_ids(tree.nation.id)
    assert stray.id in everything
    assert _ids(tree, *tree.regions) <= everything
    assert j.is_within(stray.id, tree.nation.id)
    assert not j.is_within(stray.id, tree.regions["P1"].id)


def test_ancestors_reach_the_nation(tree: Any) -> None:
    assert j.ancestor_region_ids(tree.regions["P2C2K"].id) == _ids(tree, "P2C2K", "P2C2", "P2") | {tree.nation.id}
    assert j.ancestor_region_ids(tree.nation.id) == {tree.nation.id}


@pytest.mark.parametrize(("inner", "outer", "within"), [
    ("P1C1K", "P1", True), ("P1C1K", "P1C1", True), ("P1C1", "P1C1", True),
    ("P1C1K", "P1C2", False), ("P1C1", "P2", False), ("P1", "P1C1", False), ("P2C1K", "P1C1K", False),
])
def test_is_within(tree: Any, inner: str, outer: str, within: bool) -> None:
    assert j.is_within(tree.regions[inner].id, tree.regions[outer].id) is within


def test_province_of_a_county_is_its_province(tree: Any) -> None:
    assert j.province_of(tree.regions["P2C1K"].id) == tree.regions["P2"].id
    assert j.province_of(tree.nation.id) is None


def test_organiser_manages_its_subtree_only(tree: Any) -> None:
    city = tree.organisers["P1C1"]
    assert city.manages_region(tree.regions["P1C1K"].id)
    assert not city.manages_region(tree.regions["P1"].id)
    assert not city.manages_region(tree.regions["P1C2"].id)
    assert city.can_view_agency(tree.agencies["P1C1K"].id)
    assert not city.can_view_agency(tree.agencies["P1C2"].id)
    assert tree.organisers["P1"].can_view_agency(tree.agencies["P1C2K"].id)
    assert not tree.organisers["P2"].can_view_agency(tree.agencies["P1C2K"].id)
    assert not tree.ministry.manages_region(tree.regions["P1"].id)  # reads, never manages


def test_organiser_without_a_jurisdiction_manages_nothing(db: Any, tree: Any) -> None:
    lost = tree.organisers["P1"]
    lost.jurisdiction_id = None
    db.session.flush()
    assert not lost.manages_region(tree.regions["P1"].id)
    assert not lost.can_manage_users()
    assert db.session.scalars(sa.select(Agency.id).where(Agency.id.in_(j.agencies_within(lost)))).all() == []


def _campaign(db: Any, tree: Any, owner: str, state: CampaignState = CampaignState.DRAFT) -> Campaign:
    campaign = campaigns.create_campaign(db.session, actor=tree.organisers[owner], name=f"{owner} 评估",
                                         year=2024, code_prefix=f"X{owner}{state.value[:2].upper()}")
    campaign.state = state
    db.session.flush()
    return campaign


def test_campaign_belongs_to_its_creators_jurisdiction_and_only_it_manages_it(db: Any, tree: Any) -> None:
    campaign = _campaign(db, tree, "P1C1")
    assert campaign.jurisdiction_id == tree.regions["P1C1"].id
    assert tree.organisers["P1C1"].can_manage_campaign(campaign)
    for other in ("P1", "P1C1K", "P1C2", "P2", "P2C1"):
        assert not tree.organisers[other].can_manage_campaign(campaign), other


@pytest.mark.parametrize(("reader", "state", "reads"), [
    ("P1C1", CampaignState.SCORING, True),      # its own, any state
    ("P1", CampaignState.SCORING, False),       # the parent: not before publication
    ("P1", CampaignState.PUBLISHED, True),      # the parent reads what the city publishes
    ("P1C1K", CampaignState.PUBLISHED, False),  # the child never reads the city's campaign as a whole
    ("P1C2", CampaignState.PUBLISHED, False),   # a sibling city
    ("P2", CampaignState.FINAL, False),         # a sibling province
    ("ministry", CampaignState.SCORING, False),
    ("ministry", CampaignState.FINAL, True),
])
def test_who_reads_a_city_campaign(db: Any, tree: Any, reader: str, state: CampaignState, reads: bool) -> None:
    campaign = _campaign(db, tree, "P1C1", state)
    user = tree.ministry if reader == "ministry" else tree.organisers[reader]
    assert user.can_read_campaign(campaign) is reads
    listed = db.session.scalars(sa.select(Campaign.id).where(j.campaigns_visible_to(user))).all()
    assert (campaign.id in listed) is reads


def test_campaign_scope_outside_its_jurisdiction_is_refused(db: Any, tree: Any) -> None:
    with pytest.raises(campaigns.CampaignError, match="outside"):
        campaigns.create_campaign(db.session, actor=tree.organisers["P1C1"], name="越界", year=2024,
                                  code_prefix="OUT1", scope_kind="agencies",
                                  scope_agency_ids=[tree.agencies["P1C1K"].id, tree.agencies["P1C2"].id])
    with pytest.raises(campaigns.CampaignError, match="outside"):
        campaigns.create_campaign(db.session, actor=tree.organisers["P1"], name="越界", year=2024,
                                  code_prefix="OUT2", scope_kind="city", scope_region_id=tree.regions["P2C1"].id)
    inside = campaigns.create_campaign(db.session, actor=tree.organisers["P1"], name="省内", year=2024,
                                       code_prefix="IN1", scope_kind="city", scope_region_id=tree.regions["P1C2"].id)
    assert inside.jurisdiction_id == tree.regions["P1"].id
    with pytest.raises(campaigns.CampaignError, match="outside"):
        campaigns.update_settings(db.session, actor=tree.organisers["P1"], campaign=inside,
                                  scope_region_id=tree.regions["P2C2"].id)


def test_organiser_cannot_create_a_campaign_for_another_jurisdiction(db: Any, tree: Any) -> None:
    with pytest.raises(campaigns.CampaignError, match="own jurisdiction"):
        campaigns.create_campaign(db.session, actor=tree.organisers["P1C1"], name="上级", year=2024,
                                  code_prefix="UP1", jurisdiction=tree.regions["P1"])


def test_command_line_campaign_is_owned_by_the_province_containing_its_scope(db: Any, tree: Any) -> None:
    campaign = campaigns.create_campaign(db.session, actor=None, name="命令行", year=2024, code_prefix="CLI1",
                                         scope_kind="agencies", scope_agency_ids=[tree.agencies["P2C2K"].id])
    assert campaign.jurisdiction_id == tree.regions["P2"].id


def test_whole_jurisdiction_campaign_draws_only_agencies_of_its_subtree(db: Any, tree: Any) -> None:
    from evalplat.campaigns.population import scope_agencies

    campaign = _campaign(db, tree, "P1C2")
    got = set(db.session.scalars(scope_agencies(campaign)))
    assert got == {tree.agencies["P1C2"].id, tree.agencies["P1C2K"].id}


def test_campaign_draws_reviewers_from_its_own_and_its_ancestors_pools(db: Any, tree: Any, make_user: Any) -> None:
    profiles = {}
    for name in ("P1", "P1C1", "P1C1K", "P1C2", "P2"):
        user = make_user(Role.EVALUATOR)
        profiles[name] = ReviewerProfile(user=user, kind=ReviewerKind.EVALUATOR, region=tree.regions[name],
                                         city=tree.regions[name], jurisdiction=tree.regions[name])
        db.session.add(profiles[name])
    db.session.flush()
    campaign = _campaign(db, tree, "P1C1")
    drawn = set(db.session.scalars(sa.select(ReviewerProfile.id).where(j.pools_for_campaign(campaign))))
    assert drawn == {profiles["P1"].id, profiles["P1C1"].id}
    managed = set(db.session.scalars(sa.select(ReviewerProfile.id).where(j.reviewers_within(tree.organisers["P1"]))))
    assert managed == {profiles[n].id for n in ("P1", "P1C1", "P1C1K", "P1C2")}


def test_city_organiser_creates_staff_and_organisers_only_inside_its_subtree(db: Any, tree: Any) -> None:
    city = tree.organisers["P1C1"]
    staff = accounts.create_user(db.session, actor=city, username="staff.k", display_name="县职员",
                                 password=PASSWORD, roles=[Role.AGENCY_STAFF], agency=tree.agencies["P1C1K"])
    assert staff.agency_id == tree.agencies["P1C1K"].id
    county = accounts.create_user(db.session, actor=city, username="org.new", display_name="县组织者",
                                  password=PASSWORD, roles=[Role.ORGANISER], jurisdiction=tree.regions["P1C1K"])
    assert county.jurisdiction_id == tree.regions["P1C1K"].id
    own = accounts.create_user(db.session, actor=city, username="org.same", display_name="同级",
                               password=PASSWORD, roles=[Role.ORGANISER])
    assert own.jurisdiction_id == tree.regions["P1C1"].id
    for region in ("P1", "P1C2", "P2C1"):
        with pytest.raises(accounts.AccountError, match="inside your own jurisdiction"):
            accounts.create_user(db.session, actor=city, username=f"org.x{region.lower()}", display_name="越权",
                                 password=PASSWORD, roles=[Role.ORGANISER], jurisdiction=tree.regions[region])
    with pytest.raises(accounts.AccountError, match="outside your jurisdiction"):
        accounts.create_user(db.session, actor=city, username="staff.x", display_name="外地职员",
                             password=PASSWORD, roles=[Role.AGENCY_STAFF], agency=tree.agencies["P1C2"])
    with pytest.raises(accounts.AccountError, match="inside your own jurisdiction"):
        accounts.create_user(db.session, actor=city, username="ministry.x", display_name="部",
                             password=PASSWORD, roles=[Role.MINISTRY])


def test_city_organiser_cannot_raise_an_account_above_itself(db: Any, tree: Any) -> None:
    county = tree.organisers["P1C1K"]
    with pytest.raises(accounts.AccountError, match="inside your own jurisdiction"):
        accounts.set_roles(db.session, actor=tree.organisers["P1C1"], user=county, roles=[Role.ORGANISER],
                           agency=None, jurisdiction=tree.regions["P1"])
    db.session.refresh(county)
    assert county.jurisdiction_id == tree.regions["P1C1K"].id


def test_users_within_lists_the_subtrees_accounts(db: Any, tree: Any) -> None:
    names = set(db.session.scalars(sa.select(User.username).where(j.users_within(tree.organisers["P2C1"]))))
    assert names == {"org.p2c1", "org.p2c1k"}
    assert len(db.session.scalars(sa.select(User.id).where(j.users_within(tree.organisers["P2"]))).all()) == 5


def test_cases_within_is_the_subtrees_agencies(db: Any, tree: Any, make_case: Any) -> None:
    from evalplat.cases.models import Case

    inside = make_case(agency=tree.agencies["P2C2K"])
    make_case(agency=tree.agencies["P2C1"])
    got = db.session.scalars(sa.select(Case.id).where(j.cases_within(tree.organisers["P2C2"]))).all()
    assert got == [inside.id]
    assert db.session.scalars(sa.select(Case.id).where(j.cases_within(tree.ministry))).all() == []
