"""The one tabular reader (evalplat.tabular): encodings, XLSX uploads on the web, bombs refused by name."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import HEADER_ZH, row
from flask import Flask
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from evalplat.accounts.models import Role
from evalplat.cases.models import Case
from evalplat.organisations import importer as reviewer_importer
from evalplat.tabular import Limits, TabularError, read_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_xml_workbook(sheet_xml: str) -> bytes:
    """An XLSX whose first sheet is ``sheet_xml`` (inline strings), everything else from openpyxl."""
    base = zipfile.ZipFile(io.BytesIO(_xlsx([["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in base.infolist():
            data = sheet_xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else base.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with ``member``'s uncompressed size in its central directory set to ``size`` (a bomb's claim)."""
    buf = bytearray(data)
    name = member.encode()
    at = buf.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if bytes(buf[at + 46:at + 46 + name_len]) == name:
            struct.pack_into("<I", buf, at + 24, size)
            return bytes(buf)
        at = buf.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not in the zip")


@pytest.fixture
def limits(app: Flask) -> Iterator[Any]:
    """Set tabular limits in the app config for one test (small files then stand for the issue's bombs)."""
    saved = {k: app.config.get(k) for k in ("EVALPLAT_TABULAR_MAX_CELL", "EVALPLAT_TABULAR_MAX_BLANK_ROWS",
                                             "EVALPLAT_TABULAR_MAX_ROWS", "EVALPLAT_TABULAR_MAX_UNCOMPRESSED_MB")}

    def set_limits(**values: int) -> None:
        for key, value in values.items():
            app.config["EVALPLAT_TABULAR_" + key.upper()] = value

    yield set_limits
    app.config.update(saved)


# --- encodings and cells ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_is_read_in_utf8_with_or_without_bom_and_gb18030(encoding: str) -> None:
    data = "案号,受援人\n 江法援〔2024〕第1号 ,陈志强\u3000\n".encode(encoding)
    assert list(read_rows(data, "c.csv")) == [["案号", "受援人"], ["江法援〔2024〕第1号", "陈志强"]]


def test_xlsx_dates_and_whole_numbers_are_read_as_people_wrote_them() -> None:
    from datetime import date, datetime

    data = _xlsx([["a", "b", "c"], [datetime(2024, 3, 1), date(2024, 3, 2), 178.0], ["  x  ", None, 1.5]])
    assert list(read_rows(data, "t.xlsx")) == [["a", "b", "c"], ["2024-03-01", "2024-03-02", "178"],
                                                ["x", "", "1.5"]]


def test_executable_uploaded_as_csv_is_refused_by_name_not_by_codec_message(app: Flask) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 4
    with app.test_request_context(), force_locale("en"), pytest.raises(TabularError) as caught:
        list(read_rows(exe, "cases.csv"))
    assert caught.value.code == "not_tabular"
    assert str(caught.value.message) == "cases.csv is not a CSV or Excel (.xlsx) file."
    assert "codec" not in str(caught.value.message)


