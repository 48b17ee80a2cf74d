"""Rankings: figures equal direct computations, shrinkage fairness, pool rule, exports, pages and rules."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.rankings.engine import rank_groups
from evalplat.rankings.queries import rankings_for
from evalplat.rankings.rules import RulesError, parse_rules


def _direct(built: Any, key: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for c in built.cases:
        d = out.setdefault(c[key], {"n": 0, "sum": 0.0, "good": 0, "veto": 0})
        d["n"] += 1
        d["sum"] += c["total"]
        d["good"] += c["grade"] in ("excellent", "good")
        d["veto"] += c["veto"]
    return out


def test_lawyer_figures_equal_direct_computation(small_campaign: Any, db: Any) -> None:
    rset = rankings_for(db.session, [small_campaign.campaign])
    direct = _direct(small_campaign, "lawyer")
    by_id = {row.key: row for row in rset.lawyers.rows}
    for key, d in direct.items():
        row = by_id[small_campaign.lawyers[key].id]
        assert row.n == d["n"]
        assert row.mean == pytest.approx(d["sum"] / d["n"])
        assert row.good == d["good"]
        assert row.vetoes == d["veto"]
        assert row.share == pytest.approx(d["good"] / d["n"])
        assert row.low <= row.estimate <= row.high
        assert row.share_low <= row.share <= row.share_high
    assert [r.rank for r in rset.lawyers.rows] == sorted(r.rank for r in rset.lawyers.rows)


def test_agency_and_city_counts(small_campaign: Any, db: Any) -> None:
    rset = rankings_for(db.session, [small_campaign.campaign])
    agencies = {r.key: r.n for r in rset.agencies.rows}
    for key, d in _direct(small_campaign, "agency").items():
        assert agencies[small_campaign.agencies[key].id] == d["n"]
    cities = {r.label: r.n for r in rset.cities.rows}
    assert cities == {"甲市": 20 + 1 + 1, "乙市": 4}


def test_one_case_is_shrunk_more_and_less_certain_than_twenty(small_campaign: Any, db: Any) -> None:
    rset = rankings_for(db.session, [small_campaign.campaign])
    rank = {r.key: r for r in rset.lawyers.rows}
    lucky, steady = rank[small_campaign.lawyers["lucky"].id], rank[small_campaign.lawyers["steady"].id]
    assert lucky.mean == 100.0
    assert lucky.n == 1
    mu = rset.lawyers.grand_mean
    assert (lucky.mean - lucky.estimate) / (lucky.mean - mu) > (steady.mean - steady.estimate) / (steady.mean - mu)
    assert lucky.high - lucky.low > 3 * (steady.high - steady.low)


@pytest.mark.parametrize("seed", range(25))
def test_shrinkage_under_pure_noise(seed: int) -> None:
    """Every lawyer has the same true quality; a single perfect case never beats all twenty-case lawyers."""
    rng = np.random.default_rng(seed)
    keys: list[int] = []
    values: list[float] = []
    for lawyer in range(30):
        n = 20 if lawyer < 15 else 1
        keys += [lawyer] * n
        values += np.clip(rng.normal(82, 7, n), 0, 100).tolist()
    values[-1] = 100.0
    v = np.array(values)
    ranking = rank_groups(np.array(keys), v, v >= 80, np.zeros(v.size, bool), n_draws=50, rank_by="lower")
    rank = {row.key: row for row in ranking.rows}
    assert rank[29].rank >= min(rank[k].rank for k in range(15))  # never above; all tie when no spread is found
    assert abs(rank[29].estimate - ranking.grand_mean) < 0.5 * (100 - ranking.grand_mean)


def test_expert_pool_rule_and_reasons(small_campaign: Any, db: Any) -> None:
    campaign = small_campaign.campaign
    campaign.ranking_rules = {"min_cases": 3, "lower_bound": 70, "no_veto": True, "level": 0.95}
    db.session.commit()
    rset = rankings_for(db.session, [campaign])
    decided = {e.row.key: e for e in rset.pool}
    steady = decided[small_campaign.lawyers["steady"].id]
    assert steady.eligible
    assert not steady.reasons
    lucky = decided[small_campaign.lawyers["lucky"].id]
    assert not lucky.eligible
    assert [r.code for r in lucky.reasons] == ["too_few_cases"]
    mid = decided[small_campaign.lawyers["mid"].id]
    assert "veto_on_record" in [r.code for r in mid.reasons]
    weak = decided[small_campaign.lawyers["weak"].id]
    assert "lower_bound_below_threshold" in [r.code for r in weak.reasons]
    weights = {p.row.key: p.weight for p in rset.priorities}
    assert weights[steady.row.key] > weights[weak.row.key]
    # reproducible: the same data give the same lists
    again = rankings_for(db.session, [campaign])
    assert [(e.row.key, e.eligible, e.row.rank_low, e.row.rank_high) for e in again.pool] == \
        [(e.row.key, e.eligible, e.row.rank_low, e.row.rank_high) for e in rset.pool]


def test_priority_weight_formula(small_campaign: Any, db: Any) -> None:
    rules = parse_rules({"priority": {"pivot": 80, "slope": 0.1, "floor": 0.5, "cap": 3, "pool_bonus": 1}})
    small_campaign.campaign.ranking_rules = rules.to_json()
    db.session.commit()
    rset = rankings_for(db.session, [small_campaign.campaign])
    for p in rset.priorities:
        expected = min(max(1 + 0.1 * (p.row.estimate - 80), 0.5), 3) + (1 if p.in_pool else 0)
        assert p.weight == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("raw", "field"), [
    ({"min_cases": -1}, "min_cases"), ({"lower_bound": 120}, "lower_bound"), ({"level": 1.5}, "level"),
    ({"no_veto": "yes"}, "no_veto"), ({"bogus": 1}, "bogus"), ({"priority": {"floor": 5, "cap": 1}}, "priority.floor"),
    ({"min_cases": 2.5}, "min_cases"),
])
def test_bad_rules_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(raw)
    assert field in str(err.value.message)


def test_across_years_pools_campaigns(small_campaign: Any, db: Any, make_region: Any, make_agency: Any,
                                      make_lawyer: Any, make_case: Any, make_reviewer: Any, make_user: Any) -> None:
    from rankings.rankfixtures import build_campaign

    older = build_campaign(db, make_region, make_agency, make_lawyer, make_case, make_reviewer, make_user,
                           year=2023, prefix="O", reuse=small_campaign,
                           cases=[("A1", "steady", "criminal", 90.0, 55.0, False)] * 2)
    rset = rankings_for(db.session, [small_campaign.campaign, older.campaign])
    steady = next(r for r in rset.lawyers.rows if r.key == small_campaign.lawyers["steady"].id)
    assert steady.n == 22
    assert rset.n_cases == len(small_campaign.cases) + 2


def test_rankings_pages_and_exports(small_campaign: Any, client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    cid = small_campaign.campaign.id
    assert "张稳" in client.get("/rankings").get_data(as_text=True) or client.get("/rankings").status_code == 200
    page = client.get(f"/rankings/{cid}?kind=lawyers").get_data(as_text=True)
    assert "张稳" in page
    assert "李幸" in page
    assert "评查案件少的律师" in page
    cities = client.get(f"/rankings/{cid}?kind=cities&order=share").get_data(as_text=True)
    assert "甲市" in cities
    assert "评查案件少的市" in cities
    assert "评查案件少的律师" not in cities
    agencies = client.get("/rankings/all?kind=agencies")
    assert agencies.status_code == 200
    assert "评查案件少的机构" in agencies.get_data(as_text=True)
    pool = client.get(f"/rankings/{cid}/pool").get_data(as_text=True)
    assert "少于" in pool or "fewer than" in pool
    body = client.get(f"/rankings/{cid}/export/lawyers.csv").get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 4
    names = {r[4] for r in rows[1:]}
    assert names == {"张稳", "李幸", "王弱", "赵中"}
    xlsx = client.get(f"/rankings/{cid}/export/pool.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.active.max_row == 2 + 4
    assert client.get(f"/rankings/{cid}/export/secret.csv").status_code == 404


def test_rankings_closed_to_other_roles(small_campaign: Any, client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("agency_staff"))
    assert client.get(f"/rankings/{small_campaign.campaign.id}").status_code == 403
    assert client.get(f"/rankings/{small_campaign.campaign.id}/export/lawyers.csv").status_code == 403


def test_rules_form_saves_and_audits(small_campaign: Any, client: Any, db: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    cid = small_campaign.campaign.id
    assert client.get(f"/rankings/{cid}/rules").status_code == 200
    form = {"min_cases": "5", "lower_bound": "80", "min_share_lower_bound": "", "no_veto": "y", "level": "0.9",
            "pivot": "80", "slope": "0.05", "floor": "0.5", "cap": "2", "pool_bonus": "0.5", "window_years": "2",
            "year_decay": "0.7"}
    assert client.post(f"/rankings/{cid}/rules", data=form).status_code == 302
    db.session.expire_all()
    stored = db.session.get(type(small_campaign.campaign), cid).ranking_rules
    assert stored["min_cases"] == 5
    assert math.isclose(stored["level"], 0.9)
    assert stored["priority"]["pool_bonus"] == 0.5
    assert (stored["window_years"], stored["year_decay"]) == (2, pytest.approx(0.7))
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "campaign.ranking_rules")).one()
    assert event.after["min_cases"] == 5
    assert event.before["min_cases"] == 3
    bad = dict(form, level="2")
    client.post(f"/rankings/{cid}/rules", data=bad)
    db.session.expire_all()
    assert db.session.get(type(small_campaign.campaign), cid).ranking_rules["level"] == pytest.approx(0.9)
