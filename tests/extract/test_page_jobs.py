"""Scanned pages are separate jobs on the job backend; text-layer pages are never OCR'd; a failed page is
retried alone; progress per page on the document's page and in the command line."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
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


def _rq_worker(app: Any, redis_url: str, queue: str) -> tuple[dict[str, str], list[str]]:
    """The environment and command of an RQ worker (``--burst``) on ``queue``, reaching the test's database."""
    env = {**os.environ, "EVALPLAT_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "EVALPLAT_DATA_KEYS": DATA_KEYS, "EVALPLAT_STORAGE_URL": app.config["EVALPLAT_STORAGE_URL"],
           "EVALPLAT_ENV": "testing", "EVALPLAT_SECRET_KEY": app.config["SECRET_KEY"],
           "EVALPLAT_JOBS_URL": redis_url, "EVALPLAT_JOBS_QUEUE": queue}
    return env, [sys.executable, "-m", "evalplat.jobs.worker", "--url", redis_url, "--queue", queue, "--burst"]


@pytest.fixture
def rq_queue(app: Any, redis_url: str) -> Any:
    """A fresh RQ queue as the job backend while the test runs; the environment and command of its workers."""
    from evalplat.jobs.rq_backend import RQBackend

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("the workers need a database they can reach")
    queue = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue))
    try:
        yield _rq_worker(app, redis_url, queue)
    finally:
        jobs.set_backend(previous)


def _run_jobs() -> None:
    backend = jobs.get_backend()
    assert backend.wait_idle(timeout=600)


def _page_jobs(db: Any) -> list[JobRecord]:
    return list(db.session.execute(sa.select(JobRecord).where(JobRecord.task == page_ocr.PAGE_TASK)
                                   .order_by(JobRecord.object_id)).scalars())


def _reads(monkeypatch: pytest.MonkeyPatch, fail: set[int] | None = None, crash: bool = False) -> list[int]:
    """Record the page numbers OCR'd; the pages in ``fail`` fail once with ocr_failed (or crash)."""
    calls: list[int] = []
    real = page_ocr.ocr_scanned_page
    failing = set(fail or ())

    def spy(data: bytes, filename: str, number: int, config: Any = None) -> Any:
        calls.append(number)
        if number in failing:
            failing.discard(number)
            if crash:
                raise MemoryError("onnxruntime could not allocate 2 GB")
            raise FileRejected("ocr_failed", filename, page=number, reason="ocr_engine_error", detail="scanner noise")
        return real(data, filename, number, config)

    monkeypatch.setattr(page_ocr, "ocr_scanned_page", spy)
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
    import subprocess

    from evalplat.jobs.rq_backend import RQBackend

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite:///:memory:"):
        pytest.skip("the workers need a database they can reach")
    case, document = scanned_case
    queue = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue))
    try:
        assert page_ocr.start_pages(db.session, document, get_storage()) == 2
        env, command = _rq_worker(app, redis_url, queue)
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
    real = page_ocr.ocr_scanned_page

    def misread(data: bytes, filename: str, number: int, config: Any = None) -> Any:
        text, seconds, engine = real(data, filename, number, config)
        return text.replace("冼", "洗"), seconds, engine  # what OCR does to 冼 on a damaged page

    require_ocr()
    monkeypatch.setattr(page_ocr, "ocr_scanned_page", misread)
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
    import subprocess

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
        env, command = _rq_worker(app, redis_url, queue)
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


# --- images: PNG/JPEG one page job, a multi-page TIFF one per frame ---------------------------------------
def _tiff(pages: list[list[str]]) -> bytes:
    import io

    from samplefiles import scan_image

    frames = [scan_image(lines) for lines in pages]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], resolution=300)
    return out.getvalue()


def _image_document(db: Any, case: Case, filename: str, data: bytes) -> Document:
    document = Document(case_id=case.id, original_filename=filename, storage_key=get_storage().put(data),
                        position=2, content_type="image/tiff")
    db.session.add(document)
    db.session.commit()
    return document


