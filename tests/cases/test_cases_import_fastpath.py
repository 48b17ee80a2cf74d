"""The importer's fast row check agrees with the full validator on every row it accepts.

The fast check (``_Validator.fast_check``) either returns exactly what ``_Validator.validate`` returns
for a clean row, or declines (None) so that the full validator reports the row's errors. Rows are
generated from the values that matter: valid and invalid agencies, case types, dates in and out of
order, odd integers, over-long texts, party lists and ragged rows.
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
    return _Validator(lookups, positions, report, 100, len(header))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_fast_check_accepts_only_what_the_validator_accepts_and_gives_the_same_values(
        sample: tuple[list[str], list[list[str]], int | None]) -> None:
    header, rows, own = sample
    validator = _validator(header, own)
    fast = validator.fast_check()
    for number, cells in enumerate(rows, start=2):
        quick = fast(cells)
        before = validator.report.error_count
        full = validator.validate(number, cells)
        if quick is not None:
            assert validator.report.error_count == before, validator.report.errors[before:]
            assert quick == full


def test_fast_check_takes_the_ordinary_clean_row() -> None:
    header = [c.zh for c in importer.COLUMNS]
    validator = _validator(header, None)
    row = [c.example for c in importer.COLUMNS]
    row[0] = "A0001"
    row[importer.COLUMNS.index(importer.COLUMN_BY_KEY["lawyer_licence"])] = "14407201010123456"
    quick = validator.fast_check()(row)
    assert quick is not None
    values, parties = quick
    assert values[:5] == (1, "江法援〔2024〕第0178号", 2024, 178, "criminal")
    assert values[7:14] == ("2024-02-20", "2024-02-22", "2024-02-26", "2024-09-30", "判处有期徒刑一年", 5, 7)
    assert parties == [("client", "陈志强"), ("court", "江海区人民法院")]
    assert quick == validator.validate(2, row)


def _clean_row(columns: list[str]) -> list[str]:
    chosen = {"agency": "A0001", "case_number": "江法援〔2024〕第0178号", "year": "2024", "sequence_no": "5",
              "case_type": "刑事", "cause": "盗窃罪", "stage_reached": "一审", "result": "", "lawyer_licence": "L2",
              "client": "陈志强", "court": "", "applied_on": "2024-02-20", "assigned_on": "2024-02-22",
              "first_meeting_on": "2024-02-26", "closed_on": "2024-09-30"}
    return [chosen[k] for k in columns]


DATE_KEYS = ("applied_on", "assigned_on", "first_meeting_on", "closed_on")
SUBSTITUTIONS = [(key, value) for key, values in WILD_VALUES.items() for value in values] + [
    (key, value) for key in DATE_KEYS for value in DATES]


@pytest.mark.parametrize("own", [None, 1, -1])
@pytest.mark.parametrize(("key", "value"), SUBSTITUTIONS)
def test_fast_check_on_each_odd_value_in_an_otherwise_clean_row(own: int | None, key: str, value: str) -> None:
    columns = list(VALID)
    header = [importer.COLUMN_BY_KEY[k].zh for k in columns]
    validator = _validator([*header, ""], own)
    fast = validator.fast_check()
    row = _clean_row(columns)
    row[columns.index(key)] = value
    for cells in ([*row, ""], [*row, "note"], row):
        quick = fast(cells)
        before = validator.report.error_count
        full = validator.validate(2, cells)
        if quick is not None:
            assert validator.report.error_count == before, validator.report.errors[before:]
            assert quick == full
