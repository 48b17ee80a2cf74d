"""Reviewer import (CSV/XLSX, per-row errors, all or nothing), editing, conflicts, and the pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.assignments import conflicts
from evalplat.assignments.models import Conflict, ConflictStatus
from evalplat.errors import DomainError
from evalplat.organisations import importer, operations
from evalplat.organisations.models import Firm, Lawyer, ReviewerProfile

NOW = datetime(2025, 1, 10, tzinfo=UTC)
HEADER = ["username", "姓名", "类型", "所在市", "律所", "执业证号", "执业年限", "案件类型", "承担量"]


def csv_bytes(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _count(db: Any, model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_creates_peers_and_evaluators_with_firms_and_lawyers(db: Any, make_region: Any) -> None:
    make_region("江门市", "city")
    make_region("广州市", "city", code="440100")
    data = csv_bytes([["li.ming", "李明", "律师", "江门市", "江门正义律师事务所", "14407201110001", "8", "刑事、民事", "12"],
                      ["wang.fang", "王芳", "第三方", "440100", "", "", "0", "civil;administrative", "5"]])
    summary = importer.import_reviewers(db.session, actor=None, data=data, filename="pool.csv")
    db.session.commit()
    assert (summary.created, summary.updated, summary.firms_created) == (2, 0, ["江门正义律师事务所"])
    peer = db.session.scalar(sa.select(ReviewerProfile).join(User).where(User.username == "li.ming"))
    assert peer.kind == "peer"
    assert peer.capacity == 12
    assert peer.case_types == ["criminal", "civil"]
    assert peer.lawyer.licence_no == "14407201110001"
    assert peer.firm.name == "江门正义律师事务所"
    assert peer.user.roles == {"peer_reviewer"}
    assert peer.user.must_change_password
    evaluator = db.session.scalar(sa.select(ReviewerProfile).join(User).where(User.username == "wang.fang"))
    assert evaluator.kind == "evaluator"
    assert evaluator.firm_id is None
    assert evaluator.city.code == "440100"
    # importing again updates instead of duplicating
    again = importer.import_reviewers(db.session, actor=None, data=csv_bytes(
        [["wang.fang", "王芳", "evaluator", "广州市", "", "", "3", "civil", "7"]]), filename="pool.csv")
    assert (again.created, again.updated) == (0, 1)
    assert evaluator.capacity == 7


def test_import_with_bad_rows_names_each_problem_and_writes_nothing(db: Any, make_region: Any) -> None:
    make_region("江门市", "city")
    data = csv_bytes([["ok.user", "张三", "peer", "江门市", "某所", "14407201110002", "3", "刑事", "4"],
                      ["bad.city", "李四", "peer", "火星市", "某所", "14407201110003", "3", "刑事", "4"],
                      ["zero.cap", "王五", "evaluator", "江门市", "", "", "3", "民事", "0"],
                      ["bad.type", "赵六", "evaluator", "江门市", "", "", "x", "离婚", "3"],
                      ["no.firm", "钱七", "peer", "江门市", "", "", "3", "刑事", "3"]])
    with pytest.raises(importer.ReviewerImportError) as caught:
        importer.import_reviewers(db.session, actor=None, data=data, filename="pool.csv")
    found = {(e.row, e.column) for e in caught.value.errors}
    assert found == {(3, "city"), (4, "capacity"), (5, "years"), (5, "case_types"), (6, "firm"), (6, "licence")}
    assert "火星市" in next(e.message for e in caught.value.errors if e.column == "city")
    db.session.rollback()
    assert _count(db, ReviewerProfile) == 0
    assert _count(db, Firm) == 0
    assert _count(db, Lawyer) == 0
    assert not db.session.scalar(sa.select(User).where(User.username == "ok.user"))


def test_import_reads_xlsx_and_refuses_a_missing_column(db: Any, make_region: Any) -> None:
    from openpyxl import Workbook

    make_region("江门市", "city")
    book = Workbook()
    sheet = book.active
    sheet.append(["username", "name", "kind", "city", "case_types", "capacity"])
    sheet.append(["eva.one", "评估一", "evaluator", "江门市", "criminal", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    summary = importer.import_reviewers(db.session, actor=None, data=buffer.getvalue(), filename="pool.xlsx")
    assert summary.created == 1
    with pytest.raises(importer.ReviewerImportError) as caught:
        importer.import_reviewers(db.session, actor=None, data=csv_bytes([["a.b", "x"]], header=["username", "name"]),
                                  filename="pool.csv")
    assert {e.column for e in caught.value.errors} == {"kind", "city", "case_types", "capacity"}


def test_edit_refuses_zero_capacity_and_records_changes(db: Any, make_reviewer: Any) -> None:
    reviewer = make_reviewer("evaluator", capacity=5)
    with pytest.raises(DomainError, match="at least 1"):
        operations.update_reviewer(db.session, actor=None, reviewer=reviewer, capacity=0)
    operations.update_reviewer(db.session, actor=None, reviewer=reviewer, capacity=9, case_types=["civil"])
    db.session.commit()
    assert reviewer.capacity == 9
    assert reviewer.case_types == ["civil"]


def test_conflicts_are_computed_for_region_firm_own_case_and_names_in_the_file(
        db: Any, make_region: Any, make_agency: Any, make_case: Any, make_reviewer: Any, make_lawyer: Any,
        make_user: Any) -> None:
    from evalplat.cases.models import CaseParty, Document

    city = make_region("江门市", "city")
    other = make_region("广州市", "city")
    agency = make_agency(city=city)
    handling = make_lawyer("陈律师")
    case = make_case(agency=agency, lawyer=handling)
    same_city = make_reviewer("evaluator", city=city)
    own = make_reviewer("peer", city=other, lawyer=handling)
    colleague = make_reviewer("peer", city=other, lawyer=make_lawyer("同所律师", firm=handling.firm))
    named_user = make_user("evaluator", username="zhou.named")
    named_user.display_name = "周知名"
    named = make_reviewer("evaluator", city=other, user=named_user)
    clean = make_reviewer("evaluator", city=other)
    db.session.add(CaseParty(case_id=case.id, role="witness", name="周知名"))
    document = Document(case_id=case.id, title="会见笔录")
    document.extracted_text = f"证人周知名陈述……代理人{handling.name}"
    db.session.add(document)
    db.session.commit()
    counts = conflicts.compute_conflicts(db.session, case_ids=[case.id], actor=None, now=NOW)
    db.session.commit()
    rows = {(c.reviewer_id, c.reason): c for c in db.session.scalars(sa.select(Conflict))}
    assert set(rows) == {(same_city.id, "same_region"), (own.id, "own_case"), (own.id, "same_firm"),
                         (colleague.id, "same_firm"), (named.id, "named_in_file")}
    assert (counts.same_region, counts.same_firm, counts.own_case, counts.named_in_file) == (1, 2, 1, 1)
    assert rows[(named.id, "named_in_file")].status == ConflictStatus.OPEN
    assert rows[(same_city.id, "same_region")].status == ConflictStatus.CONFIRMED
    assert clean.id not in {r for r, _ in rows}
    # idempotent
    assert conflicts.compute_conflicts(db.session, case_ids=[case.id], actor=None, now=NOW).total == 0
    with pytest.raises(DomainError, match="cannot be dismissed"):
        conflicts.decide_conflict(db.session, conflict=rows[(own.id, "own_case")], confirm=False,
                                   actor=make_user("organiser"), now=NOW)
    organiser = make_user("organiser")
    conflicts.decide_conflict(db.session, conflict=rows[(named.id, "named_in_file")], confirm=False,
                               actor=organiser, now=NOW)
    assert conflicts.blocking_case_conflicts(db.session, [case.id]) == {}


def test_declared_conflict_blocks_until_dismissed(db: Any, make_case: Any, make_reviewer: Any) -> None:
    case = make_case()
    reviewer = make_reviewer("evaluator")
    with pytest.raises(DomainError, match="why"):
        conflicts.declare_conflict(db.session, reviewer=reviewer, case=case, reason="", actor=None)
    conflict = conflicts.declare_conflict(db.session, reviewer=reviewer, case=case, reason="曾代理对方当事人",
                                           actor=reviewer.user, now=NOW)
    assert conflict.source == "declared"
    assert conflict.status == ConflictStatus.OPEN
    assert conflicts.blocking_case_conflicts(db.session, [case.id]) == {case.id: {reviewer.id}}


ORGANISER_PAGES = ["/reviewers", "/reviewers/import", "/conflicts", "/campaigns", "/campaigns/new"]


@pytest.mark.parametrize("path", ORGANISER_PAGES)
@pytest.mark.parametrize("role", ["agency_staff", "peer_reviewer", "evaluator"])
def test_pages_are_for_organisers_only(client: Any, make_user: Any, login: Any, path: str, role: str) -> None:
    login(client, make_user(role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ORGANISER_PAGES)
def test_organiser_opens_the_pages(client: Any, make_user: Any, login: Any, path: str, make_reviewer: Any) -> None:
    make_reviewer("peer")
    login(client, make_user("organiser"))
    assert client.get(path).status_code == 200


def test_upload_with_an_unknown_city_shows_the_row_and_imports_nothing(client: Any, make_user: Any, login: Any,
                                                                      db: Any) -> None:
    login(client, make_user("organiser"))
    data = csv_bytes([["li.ming", "李明", "律师", "火星市", "某所", "14407201110001", "8", "刑事", "12"]])
    response = client.post("/reviewers/import", data={"file": (io.BytesIO(data), "pool.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "火星市" in page
    assert "<td class=\"num\">2</td>" in page
    assert _count(db, ReviewerProfile) == 0