def test_a_multi_page_tiff_is_one_page_job_per_frame_and_a_failed_frame_is_retried_alone(db, scanned_case,
                                                                                        monkeypatch, runner):
    require_ocr()
    case, _ = scanned_case
    document = _image_document(db, case, "询问笔录.tif", _tiff([[f"第一帧受援人{CLIENT}陈述"], ["第二帧劳动仲裁结果"]]))
    inline = []
    monkeypatch.setattr(operations, "extract_text", lambda *a, **k: inline.append(a) or pytest.fail("read inline"))
    reads = _reads(monkeypatch, fail={2})
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert inline == []
    assert [(p.number, p.method, p.state) for p in document.pages] == [
        (1, "ocr", PageState.DONE), (2, "ocr", PageState.FAILED)]
    assert [j.object_id for j in _page_jobs(db)] == [p.id for p in document.pages]  # one job per frame
    assert (document.status, document.error_code) == (DocumentStatus.FAILED, page_ocr.PAGES_FAILED)
    shown = runner.invoke(args=["cases", "pages", str(document.id), "--lang", "en"])
    assert "1/2 pages read by OCR, 1 failed (2); document failed" in shown.output
    retried = runner.invoke(args=["cases", "pages", str(document.id), "--retry", "2", "--wait"])
    assert retried.exit_code == 0, retried.output
    assert "2/2 pages read by OCR, 0 failed; document redacted" in retried.output
    assert sorted(reads) == [1, 2, 2]  # frame 1 was not read again
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    text = document.extracted_text
    assert text.index("第一帧") < text.index("第二帧")
    assert CLIENT in text
    assert CLIENT not in document.redacted_text
    assert (document.page_count, document.ocr_used) == (2, True)
    assert document.ocr_engine


def test_a_png_in_a_campaigns_redaction_is_a_page_job_not_read_inline(db, scanned_case, monkeypatch):
    require_ocr()
    from evalplat.cases import batch_redaction

    case, pdf = scanned_case
    db.session.delete(pdf)
    document = _image_document(db, case, "申请表.png", image_bytes([f"申请人{CLIENT}"], "PNG"))
    reads = _reads(monkeypatch)
    monkeypatch.setattr(operations, "extract_text", lambda *a, **k: pytest.fail("read inline"))
    counts = batch_redaction.redact_cases(db.session, [case.id], workers=1)
    assert (counts["paged"], counts["pages"], counts["extracted"]) == (1, 1, 0)
    _run_jobs()
    db.session.expire_all()
    assert reads == [1]
    document = db.session.get(Document, document.id)
    assert [(p.number, p.state) for p in document.pages] == [(1, PageState.DONE)]
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT in document.extracted_text
    assert CLIENT not in document.redacted_text


