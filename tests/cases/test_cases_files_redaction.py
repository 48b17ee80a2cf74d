"""Files with an import or on the case page, extraction, redaction review and approval, and what reviewers see."""

from __future__ import annotations

import functools
import re
import time
from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import CORRUPT_PDF, OLE2_DOC, docx_bytes, encrypted_pdf_bytes, make_zip, row, write_csv
from tests_support import csrf_token

from evalplat.accounts.models import Role
from evalplat.cases import importer, operations, queries
from evalplat.cases.models import Case, Document, DocumentStatus, RedactionStatus
from evalplat.errors import DomainError
from evalplat.jobs.models import JobRecord, JobState
from evalplat.services import get_storage

SECRET_PHONE = "13812345678"
JUDGMENT = ("广东省江门市江海区人民法院刑事判决书\n被告人陈志强，男，身份证号440703198803150012，"
            f"电话{SECRET_PHONE}。\n辩护人李明华，广东江海律师事务所律师。\n本院认为，其行为构成盗窃罪。"
            "\n被告人陈志强犯盗窃罪，判处有期徒刑一年。")


@functools.cache
def _zip_entries() -> dict[str, bytes]:
    return {
        "Z-1/判决书.txt": JUDGMENT.encode("utf-8"),
        "Z-1/辩护词.docx": docx_bytes(["辩护人认为被告人陈志强系初犯。", "此致 江海区人民法院"]),
        "../../etc/passwd": b"root:x:0:0",
        "Z-1/旧版.doc": OLE2_DOC,
        "Z-1/空文件.txt": b"",
        "Z-2/加密.pdf": encrypted_pdf_bytes(),
        "Z-2/损坏.pdf": CORRUPT_PDF,
        "Z-9/无此案.txt": "无此案号".encode(),
    }


def _import_with_zip(db: Any, province: dict[str, Any], tmp_path: Any, on_bad_file: str) -> importer.ImportReport:
    path = write_csv(tmp_path / "cases.csv", [row(province, "Z-1"), row(province, "Z-2")])
    archive = make_zip(tmp_path / "files.zip", _zip_entries())
    report = importer.import_cases(db.session, actor=None, source=path, files_zip=archive, storage=get_storage(),
                                   options=importer.ImportOptions(on_bad_file=on_bad_file))
    if report.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return report


def test_zip_skip_mode_imports_good_files_and_names_each_bad_one(db, province, tmp_path):
    report = _import_with_zip(db, province, tmp_path, "skip")
    assert report.ok
    problems = {p.filename: p.code for p in report.file_problems}
    assert problems == {"../../etc/passwd": "zip_path_traversal", "Z-1/旧版.doc": "old_word_format",
                        "Z-1/空文件.txt": "empty_file", "Z-2/加密.pdf": "encrypted_pdf",
                        "Z-2/损坏.pdf": "corrupt_pdf", "Z-9/无此案.txt": "zip_unknown_case"}
    assert all(p.message_zh and p.message_en and p.message_zh != p.message_en for p in report.file_problems)
    documents = db.session.execute(sa.select(Document).order_by(Document.position)).scalars().all()
    assert [d.original_filename for d in documents] == ["判决书.txt", "辩护词.docx"]
    assert [d.kind.value for d in documents] == ["judgment", "opinion"]
    stored = get_storage().inner.path_for(documents[0].storage_key).read_bytes()  # type: ignore[attr-defined]
    assert JUDGMENT.encode() not in stored  # originals are encrypted at rest
    assert get_storage().get(documents[0].storage_key) == JUDGMENT.encode()
    assert "static" not in str(get_storage().inner.root)  # type: ignore[attr-defined]
    again = _import_with_zip(db, province, tmp_path, "skip")
    assert (again.created, again.unchanged, again.documents_added, again.documents_unchanged) == (0, 2, 0, 2)


def test_zip_stop_mode_writes_nothing(db, province, tmp_path):
    report = _import_with_zip(db, province, tmp_path, "stop")
    assert not report.ok
    assert report.stopped_on_file
    assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count(Document.id))).scalar_one() == 0


