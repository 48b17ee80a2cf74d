"""Scanned pages are separate jobs on the job backend; text-layer pages are never OCR'd; a failed page is
retried alone; progress per page on the document's page and in the command line."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from samplefiles import image_bytes, merge_pdfs, require_cjk_font, require_ocr, text_pdf_bytes

from evalplat import jobs
from evalplat.accounts.models import Role
from evalplat.cases import operations, page_ocr
from evalplat.cases.models import (
    Case,
    CaseParty,
    Document,
    DocumentPage,
    DocumentStatus,
    PageState,
)
from evalplat.files.errors import FileRejected
from evalplat.jobs.models import JobRecord
from evalplat.services import get_storage

CASES = Path(__file__).resolve().parents[1] / "cases"
sys.path.insert(0, str(CASES))  # cases_support, which the case-intake fixtures use
_spec = importlib.util.spec_from_file_location("cases_fixtures", CASES / "conftest.py")
assert _spec is not None
assert _spec.loader is not None
_cases_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases_fixtures)
_intake_configured = _cases_fixtures._intake_configured  # the key ring and in-process jobs of intake tests
from cases_support import DATA_KEYS  # noqa: E402

CLIENT = "冼国梁"


@pytest.fixture
def scanned_case(db: Any, make_agency: Callable[..., Any]) -> tuple[Case, Document]:
    """A case whose PDF has a text-layer page 1 and scanned pages 2 and 3."""
    require_cjk_font()
    case = Case(agency=make_agency("江海区法律援助处"), case_number="OCR-1", year=2024, case_type="civil")
    case.parties.append(CaseParty(role="client", name=CLIENT))
    db.session.add(case)
    db.session.flush()
    pdf = merge_pdfs([text_pdf_bytes([["第一页：法律援助结案报告正文"]]),
                      image_bytes([f"第二页受援人{CLIENT}申请法律援助"], "PDF"),
                      image_bytes(["第三页劳动争议纠纷已调解结案"], "PDF")])
    document = Document(case_id=case.id, original_filename="卷宗扫描.pdf", storage_key=get_storage().put(pdf),
                        position=1, content_type="application/pdf")
    db.session.add(document)
    db.session.commit()
    return case, document


def _run_jobs() -> None:
    backend = jobs.get_backend()
    assert backend.wait_idle(timeout=600)


def _page_jobs(db: Any) -> list[JobRecord]:
    return list(db.session.execute(sa.select(JobRecord).where(JobRecord.task == page_ocr.PAGE_TASK)
                                   .order_by(JobRecord.object_id)).scalars())


def _reads(monkeypatch: pytest.MonkeyPatch, fail: set[int] | None = None, crash: bool = False) -> list[int]:
    """Record the page numbers OCR'd; the pages in ``fail`` fail once with ocr_failed (or crash)."""
    calls: list[int] = []
    real = page_ocr.ocr_pdf_page
    failing = set(fail or ())

    def spy(data: bytes, filename: str, number: int, config: Any = None) -> Any:
        calls.append(number)
        if number in failing:
            failing.discard(number)
            if crash:
                raise MemoryError("onnxruntime could not allocate 2 GB")
            raise FileRejected("ocr_failed", filename, page=number, reason="ocr_engine_error", detail="scanner noise")
        return real(data, filename, number, config)

    monkeypatch.setattr(page_ocr, "ocr_pdf_page", spy)
    return calls


def test_scanned_pages_are_separate_jobs_and_text_layer_pages_are_never_ocrd(db, scanned_case, monkeypatch):
    require_ocr()
    case, document = scanned_case
    reads = _reads(monkeypatch)
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    assert sorted(reads) == [2, 3]  # page 1 has a text layer
    pages = db.session.execute(sa.select(DocumentPage).where(DocumentPage.document_id == document.id)
                               .order_by(DocumentPage.number)).scalars().all()
    assert [(p.number, p.method, p.state) for p in pages] == [
        (1, "text", PageState.DONE), (2, "ocr", PageState.DONE), (3, "ocr", PageState.DONE)]
    assert [j.object_id for j in _page_jobs(db)] == [pages[1].id, pages[2].id]  # one job per scanned page
    assert [p.job_id for p in pages] == [None, *(j.id for j in _page_jobs(db))]
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    text = document.extracted_text
    assert text.index("第一页") < text.index("第二页") < text.index("第三页")
    assert CLIENT in text
    assert CLIENT not in document.redacted_text
    assert document.ocr_used is True
    assert document.page_count == 3
    assert document.ocr_engine
    assert document.ocr_model


