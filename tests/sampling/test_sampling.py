"""Stratified sampling: determinism, order independence, every mode, errors and the population digest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random

import pytest

from evalplat.sampling import PopulationRecord, SamplingError, SamplingPlan, draw, population_digest
from evalplat.sampling.records import order_population

CLOSED = dt.date(2023, 6, 30)


def make_population(agencies: int = 4, per_type: int = 20, *, seed: int = 1) -> list[PopulationRecord]:
    """Agencies A00.. with criminal, civil and administrative cases numbered 1.. within each agency."""
    rng = random.Random(seed)
    records = []
    for a in range(agencies):
        agency = f"A{a:02d}"
        number = 0
        for case_type in ("criminal", "civil", "administrative"):
            for _ in range(per_type if case_type != "administrative" else per_type // 4):
                number += 1
                closed = None if rng.random() < 0.1 else CLOSED - dt.timedelta(days=rng.randrange(300))
                records.append(PopulationRecord(f"{agency}-{number}", (agency, 2023, number), agency, case_type,
                                                number, closed))
    return records


def test_same_seed_same_draw_and_different_seed_differs() -> None:
    population = make_population()
    plan = SamplingPlan("fixed", per_stratum=2)
    first = draw(population, plan, "seed-1")
    assert first.case_ids == draw(population, plan, "seed-1").case_ids
    assert first.case_ids != draw(population, plan, "seed-2").case_ids


def test_draw_does_not_depend_on_input_order() -> None:
    population = make_population()
    shuffled = population[:]
    random.Random(7).shuffle(shuffled)
    plan = SamplingPlan("proportion", rate="0.2", minimum=1)
    a, b = draw(population, plan, 99), draw(shuffled, plan, 99)
    assert a.case_ids == b.case_ids
    assert a.population_digest == b.population_digest


def test_ranking_follows_the_published_sha256_procedure() -> None:
    population = make_population(agencies=1)
    plan = SamplingPlan("fixed", per_stratum=3, strata=("agency",))
    result = draw(population, plan, "public-seed")
    # Re-implement the documented procedure independently: hash seed + "\n" + key parts joined by U+001F.
    closed = [r for r in population if r.closed_on is not None]
    ranked = sorted(closed, key=lambda r: hashlib.sha256(
        ("public-seed\n" + "\x1f".join(str(p) for p in r.key)).encode()).hexdigest())
    expected = {r.case_id for r in ranked[:3]}
    assert set(result.case_ids) == expected


def test_fixed_mode_takes_n_closed_cases_per_agency_and_type() -> None:
    population = make_population()
    result = draw(population, SamplingPlan("fixed", per_stratum=1), "s")
    assert len(result.strata) == 4 * 3
    assert all(line.sample == 1 for line in result.strata)
    assert all(r.closed for r in result.selected)
    assert len({(r.agency, r.case_type) for r in result.selected}) == 12


def test_fold_administrative_into_civil_merges_strata() -> None:
    population = make_population()
    plan = SamplingPlan("fixed", per_stratum=1, fold_administrative=True)
    result = draw(population, plan, "s")
    assert {line.stratum[1] for line in result.strata} == {"civil", "criminal"}
    civil = [line for line in result.strata if line.stratum == ("A00", "civil")][0]
    expected = sum(1 for r in population if r.agency == "A00" and r.case_type in ("civil", "administrative")
                   and r.closed)
    assert civil.population == expected


def test_proportion_rounds_half_up_and_respects_minimum_and_maximum() -> None:
    population = make_population(agencies=2, per_type=20)
    result = draw(population, SamplingPlan("proportion", rate="10%", minimum=2, maximum=3), "s")
    for line in result.strata:
        raw = (line.population + 5) // 10  # half-up of 10 %
        assert line.sample == min(max(raw, 2), 3)
    assert SamplingPlan("proportion", rate=0.1).rate == "0.1"
    assert SamplingPlan("proportion", rate="1/3").requested(10) == 3
    assert SamplingPlan("proportion", rate="0.25").requested(10) == 3  # 2.5 -> 3
    assert SamplingPlan("proportion", rate="0.25", rounding="floor").requested(10) == 2


def test_designated_numbers_with_next_closed_fallback() -> None:
    agency = "SG01"
    records = [PopulationRecord(f"c{n}", (agency, 2021, n), agency, "civil", n, None if n in (11, 13) else CLOSED)
               for n in range(1, 20)]
    plan = SamplingPlan("designated", sequence_numbers=(11, 12), strata=("agency",))
    result = draw(records, plan, "unused")
    # No. 11 is open -> next closed is 12; No. 12 already taken -> 13 open -> 14.
    assert result.case_ids == ["c12", "c14"]


def test_designated_number_past_the_end_fails_unless_take_all() -> None:
    records = [PopulationRecord(f"c{n}", ("X", n), "X", "civil", n, CLOSED) for n in range(1, 12)]
    plan = SamplingPlan("designated", sequence_numbers=(11, 12), strata=("agency",))
    with pytest.raises(SamplingError) as error:
        draw(records, plan, "s")
    assert error.value.code == "designated_missing"
    assert error.value.params == {"stratum": "X", "sequence": 12}
    relaxed = dataclasses.replace(plan, take_all=True)
    assert draw(records, relaxed, "s").case_ids == ["c11"]


def test_census_takes_every_closed_case() -> None:
    population = make_population()
    result = draw(population, SamplingPlan("census"), "s")
    assert set(result.case_ids) == {r.case_id for r in population if r.closed}
    assert all(line.rate == 1.0 for line in result.strata)


def test_asking_more_than_a_stratum_has_names_the_stratum_and_sizes() -> None:
    population = make_population(agencies=1, per_type=4)  # one administrative case
    with pytest.raises(SamplingError) as error:
        draw(population, SamplingPlan("fixed", per_stratum=2), "s")
    assert error.value.code == "stratum_too_small"
    assert error.value.params["stratum"] == "A00 / administrative"
    available = sum(1 for r in population if r.case_type == "administrative" and r.closed)
    assert error.value.params == {"stratum": "A00 / administrative", "available": available, "requested": 2}
    assert "A00 / administrative" in str(error.value)
    taken = draw(population, SamplingPlan("fixed", per_stratum=2, take_all=True), "s")
    admin = [line for line in taken.strata if line.stratum[1] == "administrative"][0]
    assert admin.sample == available


@pytest.mark.parametrize(("values", "code", "parameter"), [
    ({"mode": "lottery"}, "unknown_mode", None),
    ({"mode": "fixed"}, "bad_parameter", "per_stratum"),
    ({"mode": "fixed", "per_stratum": 0}, "bad_parameter", "per_stratum"),
    ({"mode": "proportion", "rate": "1.5"}, "bad_parameter", "rate"),
    ({"mode": "proportion", "rate": "ten"}, "bad_parameter", "rate"),
    ({"mode": "proportion", "rate": "0.1", "minimum": 3, "maximum": 2}, "bad_parameter", "maximum"),
    ({"mode": "designated"}, "bad_parameter", "sequence_numbers"),
    ({"mode": "census", "per_stratum": 1}, "bad_parameter", "per_stratum"),
    ({"mode": "census", "strata": ["county"]}, "unknown_stratum_field", None),
    ({"mode": "census", "colour": "red"}, "bad_parameter", "colour"),
])
def test_bad_plans_are_rejected_with_a_code(values: dict, code: str, parameter: str | None) -> None:
    with pytest.raises(SamplingError) as error:
        SamplingPlan.from_dict(values)
    assert error.value.code == code
    if parameter is not None:
        assert error.value.params["parameter"] == parameter


def test_plan_round_trips_through_plain_data() -> None:
    plan = SamplingPlan("proportion", rate="20%", minimum=1, maximum=5, fold_administrative=True)
    again = SamplingPlan.from_dict(plan.to_dict())
    assert again == plan
    assert again.rate == "0.2"


def test_digest_changes_when_one_case_changes() -> None:
    population = make_population()
    digest = population_digest(order_population(population))
    changed = population[:]
    changed[5] = dataclasses.replace(changed[5], closed_on=dt.date(2020, 1, 1))
    assert population_digest(order_population(changed)) != digest
    # And it is SHA-256 over the documented canonical lines.
    lines = "".join(
        "\t".join([r.case_id, "\x1f".join(map(str, r.key)), r.agency, r.case_type,
                   "" if r.sequence is None else str(r.sequence),
                   "" if r.closed_on is None else r.closed_on.isoformat()]) + "\n"
        for r in sorted(population, key=lambda r: r.key))
    assert digest == hashlib.sha256(lines.encode()).hexdigest()


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda r: dataclasses.replace(r, key=r.key), "duplicate_key"),
    (lambda r: dataclasses.replace(r, agency="A\t1"), "bad_record"),
    (lambda r: dataclasses.replace(r, key=("A00", "2023", 1)), "mixed_key_types"),
])
def test_bad_population_records_are_rejected(mutate, code: str) -> None:
    population = make_population(agencies=1)
    population.append(dataclasses.replace(mutate(population[0]), case_id="extra"))
    with pytest.raises(SamplingError) as error:
        draw(population, SamplingPlan("census"), "s")
    assert error.value.code == code


def test_report_rows_carry_sizes_and_rates() -> None:
    population = make_population(agencies=2)
    result = draw(population, SamplingPlan("fixed", per_stratum=2), "s")
    rows = result.report_rows()
    assert rows[-1]["agency"] == "total"
    assert rows[-1]["sample"] == len(result.selected) == 12
    first = rows[0]
    assert first["rate"] == pytest.approx(first["sample"] / first["population"])
    assert sum(row["population"] for row in rows[:-1]) == sum(1 for r in population if r.closed)


def test_seed_must_not_be_empty() -> None:
    with pytest.raises(SamplingError) as error:
        draw(make_population(agencies=1), SamplingPlan("census"), "  ")
    assert error.value.code == "bad_seed"
