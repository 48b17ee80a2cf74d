"""Scanned files OCR'd page by page: one background job per scanned page, the document assembled when all are read.

A document's job (:func:`evalplat.cases.operations.process_document`) reads a PDF's text layers first
(:func:`start_pages`). Pages with a usable text layer are stored as read and are never OCR'd; each scanned
page — and each page of a PNG, JPEG or TIFF image (a multi-page TIFF has several) — becomes a :class:`~evalplat.cases.models.DocumentPage` and a job of its own (``cases.ocr_page``) on the
job backend, so a 300-page file spreads over every in-process worker thread and every RQ worker on any
machine. Each page job stores its text (encrypted) and the engine that read it; the job that finds every
page read assembles the document's text in page order and redacts the case, exactly once (a conditional
update of the document's status decides who does). A page that fails is marked failed with its named error;
when no page is left to read the document is marked failed, naming the pages, and each failed page can be
queued again alone (:func:`retry_page`).

Progress per page is what the page rows say (:func:`page_progress`): on the document's page and in
``flask cases pages DOCUMENT_ID``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from evalplat import jobs
from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.cases.models import Document, DocumentPage, DocumentStatus, PageState
from evalplat.db import DbSession, affected_rows, utcnow
from evalplat.errors import InvalidTransition
from evalplat.extensions import db
from evalplat.extract.core import PagePlan, finish_pdf, ocr_scanned_page, plan_image, plan_pdf, ready_engine
from evalplat.extract.ocr import OcrConfig
from evalplat.files import CodedError, FileRejected, Storage, sniff
from evalplat.files.sniff import IMAGE_KINDS
from evalplat.i18n import lazy_gettext as _l
from evalplat.jobs.models import JobRecord, JobState
from evalplat.jobs.tracking import recover, recoverer, run_tracked, settle, submit_job, update_job
from evalplat.services import get_storage

log = logging.getLogger(__name__)

PAGE_TASK = "cases.ocr_page"
PAGES_FAILED = "ocr_pages_failed"
#: times a page may be begun (its process dying each time) before it is marked failed (``worker_lost``)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class PageProgress:
    """Where a paged document's OCR stands."""

    total: int  # pages to OCR
    done: int
    failed: tuple[int, ...]  # page numbers
    running: int

    @property
    def finished(self) -> bool:
        return self.done + len(self.failed) == self.total

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def page_progress(session: DbSession, document_id: int) -> PageProgress | None:
    """Progress of the document's page jobs (None when its pages were not OCR'd one job each)."""
    rows = session.execute(sa.select(DocumentPage.number, DocumentPage.state)
                           .where(DocumentPage.document_id == document_id, DocumentPage.method == "ocr")
                           .order_by(DocumentPage.number)).all()
    if not rows:
        return None
    return PageProgress(total=len(rows), done=sum(1 for _, s in rows if s == PageState.DONE),
                        failed=tuple(n for n, s in rows if s == PageState.FAILED),
                        running=sum(1 for _, s in rows if s == PageState.RUNNING))


def progress_for(session: DbSession, document_ids: Sequence[int]) -> dict[int, PageProgress]:
    """:func:`page_progress` of several documents in one query (for the case page)."""
    if not document_ids:
        return {}
    rows = session.execute(sa.select(DocumentPage.document_id, DocumentPage.number, DocumentPage.state)
                           .where(DocumentPage.document_id.in_(document_ids), DocumentPage.method == "ocr")
                           .order_by(DocumentPage.document_id, DocumentPage.number)).all()
    grouped: dict[int, list[tuple[int, PageState]]] = {}
    for document_id, number, state in rows:
        grouped.setdefault(document_id, []).append((number, state))
    return {d: PageProgress(total=len(r), done=sum(1 for _, s in r if s == PageState.DONE),
                            failed=tuple(n for n, s in r if s == PageState.FAILED),
                            running=sum(1 for _, s in r if s == PageState.RUNNING))
            for d, r in grouped.items()}


# --- fan out ---------------------------------------------------------------------------------------------
def scan_plan(data: bytes, filename: str) -> PagePlan | None:
    """The pages of a file that may need OCR, none OCR'd yet: a PDF's text layers and the pages it needs OCR'd,
    or every page of an image (PNG, JPEG, each frame of a TIFF); None for any other kind of file.

    Pure (no database): the campaign's worker processes call it too. Raises the file's named error
    (``encrypted_pdf``, ``corrupt_pdf``; ``ocr_failed`` for an image that cannot be opened).
    """
    kind = sniff(data, filename, check_pdf=False).kind
    if kind == "pdf":
        return plan_pdf(data, filename)
    if kind in IMAGE_KINDS:
        return plan_image(data, filename, kind)
    return None


