"""Importing closed cases from CSV and XLSX: validation before writing, all-or-nothing, idempotence, scoping."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import HEADER_ZH, row, write_csv
from flask_babel import force_locale

from evalplat.accounts.models import Role
from evalplat.cases import importer
from evalplat.cases.models import Case, CaseParty
from evalplat.organisations.models import CaseType


def _import(db: Any, path: Path, actor: Any = None, **kwargs: Any) -> importer.ImportReport:
    report = importer.import_cases(db.session, actor=actor, source=path, **kwargs)
    if report.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def _count(db: Any) -> int:
    return db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one()


def test_import_happy_path_writes_cases_and_encrypted_parties(db, province, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [
        row(province, "江法援〔2024〕第0001号", 序号="1"),
        row(province, "江法援〔2024〕第0002号", 案件类型="民事", 受援人="王芳；刘强", 对方当事人="某某公司",
            指派日期="2024/3/1", 结案日期="2024年10月8日"),
        row(province, "江法援〔2024〕第0003号", 案件类型="non_litigation", 年度="", 承办律师执业证号=""),
    ])
    report = _import(db, path)
    assert report.ok, [e.as_dict() for e in report.errors]
    assert (report.rows, report.created, report.unchanged) == (3, 3, 0)
    cases = {c.case_number: c for c in db.session.execute(sa.select(Case)).scalars()}
    second = cases["江法援〔2024〕第0002号"]
    assert second.case_type == CaseType.CIVIL
    assert (second.assigned_on, second.closed_on) == (date(2024, 3, 1), date(2024, 10, 8))
    assert second.lawyer_id == province["lawyer"].id
    assert second.firm_id == province["firm"].id
    assert sorted((p.role.value, p.name) for p in second.parties) == [
        ("client", "刘强"), ("client", "王芳"), ("court", "江海区人民法院"), ("opponent", "某某公司")]
    third = cases["江法援〔2024〕第0003号"]
    assert third.year == 2024
    assert third.lawyer_id is None
    assert third.case_type == CaseType.NON_LITIGATION
    raw = db.session.execute(sa.text("SELECT name FROM case_parties")).scalars().all()
    assert raw
    assert not any("王芳" in value or "陈志强" in value for value in raw)


def test_xlsx_with_english_headers_is_accepted(db, province, tmp_path):
    from openpyxl import Workbook

    header = ["agency", "case_number", "case_type", "assigned_on", "closed_on", "client"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    sheet.append([province["agency"].code, "X-1", "criminal", date(2024, 1, 5), date(2024, 6, 1), "赵六"])
    sheet.append([province["agency"].name, "X-2", "行政", "2024-01-05", date(2024, 7, 1), None])
    path = tmp_path / "cases.xlsx"
    workbook.save(path)
    report = _import(db, path)
    assert report.ok, [e.as_dict() for e in report.errors]
    assert report.created == 2
    case = db.session.execute(sa.select(Case).where(Case.case_number == "X-1")).scalar_one()
    assert case.closed_on == date(2024, 6, 1)
    assert case.year == 2024
    assert case.parties[0].name == "赵六"


BAD_ROWS = [
    ({"法律援助机构": "不存在的机构"}, "agency", "unknown_agency"),
    ({"案号": ""}, "case_number", "missing_value"),
    ({"案件类型": "家事"}, "case_type", "unknown_case_type"),
    ({"案件类型": ""}, "case_type", "missing_value"),
    ({"结案日期": "2024-13-40"}, "closed_on", "bad_date"),
    ({"结案日期": ""}, "closed_on", "missing_value"),
    ({"结案日期": "2024-01-01", "指派日期": "2024-02-01", "申请日期": "2024-01-01"}, "closed_on",
     "closed_before_assigned"),
    ({"指派日期": "2024-01-01", "申请日期": "2024-02-01", "结案日期": "2024-03-01"}, "assigned_on",
     "assigned_before_applied"),
    ({"年度": "二〇二四"}, "year", "bad_integer"),
    ({"年度": "1900"}, "year", "bad_year"),
    ({"序号": "0"}, "sequence_no", "not_positive"),
    ({"承办律师执业证号": "99999999999999999"}, "lawyer_licence", "unknown_lawyer"),
    ({"案由": "罪" * 129}, "cause", "too_long"),
]


@pytest.mark.parametrize(("overrides", "column", "code"), BAD_ROWS, ids=[c for _, _, c in BAD_ROWS])
def test_each_bad_row_is_reported_with_row_and_column_and_nothing_is_written(db, province, tmp_path,
                                                                             overrides, column, code):
    path = write_csv(tmp_path / "bad.csv", [row(province, "A-1"), row(province, "A-2", **overrides),
                                            row(province, "A-3")])
    report = _import(db, path)
    assert not report.ok
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, column, code)]
    with force_locale("zh_Hans"):
        zh = report.errors[0].message()
    with force_locale("en"):
        en = report.errors[0].message()
    assert zh != en
    assert _count(db) == 0


def test_error_messages_are_in_the_users_language(db, province, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [row(province, "A-1", 案件类型="家事")])
    error = _import(db, path).errors[0]
    with force_locale("en"):
        assert error.column_label() == "case_type"
        assert error.message().startswith("Unknown case type")
    with force_locale("zh_Hans"):
        assert error.column_label() == "案件类型"
        assert "家事" in error.message()
        assert not error.message().startswith("Unknown")


def test_header_problems_are_reported_on_row_one(db, province, tmp_path):
    header = [h for h in HEADER_ZH if h != "结案日期"] + ["备注"]
    path = write_csv(tmp_path / "h.csv", [], header=header)
    report = _import(db, path)
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (1, None, "unknown_column"), (1, "closed_on", "missing_column")}


def test_duplicate_case_number_in_the_file_names_the_first_row(db, province, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [row(province, "D-1"), row(province, "D-2"),
                                            row(province, "D-1", 案由="抢劫罪")])
    report = _import(db, path)
    assert [(e.row, e.column, e.code, e.params["first"]) for e in report.errors] == [
        (4, "case_number", "duplicate_in_file", 2)]
    assert _count(db) == 0


def test_same_number_in_two_agencies_is_not_a_duplicate(db, province, tmp_path):
    path = write_csv(tmp_path / "two.csv", [row(province, "S-1"),
                                            row(province, "S-1", 法律援助机构=province["other_agency"].name)])
    assert _import(db, path).created == 2


def test_reimport_of_the_same_file_changes_nothing(db, province, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [row(province, f"R-{i}") for i in range(5)])
    assert _import(db, path).created == 5
    ids = db.session.execute(sa.select(Case.id).order_by(Case.id)).scalars().all()
    parties = db.session.execute(sa.select(sa.func.count(CaseParty.id))).scalar_one()
    again = _import(db, path)
    assert again.ok
    assert (again.created, again.unchanged) == (0, 5)
    assert db.session.execute(sa.select(Case.id).order_by(Case.id)).scalars().all() == ids
    assert db.session.execute(sa.select(sa.func.count(CaseParty.id))).scalar_one() == parties


def test_reimport_with_changed_content_is_refused(db, province, tmp_path):
    _import(db, write_csv(tmp_path / "a.csv", [row(province, "C-1"), row(province, "C-2")]))
    report = _import(db, write_csv(tmp_path / "b.csv", [row(province, "C-1"), row(province, "C-2", 受援人="别人"),
                                                        row(province, "C-3")]))
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "case_number", "exists_different")]
    assert _count(db) == 2


def test_agency_staff_import_only_their_own_agency(db, province, tmp_path, make_user):
    staff = make_user(Role.AGENCY_STAFF, agency=province["agency"])
    path = write_csv(tmp_path / "mixed.csv", [row(province, "M-1"),
                                              row(province, "M-2", 法律援助机构=province["other_agency"].name),
                                              row(province, "M-3", 法律援助机构="")])
    report = _import(db, path, actor=staff)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "agency", "other_agency")]
    path = write_csv(tmp_path / "own.csv", [row(province, "M-1"), row(province, "M-3", 法律援助机构="")])
    assert _import(db, path, actor=staff).created == 2
    assert set(db.session.execute(sa.select(Case.agency_id)).scalars()) == {province["agency"].id}


def test_organiser_must_name_the_agency(db, province, tmp_path):
    path = write_csv(tmp_path / "noagency.csv", [row(province, "N-1", 法律援助机构="")])
    assert [(e.row, e.column, e.code) for e in _import(db, path).errors] == [(2, "agency", "missing_value")]


def test_gb18030_csv_from_excel_is_read(db, province, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [row(province, "G-1")], encoding="gb18030")
    report = _import(db, path)
    assert report.ok
    assert report.created == 1


def test_large_import_writes_in_chunks_in_one_transaction(db, province, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK", 7)
    path = write_csv(tmp_path / "many.csv", [row(province, f"L-{i}", 受援人=f"人{i}") for i in range(50)])
    seen: list[tuple[int, str]] = []
    report = importer.import_cases(db.session, actor=None, source=path, progress=lambda n, p: seen.append((n, p)))
    assert report.created == 50
    assert ("write", 50) in [(p, n) for n, p in seen]
    db.session.rollback()  # one transaction: rolling it back leaves nothing
    assert _count(db) == 0


def test_template_headers_are_understood_by_the_importer(db, province, tmp_path, client, make_user, login):
    login(client, make_user(Role.ORGANISER))
    response = client.get("/cases/import/template.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].split(",")[:2] == ["法律援助机构", "案号"]
    xlsx = client.get("/cases/import/template.xlsx")
    path = tmp_path / "template.xlsx"
    path.write_bytes(xlsx.data)
    rows = list(importer.iter_rows(path))
    assert rows[0] == HEADER_ZH
