"""The risk sampling mode: over-samples risky cases, records inclusion probabilities that hold, reproducible,
and it is one piece of code behind the campaign draw and ``flask quality risk-sample``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from evalplat.sampling import PopulationRecord, SamplingError, SamplingPlan, draw
from evalplat.sampling.risk import inclusion_probabilities, signals_digest
from scoring.survey import hajek_mean

POP = [PopulationRecord(f"c{i}", ("GD-JM-00", f"{i:04d}"), "GD-JM-00", "civil", i, dt.date(2024, 5, 1))
       for i in range(40)]
RISKY = {f"c{i}": 1 for i in range(0, 40, 5)} | {"c7": 3}


def plan(n: int = 8, **extra: object) -> SamplingPlan:
    return SamplingPlan("risk", per_stratum=n, strata=(), **extra)  # type: ignore[arg-type]


def test_inclusion_probabilities_are_proportional_to_size_capped_at_one() -> None:
    p = inclusion_probabilities([1, 1, 1, 1, 20], 3)
    assert p.sum() == pytest.approx(3)
    assert p[4] == 1.0
    assert p[:4] == pytest.approx([0.5] * 4)


def test_same_seed_draws_the_same_cases_and_another_seed_others() -> None:
    first = draw(POP, plan(), "2024-抽样", signals=RISKY)
    again = draw(list(reversed(POP)), plan(), "2024-抽样", signals=RISKY)
    assert again.case_ids == first.case_ids
    assert again.probabilities == first.probabilities
    assert set(draw(POP, plan(), "2025", signals=RISKY).case_ids) != set(first.case_ids)
    assert first.signals_digest == signals_digest(RISKY) != signals_digest({})


def test_recorded_probabilities_match_how_often_cases_are_drawn_and_risk_is_over_sampled() -> None:
    runs = 3000
    counts = {r.case_id: 0 for r in POP}
    recorded: dict[str, float] = {}
    for k in range(runs):
        result = draw(POP, plan(), f"s{k}", signals=RISKY)
        for case_id in result.case_ids:
            counts[case_id] += 1
        recorded |= result.probabilities
    assert sum(inclusion_probabilities([1 + 3 * RISKY.get(r.case_id, 0) for r in POP], 8)) == pytest.approx(8)
    for case_id, p in recorded.items():
        assert counts[case_id] / runs == pytest.approx(p, abs=0.04), case_id
    assert recorded["c7"] > recorded["c5"] > recorded["c1"]


def test_the_hajek_mean_removes_the_bias_of_the_risk_sample() -> None:
    values = {r.case_id: (50.0 if r.case_id in RISKY else 85.0) for r in POP}
    truth = float(np.mean(list(values.values())))
    plain, weighted = [], []
    for k in range(1500):
        result = draw(POP, plan(10), f"w{k}", signals=RISKY)
        v = [values[c] for c in result.case_ids]
        plain.append(np.mean(v))
        weighted.append(hajek_mean(v, [result.probabilities[c] for c in result.case_ids]).estimate)
    assert abs(np.mean(weighted) - truth) < 1.0
    assert np.mean(plain) < truth - 3  # the unweighted mean is pulled towards the risky cases


def test_risk_mode_draws_within_strata_with_a_rate() -> None:
    other = [PopulationRecord(f"d{i}", ("GD-JM-01", f"{i:04d}"), "GD-JM-01", "civil", i, dt.date(2024, 5, 1))
             for i in range(10)]
    result = draw(POP + other, SamplingPlan("risk", rate="20%", strata=("agency",)), "x", signals=RISKY)
    assert [line.sample for line in result.strata] == [8, 2]
    assert all(result.probabilities[c] == pytest.approx(0.2) for c in result.case_ids if c.startswith("d"))


def test_with_no_signals_every_case_has_the_same_chance() -> None:
    result = draw(POP, plan(), "seed")
    assert list(result.probabilities.values()) == pytest.approx([0.2] * 8)


def test_other_modes_record_their_probabilities_too() -> None:
    fixed = draw(POP, SamplingPlan("fixed", per_stratum=4, strata=()), "seed")
    assert set(fixed.probabilities.values()) == {0.1}
    assert draw(POP, SamplingPlan("designated", sequence_numbers=(3,), strata=()), "seed").probabilities == {}


@pytest.mark.parametrize(("params", "parameter"), [
    ({"mode": "risk"}, "per_stratum"),
    ({"mode": "risk", "per_stratum": 2, "rate": "0.1"}, "per_stratum"),
    ({"mode": "risk", "per_stratum": 2, "boost": -1}, "boost"),
    ({"mode": "risk", "per_stratum": 2, "boost": 1000}, "boost"),
    ({"mode": "fixed", "per_stratum": 2, "boost": 2}, "boost"),
])
def test_bad_risk_plans_are_refused_by_name(params: dict[str, object], parameter: str) -> None:
    with pytest.raises(SamplingError) as caught:
        SamplingPlan.from_dict(params)
    assert caught.value.params["parameter"] == parameter


def test_a_risk_plan_round_trips_and_other_plans_carry_no_boost() -> None:
    risk = SamplingPlan("risk", rate="10%", boost=2)
    assert SamplingPlan.from_dict(risk.to_dict()) == risk
    assert risk.to_dict()["boost"] == 2.0
    assert "boost" not in SamplingPlan("fixed", per_stratum=1).to_dict()