def test_an_image_that_cannot_be_opened_fails_its_document_named_without_page_jobs(db, scanned_case):
    case, _ = scanned_case
    document = _image_document(db, case, "坏图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    operations.process_documents(actor_id=None, document_ids=[document.id])
    _run_jobs()
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert (document.status, document.error_code) == (DocumentStatus.FAILED, "ocr_failed")
    assert "坏图.png" in document.error_detail
    assert _page_jobs(db) == []


# --- a job whose work queued page jobs ends with them ---------------------------------------------------------
@pytest.fixture
def campaign_scene(db, make_region, make_agency, make_firm, make_lawyer, make_case, make_reviewer, make_user):
    from redaction_scene import build_scene

    return build_scene(db, make_region, make_agency, make_firm, make_lawyer, make_case, make_reviewer, make_user,
                       approve=False)


def _until(condition: Callable[[], bool], seconds: float = 300.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_campaigns_redaction_job_runs_until_its_last_page_is_read_and_says_what_it_waits_for(
        app, db, campaign_scene, monkeypatch, client, login, runner):
    require_ocr()
    import threading

    from redaction_scene import CLIENTS

    from evalplat.audit.models import AuditEvent
    from evalplat.cases import importer
    from evalplat.jobs.models import JobState

    scene = campaign_scene
    case = scene.cases[0]
    document = importer.add_document(db.session, case_id=case.id, filename="申请书.png", storage=get_storage(),
                                     data=image_bytes([f"受援人{CLIENTS[0]}的申请书"], "PNG"))
    db.session.commit()
    gate, begun = threading.Event(), threading.Event()
    real = page_ocr.ocr_scanned_page

    def held(*args: Any, **kwargs: Any) -> Any:
        begun.set()
        assert gate.wait(300)
        return real(*args, **kwargs)

    monkeypatch.setattr(page_ocr, "ocr_scanned_page", held)
    login(client, scene.organiser)
    response = client.post(f"/cases/campaigns/{scene.campaign.id}/redact")
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    try:
        assert begun.wait(300)

        def work_ended() -> bool:
            db.session.expire_all()
            return db.session.get(JobRecord, job_id).work_ended_at is not None
        _until(work_ended)  # every case is read and redacted; the scanned page is still being read
        assert db.session.get(JobRecord, job_id).state == JobState.RUNNING
        en = {"Accept-Language": "en"}
        shown = client.get(f"/cases/jobs/{job_id}", headers=en).get_data(as_text=True)
        assert "Waiting for 1 scanned page(s) to be read by OCR." in shown
        assert 'http-equiv="refresh"' in shown
        shown_zh = client.get(f"/cases/jobs/{job_id}").get_data(as_text=True)  # the default language
        assert "正在等待 1 页扫描件完成文字识别。" in shown_zh
        cli = runner.invoke(args=["cases", "job", job_id])
        assert "cases.redact_campaign running" in cli.output
        assert "waiting for 1 scanned page(s) being read by OCR; 0 of 1 part(s) ended" in cli.output
        queued = client.get(f"/cases/campaigns/{scene.campaign.id}/redaction", headers=en).get_data(as_text=True)
        assert "1 scanned page(s) of these cases are still to be read by OCR (0 queued, 1 being read)" in queued
        assert f"/cases/jobs/{job_id}" in queued
        queued_zh = client.get(f"/cases/campaigns/{scene.campaign.id}/redaction").get_data(as_text=True)
        assert "这些案件还有 1 页扫描件等待文字识别（排队 0 页，识别中 1 页）" in queued_zh
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.redact_campaign")) is None
    finally:
        gate.set()
    _run_jobs()
    db.session.expire_all()
    record = db.session.get(JobRecord, job_id)
    assert (record.state, record.progress) == (JobState.DONE, 1.0)
    assert json.loads(record.message)["pages"] == 1
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert CLIENTS[0] not in document.redacted_text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cases.redact_campaign"))
    assert (event.after["paged"], event.after["pages"], event.after["failed_parts"]) == (1, 1, 0)
    assert "cases.redact_campaign done" in runner.invoke(args=["cases", "job", job_id]).output
    queued = client.get(f"/cases/campaigns/{scene.campaign.id}/redaction",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "still to be read by OCR" not in queued


# --- a page whose worker died is read afterwards ------------------------------------------------------------
@pytest.mark.redis
@pytest.mark.parametrize("killed", ["work horse", "simple worker"])
def test_a_page_whose_rq_worker_is_killed_mid_page_is_read_afterwards(app, db, scanned_case, rq_queue, killed):
    """The work horse killed (as the kernel's OOM killer would): RQ queues the page's job again itself. A whole
    ``--simple`` worker killed: RQ would notice only when the job's heartbeat expires (an hour); the next worker
    on the machine finds the page's process dead when it starts and queues the page again."""
    require_ocr()
    import signal
    import subprocess
    import time

    from evalplat.jobs import holder_dead

    case, document = scanned_case
    env, command = rq_queue
    if killed == "simple worker":
        command.append("--simple")
    root = Path(__file__).resolve().parents[2]
    workers: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        workers.append(subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE,  # noqa: S603
                                        stderr=subprocess.PIPE, text=True))
        return workers[-1]

    try:
        assert page_ocr.start_pages(db.session, document, get_storage()) == 2
        first = start()
        deadline = time.monotonic() + 300
        while True:  # wait until a page is being read, then kill the process reading it
            assert time.monotonic() < deadline, "no page was begun"
            assert first.poll() is None, first.communicate()[1][-2000:]
            db.session.rollback()
            row = db.session.execute(
                sa.select(DocumentPage, JobRecord).join(JobRecord, JobRecord.id == DocumentPage.job_id)
                .where(DocumentPage.document_id == document.id, DocumentPage.state == PageState.RUNNING,
                       JobRecord.owner.is_not(None))).first()
            if row is not None:
                break
            time.sleep(0.1)
        page, record = row
        killed_page, pid = page.number, int(record.owner.rsplit(":", 2)[1])
        if killed == "work horse":
            assert pid != first.pid
            os.kill(pid, signal.SIGKILL)
        else:
            assert pid == first.pid
            first.kill()
            first.communicate(timeout=60)
            assert holder_dead(record.owner) is True
            start()  # the next worker on this machine
        for worker in workers:
            _, stderr = worker.communicate(timeout=600)
            assert worker.returncode in (0, -signal.SIGKILL), stderr[-2000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    db.session.expire_all()
    pages = {p.number: p for p in db.session.get(Document, document.id).pages}
    assert {n: p.state for n, p in pages.items()} == {1: PageState.DONE, 2: PageState.DONE, 3: PageState.DONE}
    assert pages[killed_page].attempts == 2  # begun, killed, begun again
    document = db.session.get(Document, document.id)
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT in document.extracted_text
    assert CLIENT not in document.redacted_text
    assert db.session.get(JobRecord, pages[killed_page].job_id).state.value == "done"


def _dead_process() -> str:
    """The identity of a process that has ended (as a web process restarted since would have left)."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", "from evalplat.jobs import process_identity; print(process_identity())"],
                          cwd=root, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(root)})
    return done.stdout.strip()


def _left_behind(db: Any, document: Document, pages: dict[int, tuple[PageState, str, int]]) -> dict[int, str]:
    """Page rows and their job records as a process left them: ``{number: (state, owner, attempts)}``;
    page 1 has a text layer. Returns the job id of each page."""
    from evalplat.jobs.models import JobState

    db.session.add(DocumentPage(document_id=document.id, number=1, method="text", state=PageState.DONE))
    ids = {}
    for number, (state, owner, attempts) in pages.items():
        page = DocumentPage(document_id=document.id, number=number, method="ocr", state=state, attempts=attempts)
        db.session.add(page)
        db.session.flush()
        ids[number] = page.job_id = uuid.uuid4().hex
        db.session.add(JobRecord(id=page.job_id, task=page_ocr.PAGE_TASK, object_type="document_page",
                                 object_id=page.id, owner=owner, message="",
                                 state=JobState.RUNNING if state == PageState.RUNNING else JobState.QUEUED))
    document.status = DocumentStatus.EXTRACTING
    db.session.commit()
    return ids


def test_pages_a_dead_web_process_held_in_its_in_process_queue_are_queued_again_on_recovery(db, scanned_case,
                                                                                            monkeypatch):
    require_ocr()
    from evalplat.audit.models import AuditEvent
    from evalplat.jobs import tracking

    case, document = scanned_case
    dead = _dead_process()
    old = _left_behind(db, document, {2: (PageState.RUNNING, dead, 1), 3: (PageState.QUEUED, dead, 0)})
    reads = _reads(monkeypatch)
    assert tracking.recover() == {"cases.pages": 2}
    _run_jobs()
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert sorted(reads) == [2, 3]
    assert [(p.number, p.state) for p in document.pages] == [(1, PageState.DONE), (2, PageState.DONE),
                                                            (3, PageState.DONE)]
    assert document.status == DocumentStatus.REDACTED
    assert CLIENT not in document.redacted_text
    assert {db.session.get(JobRecord, i).state.value for i in old.values()} == {"failed"}  # the lost jobs
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "cases.page_requeued")).all()
    assert sorted(e.after["page"] for e in events) == [2, 3]


def test_a_page_whose_process_died_on_every_attempt_fails_named_and_a_live_processs_page_is_left_alone(
        db, scanned_case, monkeypatch):
    from evalplat.jobs import process_identity, tracking

    case, document = scanned_case
    old = _left_behind(db, document, {2: (PageState.RUNNING, _dead_process(), page_ocr.MAX_ATTEMPTS),
                                      3: (PageState.QUEUED, process_identity(), 0)})  # a sibling web process
    monkeypatch.setattr(page_ocr, "ocr_scanned_page", lambda *a, **k: pytest.fail("read"))
    assert tracking.recover() == {"cases.pages": 1}
    db.session.expire_all()
    pages = {p.number: p for p in db.session.get(Document, document.id).pages}
    assert (pages[2].state, pages[2].error_code) == (PageState.FAILED, "ocr_failed")
    assert "读取该页的进程意外终止" in pages[2].error_detail
    assert (pages[3].state, pages[3].job_id) == (PageState.QUEUED, old[3])
    assert db.session.get(JobRecord, old[3]).state.value == "queued"
