"""The case plan and the generated rows, without a database: distributions, sampled files, determinism."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from evalplat.demo import geography
from evalplat.demo.cases import generate_batches, plan_cases
from evalplat.demo.province import CASE_TYPES, build_province

YEAR = 2024


@pytest.fixture(scope="module")
def province():  # noqa: ANN201 - a Province
    return build_province(3, YEAR, {}, "hash")


def test_case_type_shares_follow_the_national_pattern(province) -> None:  # noqa: ANN001
    plan = plan_cases(province, 60_000, 3, YEAR, "none")
    shares = np.bincount(plan.case_type, minlength=4) / len(plan)
    expected = {"criminal": 0.45, "civil": 0.40, "administrative": 0.03, "non_litigation": 0.12}
    for i, case_type in enumerate(CASE_TYPES):
        assert abs(shares[i] - expected[case_type]) < 0.03, (case_type, shares[i])
    closed_years = {date.fromordinal(int(d)).year for d in plan.closed}
    assert closed_years == {YEAR}
    assert np.all(plan.assigned - plan.applied <= 10)
    assert np.all(plan.meeting <= plan.closed)
    months = Counter(date.fromordinal(int(d)).month for d in plan.closed)
    assert months[12] > months[2]  # year-end peak, Spring Festival trough


def test_every_agency_has_cases_and_bigger_cities_more(province) -> None:  # noqa: ANN001
    plan = plan_cases(province, 60_000, 3, YEAR, "none")
    per_agency = np.bincount(plan.agency, minlength=len(province.agencies))
    assert per_agency.min() > 0
    city = {spec.city.name: [] for spec in province.agency_specs}
    for i, spec in enumerate(province.agency_specs):
        city[spec.city.name].append(per_agency[i])
    assert sum(city["广州市"]) > 3 * sum(city["云浮市"])


def test_sampled_files_cover_the_first_cases_of_every_stratum(province) -> None:  # noqa: ANN001
    plan = plan_cases(province, 30_000, 5, YEAR, "sampled")
    firsts = Counter()
    for i in np.nonzero(plan.with_documents)[0]:
        firsts[(plan.agency[i], plan.year[i], plan.case_type[i])] += 1
    strata = Counter(zip(plan.agency, plan.year, plan.case_type, strict=True))
    for stratum, n in strata.items():
        assert firsts[stratum] >= min(n, 20)
    share = plan.with_documents.mean()
    assert 0.10 < share < 0.9


def _rows(province, seed: int) -> list[tuple]:  # noqa: ANN001
    plan = plan_cases(province, 40, seed, YEAR, "all")
    out = []
    for batch in generate_batches(province, plan, seed, 1):
        out += [tuple(sorted((k, str(v)) for k, v in row.items() if k != "created_at")) for row in batch.cases]
        out += [tuple(sorted(row.items())) for row in batch.parties]
        out += [(row["case_id"], row["extracted_text"]) for row in batch.documents]
    return out


def test_same_seed_same_rows_and_another_seed_other_rows(province) -> None:  # noqa: ANN001
    assert _rows(province, 1) == _rows(province, 1)
    assert _rows(province, 1) != _rows(province, 2)


def test_geography_has_real_codes_and_unique_agency_codes() -> None:
    regions = {r.code: r for r in geography.regions()}
    assert regions["440000"].name == "广东省"
    assert regions["440100"].name == "广州市"
    assert regions["440703"].name == "蓬江区"
    assert regions["440703"].parent_code == "440700"
    assert len(regions) == len(geography.regions())
    agencies = geography.agencies()
    assert len({a.code for a in agencies}) == len({a.name for a in agencies}) == len(agencies)
    assert [a.name for a in agencies if a.code.startswith("GD-JM-")] == [
        "江门市法律援助处", "江门市蓬江区法律援助处", "江门市江海区法律援助处", "江门市新会区法律援助处",
        "台山市法律援助处", "开平市法律援助处", "鹤山市法律援助处", "恩平市法律援助处"]