def _case_with_judgment(db: Any, province: dict[str, Any], tmp_path: Any) -> tuple[Case, Document]:
    path = write_csv(tmp_path / "c.csv", [row(province, "F-1", 对方当事人="周小梅")])
    archive = make_zip(tmp_path / "f.zip", {"F-1/判决书.txt": (JUDGMENT + "\n被害人周小梅。").encode("utf-8")})
    report = importer.import_cases(db.session, actor=None, source=path, files_zip=archive, storage=get_storage())
    db.session.commit()
    document = db.session.get(Document, report.document_ids[0])
    return document.case, document


def test_extraction_redaction_and_approval_flow(db, province, tmp_path, make_user):
    organiser = make_user(Role.ORGANISER)
    case, document = _case_with_judgment(db, province, tmp_path)
    operations.process_document(db.session, document.id)
    db.session.refresh(document)
    assert document.status == DocumentStatus.REDACTED
    assert document.extracted_text.startswith("广东省江门市")
    raw = db.session.execute(sa.text("SELECT extracted_text FROM documents")).scalar_one()
    assert "陈志强" not in raw  # the original text is encrypted at rest
    redacted = document.redacted_text
    for secret in ("陈志强", "李明华", "广东江海律师事务所", SECRET_PHONE, "440703198803150012", "周小梅", "江门"):
        assert secret not in redacted, secret
    assert "盗窃罪" in redacted
    assert "有期徒刑一年" in redacted
    assert all("original" not in span for span in document.redaction.spans)
    assert queries.reviewer_documents(case.id) == []  # pending: reviewers get nothing

    # The organiser redacts a word everywhere, keeps one automatic span, then approves.
    operations.add_span(db.session, actor=organiser, document=document, text="盗窃罪", kind="person")
    db.session.commit()
    assert "盗窃罪" not in document.redacted_text
    spans = document.redaction.spans
    manual = [s for s in spans if s["source"] == "manual"]
    assert len(manual) == 2  # both occurrences
    operations.remove_span(db.session, actor=organiser, document=document, start=manual[0]["start"],
                           end=manual[0]["end"])
    db.session.commit()
    assert document.redacted_text.count("盗窃罪") == 1
    operations.approve_redaction(db.session, actor=organiser, case=case)
    db.session.commit()
    assert document.redaction.status == RedactionStatus.APPROVED
    shown = queries.reviewer_documents(case.id)
    assert [d.text for d in shown] == [document.redacted_text]
    assert "陈志强" not in shown[0].text

    # Re-running the automatic redaction keeps the organiser's corrections and the approval.
    assert operations.redact_case(db.session, case.id) == 0
    db.session.commit()
    assert document.redacted_text.count("盗窃罪") == 1
    assert queries.reviewer_documents(case.id) != []

    # Any later change sends the redaction back for approval and hides it from reviewers.
    operations.add_span(db.session, actor=organiser, document=document, start=0, end=3, kind="place")
    db.session.commit()
    assert queries.reviewer_documents(case.id) == []


def test_failed_document_is_marked_and_retried_alone(db, province, tmp_path, make_user):
    organiser = make_user(Role.ORGANISER)
    case, good = _case_with_judgment(db, province, tmp_path)
    bad = Document(case_id=case.id, original_filename="坏.pdf", storage_key=get_storage().put(CORRUPT_PDF),
                   position=2)
    db.session.add(bad)
    db.session.commit()
    counts = operations.process_case_documents(db.session, [case.id])
    assert counts == {"extracted": 1, "failed": 1, "paged": 0, "pages": 0, "redacted": 1}
    db.session.refresh(bad)
    assert (bad.status, bad.error_code) == (DocumentStatus.FAILED, "corrupt_pdf")
    assert "坏.pdf" in queries.document_error_text(bad, "en")
    with pytest.raises(DomainError) as refused:
        operations.approve_redaction(db.session, actor=organiser, case=case)
    assert refused.value.code == "not_all_redacted"
    operations.retry_document(db.session, actor=organiser, document=bad)
    db.session.commit()
    assert bad.status == DocumentStatus.UPLOADED
    assert good.status == DocumentStatus.REDACTED


