"""CSV and XLSX exports never carry formulas: names that start like one are written as text."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from reports.spreadsheet import XlsxWriter, csv_bytes

HYPERLINK = '=HYPERLINK("http://evil.example/x","点我")'
CMD = "=cmd|' /C calc'!A0"
CAMPAIGN = "=1+2 年度评估"


@pytest.fixture
def poisoned(small_campaign: Any, db: Any) -> Any:
    """The campaign with a lawyer, a firm, an agency and the campaign itself named like formulas."""
    small_campaign.lawyers["steady"].name = HYPERLINK
    small_campaign.lawyers["lucky"].firm.name = CMD
    small_campaign.agencies["B1"].name = "@SUM(1+1)*cmd"
    small_campaign.campaign.name = CAMPAIGN
    db.session.commit()
    return small_campaign


def _no_formula_in(xlsx: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def _cells(xlsx: bytes) -> dict[str, Any]:
    """Every text cell of the workbook: value → the cell (with its data type and quotePrefix)."""
    book = load_workbook(io.BytesIO(xlsx))
    return {c.value: c for ws in book.worksheets for r in ws.iter_rows() for c in r if isinstance(c.value, str)}


@pytest.mark.parametrize("table", ["lawyers", "pool", "priorities"])
def test_ranking_xlsx_exports_write_formula_like_names_as_text(poisoned: Any, client: Any, make_user: Any,
                                                              login: Any, table: str) -> None:
    login(client, make_user("organiser"))
    body = client.get(f"/rankings/{poisoned.campaign.id}/export/{table}.xlsx").data
    _no_formula_in(body)
    cells = _cells(body)
    assert cells[HYPERLINK].data_type == "s"
    assert cells[HYPERLINK].quotePrefix


@pytest.mark.parametrize("table", ["lawyers", "agencies", "pool", "priorities"])
def test_ranking_csv_exports_prefix_formula_like_names_with_a_quote(poisoned: Any, client: Any, make_user: Any,
                                                                   login: Any, table: str) -> None:
    login(client, make_user("organiser"))
    text = client.get(f"/rankings/{poisoned.campaign.id}/export/{table}.csv").data.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
    expected = {"lawyers": [HYPERLINK, CMD], "pool": [HYPERLINK, CMD], "priorities": [HYPERLINK],
                "agencies": ["@SUM(1+1)*cmd"]}[table]
    for name in expected:
        assert "'" + name in cells


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_report_xlsx_writes_campaign_and_names_as_text(poisoned: Any, client: Any, make_user: Any,
                                                       login: Any) -> None:
    login(client, make_user("organiser"))
    body = client.get(f"/rankings/{poisoned.campaign.id}/report.xlsx").data
    _no_formula_in(body)
    cells = _cells(body)
    assert cells[CAMPAIGN].data_type == "s"
    assert cells["@SUM(1+1)*cmd"].data_type == "s"


def test_agency_section_of_the_report_xlsx_carries_no_formula(poisoned: Any, app: Any, make_user: Any,
                                                              login: Any) -> None:
    client = app.test_client()
    login(client, make_user("agency_staff", agency=poisoned.agencies["B1"]))
    response = client.get(f"/rankings/{poisoned.campaign.id}/report.xlsx")
    assert response.status_code == 200
    _no_formula_in(response.data)
    cells = _cells(response.data)
    assert cells[CAMPAIGN].quotePrefix
    assert "@SUM(1+1)*cmd" in cells


def test_csv_writer_keeps_negative_numbers_and_quotes_every_formula_start() -> None:
    text = csv_bytes([["=a", "+b", "-c", "@d", "\te", "\rf", -2.5, "正常"]]).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == ["'=a", "'+b", "'-c", "'@d", "'\te", "'\rf", "-2.5", "正常"]


def test_xlsx_writer_marks_every_formula_start_as_text() -> None:
    book = XlsxWriter()
    sheet = book.sheet("t")
    book.append(sheet, ["=a", "+b", "-c", "@d", "\te", 3, "正常"])
    body = book.to_bytes()
    _no_formula_in(body)
    row = next(load_workbook(io.BytesIO(body)).active.iter_rows())
    assert [c.data_type for c in row] == ["s", "s", "s", "s", "s", "n", "s"]
    assert [bool(c.quotePrefix) for c in row] == [True] * 5 + [False, False]


def test_every_csv_and_xlsx_is_written_and_read_through_the_one_writer_and_reader() -> None:
    """No module writes CSV/XLSX except reports/spreadsheet.py, nor reads them except evalplat/tabular.py."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {"reports/spreadsheet.py", "evalplat/tabular.py"}
    offenders = []
    for path in [*(root / "evalplat").rglob("*.py"), *(root / "reports").rglob("*.py")]:
        name = str(path.relative_to(root))
        if name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m == "csv" or m.split(".")[0] == "openpyxl" for m in modules):
                    offenders.append(name)
    assert offenders == []
