"""Rubric definitions: the shipped files and the validation of bad ones (errors name file and item)."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from forms.rubrics import (
    CASE_TYPES,
    RUBRIC_DIR,
    GradeBands,
    GradeBandsError,
    Rubric,
    RubricDefinitionError,
    level_for_points,
    load_rubric_file,
    load_rubrics,
)

VETO_GROUNDS = {"fees_from_client", "absent_from_hearing", "right_lost", "confidentiality_breach"}


def test_every_case_type_has_a_rubric_and_civil_shares_with_administrative(rubrics: dict[str, Rubric]) -> None:
    assert set(rubrics) == set(CASE_TYPES)
    assert rubrics["civil"] is rubrics["administrative"]
    assert rubrics["criminal"].case_types == ("criminal",)
    assert rubrics["non_litigation"].case_types == ("non_litigation",)


def test_load_rubrics_returns_a_fresh_dict_each_time(rubrics: dict[str, Rubric]) -> None:
    first = load_rubrics()
    first.pop("criminal")
    assert "criminal" in load_rubrics()


@pytest.mark.parametrize("case_type", ["criminal", "civil", "non_litigation"])
def test_shipped_rubric_items_are_complete(rubrics: dict[str, Rubric], case_type: str) -> None:
    rubric = rubrics[case_type]
    assert sum(item.max_points for item in rubric.items) == 100
    assert rubric.version
    for item in rubric.items:
        assert [level.code for level in item.levels] == ["A", "B", "C", "D"]
        assert item.label.zh
        assert item.label.en
        assert all(level.text.zh and level.text.en for level in item.levels)
        # Every whole point from 0 to the maximum belongs to exactly one level.
        for points in range(int(item.max_points) + 1):
            assert sum(level.contains(points) for level in item.levels) == 1, (item.code, points)


@pytest.mark.parametrize("case_type", ["criminal", "civil", "non_litigation"])
def test_shipped_rubrics_carry_the_four_veto_grounds_once_each(rubrics: dict[str, Rubric], case_type: str) -> None:
    rubric = rubrics[case_type]
    assert {g.code for g in rubric.veto_grounds} == VETO_GROUNDS
    attached = [item.veto_ground for item in rubric.items if item.veto]
    assert sorted(attached) == sorted(VETO_GROUNDS)
    for item in rubric.veto_items:
        assert item.veto is True
        assert rubric.veto_ground(item.veto_ground).label.zh


def test_shipped_rubrics_use_the_default_grade_bands(rubrics: dict[str, Rubric]) -> None:
    for rubric in rubrics.values():
        assert rubric.bands == GradeBands.default()
        assert [(b.grade, b.low, b.high) for b in rubric.bands.bands] == [
            ("fail", 0, 60), ("pass", 60, 80), ("good", 80, 90), ("excellent", 90, 100)]


def test_level_for_points_follows_the_ranges(criminal: Rubric) -> None:
    meetings = criminal.item("meetings")
    assert [level_for_points(meetings, p).code for p in (15, 14, 13, 11, 10, 8, 7, 0)] == \
        ["A", "A", "B", "B", "C", "C", "D", "D"]
    for bad in (16, -1, float("nan"), "12", True):
        with pytest.raises(ValueError, match="meetings"):
            level_for_points(meetings, bad)


# -- invalid definitions ------------------------------------------------------------------------------------

def _base() -> dict[str, Any]:
    return copy.deepcopy(load_rubric_file(RUBRIC_DIR / "criminal.yaml").to_dict())


def _item(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(item for item in data["items"] if item["code"] == code)


def _sum_99(d: dict[str, Any]) -> None:
    item = _item(d, "closing")
    item["max_points"] = 9
    item["levels"]["A"]["points"] = [9, 9]


def _gap(d: dict[str, Any]) -> None:
    _item(d, "meetings")["levels"]["C"]["points"] = [9, 10]


def _overlap(d: dict[str, Any]) -> None:
    _item(d, "meetings")["levels"]["B"]["points"] = [10, 13]


def _three_levels(d: dict[str, Any]) -> None:
    del _item(d, "outcome")["levels"]["B"]


def _a_short(d: dict[str, Any]) -> None:
    _item(d, "court")["levels"]["A"]["points"] = [14, 14]


def _d_not_zero(d: dict[str, Any]) -> None:
    _item(d, "closing")["levels"]["D"]["points"] = [1, 4]


def _duplicate_code(d: dict[str, Any]) -> None:
    _item(d, "outcome")["code"] = "closing"


def _missing_zh(d: dict[str, Any]) -> None:
    del _item(d, "informing")["levels"]["C"]["zh"]


def _unknown_ground(d: dict[str, Any]) -> None:
    _item(d, "outcome")["veto_ground"] = "bribery"


def _unused_ground(d: dict[str, Any]) -> None:
    del _item(d, "court")["veto_ground"]


def _unknown_item_key(d: dict[str, Any]) -> None:
    _item(d, "investigation")["allow_na"] = True


def _version_number(d: dict[str, Any]) -> None:
    d["version"] = 2024.1


def _all_na(d: dict[str, Any]) -> None:
    for item in d["items"]:
        item["allows_na"] = True


def _band_gap(d: dict[str, Any]) -> None:
    d["grade_bands"][1]["min"] = 65


def _band_overlap(d: dict[str, Any]) -> None:
    d["grade_bands"][2]["max"] = 95


def _band_missing(d: dict[str, Any]) -> None:
    d["grade_bands"] = d["grade_bands"][:3]


def _bad_code(d: dict[str, Any]) -> None:
    _item(d, "court")["code"] = "Court Performance"


def _unknown_case_type(d: dict[str, Any]) -> None:
    d["case_types"] = ["criminal", "juvenile"]


def _off_step(d: dict[str, Any]) -> None:
    _item(d, "outcome")["levels"]["D"]["points"] = [0, 4.5]


INVALID: list[tuple[str, Callable[[dict[str, Any]], None], str | None, str]] = [
    ("points sum", _sum_99, None, "sum to 100, they sum to 99"),
    ("level gap", _gap, "meetings", "gap between level D"),
    ("level overlap", _overlap, "meetings", "overlap between level C"),
    ("three levels", _three_levels, "outcome", "exactly A, B, C, D"),
    ("A short of max", _a_short, "court", "level A must reach the maximum 15"),
    ("D not from 0", _d_not_zero, "closing", "level D must start at 0"),
    ("duplicate code", _duplicate_code, "closing", "more than one item"),
    ("missing Chinese", _missing_zh, "informing", "level C must have exactly"),
    ("unknown veto ground", _unknown_ground, "outcome", "'bribery' is not one of"),
    ("veto ground unused", _unused_ground, None, "'absent_from_hearing' is attached to no item"),
    ("unknown item key", _unknown_item_key, "investigation", "unknown key 'allow_na'"),
    ("version not text", _version_number, None, "version must be a non-empty text"),
    ("every item N/A", _all_na, None, "at least one item must not allow N/A"),
    ("band gap", _band_gap, None, "gap between fail (up to 60) and pass (from 65)"),
    ("band overlap", _band_overlap, None, "overlaps excellent"),
    ("band missing", _band_missing, None, "exactly one each of fail, pass, good, excellent"),
    ("bad code", _bad_code, None, "'Court Performance' must be lower-case"),
    ("unknown case type", _unknown_case_type, None, "case_types must be"),
    ("off step", _off_step, "outcome", "not multiples of the points step 1"),
]


@pytest.mark.parametrize(("mutate", "item", "message"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_invalid_definition_names_file_and_item(write_rubric: Callable[..., Path],
                                                mutate: Callable[[dict[str, Any]], None],
                                                item: str | None, message: str) -> None:
    data = _base()
    mutate(data)
    path = write_rubric(data, "broken.yaml")
    with pytest.raises(RubricDefinitionError) as caught:
        load_rubric_file(path)
    matching = [p for p in caught.value.problems if message in p.message]
    assert matching, caught.value
    assert all(p.source == str(path) for p in caught.value.problems)
    if item is not None:
        assert matching[0].item == item
        assert f"{path}: item '{item}': " in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_all_problems_are_reported_together(write_rubric: Callable[..., Path]) -> None:
    data = _base()
    _gap(data)
    _d_not_zero(data)
    path = write_rubric(data)
    with pytest.raises(RubricDefinitionError) as caught:
        load_rubric_file(path)
    assert {p.item for p in caught.value.problems} == {"meetings", "closing"}


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("key: [criminal\n", encoding="utf-8")
    with pytest.raises(RubricDefinitionError, match="bad.yaml: cannot read"):
        load_rubric_file(path)


def test_a_rubric_that_is_not_a_mapping_is_refused(write_rubric: Callable[..., Path]) -> None:
    path = write_rubric(["not", "a", "rubric"])  # type: ignore[arg-type]
    with pytest.raises(RubricDefinitionError, match="must be a mapping"):
        load_rubric_file(path)


def test_folder_with_two_rubrics_for_one_case_type_is_refused(tmp_path: Path) -> None:
    for name in ("criminal.yaml", "civil_administrative.yaml", "non_litigation.yaml"):
        shutil.copy(RUBRIC_DIR / name, tmp_path / name)
    shutil.copy(RUBRIC_DIR / "criminal.yaml", tmp_path / "criminal_copy.yaml")
    with pytest.raises(RubricDefinitionError, match="case type 'criminal' already has a rubric"):
        load_rubrics(tmp_path)


def test_folder_missing_a_case_type_is_refused(tmp_path: Path) -> None:
    shutil.copy(RUBRIC_DIR / "criminal.yaml", tmp_path / "criminal.yaml")
    with pytest.raises(RubricDefinitionError, match="no rubric for case type 'civil'"):
        load_rubrics(tmp_path)


def test_other_folder_loads_its_own_files(tmp_path: Path, write_rubric: Callable[..., Path]) -> None:
    for name in ("civil_administrative.yaml", "non_litigation.yaml"):
        shutil.copy(RUBRIC_DIR / name, tmp_path / name)
    data = _base()
    data["version"] = "2.0"
    write_rubric(data, "criminal.yaml")
    assert load_rubrics(tmp_path)["criminal"].version == "2.0"
    assert load_rubrics()["criminal"].version != "2.0"


def test_grade_bands_from_minimums_and_their_errors() -> None:
    bands = GradeBands.from_minimums({"excellent": 85, "good": 75, "pass": 60})
    assert [(b.grade, b.low, b.high) for b in bands.bands] == [
        ("fail", 0, 60), ("pass", 60, 75), ("good", 75, 85), ("excellent", 85, 100)]
    assert GradeBands.from_minimums({"excellent": 85, "good": 75, "pass": 60, "fail": 0}) == bands
    with pytest.raises(GradeBandsError, match="fail always starts at 0"):
        GradeBands.from_minimums({"excellent": 85, "good": 75, "pass": 60, "fail": 10})
    with pytest.raises(GradeBandsError, match="missing"):
        GradeBands.from_minimums({"excellent": 85, "good": 75})
    with pytest.raises(GradeBandsError, match="band good: min 75 must be below max 70"):
        GradeBands.from_minimums({"excellent": 70, "good": 75, "pass": 60})
    with pytest.raises(GradeBandsError, match="list"):
        GradeBands.from_data("90/80/60")