def queue_pages(session: DbSession, document: Document, plan: PagePlan, *, actor_id: int | None = None) -> int:
    """Store a scanned file's pages as rows, those to OCR as queued page jobs; returns the pages queued.

    The text-layer pages are stored as read; the document stays ``extracting`` until its last scanned page
    is read (:func:`finish_document`). The jobs are recorded in ``session`` and queued when the caller
    commits (:func:`~evalplat.jobs.tracking.submit_job`), so a rollback queues nothing.
    """
    session.execute(sa.delete(DocumentPage).where(DocumentPage.document_id == document.id))
    pages = []
    for index, (text, method, seconds) in enumerate(plan.texts):
        scanned = index in plan.todo
        page = DocumentPage(document_id=document.id, number=index + 1, method="ocr" if scanned else method,
                            state=PageState.QUEUED if scanned else PageState.DONE,
                            seconds=None if scanned else round(seconds, 3))
        page.text = None if scanned else text
        pages.append(page)
    session.add_all(pages)
    document.status = DocumentStatus.EXTRACTING
    document.page_count = plan.page_count
    document.error_code = document.error_detail = None
    record(session, actor_id=actor_id, action="cases.document_pages", object_type="document", object_id=document.id,
           after={"pages": plan.page_count, "ocr_pages": [i + 1 for i in plan.todo]})
    session.flush()
    for page in pages:
        if page.state == PageState.QUEUED:
            page.job_id = _submit_page(session, page, actor_id)
    return len(plan.todo)


def _submit_page(session: DbSession, page: DocumentPage, actor_id: int | None, parent_id: str | None = None) -> str:
    """Queue the page's job (when the session commits): a part of the tracked job whose work queues it (a
    document's, a case's or a campaign's job, which then ends only after its pages), or of ``parent_id``."""
    return submit_job(session, PAGE_TASK, actor_id=actor_id, object_type="document_page", object_id=page.id,
                      args=(page.id,), part=True, parent_id=parent_id)


def start_pages(session: DbSession, document: Document, storage: Storage, *, config: OcrConfig | None = None,
                actor_id: int | None = None) -> int:
    """Split a PDF with scanned pages, or an image, into page jobs and commit; returns the number of pages
    queued (0: not paged).

    Nothing is queued (0) when the file is neither, has no page to OCR, cannot be read, or no OCR engine
    can run here: the document's own job then extracts it whole as before (and gives the named error).
    The document stays ``extracting`` until its last page is read.
    """
    config = config or OcrConfig.from_env()
    filename = document.original_filename
    try:
        plan = scan_plan(storage.get(document.storage_key or ""), filename)
        if plan is None or not plan.todo:
            return 0
        ready_engine(filename, config)
    except CodedError:
        return 0
    queued = queue_pages(session, document, plan, actor_id=actor_id)
    session.commit()
    return queued


#: seconds between two looks for pages whose worker died while a command waits for pages
RECOVER_SECONDS = 30.0

#: statuses a paged document is in while its page jobs, or the last one's assembly and redaction, are under way
UNDER_WAY = (DocumentStatus.EXTRACTING, DocumentStatus.EXTRACTED)


def wait_for_documents(session: DbSession, document_ids: Sequence[int], *, tick: Callable[[int], None] | None = None,
                       settle_seconds: float = 120.0, poll_seconds: float = 1.0) -> dict[int, PageProgress]:
    """Wait until every page of the documents is read or failed, and each document has been assembled and
    redacted (or marked failed) by the job of its last page; ``tick(pages finished)`` after each look.

    The wait for the last step after the pages is bounded by ``settle_seconds`` (a job that dies between
    the two leaves its document ``extracted``). Returns the final progress per document.
    """
    import time

    settled_by: float | None = None
    recovered_at = time.monotonic()
    while True:
        if time.monotonic() - recovered_at > RECOVER_SECONDS:  # a page whose worker died would be waited for forever
            recover(session)
            recovered_at = time.monotonic()
        session.rollback()  # see the page jobs' commits
        progress = progress_for(session, list(document_ids))
        if tick is not None:
            tick(sum(p.done + len(p.failed) for p in progress.values()))
        if all(p.finished for p in progress.values()):
            settled_by = settled_by or time.monotonic() + settle_seconds
            statuses = session.execute(sa.select(Document.status).where(Document.id.in_(document_ids))).scalars()
            if not any(status in UNDER_WAY for status in statuses) or time.monotonic() > settled_by:
                session.rollback()
                return progress
        time.sleep(poll_seconds)


