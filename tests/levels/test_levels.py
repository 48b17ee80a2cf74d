"""Rankings at every level and the national overview: who sees what, from published results only.

The world: the nation; province 甲省 with cities 江城市 (county 江城区) and 河城市; province 乙省 with 山城市.
甲省 runs a published campaign over agencies of both its cities and an unpublished one; 江城市 runs a published
campaign of its own and an unpublished one; 乙省 runs a published campaign. Every figure below is worked out by
hand from the totals given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from evalplat.accounts.models import Role, User
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.organisations.jurisdiction import national_region
from evalplat.results.models import Result, ResultKind
from evalplat.reviews.models import Grade


def grade_of(total: float) -> Grade:
    return Grade.EXCELLENT if total >= 90 else Grade.GOOD if total >= 80 else Grade.PASS if total >= 60 else Grade.FAIL


@dataclass
class World:
    regions: dict[str, Any] = field(default_factory=dict)
    agencies: dict[str, Any] = field(default_factory=dict)
    lawyers: dict[str, Any] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


@pytest.fixture
def world(db: Any, make_region: Any, make_agency: Any, make_lawyer: Any, make_case: Any, make_user: Any) -> World:
    s = db.session
    w = World()
    nation = national_region(s)
    w.regions["nation"] = nation
    w.regions["P"] = make_region("甲省", level="province", parent=nation, code="910000")
    w.regions["JC"] = make_region("江城市", parent=w.regions["P"], code="910100")
    w.regions["JCQ"] = make_region("江城区", level="county", parent=w.regions["JC"], code="910102")
    w.regions["HC"] = make_region("河城市", parent=w.regions["P"], code="910200")
    w.regions["Q"] = make_region("乙省", level="province", parent=nation, code="920000")
    w.regions["SC"] = make_region("山城市", parent=w.regions["Q"], code="920100")
    w.agencies["jc"] = make_agency("江城市江城区法律援助处", w.regions["JC"], region=w.regions["JCQ"])
    w.agencies["hc"] = make_agency("河城市法律援助处", w.regions["HC"])
    w.agencies["sc"] = make_agency("山城市法律援助处", w.regions["SC"])
    for key, name in (("jc", "江律师"), ("hc", "河律师"), ("sc", "山律师")):
        w.lawyers[key] = make_lawyer(name)

    def campaign(key: str, owner: str, name: str, state: CampaignState, cases: list[tuple[str, float]]) -> None:
        c = Campaign(name=name, code_prefix=f"L{key}", year=2024, state=state, jurisdiction=w.regions[owner])
        s.add(c)
        s.flush()
        for i, (agency, total) in enumerate(cases):
            case = make_case(agency=w.agencies[agency], case_type="criminal", lawyer=w.lawyers[agency], year=2024)
            sample = Sample(campaign_id=c.id, case_id=case.id, code=f"L{key}-{i:05d}", stratum=f"{agency}|criminal")
            s.add(sample)
            s.flush()
            s.add(Result(sample_id=sample.id, kind=ResultKind.CONSENSUS, total=total, grade=grade_of(total),
                         raw_total=total, item_points={}, vetoes=[]))
        w.campaigns[key] = c

    campaign("p", "P", "甲省2024年度评估", CampaignState.PUBLISHED,
             [("jc", 90.0), ("jc", 84.0), ("hc", 70.0), ("hc", 74.0)])
    campaign("p_open", "P", "甲省未发布评估", CampaignState.SCORING, [("jc", 10.0), ("hc", 12.0)])
    campaign("jc", "JC", "江城市2024年度评估", CampaignState.PUBLISHED, [("jc", 80.0), ("jc", 86.0)])
    campaign("jc_open", "JC", "江城市未发布评估", CampaignState.CONSOLIDATING, [("jc", 20.0)])
    campaign("q", "Q", "乙省2024年度评估", CampaignState.PUBLISHED, [("sc", 60.0), ("sc", 66.0), ("sc", 72.0)])
    s.commit()

    def user(key: str, role: Role, region: str) -> None:
        u = make_user(role, username=f"lv.{key}")
        u.jurisdiction_id = w.regions[region].id
        w.users[key] = u

    user("p", Role.ORGANISER, "P")
    user("jc", Role.ORGANISER, "JC")
    user("q", Role.ORGANISER, "Q")
    user("ministry", Role.MINISTRY, "nation")
    s.commit()
    return w


UNPUBLISHED = ("甲省未发布评估", "江城市未发布评估")


def _page(client: Any, login: Any, user: User, url: str, lang: str = "zh") -> str:
    login(client, user)
    response = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh" else "en"})
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_city_ranks_its_own_campaign_and_shows_the_provinces_results_for_its_agencies_apart(
        world: World, client: Any, login: Any) -> None:
    from evalplat.extensions import db
    from evalplat.levels.queries import level_view

    view = level_view(db.session, world.regions["JC"])
    assert [c.name for c in view.own_campaigns] == ["江城市2024年度评估"]
    assert view.own is not None
    assert view.own.n_cases == 2
    assert [r.label for r in view.own.agencies.rows] == ["江城市江城区法律援助处"]
    assert view.own.agencies.rows[0].mean == pytest.approx(83.0)
    assert [r.label for r in view.own.lawyers.rows] == ["江律师"]
    # the province's published campaign, counted for the city's agency only (its two cases: 90 and 84)
    assert view.above is not None
    assert [o.name for o in view.above.owners] == ["甲省"]
    assert [c.name for c in view.above.campaigns] == ["甲省2024年度评估"]
    assert view.above.n_cases == 2
    assert [(r.label, r.n, r.mean) for r in view.above.agencies.rows] == [("江城市江城区法律援助处", 2, 87.0)]
    assert view.below == ()

    text = _page(client, login, world.users["jc"], "/levels")
    assert "江城市排名" in text
    assert "本级评估活动" in text
    assert "甲省已发布的本辖区机构评估结果" in text
    for absent in ("河城市法律援助处", "河律师", "山城市", *UNPUBLISHED):
        assert absent not in text


def test_province_ranks_its_cities_and_lists_what_its_cities_published(world: World, client: Any,
                                                                       login: Any) -> None:
    from evalplat.extensions import db
    from evalplat.levels.queries import level_view

    view = level_view(db.session, world.regions["P"])
    assert view.ranks_cities
    assert view.own is not None
    cities = {r.label: (r.n, r.mean) for r in view.own.cities.rows}
    assert cities == {"江城市": (2, 87.0), "河城市": (2, 72.0)}
    assert view.above is None
    assert [(b.region.name, b.campaigns, b.row.n, b.row.mean) for b in view.below] == [("江城市", 1, 2, 83.0)]

    text = _page(client, login, world.users["p"], "/levels")
    assert "甲省排名" in text
    assert "下级辖区已发布的结果" in text
    for absent in ("山城市", "乙省", *UNPUBLISHED):
        assert absent not in text


def test_ministry_sees_every_province_side_by_side_from_published_results_only(world: World, client: Any,
                                                                                login: Any) -> None:
    from evalplat.extensions import db
    from evalplat.levels.queries import national_overview

    overview = national_overview(db.session)
    by_name = {p.region.name: p for p in overview.provinces}
    assert set(by_name) == {"甲省", "乙省"}
    p, q = by_name["甲省"], by_name["乙省"]
    assert (p.campaigns, p.city_campaigns, p.cases, p.agencies, p.agencies_reviewed) == (1, 1, 6, 2, 2)
    assert p.row is not None
    assert p.row.mean == pytest.approx((90 + 84 + 70 + 74 + 80 + 86) / 6)
    assert p.row.good == 4  # 90, 84, 80, 86
    assert (q.campaigns, q.city_campaigns, q.cases, q.agencies, q.agencies_reviewed) == (1, 0, 3, 1, 1)
    assert q.row.mean == pytest.approx(66.0)
    assert p.row.low <= p.row.estimate <= p.row.high

    text = _page(client, login, world.users["ministry"], "/national")
    assert "全国概览" in text
    assert "甲省" in text
    assert "乙省" in text
    # no people, no unpublished campaign, no stored codes
    for absent in ("江律师", "河律师", "山律师", *UNPUBLISHED, "910000", ">province<", ">city<"):
        assert absent not in text
    english = _page(client, login, world.users["ministry"], "/national", lang="en")
    assert "National overview" in english
    assert "Campaigns published by its cities" in english

    detail = _page(client, login, world.users["ministry"], f"/national/{world.regions['P'].id}")
    assert "甲省2024年度评估" in detail
    assert "江城市2024年度评估" in detail
    assert "按省级评估活动对各市排名" in detail
    for absent in ("江律师", "河律师", *UNPUBLISHED):
        assert absent not in detail

    csv = client.get("/national.csv")
    assert csv.status_code == 200
    body = csv.get_data().decode("utf-8-sig")
    assert "甲省" in body
    assert "乙省" in body
    assert "江律师" not in body


def test_ministry_home_page_leads_to_the_national_overview(world: World, client: Any, login: Any) -> None:
    text = _page(client, login, world.users["ministry"], "/home")
    assert "各省并列比较" in text
    assert "/national" in text
    assert "甲省" in text


def test_province_detail_is_for_provinces_only(world: World, client: Any, login: Any) -> None:
    login(client, world.users["ministry"])
    assert client.get(f"/national/{world.regions['JC'].id}").status_code == 404
    assert client.get("/national/999999").status_code == 404


@pytest.mark.parametrize("who", ["p", "jc", "q"])
def test_organisers_cannot_open_the_national_pages(world: World, client: Any, login: Any, who: str) -> None:
    login(client, world.users[who])
    for url in ("/national", "/national.csv", f"/national/{world.regions['P'].id}"):
        assert client.get(url).status_code == 403


def _urls(app: Flask, world: World) -> list[tuple[str, str]]:
    """One URL per GET route, every integer argument filled with the id of a real object (the unpublished
    campaigns' among them), other arguments with a plausible value."""
    ids = {"campaign": world.campaigns["p_open"].id, "region": world.regions["P"].id}
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        values: dict[str, Any] = {}
        for name in rule.arguments:
            converter = rule._converters[name].__class__.__name__.lower()  # noqa: SLF001 - test introspection
            if "int" in converter or "bounded" in converter:
                values[name] = ids["region"] if "region" in name else ids["campaign"]
            elif name in ("fmt", "format"):
                values[name] = "csv"
            elif name == "scope":
                values[name] = str(ids["campaign"])
            else:
                values[name] = "1"
        try:
            out.append((rule.endpoint, rule.build(values, append_unknown=False)[1]))
        except Exception:  # noqa: BLE001,S112 - a converter that refuses a placeholder value is not a page
            continue
    return out


#: what the national read-only role may open: its own pages, and the pages of every signed-in user
MINISTRY_PAGES = {"levels.national", "levels.national_csv", "levels.province"}


def test_ministry_cannot_reach_any_unpublished_or_management_page(world: World, app: Flask, client: Any,
                                                                  login: Any) -> None:
    from evalplat.security import policy_for

    login(client, world.users["ministry"])
    seen = 0
    for endpoint, url in _urls(app, world):
        policy = policy_for(app, endpoint)
        if policy is None:
            continue
        if policy.kind == "roles":
            # no page of another role lets the national role in
            assert Role.MINISTRY not in policy.roles or endpoint in MINISTRY_PAGES, endpoint
        if policy.kind == "api" or endpoint == "accounts.logout":
            continue
        response = client.get(url)
        text = response.get_data(as_text=True)
        for name in UNPUBLISHED:
            assert name not in text, (endpoint, url)
        if policy.kind == "roles" and endpoint not in MINISTRY_PAGES:
            assert response.status_code in (403, 404), (endpoint, url, response.status_code)
            seen += 1
    assert seen > 50


def test_rankings_pages_show_only_campaigns_the_organiser_may_read(world: World, app: Flask, login: Any) -> None:
    """Published is not public: another province's, or a parent's, published campaign is not in an organiser's
    rankings, pool or exports; a parent reads what its city published."""
    from flask import g

    def as_user(user: User) -> Any:
        g.pop("_login_user", None)  # the test's app context outlives requests: forget the last signed-in user
        fresh = app.test_client()
        login(fresh, user)
        return fresh

    q, p, jc = world.campaigns["q"].id, world.campaigns["p"].id, world.campaigns["jc"].id
    cases = [("q", p, 404), ("q", jc, 404), ("q", q, 200),   # a sibling province's: as if it did not exist
             ("jc", p, 404), ("jc", jc, 200),                 # the city never reads its province's campaign whole
             ("p", jc, 200), ("p", p, 200), ("p", q, 404)]    # the province reads its city's published one
    for who, campaign_id, status in cases:
        client = as_user(world.users[who])
        for url in (f"/rankings/{campaign_id}", f"/rankings/{campaign_id}/pool",
                    f"/rankings/{campaign_id}/export/lawyers.csv"):
            assert client.get(url).status_code == status, (who, url)
    names = {"p": "山律师", "q": "江律师", "jc": "河律师"}   # a lawyer each one must not see in its pooled ranking
    for who, absent in names.items():
        client = as_user(world.users[who])
        text = client.get("/rankings/all").get_data(as_text=True)
        assert "江律师" in text if who != "q" else "山律师" in text, who  # its own lawyers are there
        assert absent not in text, who
        index = client.get("/rankings").get_data(as_text=True)
        assert "乙省2024年度评估" in index if who == "q" else "乙省2024年度评估" not in index, who


def test_a_record_pools_only_the_campaigns_own_jurisdiction(world: World) -> None:
    from evalplat.extensions import db
    from evalplat.rankings.queries import record_campaigns

    assert [c.name for c in record_campaigns(db.session, world.campaigns["q"])] == ["乙省2024年度评估"]
    assert {c.name for c in record_campaigns(db.session, world.campaigns["p"])} == {"甲省2024年度评估",
                                                                                     "江城市2024年度评估"}
    assert [c.name for c in record_campaigns(db.session, world.campaigns["jc"])] == ["江城市2024年度评估"]







def test_an_organisers_home_names_its_own_jurisdiction(world: World, client: Any, login: Any) -> None:
    city = _page(client, login, world.users["jc"], "/home")
    assert "江城市概况" in city
    assert "全省概况" not in city
    assert "甲省概况" not in city


def test_the_level_pages_expert_pool_is_the_newest_campaigns_pool_page(world: World, client: Any,
                                                                       login: Any) -> None:
    """The province's pool reads the record as of its newest campaign — the city's published campaign below it
    included, as on the campaign's pool page — not the province's own campaign alone."""
    from evalplat.extensions import db
    from evalplat.levels.queries import level_view
    from evalplat.rankings.queries import record_for

    campaign = world.campaigns["p"]
    campaign.ranking_rules = {"min_cases": 3, "lower_bound": 50.0}  # 江律师: 2 cases of the province's, 2 of the city's
    db.session.commit()
    view = level_view(db.session, world.regions["P"])
    assert [e.row.label for e in view.pool if e.eligible] == ["江律师"]
    assert [e.row.label for e in record_for(db.session, campaign).pool if e.eligible] == ["江律师"]
    assert view.own is not None
    assert [r.n for r in view.own.lawyers.rows if r.label == "江律师"] == [2]  # its own campaign alone: too few
    text = _page(client, login, world.users["p"], "/levels")
    assert "1 名律师符合最新一期评估活动的专家库入库规则" in text