def test_a_failed_page_fails_the_document_naming_it_and_is_retried_alone(db, scanned_case, monkeypatch, client,
                                                                          make_user, login):
    require_ocr()
    case, document = scanned_case
    reads = _reads(monkeypatch, fail={2})
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.FAILED
    assert document.error_code == page_ocr.PAGES_FAILED
    assert "2" in document.error_detail
    assert {p.number: p.state for p in document.pages} == {1: PageState.DONE, 2: PageState.FAILED,
                                                           3: PageState.DONE}
    organiser = make_user(Role.ORGANISER)
    login(client, organiser)
    shown = client.get(f"/cases/documents/{document.id}/pages").get_data(as_text=True)
    assert "文字识别程序出错" in shown
    assert "scanner noise" not in shown
    assert f"/cases/documents/{document.id}/pages/2/retry" in shown
    assert f"/cases/documents/{document.id}/pages/3/retry" not in shown
    response = client.post(f"/cases/documents/{document.id}/pages/2/retry")
    assert response.status_code == 302
    _run_jobs()
    db.session.expire_all()
    assert sorted(reads) == [2, 2, 3]  # page 3 was not read again
    assert len(_page_jobs(db)) == 3
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert "第二页" in document.extracted_text


def test_an_unexpected_crash_on_a_page_fails_that_page_named_and_the_others_go_on(db, scanned_case, monkeypatch):
    require_ocr()
    case, document = scanned_case
    _reads(monkeypatch, fail={2}, crash=True)
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    pages = {p.number: p for p in db.session.get(Document, document.id).pages}
    assert (pages[2].state, pages[2].error_code) == (PageState.FAILED, "ocr_failed")
    assert "文字识别程序出错" in pages[2].error_detail  # localised; the exception itself goes to the log only
    assert "MemoryError" not in pages[2].error_detail
    assert pages[3].state == PageState.DONE
    assert db.session.get(Document, document.id).status == DocumentStatus.FAILED


def test_retrying_a_page_that_did_not_fail_is_refused(db, scanned_case, monkeypatch, client, make_user, login):
    require_ocr()
    case, document = scanned_case
    _reads(monkeypatch)
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    login(client, make_user(Role.ORGANISER))
    response = client.post(f"/cases/documents/{document.id}/pages/3/retry", headers={"Accept-Language": "en"},
                           follow_redirects=True)
    assert "Only a failed page can be retried." in response.get_data(as_text=True)
    assert len(_page_jobs(db)) == 2
    assert db.session.get(Document, document.id).status == DocumentStatus.REDACTED


