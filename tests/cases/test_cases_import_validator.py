"""The case importer's one row validator: fast on clean rows, every error of a bad row in column order.

``_Validator.validate`` runs one set of rules (``_Validator.check``) with a ``fail`` that stops at a row's
first problem; a refused row is run again through the same rules collecting every problem. Rows are generated
from the values that matter: valid and invalid agencies, case types, dates in and out of order, odd integers,
over-long texts, party lists and ragged rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalplat.cases import importer
from evalplat.cases.importer import ImportReport, _Lookups, _read_header, _Validator

AGENCIES = {"A0001": 1, "江海区法律援助处": 1, "A0002": 2, "武江区法律援助处": 2}
LAWYERS = {"14407201010123456": (5, 7), "L2": (6, None)}

TEXT = st.text(alphabet="0123456789-/.年月日 aZ刑民事x", max_size=12)
# Values the full validator accepts (dates in order: applied <= assigned <= closed) …
VALID: dict[str, Any] = {
    "agency": st.sampled_from(["A0001", "江海区法律援助处"]),
    "case_number": st.sampled_from(["江法援〔2024〕第0178号", "X" * 64, "1"]),
    "year": st.sampled_from(["2024", "", "1990", "2100", " 2024", "+2024", "0002024"]),
    "sequence_no": st.sampled_from(["1", "", "12", "1_000", " 7"]),
    "case_type": st.sampled_from(["刑事", "民事案件", "Criminal", "NON-LITIGATION", "行政", "non-litigation"]),
    "cause": st.sampled_from(["盗窃罪", "", "罪" * 128]),
    "stage_reached": st.sampled_from(["一审", "", "段" * 64]),
    "result": st.sampled_from(["", "判处有期徒刑一年", "果" * 128]),
    "lawyer_licence": st.sampled_from(["", "14407201010123456", "L2"]),
    "client": st.sampled_from(["", "陈志强", "陈志强；王芳", " 、 ", "甲,乙/丙"]),
    "court": st.sampled_from(["", "江海区人民法院"]),
    "applied_on": st.sampled_from(["", "2024-02-20", "2024/2/20", "2024-02-22"]),
    "assigned_on": st.sampled_from(["", "2024-02-22", "2024年2月22日", "2024-02-22 00:00"]),
    "first_meeting_on": st.sampled_from(["", "2024-02-26", "2023-01-01", "2024.3.1"]),
    "closed_on": st.sampled_from(["2024-09-30", "2024-02-22", "2024年9月30日", "2100-12-31"]),
}
# … and values of every kind, most of which it refuses.
WILD_VALUES: dict[str, list[str]] = {
    "agency": ["A0002", "A9999", "", "a0001", "武江区法律援助处"],
    "case_number": ["", "X" * 65],
    "year": ["1989", "2101", "二〇二四", "0", "-2024", "2024.0", ""],
    "sequence_no": ["0", "-3", "x", "+0", "٣", "1.5"],
    "case_type": ["", "刑", "crim", "CIVIL", "Non_Litigation"],
    "cause": ["罪" * 129, "罪" * 200],
    "stage_reached": ["段" * 65],
    "result": ["果" * 129],
    "lawyer_licence": ["unknown", "l2"],
    "client": [";;", "张三 ; 李四"],
    "court": ["、法院"],
}
TEXT_TOO = {"case_number", "year", "sequence_no", "case_type"}
WILD: dict[str, Any] = {key: st.one_of(st.sampled_from(values), TEXT) if key in TEXT_TOO else st.sampled_from(values)
                        for key, values in WILD_VALUES.items()}
DATES = ["", "2024-02-20", "2024-09-30", "2024.13.01", "2024-02-30", "1989-12-31", "0999-01-01",
                     "2024-W01-1", "20240301", "2101-01-01", "2024-09-29", "2024-02-21", "2024-02-19"]
DATE = st.one_of(
    st.sampled_from(DATES),
    st.dates().map(lambda d: d.isoformat()),
    TEXT,
)
for _key in ("applied_on", "assigned_on", "first_meeting_on", "closed_on"):
    WILD[_key] = DATE


@st.composite
def files(draw: Any) -> tuple[list[str], list[list[str]], int | None]:
    keys = draw(st.permutations(list(VALID)))
    optional = [k for k in keys if k not in ("case_number", "case_type", "closed_on")]
    dropped = set(draw(st.lists(st.sampled_from(optional), unique=True, max_size=4)))
    columns = [k for k in keys if k not in dropped]
    header = [importer.COLUMN_BY_KEY[k].zh for k in columns] + [""] * draw(st.integers(0, 2))
    own = draw(st.sampled_from([None, None, 1, -1]))
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        wild = draw(st.sets(st.sampled_from(columns), max_size=2))
        row = [draw(WILD[k] if k in wild else VALID[k]) for k in columns] + [""] * (len(header) - len(columns))
        shape = draw(st.sampled_from(["same"] * 6 + ["short", "long", "long-empty", "in-blank-column"]))
        if shape == "short":
            row = row[:-1]
        elif shape == "long":
            row = [*row, "extra"]
        elif shape == "long-empty":
            row = [*row, ""]
        elif shape == "in-blank-column" and len(header) > len(columns):
            row[-1] = "note"
        rows.append(row)
    return header, rows, own


def _validator(header: list[str], own: int | None) -> _Validator:
    lookups = _Lookups(dict(AGENCIES), {1: "江海区法律援助处", 2: "武江区法律援助处"}, dict(LAWYERS), set(), own)
    report = ImportReport(filename="t.csv")
    positions = _read_header(header, report, 100)
    assert report.error_count == 0
    return _Validator(lookups, positions, report, 1000, len(header))


class _First(Exception):
    pass


def _stop_at_first(found: list[tuple[Any, ...]]) -> Any:
    def fail(column: str | None, code: str, **params: Any) -> None:
        found.append((column, code, params))
        raise _First

    return fail


def _errors(validator: _Validator, number: int, cells: list[str]) -> tuple[Any, list[tuple[Any, ...]]]:
    before = validator.report.error_count
    checked = validator.validate(number, cells)
    assert validator.report.error_count - before == len(validator.report.errors[before:])
    assert all(e.row == number for e in validator.report.errors[before:])
    return checked, [(e.column, e.code, dict(e.params)) for e in validator.report.errors[before:]]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_a_row_is_refused_exactly_when_it_has_errors_and_the_first_error_is_where_the_quick_pass_stopped(
        sample: tuple[list[str], list[list[str]], int | None]) -> None:
    header, rows, own = sample
    validator = _validator(header, own)
    for number, cells in enumerate(rows, start=2):
        first: list[tuple[Any, ...]] = []
        try:
            quick = validator.check(list(cells), _stop_at_first(first))
        except _First:
            quick = None
        checked, errors = _errors(validator, number, list(cells))
        if quick is None:
            assert checked is None
            assert errors
            assert errors[0] == first[0]
        else:
            assert errors == []
            assert checked == quick


def test_the_ordinary_clean_row_is_converted() -> None:
    header = [c.zh for c in importer.COLUMNS]
    validator = _validator(header, None)
    row = [c.example for c in importer.COLUMNS]
    row[0] = "A0001"
    row[importer.COLUMNS.index(importer.COLUMN_BY_KEY["lawyer_licence"])] = "14407201010123456"
    checked = validator.validate(2, row)
    assert checked is not None
    values, parties = checked
    assert values[:5] == (1, "江法援〔2024〕第0178号", 2024, 178, "criminal")
    assert values[7:14] == ("2024-02-20", "2024-02-22", "2024-02-26", "2024-09-30", "判处有期徒刑一年", 5, 7)
    assert parties == [("client", "陈志强"), ("court", "江海区人民法院")]
    assert validator.report.error_count == 0


def _clean_row(columns: list[str]) -> list[str]:
    chosen = {"agency": "A0001", "case_number": "江法援〔2024〕第0178号", "year": "2024", "sequence_no": "5",
              "case_type": "刑事", "cause": "盗窃罪", "stage_reached": "一审", "result": "", "lawyer_licence": "L2",
              "client": "陈志强", "court": "", "applied_on": "2024-02-20", "assigned_on": "2024-02-22",
              "first_meeting_on": "2024-02-26", "closed_on": "2024-09-30"}
    return [chosen[k] for k in columns]


# (changes to the clean row, owner's agency) → every error of the row, in the order they are reported
ODD_ROWS: list[tuple[dict[str, str], int | None, list[tuple[Any, ...]]]] = [
    ({"agency": "A9999"}, None, [("agency", "unknown_agency", {"value": "A9999"})]),
    ({"agency": "a0001"}, None, [("agency", "unknown_agency", {"value": "a0001"})]),
    ({"agency": "A0002"}, 1, [("agency", "other_agency", {"value": "A0002"})]),
    ({"agency": ""}, None, [("agency", "missing_value", {})]),
    ({"agency": ""}, -1, [("agency", "missing_value", {})]),
    ({"agency": ""}, 1, []),
    ({"case_number": ""}, None, [("case_number", "missing_value", {})]),
    ({"case_number": "X" * 65}, None, [("case_number", "too_long", {"limit": 64})]),
    ({"case_type": ""}, None, [("case_type", "missing_value", {})]),
    ({"case_type": "刑"}, None, [("case_type", "unknown_case_type", {"value": "刑"})]),
    ({"case_type": "CIVIL"}, None, []),
    ({"applied_on": "2024.13.01"}, None, [("applied_on", "bad_date", {"value": "2024.13.01"})]),
    ({"closed_on": ""}, None, [("closed_on", "missing_value", {})]),
    ({"closed_on": "2024-02-30"}, None, [("closed_on", "bad_date", {"value": "2024-02-30"})]),
    ({"closed_on": "2024-02-21"}, None,
     [("closed_on", "closed_before_assigned", {"closed": "2024-02-21", "assigned": "2024-02-22"})]),
    ({"applied_on": "2024-02-23"}, None,
     [("assigned_on", "assigned_before_applied", {"assigned": "2024-02-22", "applied": "2024-02-23"})]),
    ({"year": "二〇二四"}, None, [("year", "bad_integer", {"value": "二〇二四"})]),
    ({"year": "2101"}, None, [("year", "bad_year", {"value": 2101})]),
    ({"year": "", "closed_on": "1989-12-31", "assigned_on": "", "applied_on": ""}, None,
     [("year", "bad_year", {"value": 1989})]),
    ({"sequence_no": "0"}, None, [("sequence_no", "not_positive", {"value": 0})]),
    ({"sequence_no": "1.5"}, None, [("sequence_no", "bad_integer", {"value": "1.5"})]),
    ({"cause": "罪" * 129}, None, [("cause", "too_long", {"limit": 128})]),
    ({"lawyer_licence": "l2"}, None, [("lawyer_licence", "unknown_lawyer", {"value": "l2"})]),
    # several problems in one row: all of them, in the order of the columns' rules, whatever comes first
    ({"agency": "A9999", "case_type": "刑", "applied_on": "2024-02-30", "closed_on": "", "sequence_no": "-3",
      "result": "果" * 129, "lawyer_licence": "unknown"}, None,
     [("agency", "unknown_agency", {"value": "A9999"}), ("case_type", "unknown_case_type", {"value": "刑"}),
      ("applied_on", "bad_date", {"value": "2024-02-30"}), ("closed_on", "missing_value", {}),
      ("sequence_no", "not_positive", {"value": -3}), ("result", "too_long", {"limit": 128}),
      ("lawyer_licence", "unknown_lawyer", {"value": "unknown"})]),
    ({"case_number": "X" * 65, "year": "x", "applied_on": "2024-09-30", "closed_on": "2024-02-01"}, 1,
     [("closed_on", "closed_before_assigned", {"closed": "2024-02-01", "assigned": "2024-02-22"}),
      ("assigned_on", "assigned_before_applied", {"assigned": "2024-02-22", "applied": "2024-09-30"}),
      ("year", "bad_integer", {"value": "x"}), ("case_number", "too_long", {"limit": 64})]),
]


@pytest.mark.parametrize(("changes", "own", "expected"), ODD_ROWS)
def test_each_odd_row_gets_its_errors_in_column_order(changes: dict[str, str], own: int | None,
                                                      expected: list[tuple[Any, ...]]) -> None:
    columns = list(VALID)
    validator = _validator([importer.COLUMN_BY_KEY[k].zh for k in columns], own)
    row = _clean_row(columns)
    for key, value in changes.items():
        row[columns.index(key)] = value
    checked, errors = _errors(validator, 2, row)
    assert errors == expected
    assert (checked is None) == bool(expected)


def test_ragged_rows_short_rows_are_blank_and_extra_cells_are_an_error() -> None:
    columns = list(VALID)
    validator = _validator([importer.COLUMN_BY_KEY[k].zh for k in columns] + [""], None)
    row = _clean_row(columns)
    assert _errors(validator, 2, row)[1] == []  # the trailing blank-headed cell left out
    assert _errors(validator, 3, [*row, ""])[1] == []
    assert _errors(validator, 4, [*row, "note"])[1] == [(None, "too_many_columns", {})]
    assert _errors(validator, 5, [*row, "", "more"])[1] == [(None, "too_many_columns", {})]
    short = row[:columns.index("closed_on")]
    assert ("closed_on", "missing_value", {}) in _errors(validator, 6, short)[1]


def test_a_blank_header_cell_between_columns_refuses_only_rows_with_a_value_under_it() -> None:
    columns = list(VALID)
    header = [importer.COLUMN_BY_KEY[k].zh for k in columns]
    validator = _validator([*header[:3], "", *header[3:]], None)
    row = _clean_row(columns)
    assert _errors(validator, 2, [*row[:3], "", *row[3:]]) == (validator.validate(9, [*row[:3], "", *row[3:]]), [])
    assert _errors(validator, 3, [*row[:3], "note", *row[3:]])[1] == [(None, "too_many_columns", {})]


DATE_KEYS = ("applied_on", "assigned_on", "first_meeting_on", "closed_on")
SUBSTITUTIONS = [(key, value) for key, values in WILD_VALUES.items() for value in values] + [
    (key, value) for key in DATE_KEYS for value in DATES]


@pytest.mark.parametrize("own", [None, 1, -1])
@pytest.mark.parametrize(("key", "value"), SUBSTITUTIONS)
def test_each_odd_value_in_an_otherwise_clean_row_is_refused_with_errors_or_converted(
        own: int | None, key: str, value: str) -> None:
    columns = list(VALID)
    validator = _validator([importer.COLUMN_BY_KEY[k].zh for k in columns] + [""], own)
    row = _clean_row(columns)
    row[columns.index(key)] = value
    for number, cells in enumerate(([*row, ""], [*row, "note"], row), start=2):
        checked, errors = _errors(validator, number, cells)
        assert (checked is None) == bool(errors)
        if checked is not None:
            assert checked[0][1] == row[columns.index("case_number")]