def test_old_xls_workbook_is_refused_with_advice(app: Flask) -> None:
    with app.test_request_context(), force_locale("zh_Hans"), pytest.raises(TabularError) as caught:
        list(read_rows(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧表.xls"))
    assert caught.value.code == "old_excel"
    assert "旧表.xls" in str(caught.value.message)
    assert ".xlsx" in str(caught.value.message)


# --- bombs ---------------------------------------------------------------------------------------------
def test_long_cell_is_refused_naming_row_column_and_limit(app: Flask, limits: Any) -> None:
    limits(max_cell=100)  # stands for the 300 MB cell against the default 32,767 characters
    data = _xlsx([["用户名", "所在市"], ["peer1", "江门市"], ["peer2", "x" * 101]])
    with app.test_request_context(), force_locale("en"), pytest.raises(TabularError) as caught:
        list(read_rows(data, "reviewers.xlsx"))
    assert (caught.value.code, caught.value.row, caught.value.column) == ("cell_too_long", 3, "B")
    assert str(caught.value.message) == ("reviewers.xlsx, row 3, column B: the cell holds more than 100 "
                                         "characters.")


def test_long_csv_cell_is_refused_by_the_same_limit(app: Flask, limits: Any) -> None:
    limits(max_cell=50)
    with app.test_request_context(), pytest.raises(TabularError) as caught:
        list(read_rows(("a,b\n1," + "y" * 51 + "\n").encode(), "r.csv"))
    assert (caught.value.code, caught.value.row, caught.value.column) == ("cell_too_long", 2, "B")


def test_workbook_declaring_a_huge_unpacked_size_is_refused_before_it_is_opened(app: Flask) -> None:
    # a 6 KB file whose sheet claims 4 GB once unpacked: the shape of the 310 KB / 300 MB bomb
    data = _declare_size(_xlsx([["a"], ["b"]]), "xl/worksheets/sheet1.xml", 0xFFFF0000)
    assert len(data) < 10_000
    started = time.perf_counter()
    with app.test_request_context(), force_locale("en"), pytest.raises(TabularError) as caught:
        list(read_rows(data, "bomb.xlsx"))
    assert time.perf_counter() - started < 5
    assert caught.value.code == "uncompressed_too_large"
    assert str(caught.value.message) == "bomb.xlsx unpacks to 4095 MB, more than the limit of 200 MB."


def test_real_compressed_bomb_is_refused_by_unpacked_size(app: Flask, limits: Any) -> None:
    limits(max_uncompressed_mb=1)
    cell = "A" * (3 << 20)  # 3 MB of one letter: a few KB compressed
    data = _sheet_xml_workbook(
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        + cell + "</t></is></c></row></sheetData></worksheet>")
    assert len(data) < 50_000
    with app.test_request_context(), pytest.raises(TabularError) as caught:
        list(read_rows(data, "bomb.xlsx"))
    assert caught.value.code == "uncompressed_too_large"


def test_two_million_blank_rows_end_the_table_quickly(app: Flask) -> None:
    # the sheet declares A1:XFD2000000 and has a stray cell at row 2,000,000: openpyxl would pad every one
    # of the 2,000,000 rows to 16,384 columns; the reader ignores the claim and stops after 1,000 blank rows
    xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main"><dimension ref="A1:XFD2000000"/><sheetData>'
           '<row r="1"><c r="A1" t="inlineStr"><is><t>案号</t></is></c></row>'
           '<row r="2"><c r="A2" t="inlineStr"><is><t>N1</t></is></c></row>'
           '<row r="2000000"><c r="XFD2000000" t="inlineStr"><is><t>x</t></is></c></row>'
           "</sheetData></worksheet>")
    started = time.perf_counter()
    with app.test_request_context():
        rows = [r for r in read_rows(_sheet_xml_workbook(xml), "blank.xlsx") if any(r)]
    assert time.perf_counter() - started < 10
    assert rows == [["案号"], ["N1"]]


def test_row_count_limit_is_reported_by_name(app: Flask, limits: Any) -> None:
    limits(max_rows=10)
    data = ("h\n" + "".join(f"{i}\n" for i in range(20))).encode()
    with app.test_request_context(), force_locale("en"), pytest.raises(TabularError) as caught:
        list(read_rows(data, "many.csv"))
    assert (caught.value.code, caught.value.row) == ("too_many_rows", 11)
    assert str(caught.value.message) == "many.csv has more than 10 rows (the limit was reached at row 11)."


def test_limits_from_config_never_raise_a_configured_limit() -> None:
    limits = Limits.from_config({"EVALPLAT_TABULAR_MAX_ROWS": 50}, max_rows=20_001)
    assert limits.max_rows == 50
    assert Limits.from_config({}, max_rows=20_001).max_rows == 20_001


# --- every importer uses it ----------------------------------------------------------------------------
def test_reviewer_import_refuses_a_long_cell_naming_it(db: Any, app: Flask, make_region: Any, limits: Any) -> None:
    make_region("江门市")
    limits(max_cell=40)
    data = _xlsx([["username", "name", "kind", "city", "case_types", "capacity", "organisation"],
                   ["eva1", "张三", "evaluator", "江门市", "civil", 3, "z" * 41]])
    with app.test_request_context(), force_locale("en"), pytest.raises(reviewer_importer.ReviewerImportError) as caught:
        reviewer_importer.import_reviewers(db.session, actor=None, data=data, filename="pool.xlsx")
    assert caught.value.errors[0].row == 2
    assert caught.value.errors[0].column == "G"
    assert "more than 40 characters" in caught.value.errors[0].message


def test_case_import_of_xlsx_with_200000_trailing_blank_rows_imports_its_rows(client: Any, db: Any, province: Any,
                                                                            make_user: Any, login: Any) -> None:
    book = Workbook()
    book.active.append(HEADER_ZH)
    book.active.append(row(province, "江法援〔2024〕第0100号"))
    book.active.cell(row=200_000, column=16_384, value=" ")  # declares A1:XFD200000; blank once stripped
    out = io.BytesIO()
    book.save(out)
    login(client, make_user(Role.ORGANISER))
    started = time.perf_counter()
    response = client.post("/cases/import", data={"cases_file": (io.BytesIO(out.getvalue()), "cases.xlsx"),
                                                  "on_bad_file": "skip"}, content_type="multipart/form-data")
    assert time.perf_counter() - started < 20
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert db.session.scalars(sa.select(Case.case_number)).all() == ["江法援〔2024〕第0100号"]


def test_excel_template_downloaded_filled_and_uploaded_imports_its_rows(client: Any, db: Any, province: Any,
                                                                       make_user: Any, login: Any) -> None:
    login(client, make_user(Role.ORGANISER))
    template = client.get("/cases/import/template.xlsx")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    filled = []
    for number in ("江法援〔2024〕第0201号", "江法援〔2024〕第0202号"):
        values = dict(zip(HEADER_ZH, row(province, number, 案件类型="民事"), strict=True))
        filled.append([values[h] for h in header])
    sheet.delete_rows(2)  # the example row
    for r in filled:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    response = client.post("/cases/import", data={"cases_file": (io.BytesIO(out.getvalue()), "案件导入.xlsx"),
                                                  "on_bad_file": "skip"}, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    cases = {c.case_number: c for c in db.session.scalars(sa.select(Case))}
    assert set(cases) == {"江法援〔2024〕第0201号", "江法援〔2024〕第0202号"}
    assert {c.agency_id for c in cases.values()} == {province["agency"].id}
    assert all(c.case_type.value == "civil" for c in cases.values())


def test_executable_uploaded_to_case_import_gets_a_named_error_in_words(client: Any, db: Any, province: Any,
                                                                       make_user: Any, login: Any) -> None:
    login(client, make_user(Role.ORGANISER))
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 8
    response = client.post("/cases/import", data={"cases_file": (io.BytesIO(exe), "cases.csv"),
                                                  "on_bad_file": "skip"}, content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cases.csv is not a CSV or Excel (.xlsx) file." in page
    assert "codec" not in page
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_tabular_limits_are_read_from_the_environment() -> None:
    from evalplat.config import from_environment

    config = from_environment({"EVALPLAT_TABULAR_MAX_CELL": "500", "EVALPLAT_TABULAR_MAX_BLANK_ROWS": "20"})
    limits = Limits.from_config(config)
    assert (limits.max_cell, limits.max_blank_rows, limits.max_rows) == (500, 20, Limits().max_rows)
    assert Limits().max_rows > 1_400_000  # the national pipeline's 1.4 million cases in one CSV