def test_progress_per_page_is_shown_on_the_case_and_the_document_page(db, scanned_case, client, make_user,
                                                                      login):
    case, document = scanned_case
    pages = [DocumentPage(document_id=document.id, number=1, method="text", state=PageState.DONE),
             DocumentPage(document_id=document.id, number=2, method="ocr", state=PageState.DONE, seconds=7.5),
             DocumentPage(document_id=document.id, number=3, method="ocr", state=PageState.RUNNING)]
    db.session.add_all(pages)
    document.status = DocumentStatus.EXTRACTING
    db.session.commit()
    login(client, make_user(Role.ORGANISER))
    detail = client.get(f"/cases/{case.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "OCR: 1 of 2 pages read" in detail
    assert 'http-equiv="refresh"' in detail
    page = client.get(f"/cases/documents/{document.id}/pages", headers={"Accept-Language": "en"})
    shown = page.get_data(as_text=True)
    assert "OCR: 1 of 2 pages read" in shown
    assert "7.5" in shown
    assert 'http-equiv="refresh"' in shown


def test_other_agencies_cannot_see_a_documents_pages(db, scanned_case, client, make_user, make_agency, login):
    case, document = scanned_case
    login(client, make_user(Role.AGENCY_STAFF, agency=make_agency("武江区法律援助处")))
    assert client.get(f"/cases/documents/{document.id}/pages").status_code == 404
    assert client.post(f"/cases/documents/{document.id}/pages/2/retry").status_code == 404


def test_cli_shows_pages_and_retries_a_failed_page(db, scanned_case, monkeypatch, runner):
    require_ocr()
    case, document = scanned_case
    reads = _reads(monkeypatch, fail={3})
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    shown = runner.invoke(args=["cases", "pages", str(document.id), "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    assert "1/2 pages read by OCR, 1 failed (3); document failed" in shown.output
    assert "the OCR engine failed on it" in shown.output
    assert "scanner noise" not in shown.output
    retried = runner.invoke(args=["cases", "pages", str(document.id), "--retry", "3", "--wait"])
    assert retried.exit_code == 0, retried.output
    assert "page 3 queued again" in retried.output
    assert "2/2 pages read by OCR, 0 failed; document redacted" in retried.output
    assert sorted(reads) == [2, 3, 3]


def test_when_no_engine_can_run_the_scan_gets_the_named_error_and_other_documents_go_on(db, scanned_case,
                                                                                     monkeypatch):
    case, document = scanned_case
    monkeypatch.setenv("EVALPLAT_OCR_ENGINE", "tesseract")
    monkeypatch.setenv("EVALPLAT_TESSERACT", "/nonexistent/tesseract")
    text_document = Document(case_id=case.id, original_filename="意见.txt", position=2,
                             storage_key=get_storage().put(f"受援人{CLIENT}的代理意见。".encode()))
    db.session.add(text_document)
    db.session.commit()
    operations.process_documents(actor_id=None, document_ids=[document.id, text_document.id])
    _run_jobs()
    db.session.expire_all()
    failed = db.session.get(Document, document.id)
    assert (failed.status, failed.error_code) == (DocumentStatus.FAILED, "ocr_unavailable")
    assert "卷宗扫描.pdf" in failed.error_detail
    assert db.session.get(Document, text_document.id).status == DocumentStatus.REDACTED
    assert _page_jobs(db) == []


@pytest.mark.redis
def test_page_jobs_run_on_real_rq_workers_and_the_last_one_assembles_the_document(app, db, scanned_case,
                                                                                   redis_url):
    require_ocr()
    import os
    import subprocess
    import uuid

    from evalplat.jobs.rq_backend import RQBackend

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite:///:memory:"):
        pytest.skip("the workers need a database they can reach")
    case, document = scanned_case
    queue = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue))
    try:
        assert page_ocr.start_pages(db.session, document, get_storage()) == 2
        env = {**os.environ, "EVALPLAT_DATABASE_URL": database, "EVALPLAT_DATA_KEYS": DATA_KEYS,
               "EVALPLAT_STORAGE_URL": app.config["EVALPLAT_STORAGE_URL"], "EVALPLAT_ENV": "testing",
               "EVALPLAT_SECRET_KEY": app.config["SECRET_KEY"], "EVALPLAT_JOBS_URL": redis_url}
        command = [sys.executable, "-m", "evalplat.jobs.worker", "--url", redis_url, "--queue", queue, "--burst"]
        root = Path(__file__).resolve().parents[2]
        workers = [subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for _ in range(2)]
        for worker in workers:
            _, stderr = worker.communicate(timeout=600)
            assert worker.returncode == 0, stderr[-2000:]
        db.session.expire_all()
        records = _page_jobs(db)
        assert [r.state.value for r in records] == ["done", "done"], [r.error for r in records]
        document = db.session.get(Document, document.id)
        assert document.status == DocumentStatus.REDACTED
        assert CLIENT in document.extracted_text
        assert CLIENT not in document.redacted_text
    finally:
        jobs.set_backend(previous)


# --- campaign redaction and `flask cases process` go through the page jobs too ---------------------------
def test_campaign_redaction_leaves_scanned_pages_to_page_jobs_and_redacts_the_document_after_them(
        db, scanned_case, monkeypatch):
    require_ocr()
    from evalplat.cases import batch_redaction

    case, document = scanned_case
    reads = _reads(monkeypatch)
    inline = []
    monkeypatch.setattr(operations, "extract_text", lambda *a, **k: inline.append(a) or pytest.fail("read inline"))
    counts = batch_redaction.redact_cases(db.session, [case.id], workers=1)
    assert counts == {"extracted": 0, "failed": 0, "paged": 1, "pages": 2, "redacted": 0}
    _run_jobs()
    db.session.expire_all()
    assert sorted(reads) == [2, 3]  # each scanned page by its own job, the text-layer page never
    assert inline == []
    assert len(_page_jobs(db)) == 2
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT in document.extracted_text
    assert CLIENT not in document.redacted_text
    assert document.redaction is not None


def test_a_document_waiting_for_its_page_jobs_is_not_read_again(db, scanned_case, monkeypatch):
    case, document = scanned_case
    db.session.add_all([DocumentPage(document_id=document.id, number=1, method="text", state=PageState.DONE),
                        DocumentPage(document_id=document.id, number=2, method="ocr", state=PageState.RUNNING),
                        DocumentPage(document_id=document.id, number=3, method="ocr", state=PageState.QUEUED)])
    document.status = DocumentStatus.EXTRACTING
    db.session.commit()
    monkeypatch.setattr(operations, "read_document", lambda *a, **k: pytest.fail("read again"))
    counts = operations.process_case_documents(db.session, [case.id])
    assert counts == {"extracted": 0, "failed": 0, "paged": 0, "pages": 0, "redacted": 0}
    assert _page_jobs(db) == []
    assert db.session.get(Document, document.id).status == DocumentStatus.EXTRACTING


def test_cases_process_queues_one_job_per_scanned_page_and_waits_for_them(db, scanned_case, monkeypatch, runner):
    require_ocr()
    case, document = scanned_case
    reads = _reads(monkeypatch)
    result = runner.invoke(args=["cases", "process", "--case", str(case.id)])
    assert result.exit_code == 0, result.output
    assert "2 scanned pages of 1 documents queued as page jobs" in result.output
    assert "2 scanned pages read: 1 of 1 documents redacted, 0 failed" in result.output
    assert sorted(reads) == [2, 3]
    assert len(_page_jobs(db)) == 2
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT not in document.redacted_text


def test_cases_process_retry_failed_reads_only_the_failed_page_again(db, scanned_case, monkeypatch, runner):
    require_ocr()
    case, document = scanned_case
    reads = _reads(monkeypatch, fail={3})
    first = runner.invoke(args=["cases", "process", "--case", str(case.id)])
    assert first.exit_code == 0, first.output
    assert "0 of 1 documents redacted, 1 failed" in first.output
    again = runner.invoke(args=["cases", "process", "--case", str(case.id), "--retry-failed"])
    assert again.exit_code == 0, again.output
    assert "1 scanned pages of 1 documents queued as page jobs" in again.output
    assert sorted(reads) == [2, 3, 3]  # page 2 was read once
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert "第三页" in document.extracted_text


def test_ocr_puts_back_a_known_name_misread_by_one_look_alike_character(db, scanned_case, monkeypatch):
    case, document = scanned_case
    real = page_ocr.ocr_pdf_page

    def misread(data: bytes, filename: str, number: int, config: Any = None) -> Any:
        text, seconds, engine = real(data, filename, number, config)
        return text.replace("冼", "洗"), seconds, engine  # what OCR does to 冼 on a damaged page

    require_ocr()
    monkeypatch.setattr(page_ocr, "ocr_pdf_page", misread)
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert CLIENT in document.extracted_text
    assert "洗国梁" not in document.extracted_text
    assert CLIENT not in document.redacted_text
    from evalplat.audit.models import AuditEvent

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.page_names_corrected"))
    assert event.after == {"page": 2, "names": 1}
    assert CLIENT not in json.dumps(event.after, ensure_ascii=False)


@pytest.mark.redis
def test_campaign_redaction_page_jobs_are_shared_by_real_rq_workers(app, db, scanned_case, redis_url):
    require_ocr()
    import os
    import subprocess
    import uuid

    from evalplat.cases import batch_redaction
    from evalplat.jobs.rq_backend import RQBackend

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite:///:memory:"):
        pytest.skip("the workers need a database they can reach")
    case, document = scanned_case
    queue = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue))
    try:
        counts = batch_redaction.redact_cases(db.session, [case.id], workers=1)
        assert (counts["paged"], counts["pages"]) == (1, 2)
        db.session.expire_all()
        assert db.session.get(Document, document.id).status == DocumentStatus.EXTRACTING  # waits for its pages
        env = {**os.environ, "EVALPLAT_DATABASE_URL": database, "EVALPLAT_DATA_KEYS": DATA_KEYS,
               "EVALPLAT_STORAGE_URL": app.config["EVALPLAT_STORAGE_URL"], "EVALPLAT_ENV": "testing",
               "EVALPLAT_SECRET_KEY": app.config["SECRET_KEY"], "EVALPLAT_JOBS_URL": redis_url}
        command = [sys.executable, "-m", "evalplat.jobs.worker", "--url", redis_url, "--queue", queue, "--burst"]
        root = Path(__file__).resolve().parents[2]
        workers = [subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE,  # noqa: S603
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for worker in workers:
            _, stderr = worker.communicate(timeout=600)
            assert worker.returncode == 0, stderr[-2000:]
    finally:
        jobs.set_backend(previous)
    db.session.expire_all()
    records = _page_jobs(db)
    assert [r.state.value for r in records] == ["done", "done"], [r.error for r in records]
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT in document.extracted_text
    assert CLIENT not in document.redacted_text
