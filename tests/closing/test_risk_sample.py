"""The risk-weighted sample: over-samples risky cases, records inclusion probabilities that hold, reproducible."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from evalplat.quality.risk import inclusion_probabilities, risk_draw, weighted_mean
from evalplat.sampling import PopulationRecord

POP = [PopulationRecord(f"c{i}", ("GD-JM-00", 2024, f"{i:04d}"), "GD-JM-00", "civil", i, dt.date(2024, 5, 1))
       for i in range(40)]
RISKY = {f"c{i}": 1 for i in range(0, 40, 5)} | {"c7": 3}


def test_inclusion_probabilities_are_proportional_to_size_capped_at_one() -> None:
    p = inclusion_probabilities([1, 1, 1, 1, 20], 3)
    assert p.sum() == pytest.approx(3)
    assert p[4] == 1.0
    assert p[:4] == pytest.approx([0.5] * 4)


def test_same_seed_draws_the_same_cases_and_another_seed_others() -> None:
    first = risk_draw(POP, RISKY, n=8, seed="2024-抽样", boost=3)
    assert risk_draw(list(reversed(POP)), RISKY, n=8, seed="2024-抽样", boost=3) == first
    assert set(risk_draw(POP, RISKY, n=8, seed="2025", boost=3)) != set(first)


def test_recorded_probabilities_match_how_often_cases_are_drawn_and_risk_is_over_sampled() -> None:
    runs = 3000
    counts = {r.case_id: 0 for r in POP}
    recorded: dict[str, float] = {}
    for k in range(runs):
        for case_id, drawn in risk_draw(POP, RISKY, n=8, seed=f"s{k}", boost=3).items():
            counts[case_id] += 1
            recorded[case_id] = drawn.probability
    for case_id, p in recorded.items():
        assert counts[case_id] / runs == pytest.approx(p, abs=0.04), case_id
    assert recorded["c7"] > recorded["c5"] > recorded["c1"]


def test_weighted_mean_removes_the_bias_of_the_risk_sample() -> None:
    values = {r.case_id: (50.0 if r.case_id in RISKY else 85.0) for r in POP}
    truth = float(np.mean(list(values.values())))
    plain, weighted = [], []
    for k in range(1500):
        drawn = risk_draw(POP, RISKY, n=10, seed=f"w{k}", boost=3)
        v = [values[c] for c in drawn]
        plain.append(np.mean(v))
        weighted.append(weighted_mean(v, [d.probability for d in drawn.values()]))
    assert abs(np.mean(weighted) - truth) < 1.0
    assert np.mean(plain) < truth - 3  # the unweighted mean is pulled towards the risky cases
