"""Rubric.evaluate: totals, N/A rescaling, rounding, grade bands, vetoes and every refused input."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms.rubrics import GRADE_LABELS, GradeBands, Rubric, ScoreError


def full(rubric: Rubric) -> dict[str, Any]:
    return {item.code: item.max_points for item in rubric.items}


def with_total(rubric: Rubric, total: int) -> dict[str, Any]:
    """Points on every item summing to ``total`` (no N/A), taking points off items in order."""
    points = full(rubric)
    missing = 100 - total
    for item in rubric.items:
        take = min(missing, item.max_points)
        points[item.code] -= take
        missing -= take
    assert sum(points.values()) == total
    return points


def test_full_marks_are_100_and_excellent(criminal: Rubric) -> None:
    result = criminal.evaluate(full(criminal))
    assert (result.total, result.rounded_total, result.grade) == (100.0, 100.0, "excellent")
    assert result.vetoed is False
    assert result.not_applicable == ()
    assert result.format_total() == "100.0"


@pytest.mark.parametrize(("total", "grade"), [
    (100, "excellent"), (90, "excellent"), (89, "good"), (80, "good"), (79, "pass"), (60, "pass"),
    (59, "fail"), (0, "fail"),
])
def test_default_bands(rubrics: dict[str, Rubric], total: int, grade: str) -> None:
    for rubric in {id(r): r for r in rubrics.values()}.values():
        result = rubric.evaluate(with_total(rubric, total))
        assert result.total == total
        assert result.grade == grade
        assert result.grade_label == GRADE_LABELS[grade]


def test_grade_labels_are_bilingual() -> None:
    assert [(GRADE_LABELS[g].zh, GRADE_LABELS[g].en) for g in ("excellent", "good", "pass", "fail")] == [
        ("优秀", "excellent"), ("良好", "good"), ("合格", "pass"), ("不合格", "fail")]
    assert GRADE_LABELS["good"].get("zh_Hans") == "良好"
    assert GRADE_LABELS["good"].get("en") == "good"


def test_not_applicable_items_are_left_out_and_the_total_rescaled(criminal: Rubric) -> None:
    points = full(criminal)
    points["court"] = None          # 15 points not applicable
    points["meetings"] = 7          # 8 below the maximum
    result = criminal.evaluate(points)
    assert result.not_applicable == ("court",)
    assert result.applicable_max == 85
    assert result.points_sum == 77
    assert result.total == pytest.approx(77 / 85 * 100)
    assert result.rounded_total == 90.6
    assert result.grade == "excellent"


def test_rounding_is_half_up_to_one_decimal(criminal: Rubric) -> None:
    points = full(criminal)
    points["file_reading"] = None
    points["investigation"] = None   # applicable maximum 80: totals are multiples of 1.25
    points["defence_opinion"] = 9    # 69 of 80 = 86.25 exactly
    result = criminal.evaluate(points)
    assert result.total == 86.25
    assert result.rounded_total == 86.3   # Python's round() would give 86.2 (half to even)
    assert result.format_total() == "86.3"


def test_grade_is_read_from_the_rounded_total_people_see(criminal: Rubric) -> None:
    points = full(criminal)
    points["file_reading"] = None
    points["investigation"] = None
    points["defence_opinion"] = 9    # 86.25, shown as 86.3
    bands = {"excellent": 86.3, "good": 80, "pass": 60}
    assert criminal.evaluate(points, bands=bands).grade == "excellent"


def test_a_veto_forces_fail_whatever_the_total(criminal: Rubric) -> None:
    result = criminal.evaluate(full(criminal), vetoes=["court"])
    assert result.total == 100.0
    assert result.score_grade == "excellent"
    assert result.grade == "fail"
    assert result.vetoed is True
    assert result.vetoes == ("court",)
    assert result.veto_grounds == ("absent_from_hearing",)


def test_repeated_vetoes_count_once(criminal: Rubric) -> None:
    result = criminal.evaluate(full(criminal), vetoes=("commission", "court", "commission"))
    assert result.vetoes == ("commission", "court")
    assert result.veto_grounds == ("fees_from_client", "absent_from_hearing")


def test_campaign_bands_override_the_rubric_bands(criminal: Rubric) -> None:
    points = with_total(criminal, 86)
    assert criminal.evaluate(points).grade == "good"
    assert criminal.evaluate(points, bands={"excellent": 85, "good": 75, "pass": 60}).grade == "excellent"
    listed = [{"grade": "fail", "min": 0, "max": 50}, {"grade": "pass", "min": 50, "max": 70},
              {"grade": "good", "min": 70, "max": 87}, {"grade": "excellent", "min": 87, "max": 100}]
    assert criminal.evaluate(points, bands=listed).grade == "good"
    assert criminal.evaluate(points, bands=GradeBands.from_minimums(
        {"excellent": 95, "good": 90, "pass": 87})).grade == "fail"


def test_invalid_campaign_bands_are_refused(criminal: Rubric) -> None:
    with pytest.raises(ValueError, match="gap"):
        criminal.evaluate(full(criminal), bands=[
            {"grade": "fail", "min": 0, "max": 50}, {"grade": "pass", "min": 60, "max": 80},
            {"grade": "good", "min": 80, "max": 90}, {"grade": "excellent", "min": 90, "max": 100}])


def _case(mutate: Any) -> Any:
    return mutate


ERRORS = [
    ("unknown item", lambda p: p.update(bonus=3), (), "unknown_item", "bonus"),
    ("missing item", lambda p: p.pop("closing"), (), "missing_item", "closing"),
    ("above the maximum", lambda p: p.update(meetings=16), (), "out_of_range", "meetings"),
    ("negative", lambda p: p.update(outcome=-1), (), "out_of_range", "outcome"),
    ("text", lambda p: p.update(outcome="9"), (), "not_a_number", "outcome"),
    ("boolean", lambda p: p.update(outcome=True), (), "not_a_number", "outcome"),
    ("nan", lambda p: p.update(outcome=float("nan")), (), "not_a_number", "outcome"),
    ("infinity", lambda p: p.update(outcome=float("inf")), (), "not_a_number", "outcome"),
    ("off the step", lambda p: p.update(outcome=8.5), (), "off_step", "outcome"),
    ("N/A not allowed", lambda p: p.update(defence_opinion=None), (), "na_not_allowed", "defence_opinion"),
    ("veto on unknown item", lambda p: None, ("bribery",), "veto_unknown_item", "bribery"),
    ("veto on non-veto item", lambda p: None, ("outcome",), "veto_not_allowed", "outcome"),
    ("veto on N/A item", lambda p: p.update(court=None), ("court",), "veto_on_na", "court"),
]


@pytest.mark.parametrize(("mutate", "vetoes", "code", "item"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_evaluate_refuses_bad_input_naming_the_item(criminal: Rubric, mutate: Any, vetoes: tuple[str, ...],
                                                    code: str, item: str) -> None:
    points = full(criminal)
    mutate(points)
    with pytest.raises(ValueError, match=repr(item)) as caught:
        criminal.evaluate(points, vetoes)
    error = caught.value
    assert isinstance(error, ScoreError)
    assert (error.code, error.item) == (code, item)
    assert item in error.message.zh
    assert item in error.message.en


def test_vetoes_must_be_a_collection_not_one_code(criminal: Rubric) -> None:
    with pytest.raises(TypeError, match="collection"):
        criminal.evaluate(full(criminal), "court")


def test_half_points_are_accepted_on_a_half_point_rubric(criminal: Rubric) -> None:
    data = criminal.to_dict()
    data["points_step"] = 0.5
    for item in data["items"]:      # close the half-point gaps: each level ends half a point below the next
        levels = item["levels"]
        for upper, lower in zip("ABC", "BCD", strict=True):
            levels[lower]["points"][1] = levels[upper]["points"][0] - 0.5
    half = Rubric.from_dict(data)
    points = full(half)
    points["outcome"] = 8.5
    assert half.evaluate(points).total == 98.5
    assert half.item("outcome").level("B").contains(8.5)
    points["outcome"] = 8.25
    with pytest.raises(ScoreError, match="multiple of 0.5"):
        half.evaluate(points)


@st.composite
def reviews(draw: st.DrawFn, rubric: Rubric) -> tuple[dict[str, Any], list[str]]:
    points: dict[str, Any] = {}
    for item in rubric.items:
        if item.allows_na and draw(st.booleans()):
            points[item.code] = None
        else:
            points[item.code] = draw(st.integers(0, int(item.max_points)))
    vetoes = [item.code for item in rubric.veto_items if points[item.code] is not None and draw(st.booleans())]
    return points, vetoes


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_total_is_the_share_of_applicable_points(rubrics: dict[str, Rubric], data: st.DataObject) -> None:
    rubric = rubrics[data.draw(st.sampled_from(["criminal", "civil", "non_litigation"]))]
    points, vetoes = data.draw(reviews(rubric))
    result = rubric.evaluate(points, vetoes)
    applicable = [item for item in rubric.items if points[item.code] is not None]
    exact = Fraction(sum(points[i.code] for i in applicable)) / sum(i.max_points for i in applicable) * 100
    assert result.total == pytest.approx(float(exact))
    assert 0 <= result.total <= 100
    assert abs(Fraction(str(result.rounded_total)) - exact) <= Fraction(1, 20)
    if vetoes:
        assert result.grade == "fail"
    else:
        assert result.grade == result.score_grade
