"""Source weights of the rankings and the pool rule: hand-worked combinations, zero weights reproducing the peer
review's rankings exactly, a bad follow-up record moving a lawyer as the weights say, validation, audit,
versions and jurisdiction scoping."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.closing.models import CheckOutcome, ClosingCheck, ClosingReview
from evalplat.followups.models import FollowupComplaint, FollowupPlan, FollowupTarget, FollowupVisit, PlanMode
from evalplat.rankings import operations
from evalplat.rankings.engine import rank_groups
from evalplat.rankings.models import RankingWeights
from evalplat.rankings.queries import rankings_for, record_for
from evalplat.rankings.sources import post_case_sources
from evalplat.rankings.weights import WeightsError, current_weights, parse_weights
from evalplat.selfeval.models import SelfEvaluation
from scoring.ranking import combine_sources

YEAR = 2024


# --- the combination, by hand ------------------------------------------------------------------------------


def test_a_source_that_is_an_exact_rescaling_of_the_peer_review_adds_precision_not_movement() -> None:
    # source 2 = (y - 60) / 40 with variance v / 40²: on the peer scale it is y again, with variance v;
    # half and half: c = y, Var(c) = 0.25 v + 0.25 v = v / 2 = 2; a group without source 2 keeps y and v.
    y = np.array([80.0, 84.0, 76.0, 90.0, 70.0])
    v = np.full(5, 4.0)
    second = (y - 60.0) / 40.0
    est = np.column_stack([y, np.r_[second[:4], np.nan]])
    var = np.column_stack([v, np.r_[v[:4] / 1600.0, np.nan]])
    out = combine_sources(est, var, [0.5, 0.5])
    assert out.estimate == pytest.approx([80.0, 84.0, 76.0, 90.0, 70.0], abs=1e-6)
    assert out.variance == pytest.approx([2.0, 2.0, 2.0, 2.0, 4.0], abs=1e-6)
    assert out.weight.tolist()[4] == [1.0, 0.0]
    assert out.contribution[0] == pytest.approx([40.0, 40.0], abs=1e-6)
    full = combine_sources(np.column_stack([y, second]), np.column_stack([v, v / 1600.0]), [0.5, 0.5])
    assert full.spread[1] == pytest.approx(full.spread[0] / 40.0, rel=1e-6)
    assert full.centre[1] == pytest.approx((full.centre[0] - 60.0) / 40.0, rel=1e-6)


def test_weight_on_the_reference_alone_returns_its_evidence_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(80, 5, size=30)
    v = rng.uniform(2, 30, size=30)
    other = np.column_stack([y, rng.uniform(0, 1, 30), rng.normal(70, 9, 30)])
    out = combine_sources(other, np.column_stack([v, np.full(30, 0.01), np.full(30, 3.0)]), [1.0, 0.0, 0.0])
    assert np.array_equal(out.estimate, y)
    assert np.array_equal(out.variance, v)


def test_a_source_without_spread_contributes_to_nobody() -> None:
    y = np.array([[80.0, 0.9], [70.0, 0.9], [75.0, 0.9]])
    v = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0]])  # every share equal: the binomial variance at 0.9 is set,
    out = combine_sources(y, v, [0.5, 0.5])              # but here no sampling variance at all: cannot be scaled
    assert not out.usable[1]
    assert out.estimate.tolist() == [80.0, 70.0, 75.0]


@pytest.mark.parametrize(("raw", "code", "source"), [
    ({"peer_review": 1.2, "followup": -0.2}, "weight_range", "peer_review"),
    ({"peer_review": 0.5, "followup": -0.5, "closing": 1.0}, "weight_range", "followup"),
    ({"peer_review": 0.5, "followup": 0.4}, "weight_sum", None),
    ({"peer_review": 0.0, "followup": 1.0}, "weight_peer", "peer_review"),
    ({"peer_review": 1.0, "popularity": 0.0}, "weight_unknown", "popularity"),
    ({"peer_review": "viel"}, "weight_number", "peer_review"),
])
def test_bad_weights_are_refused_naming_the_source(raw: dict[str, Any], code: str, source: str | None) -> None:
    with pytest.raises(WeightsError) as caught:
        parse_weights(raw)
    assert caught.value.code == code
    assert caught.value.source == source


def test_decimal_weights_that_sum_to_one_pass() -> None:
    assert parse_weights({"peer_review": "0.7", "self_evaluation": "0.1", "followup": "0.1", "closing": "0.1"}) == {
        "peer_review": 0.7, "self_evaluation": 0.1, "followup": 0.1, "closing": 0.1}


# --- post-case data around the small campaign --------------------------------------------------------------


def _post_case(db: Any, make_case: Any, built: Any, lawyer: str, agency: str, *, self_scores: tuple[float, ...] = (),
               visits: tuple[tuple[int, bool], ...] = (), checks: tuple[bool, ...] = ()) -> None:
    """Closed cases of ``lawyer`` at ``agency`` (not sampled): one per self-score, per visit (satisfaction, breach)
    and one closing review holding the given checks (passed or returned)."""
    s = db.session
    ag = built.agencies[agency]
    law = built.lawyers[lawyer]
    for score in self_scores:
        case = make_case(agency=ag, lawyer=law, year=YEAR)
        s.add(SelfEvaluation(case_id=case.id, agency_id=ag.id, form_version="1", score=score))
    if visits:
        plan = s.scalar(sa.select(FollowupPlan).where(FollowupPlan.agency_id == ag.id, FollowupPlan.year == YEAR))
        if plan is None:
            plan = FollowupPlan(agency_id=ag.id, year=YEAR, mode=PlanMode.ALL, seed="s")
            s.add(plan)
            s.flush()
        for i, (satisfaction, breach) in enumerate(visits):
            case = make_case(agency=ag, lawyer=law, year=YEAR)
            target = FollowupTarget(plan_id=plan.id, case_id=case.id, agency_id=ag.id, lawyer_id=law.id,
                                    position=i, inclusion_probability=1.0, attempts=1)
            s.add(target)
            s.flush()
            visit = FollowupVisit(target_id=target.id, satisfaction=satisfaction)
            s.add(visit)
            s.flush()
            if breach:
                s.add(FollowupComplaint(visit_id=visit.id, case_id=case.id, agency_id=ag.id, lawyer_id=law.id,
                                        kinds=["fee"]))
    if checks:
        case = make_case(agency=ag, lawyer=law, year=YEAR)
        review = ClosingReview(case_id=case.id, agency_id=ag.id, checklist_code="civil", checklist_version="1")
        s.add(review)
        s.flush()
        for level, passed in enumerate(checks, start=1):
            s.add(ClosingCheck(review_id=review.id, level=1 + (level > 1), round=1,
                               outcome=CheckOutcome.PASSED if passed else CheckOutcome.RETURNED))
    s.commit()


@pytest.fixture
def with_post_case(small_campaign: Any, db: Any, make_case: Any) -> Any:
    b = small_campaign
    _post_case(db, make_case, b, "steady", "A1", self_scores=(80.0, 90.0), visits=((5, False),) * 6,
               checks=(True, True))
    _post_case(db, make_case, b, "weak", "B1", self_scores=(70.0, 72.0, 74.0), visits=((4, False),) * 4 + ((3, False),),
               checks=(False, True, True))
    _post_case(db, make_case, b, "mid", "B1", visits=((5, False), (2, True), (1, True), (2, True), (4, False)))
    return b


def test_source_figures_equal_hand_computation(with_post_case: Any, db: Any) -> None:
    b = with_post_case
    region = b.campaign.jurisdiction_id
    self_eval, followup, closing = post_case_sources(db.session, "lawyers", region_id=region, years=[YEAR])
    ids = {b.lawyers[k].id: k for k in b.lawyers}
    got = {ids[int(k)]: (e, v, n) for k, e, v, n in zip(self_eval.keys, self_eval.estimate, self_eval.variance,
                                                         self_eval.n, strict=True)}
    # steady 80, 90 (ss 50); weak 70, 72, 74 (ss 8): pooled σ² = 58 / (5 - 2)
    sigma2 = 58.0 / 3.0
    assert got["steady"] == pytest.approx((85.0, sigma2 / 2, 2))
    assert got["weak"] == pytest.approx((72.0, sigma2 / 3, 3))
    got = {ids[int(k)]: (e, v, n) for k, e, v, n in zip(followup.keys, followup.estimate, followup.variance,
                                                         followup.n, strict=True)}
    # good visits: steady 6/6, weak 4/5 (satisfaction 3 is not satisfied), mid 2/5 (three breaches); common 12/16
    common = 12 / 16
    assert got["steady"] == pytest.approx((1.0, common * (1 - common) / 6, 6))
    assert got["weak"] == pytest.approx((0.8, common * (1 - common) / 5, 5))
    assert got["mid"] == pytest.approx((0.4, common * (1 - common) / 5, 5))
    assert followup.detail[b.lawyers["mid"].id] == {"breaches": 3}
    got = {ids[int(k)]: (e, n) for k, e, n in zip(closing.keys, closing.estimate, closing.n, strict=True)}
    assert got == {"steady": pytest.approx((1.0, 2)), "weak": pytest.approx((2 / 3, 3))}


def _rows(ranking: Any) -> dict[Any, tuple[Any, ...]]:
    return {r.key: (r.n, r.estimate, r.low, r.high, r.rank, r.rank_low, r.rank_high, r.tier, r.share_low)
            for r in ranking.rows}


def _peer_only(db: Any, campaign: Any) -> Any:
    """The rankings as the peer review alone gives them (rank_groups without any source)."""
    from evalplat.rankings.queries import case_figures

    f = case_figures(db.session, [campaign.id])
    has = f.lawyer_id != -1
    return rank_groups(f.lawyer_id[has], f.total[has], f.good[has], f.vetoed[has], rank_by="lower")


def test_zero_weights_for_post_case_sources_reproduce_todays_rankings_exactly(with_post_case: Any, db: Any,
                                                                               make_user: Any) -> None:
    b = with_post_case
    before = rankings_for(db.session, [b.campaign])
    record_before = record_for(db.session, b.campaign)
    assert before.weights.version == 0
    assert _rows(before.lawyers) == _rows(_peer_only(db, b.campaign))
    organiser = make_user("organiser")
    operations.set_weights(db.session, actor=organiser, values={"peer_review": 0.5, "followup": 0.5})
    moved = rankings_for(db.session, [b.campaign])
    assert _rows(moved.lawyers) != _rows(before.lawyers)
    operations.set_weights(db.session, actor=organiser, values={"peer_review": 1, "self_evaluation": 0,
                                                                "followup": 0, "closing": 0})
    again = rankings_for(db.session, [b.campaign])
    assert again.weights.version == 2
    for kind in ("lawyers", "agencies", "cities"):
        assert _rows(getattr(again, kind)) == _rows(getattr(before, kind))
    assert [(e.row.key, e.eligible, e.reason_codes()) for e in again.pool] == [
        (e.row.key, e.eligible, e.reason_codes()) for e in before.pool]
    record_again = record_for(db.session, b.campaign)
    assert _rows(record_again.lawyers) == _rows(record_before.lawyers)
    assert [p.weight for p in record_again.priorities] == [p.weight for p in record_before.priorities]


def test_a_bad_follow_up_record_moves_the_lawyer_down_as_far_as_the_weights_say(with_post_case: Any, db: Any,
                                                                                 make_user: Any) -> None:
    b = with_post_case
    organiser = make_user("organiser")
    mid, steady, lucky = (b.lawyers[k].id for k in ("mid", "steady", "lucky"))

    def rows(values: dict[str, float] | None) -> dict[Any, Any]:
        if values is not None:
            operations.set_weights(db.session, actor=organiser, values=values)
        return {r.key: r for r in rankings_for(db.session, [b.campaign]).lawyers.rows}

    peer = rows(None)
    half = rows({"peer_review": 0.5, "followup": 0.5})
    quarter = rows({"peer_review": 0.75, "followup": 0.25})
    # mid's visits: 2 of 5 good, three breaches — far below the others on the follow-up scale
    share = {s.name: s for s in half[mid].sources}["followup"]
    assert share.status == "used"
    assert share.n == 5
    assert share.detail == {"breaches": 3}
    assert share.weight == 0.5
    assert half[mid].evidence < quarter[mid].evidence < peer[mid].evidence
    # the combination is linear in the weight: a quarter lies halfway between none and a half
    assert quarter[mid].evidence == pytest.approx((peer[mid].evidence + half[mid].evidence) / 2, abs=1e-9)
    assert half[mid].estimate < peer[mid].estimate
    # steady's visits are all good: it moves up
    assert half[steady].evidence > peer[steady].evidence
    # lucky has no follow-up: the source contributes nothing to it and says so; its evidence stays the peer's
    lucky_share = {s.name: s for s in half[lucky].sources}["followup"]
    assert (lucky_share.status, lucky_share.weight, lucky_share.contribution) == ("no_data", 0.0, 0.0)
    assert half[lucky].evidence == peer[lucky].evidence
    # contributions add up to the evidence that was shrunk
    for row in half.values():
        assert sum(s.contribution for s in row.sources) == pytest.approx(row.evidence, abs=1e-9)


def test_pool_page_and_exports_show_each_source_and_the_version(with_post_case: Any, client: Any, db: Any,
                                                                make_user: Any, login: Any) -> None:
    b = with_post_case
    organiser = make_user("organiser")
    operations.set_weights(db.session, actor=organiser, values={"peer_review": 0.6, "followup": 0.4})
    db.session.commit()
    login(client, organiser)
    cid = b.campaign.id
    page = client.get(f"/rankings/{cid}/pool").get_data(as_text=True)
    assert "来源权重：第 1 版" in page
    assert "无数据，不计入" in page  # lucky has no follow-up
    assert "3 起违规" in page        # mid's breaches
    shown = client.get(f"/rankings/{cid}?kind=lawyers").get_data(as_text=True)
    assert 'data-source="followup" data-status="used"' in shown
    body = client.get(f"/rankings/{cid}/export/pool.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    head = rows[0]
    assert "回访：满意且无违规: 权重" in head or "回访：满意且无违规：权重" in head
    recs = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    assert {r["来源权重版本"] for r in recs} == {"1"}
    by_name = {next(v for v in r.values() if v in ("李幸", "赵中", "张稳", "王弱")): r for r in recs}
    assert by_name["李幸"][[h for h in head if h.startswith("回访") and h.endswith("状态")][0]] == "无数据：不计入"
    api_head = [h for h in head if h.startswith("回访") and h.endswith("次数")]
    assert by_name["赵中"][api_head[0]] == "5"


# --- the page: validation, audit, versions, jurisdictions -------------------------------------------------


def test_weights_page_saves_versions_and_audits(small_campaign: Any, client: Any, db: Any, make_user: Any,
                                                login: Any) -> None:
    organiser = make_user("organiser")
    login(client, organiser)
    page = client.get("/rankings/weights").get_data(as_text=True)
    assert "第 0 版" in page
    assert "默认" in page
    form = {"peer_review": "0.7", "self_evaluation": "0.1", "followup": "0.1", "closing": "0.1"}
    assert client.post("/rankings/weights", data=form).status_code == 302
    assert client.post("/rankings/weights", data=dict(form, peer_review="0.8", closing="0")).status_code == 302
    stored = db.session.scalars(sa.select(RankingWeights).order_by(RankingWeights.version)).all()
    assert [(w.version, w.weights["closing"]) for w in stored] == [(1, 0.1), (2, 0.0)]
    assert all(w.jurisdiction_id == organiser.jurisdiction_id and w.created_by_id == organiser.id for w in stored)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ranking.weights")
                                .order_by(AuditEvent.id)).all()
    assert [(e.before["version"], e.after["version"]) for e in events] == [(0, 1), (1, 2)]
    assert events[0].before["weights"]["peer_review"] == 1.0
    assert events[1].after["weights"] == {"peer_review": 0.8, "self_evaluation": 0.1, "followup": 0.1, "closing": 0.0}
    assert str(events[0].object_id) == str(organiser.jurisdiction_id)
    page = client.get("/rankings/weights").get_data(as_text=True)
    assert "现行：第 2 版" in page
    rset = rankings_for(db.session, [small_campaign.campaign])
    assert rset.weights.version == 2
    csv_text = client.get(f"/rankings/{small_campaign.campaign.id}/export/lawyers.csv").get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_text)))[1][-1] == "2"


@pytest.mark.parametrize(("change", "message"), [
    ({"followup": "1.5"}, "“回访：满意且无违规”的权重须在 0 与 1 之间"),
    ({"followup": "0.3"}, "各权重之和须为 1，现为 1.2"),
    ({"peer_review": "0", "followup": "1"}, "“同行评估”的权重须大于 0"),
    ({"peer_review": "1", "followup": "0"}, "这组权重已在使用（第 0 版）"),
])
def test_weights_page_refuses_bad_weights_by_name_and_stores_nothing(small_campaign: Any, client: Any, db: Any,
                                                                     make_user: Any, login: Any, change: Any,
                                                                     message: str) -> None:
    login(client, make_user("organiser"))
    form = {"peer_review": "0.9", "self_evaluation": "0", "followup": "0.1", "closing": "0", **change}
    response = client.post("/rankings/weights", data=form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RankingWeights.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "ranking.weights")) == 0


def test_weights_belong_to_the_organisers_own_jurisdiction(small_campaign: Any, app: Any, client: Any, db: Any,
                                                           make_user: Any, login: Any) -> None:
    b = small_campaign
    city = b.cities["A"]
    city_organiser = make_user("organiser")
    city_organiser.jurisdiction_id = city.id
    db.session.commit()
    login(client, city_organiser)
    assert client.post("/rankings/weights", data={"peer_review": "0.5", "followup": "0.5"}).status_code == 302
    row = db.session.scalars(sa.select(RankingWeights)).one()
    assert row.jurisdiction_id == city.id
    # the nation's campaign keeps the nation's weights (none set: version 0)
    assert rankings_for(db.session, [b.campaign]).weights.version == 0
    assert current_weights(db.session, b.campaign.jurisdiction_id).version == 0
    # a campaign the city owns uses the city's
    city_campaign = b.campaign
    city_campaign.jurisdiction_id = city.id
    db.session.commit()
    rset = rankings_for(db.session, [city_campaign])
    assert (rset.weights.jurisdiction_id, rset.weights.version) == (city.id, 1)
    # the nation's organiser sees its own version in force, not the city's
    other = app.test_client()
    login(other, make_user("organiser"))
    page = other.get("/rankings/weights").get_data(as_text=True)
    assert "现行：第 0 版" in page


def test_weights_page_is_the_organisers(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("agency_staff"))
    assert client.get("/rankings/weights").status_code == 403
    assert client.post("/rankings/weights", data={"peer_review": "1"}).status_code == 403


def test_a_record_uses_the_weights_of_the_campaign_it_is_as_of(small_campaign: Any, db: Any, make_user: Any,
                                                                make_region: Any, make_agency: Any, make_lawyer: Any,
                                                                make_case: Any, make_reviewer: Any) -> None:
    from rankings.rankfixtures import build_campaign

    b = small_campaign
    # a newer campaign of the same year, owned by a city below: the nation's record pools it
    city_campaign = build_campaign(db, make_region, make_agency, make_lawyer, make_case, make_reviewer, make_user,
                                   prefix="C", reuse=b).campaign
    city_campaign.jurisdiction_id = b.cities["A"].id
    db.session.commit()
    operations.set_weights(db.session, actor=make_user("organiser"), values={"peer_review": 0.5, "closing": 0.5})
    record = record_for(db.session, b.campaign)
    assert city_campaign.id in {c.id for c in record.campaigns}
    assert (record.weights.jurisdiction_id, record.weights.version) == (b.campaign.jurisdiction_id, 1)
    city_record = record_for(db.session, city_campaign)
    assert (city_record.weights.jurisdiction_id, city_record.weights.version) == (b.cities["A"].id, 0)
