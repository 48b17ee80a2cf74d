"""Correcting a case's fields (evalplat.cases.corrections) outside peer review, and against the importer: the
corrected case is what a re-import of its corrected row finds unchanged, while the old row is refused."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from cases_support import row, write_csv

from evalplat.accounts.models import Role
from evalplat.audit.models import AuditEvent
from evalplat.cases import corrections, importer
from evalplat.cases.models import Case, EvidenceChange


def _import(db: Any, path: Any) -> importer.ImportReport:
    report = importer.import_cases(db.session, actor=None, source=path)
    db.session.commit() if report.ok else db.session.rollback()
    return report


def test_case_digest_is_the_digest_the_import_stores(db: Any, province: Any, tmp_path: Any) -> None:
    _import(db, write_csv(tmp_path / "a.csv", [row(province, "D-1", 对方当事人="王某、李某"),
                                                row(province, "D-2", 承办律师执业证号="", 受援人="")]))
    for case in db.session.scalars(sa.select(Case)):
        assert importer.case_digest(case) == case.import_digest, case.case_number


def test_a_corrected_case_is_unchanged_for_its_corrected_row_and_refuses_the_old_one(db: Any, province: Any,
                                                                                    tmp_path: Any,
                                                                                    make_user: Any) -> None:
    _import(db, write_csv(tmp_path / "a.csv", [row(province, "E-1")]))
    case = db.session.scalar(sa.select(Case))
    organiser = make_user(Role.ORGANISER)
    done = corrections.correct_case(db.session, actor=organiser, case=case,
                                    values={**corrections.current_values(case), "client": "陈志刚",
                                            "result": "判处有期徒刑十个月"}, reason="以判决书为准")
    db.session.commit()
    assert done.changed == ["result", "client"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceChange)) == 0  # not frozen: no notice
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.fields_corrected")).after[
        "fields"] == {"result": "判处有期徒刑十个月", "client": 1}  # a name's count, never the name
    again = _import(db, write_csv(tmp_path / "b.csv", [row(province, "E-1", 受援人="陈志刚",
                                                            办理结果="判处有期徒刑十个月")]))
    assert (again.ok, again.unchanged) == (True, 1)
    old = _import(db, write_csv(tmp_path / "c.csv", [row(province, "E-1")]))
    assert [e.code for e in old.errors] == ["exists_different"]


def test_the_case_page_offers_the_correction_to_the_organiser_only(app: Any, db: Any, province: Any, client: Any,
                                                                  make_user: Any, make_case: Any, login: Any) -> None:
    case = make_case(agency=province["agency"])
    login(client, make_user(Role.AGENCY_STAFF, agency=province["agency"]))
    assert 'id="correct-case"' not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/correct").status_code == 403
    client = app.test_client()
    login(client, make_user(Role.ORGANISER))
    assert 'id="correct-case"' in client.get(f"/cases/{case.id}").get_data(as_text=True)
    page = client.get(f"/cases/{case.id}/correct").get_data(as_text=True)
    assert 'id="frozen-correction"' not in page
    assert 'name="reason"' in page
