"""Intake in bulk: files added without a lookup per document, one commit per case, approvals in one event."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import CORRUPT_PDF, make_zip, row, write_csv

from evalplat.accounts.models import Role
from evalplat.audit.models import AuditEvent
from evalplat.audit.operations import verify_chain
from evalplat.cases import importer, operations
from evalplat.cases.models import Case, Document, DocumentStatus, RedactionStatus
from evalplat.errors import DomainError
from evalplat.services import get_storage

TEXT = "受援人陈志强，电话13812345678。本院认为其行为构成盗窃罪，判处有期徒刑一年。"


def _import(db: Any, province: dict[str, Any], tmp_path: Any, cases: int, files: int,
            name: str = "files.zip") -> importer.ImportReport:
    numbers = [f"B-{i}" for i in range(cases)]
    path = write_csv(tmp_path / "cases.csv", [row(province, n) for n in numbers])
    archive = make_zip(tmp_path / name, {f"{n}/第{j}份.txt": f"{TEXT}{n}-{j}".encode() for n in numbers
                                         for j in range(files)})
    report = importer.import_cases(db.session, actor=None, source=path, files_zip=archive, storage=get_storage())
    assert report.ok, report.errors
    db.session.commit()
    return report


def test_importing_files_needs_no_query_per_document(db, province, tmp_path, count_queries):
    with count_queries() as small:
        _import(db, province, tmp_path, 2, 2, name="small.zip")
    db.session.execute(sa.delete(Document))
    db.session.execute(sa.delete(Case))
    db.session.commit()
    with count_queries() as large:
        report = _import(db, province, tmp_path, 8, 6)
    assert report.documents_added == 48
    def lookups(statements: list[str]) -> int:  # the rows' own INSERTs aside (batched or not by the driver)
        return sum(not s.startswith("INSERT INTO documents") for s in statements)

    assert lookups(large.statements) == lookups(small.statements)  # 12 times the documents, the same lookups
    positions = db.session.execute(sa.select(Document.case_id, Document.position)).all()
    by_case: dict[int, list[int]] = {}
    for case_id, position in positions:
        by_case.setdefault(case_id, []).append(position)
    assert sorted(sorted(p) for p in by_case.values()) == [list(range(1, 7))] * 8


def test_new_files_continue_the_positions_and_known_files_are_unchanged(db, province, tmp_path, make_user):
    first = _import(db, province, tmp_path, 1, 2)
    case_id = db.session.get(Document, first.document_ids[0]).case_id
    document = importer.add_document(db.session, case_id=case_id, data="补充材料".encode(), filename="补充.txt",
                                     storage=get_storage())
    assert document is not None
    assert document.position == 3
    upload = operations.upload_documents(db.session, actor=make_user(Role.ORGANISER),
                                         case=db.session.get(Case, case_id), storage=get_storage(),
                                         files=[("新.txt", "新的材料".encode()), ("重复.txt", f"{TEXT}B-0-0".encode())])
    assert ([d.position for d in upload.added], upload.unchanged) == ([4], 1)
    assert all(d.id is not None for d in upload.added)
    assert importer.add_document(db.session, case_id=case_id, data=f"{TEXT}B-0-1".encode(), filename="again.txt",
                                 storage=get_storage()) is None
    again = _import(db, province, tmp_path, 1, 2, name="again.zip")
    assert (again.documents_added, again.documents_unchanged, again.unchanged) == (0, 2, 1)


def test_processing_commits_once_per_case_and_a_bad_file_fails_alone(db, province, tmp_path, monkeypatch):
    report = _import(db, province, tmp_path, 3, 2)
    case_ids = sorted({db.session.get(Document, i).case_id for i in report.document_ids})
    bad = Document(case_id=case_ids[1], original_filename="坏.pdf", storage_key=get_storage().put(CORRUPT_PDF),
                   position=9)
    db.session.add(bad)
    db.session.commit()
    commits: list[int] = []
    real_commit = db.session.commit
    monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real_commit())[1])
    counts = operations.process_case_documents(db.session, case_ids)
    assert counts == {"extracted": 6, "failed": 1, "paged": 0, "pages": 0, "redacted": 6}
    assert len(commits) == 3
    db.session.expire_all()
    statuses = db.session.execute(sa.select(Document.case_id, Document.status)).all()
    assert sorted(s for c, s in statuses if c == case_ids[1]) == sorted(
        [DocumentStatus.REDACTED, DocumentStatus.REDACTED, DocumentStatus.FAILED])
    assert all(s == DocumentStatus.REDACTED for c, s in statuses if c != case_ids[1])


def test_approving_a_batch_writes_one_event_naming_every_case_and_document(db, province, tmp_path, make_user):
    organiser = make_user(Role.ORGANISER)
    report = _import(db, province, tmp_path, 3, 2)
    case_ids = sorted({db.session.get(Document, i).case_id for i in report.document_ids})
    operations.process_case_documents(db.session, case_ids)
    cases = [db.session.get(Case, c) for c in case_ids]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert operations.approve_redactions(db.session, actor=organiser, cases=cases) == 6
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) == before + 1
    event = events[-1]
    assert (event.action, event.object_type, event.actor_id) == ("cases.redaction_approve_batch", "case",
                                                                 organiser.id)
    expected = [{"case": c.id, "documents": sorted(d.id for d in c.documents)} for c in cases]
    assert [{"case": e["case"], "documents": sorted(e["documents"])} for e in event.after["cases"]] == expected
    assert all(d.redaction.status == RedactionStatus.APPROVED for c in cases for d in c.documents)
    assert verify_chain(db.session) == []


def test_a_batch_with_one_unready_case_approves_nothing(db, province, tmp_path, make_user):
    organiser = make_user(Role.ORGANISER)
    report = _import(db, province, tmp_path, 2, 1)
    case_ids = sorted({db.session.get(Document, i).case_id for i in report.document_ids})
    operations.process_case_documents(db.session, case_ids[:1])  # the second case is not redacted yet
    cases = [db.session.get(Case, c) for c in case_ids]
    with pytest.raises(DomainError) as refused:
        operations.approve_redactions(db.session, actor=organiser, cases=cases)
    assert refused.value.code == "not_all_redacted"
    assert all(d.redaction is None or d.redaction.status != RedactionStatus.APPROVED
               for c in cases for d in c.documents)


def test_the_lookup_of_existing_cases_searches_the_index(db, province, tmp_path):
    _import(db, province, tmp_path, 3, 1)
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's (PostgreSQL plans a row-value IN with the index anyway)")
    keys = [(province["agency"].id, "B-0"), (province["agency"].id, "B-2"), (province["other_agency"].id, "B-1")]
    query = sa.select(Case.agency_id, Case.case_number, Case.import_digest).where(importer._case_keys_in(keys))
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " | ".join(str(r[-1]) for r in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "SEARCH cases USING INDEX" in plan
    assert "SCAN cases" not in plan
    assert sorted(n for _, n, _ in db.session.execute(query)) == ["B-0", "B-2"]