def retry_failed_pages(session: DbSession, document: Document, *, actor: User | None = None) -> int:
    """Queue the failed pages of a document that failed on some of its pages again, each alone (the pages
    already read are kept); returns the pages queued (0 when the document did not fail that way)."""
    if document.status != DocumentStatus.FAILED or document.error_code != PAGES_FAILED:
        return 0
    failed = [page for page in document.pages if page.method == "ocr" and page.state == PageState.FAILED]
    for page in failed:
        retry_page(session, actor=actor, page=page, commit=False)
    return len(failed)


# --- one page --------------------------------------------------------------------------------------------
def ocr_page(session: DbSession, page_id: int, storage: Storage, *, config: OcrConfig | None = None,
             job_id: str | None = None) -> DocumentPage:
    """Read one scanned page and store its text; assemble the document if it was the last one.

    Run again for a page that is already read, or by a job (``job_id``) that the page no longer waits for
    (it was queued again after its worker died), it does nothing.

    Raises
    ------
    Exception
        Whatever stopped the page (its named error: ``ocr_failed``, ``ocr_timeout``, ``ocr_unavailable`` …;
        anything unexpected is stored as ``ocr_failed`` with its type and message), after the page has been
        marked failed, so that its job shows failed too and the page can be retried alone.
    """
    page = session.get(DocumentPage, page_id)
    if page is None:
        raise InvalidTransition(_l("The page does not exist."), code="page_missing", status=404)
    document = page.document
    if page.state == PageState.DONE or (job_id is not None and page.job_id not in (None, job_id)):
        return page
    page.state = PageState.RUNNING
    page.attempts += 1
    session.commit()
    try:
        data = storage.get(document.storage_key or "")
        text, seconds, engine = ocr_scanned_page(data, document.original_filename, page.number, config)
    except Exception as exc:  # the page fails, named; the other pages and the job backend go on
        coded = exc if isinstance(exc, CodedError) else FileRejected(
            "ocr_failed", document.original_filename, page=page.number, reason="ocr_engine_error",
            detail=f"{type(exc).__name__}: {exc}")
        session.rollback()
        page.state = PageState.FAILED
        page.error_code = coded.code
        page.error_detail = json.dumps({"zh": coded.message("zh"), "en": coded.message("en")}, ensure_ascii=False)
        session.commit()
        finish_document(session, document.id)
        raise
    text, corrected = _put_back_names(session, document, text)
    if corrected:
        record(session, actor_id=None, action="cases.page_names_corrected", object_type="document",
               object_id=document.id, after={"page": page.number, "names": corrected})
    page.text = text
    page.seconds = round(seconds, 3)
    page.state = PageState.DONE
    page.error_code = page.error_detail = None
    document.ocr_engine, document.ocr_model = engine.describe()
    session.commit()
    finish_document(session, document.id)
    return page


def _put_back_names(session: DbSession, document: Document, text: str) -> tuple[str, int]:
    """The page's text with the case's people's names put back where OCR misread one look-alike character
    of them (:mod:`evalplat.extract.known_names`), and how many."""
    from evalplat.cases.operations import correct_ocr_pages, known_for_case, person_names

    return correct_ocr_pages(text, [(0, len(text))], person_names(known_for_case(document.case)))


def _claim(session: DbSession, document_id: int, status: DocumentStatus, **values: object) -> bool:
    """Move the document out of ``extracting``; True for the one caller that did it."""
    result = session.execute(sa.update(Document).where(Document.id == document_id,
                                                       Document.status == DocumentStatus.EXTRACTING)
                             .values(status=status, **values))
    return bool(affected_rows(result))


def finish_document(session: DbSession, document_id: int) -> bool:
    """When no page of the document is left to read: assemble and redact it, or mark it failed naming the pages.

    Returns True when this call finished the document (at most one concurrent caller does).
    """
    from evalplat.cases.operations import Extraction, apply_extraction, redact_case

    progress = page_progress(session, document_id)
    if progress is None or not progress.finished:
        return False
    if progress.failed:
        pages = ", ".join(str(n) for n in progress.failed)
        detail = json.dumps({"zh": f"第 {pages} 页文字识别失败，可单独重试这些页。",
                             "en": f"OCR of pages {pages} failed; each can be retried alone."}, ensure_ascii=False)
        claimed = _claim(session, document_id, DocumentStatus.FAILED, error_code=PAGES_FAILED, error_detail=detail)
        session.commit()
        return claimed
    if not _claim(session, document_id, DocumentStatus.EXTRACTED):
        session.rollback()
        return False
    document = session.get(Document, document_id)
    assert document is not None
    session.refresh(document)
    rows = list(session.execute(sa.select(DocumentPage).where(DocumentPage.document_id == document_id)
                                .order_by(DocumentPage.number)).scalars())
    texts = [(row.text or "", row.method, row.seconds or 0.0) for row in rows]
    todo = [i for i, row in enumerate(rows) if row.method == "ocr"]
    result = finish_pdf(texts, todo, [], (document.ocr_engine, document.ocr_model))
    apply_extraction(document, Extraction(result.text, True, result.page_count, ocr_engine=result.ocr_engine,
                                          ocr_model=result.ocr_model))
    record(session, actor_id=None, action="cases.document_extract", object_type="document", object_id=document.id,
           after={"status": document.status, "ocr": True, "pages": len(rows), "ocr_engine": document.ocr_engine})
    session.commit()
    redact_case(session, document.case_id)
    session.commit()
    return True