def _wait_for_jobs(db: Any, job_ids: list[str], seconds: float = 30) -> list[JobRecord]:
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        records = [db.session.get(JobRecord, j) for j in job_ids]
        if all(r.state in (JobState.DONE, JobState.FAILED) for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def test_import_page_queues_in_process_jobs_with_progress(db, province, tmp_path, client, make_user, login):
    login(client, make_user(Role.ORGANISER))
    path = write_csv(tmp_path / "c.csv", [row(province, "W-1")])
    archive = make_zip(tmp_path / "w.zip", {"W-1/判决书.txt": JUDGMENT.encode(), "W-1/旧.doc": OLE2_DOC})
    with path.open("rb") as cases_file, archive.open("rb") as files_zip:
        response = client.post("/cases/import", data={"cases_file": (cases_file, "案件.csv"),
                                                       "files_zip": (files_zip, "文件.zip"), "on_bad_file": "skip"},
                               content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "旧.doc" in page
    assert "W-1/旧.doc" in page
    jobs = db.session.execute(sa.select(JobRecord.id)).scalars().all()
    assert len(jobs) == 1
    (record,) = _wait_for_jobs(db, jobs)
    assert (record.state, record.progress) == (JobState.DONE, 1.0)
    case = db.session.execute(sa.select(Case)).scalar_one()
    detail = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "判决书.txt" in detail
    assert f"/cases/jobs/{record.id}" in detail
    assert client.get(f"/cases/jobs/{record.id}").status_code == 200


def test_import_page_with_errors_shows_row_column_reason(db, province, tmp_path, client, make_user, login):
    login(client, make_user(Role.ORGANISER))
    path = write_csv(tmp_path / "c.csv", [row(province, "E-1", 结案日期="2024-02-01")])
    with path.open("rb") as fh:
        response = client.post("/cases/import", data={"cases_file": (fh, "案件.csv"), "on_bad_file": "skip"},
                               content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'class="row-error"><td class="num">2</td><td>结案日期</td><td>结案日期 2024-02-01 早于指派日期',
                     page)
    assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == 0


def test_upload_on_case_page_names_bad_files(db, province, client, make_user, login, make_case):
    case = make_case(agency=province["agency"])
    login(client, make_user(Role.AGENCY_STAFF, agency=province["agency"]))
    import io

    response = client.post(f"/cases/{case.id}/documents", data={
        "files": [(io.BytesIO("会见笔录内容".encode()), "会见笔录.txt"), (io.BytesIO(OLE2_DOC), "老文件.doc")],
        "kind": "", "on_bad_file": "skip"}, content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "老文件.doc" in page
    assert "docx" in page
    documents = db.session.execute(sa.select(Document).where(Document.case_id == case.id)).scalars().all()
    assert [(d.original_filename, d.kind.value) for d in documents] == [("会见笔录.txt", "meeting_notes")]


def test_review_page_shows_original_and_redacted_side_by_side(db, province, tmp_path, client, make_user, login,
                                                              request):
    case, document = _case_with_judgment(db, province, tmp_path)
    operations.process_document(db.session, document.id)
    login(client, make_user(Role.ORGANISER))
    request.getfixturevalue("csrf_on")  # from here on every POST needs its token
    page = client.get(f"/cases/{case.id}/redaction").get_data(as_text=True)
    assert '<div class="doc original">' in page
    assert '<div class="doc redacted">' in page
    assert '<mark class="span"' in page
    assert "陈志强" in page
    assert "「当事人A」" in page
    token = csrf_token(page)
    response = client.post(f"/cases/documents/{document.id}/spans",
                           data={"csrf_token": token, "text": "有期徒刑", "kind": "number"})
    assert response.status_code == 302
    db.session.expire_all()
    assert "有期徒刑" not in db.session.get(Document, document.id).redacted_text
    response = client.post(f"/cases/{case.id}/redaction/approve", data={"csrf_token": token, "confirmed": "yes"})
    assert response.status_code == 302
    assert queries.reviewer_documents(case.id)