def retry_page(session: DbSession, *, actor: User | None, page: DocumentPage, commit: bool = True) -> None:
    """Queue a failed page again, alone; the document goes back to ``extracting`` until it is read.

    The job is queued when the session commits: here, or by the caller when ``commit`` is False.
    """
    if page.state != PageState.FAILED:
        raise InvalidTransition(_l("Only a failed page can be retried."), code="not_failed")
    page.state = PageState.QUEUED
    document = page.document
    if document.status == DocumentStatus.FAILED:
        document.status = DocumentStatus.EXTRACTING
        document.error_code = document.error_detail = None
    record(session, actor_id=actor.id if actor else None, action="cases.page_retry", object_type="document",
           object_id=document.id, before={"page": page.number, "error_code": page.error_code})
    page.attempts = 0
    page.job_id = _submit_page(session, page, actor.id if actor else None)
    if commit:
        session.commit()


@jobs.task(PAGE_TASK, timeout=3600, retries_if_lost=MAX_ATTEMPTS - 1)
def ocr_page_task(job_id: str, page_id: int) -> str:
    """Background task: OCR one scanned page of a document.

    On RQ, a page whose work horse or worker died is queued again by RQ itself (``retries_if_lost``); the
    page's job is safe to run twice (:func:`ocr_page`).
    """
    def work(progress: object) -> str:
        page = ocr_page(db.session, page_id, get_storage(), job_id=job_id)
        return f"page {page.number} of document {page.document_id}: {len(page.text or '')} characters"
    return str(run_tracked(job_id, work))


# --- pages whose worker died ---------------------------------------------------------------------------------
@recoverer("cases.pages")
def requeue_stale_pages(session: DbSession) -> int:
    """Queue again each page whose job's process died while the page was queued or being read (a killed RQ
    worker or work horse, a web process restarted with its in-process queue); a page begun
    :data:`MAX_ATTEMPTS` times is marked failed instead (``worker_lost``), to be retried alone. Commits;
    returns the pages queued again or failed.

    The lost job is marked failed and detached from the job it was a part of; the new one takes its place.
    """
    backend = jobs.get_backend()
    open_states = (JobState.QUEUED, JobState.RUNNING)
    rows = session.execute(
        sa.select(DocumentPage, JobRecord).join(JobRecord, JobRecord.id == DocumentPage.job_id)
        .where(DocumentPage.method == "ocr", DocumentPage.state.in_((PageState.QUEUED, PageState.RUNNING)),
               JobRecord.state.in_(open_states))).all()
    lost = [(page, job) for page, job in rows if backend.is_lost(job.id, job.owner)]
    finished: set[int] = set()
    for page, job in lost:
        document = page.document
        if page.attempts >= MAX_ATTEMPTS:
            coded = FileRejected("ocr_failed", document.original_filename, page=page.number, reason="worker_lost")
            page.state = PageState.FAILED
            page.error_code = coded.code
            page.error_detail = json.dumps({"zh": coded.message("zh"), "en": coded.message("en")},
                                           ensure_ascii=False)
            finished.add(document.id)
        else:
            page.state = PageState.QUEUED
            page.job_id = _submit_page(session, page, job.created_by_id, parent_id=job.parent_id)
        record(session, actor_id=None, action="cases.page_requeued", object_type="document", object_id=document.id,
               after={"page": page.number, "attempts": page.attempts, "state": page.state.value})
        log.warning("document %s page %s: its job %s was lost (%s); %s", document.id, page.number, job.id, job.owner,
                    page.state.value)
    session.commit()  # the new jobs are parts of the old ones' parent before the old ones leave it
    for page, job in lost:
        requeued = page.state == PageState.QUEUED
        update_job(job.id, state=JobState.FAILED, work_ended_at=utcnow(),
                   error="its process died (worker lost); " + ("the page was queued again" if requeued
                                                               else "the page failed"),
                   **({"parent_id": None} if requeued else {}))
    for document_id in finished:
        finish_document(session, document_id)
    for parent_id in {job.parent_id for page, job in lost if job.parent_id and page.state == PageState.FAILED}:
        settle(parent_id)
    return len(lost)
