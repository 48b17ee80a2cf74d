"""Campaign-wide extraction and redaction on every core: pure work in processes, writes in batches.

:func:`redact_cases` does what :func:`~evalplat.cases.operations.process_case_documents` does — read each
waiting document's file, extract its text, redact every case — with the same results, split in two:

- **compute** (:func:`compute_case`, pure CPU, no database): decrypt and extract the waiting files,
  decrypt already extracted texts, redact the case's documents in reading order with one shared
  mapping (:func:`~evalplat.cases.operations.redact_texts`), and encrypt the new texts for their column.
  It runs in a pool of worker processes (``multiprocessing``, *forkserver*: no thread-unsafe fork of the
  web or job process), each with the key ring and the file storage rebuilt from the app's configuration.
- **store** (:func:`_store_batch`, the calling process): per batch of cases, one transaction that locks
  the cases, checks that nothing changed since the inputs were read, applies the results with the same
  functions as the sequential path (documents' states, text encrypted at rest, the redaction pending
  again when its spans change) and commits — all or nothing per batch. A case that did change meanwhile
  (a new upload, an organiser's correction) is redone the sequential way inside the same transaction.

A file that cannot be read marks its document ``failed`` with its named error, as before; the rest of the
batch is stored. Only the writer touches the database, so SQLite's single writer is never contended.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from evalplat.cases import page_ocr
from evalplat.cases.models import (
    DOCUMENT_TEXT_CONTEXT,
    Case,
    Document,
    DocumentPage,
    DocumentStatus,
    PageState,
    decrypt_column,
    encrypt_column,
)
from evalplat.cases.operations import (
    CaseTexts,
    Extraction,
    ProgressFn,
    facts_of_case,
    facts_spans_of,
    known_for_case,
    person_names,
    process_case,
    read_document,
    redact_case_texts,
    store_case_texts,
    store_extraction,
    waiting_statuses,
    zero_counts,
)
from evalplat.db import DbSession
from evalplat.files import Storage

__all__ = ["CaseWork", "DocumentWork", "WorkerSetup", "compute_case", "default_workers", "redact_cases"]

AfterBatch = Callable[[DbSession, list[Case]], None]

#: cases per transaction (and per task sent to a worker)
BATCH_SIZE = 50


@dataclass(frozen=True, slots=True)
class DocumentWork:
    """One document of a case as the compute part needs it (plain data, sent to a worker)."""

    id: int
    filename: str
    storage_key: str | None
    extract: bool  # read the file now (waiting status)
    retry_pages: bool  # queue the failed pages of a document that failed on some of its pages again
    text_token: str | None  # the stored, encrypted extracted text (None when extracting, failed or none)
    spans: tuple[Mapping[str, Any], ...]  # the stored spans (an organiser's corrections are kept)


@dataclass(frozen=True, slots=True)
class CaseWork:
    """A case's known names and its documents in reading order."""

    case_id: int
    known: Mapping[str, Sequence[str]]
    documents: tuple[DocumentWork, ...]
    facts: Mapping[str, str]  # the case's free-text fields (FACT_FIELDS)
    facts_spans: Mapping[str, Sequence[Mapping[str, Any]]]  # their stored spans (the checker's corrections)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What :func:`compute_case` returns: per document id, the extraction (with its ciphertext); the redaction
    of the documents (in reading order) and of the facts."""

    case_id: int
    extractions: dict[int, tuple[Extraction, str | None]]
    texts: CaseTexts
    retry_pages: tuple[int, ...] = ()  # documents whose failed pages are queued again


def compute_case(work: CaseWork, storage: Storage) -> CaseResult:
    """Extract and redact one case without the database (the column key ring must be configured)."""
    extractions: dict[int, tuple[Extraction, str | None]] = {}
    texts: list[tuple[str | None, Sequence[Mapping[str, Any]]]] = []
    names = person_names(work.known)
    for document in work.documents:
        if document.extract:  # a PDF's scanned pages are left to page jobs: its text is None until they are read
            extraction = read_document(storage, document.storage_key, document.filename, paged=True, names=names)
            text = extraction.text
            extractions[document.id] = (extraction, encrypt_column(text, DOCUMENT_TEXT_CONTEXT))
        else:
            text = decrypt_column(document.text_token, DOCUMENT_TEXT_CONTEXT)
        texts.append((text, document.spans))
    return CaseResult(work.case_id, extractions,
                      redact_case_texts(work.known, texts, work.facts, work.facts_spans),
                      tuple(d.id for d in work.documents if d.retry_pages))


# --- worker processes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to rebuild the key ring and the file storage (picklable).

    ``keys`` is the key ring's spec: it travels to the workers over their local pipe, as a forked
    process would inherit it.
    """

    keys: str
    storage_config: dict[str, Any]
    default_dir: str

    @classmethod
    def from_app(cls, app: Any) -> WorkerSetup:
        from evalplat.services import keyring_spec

        spec = keyring_spec(app)
        if spec is None:
            from evalplat.services import get_keyring

            get_keyring(app)  # raises the configuration error production gives without keys
            raise AssertionError("unreachable")
        config = {k: app.config.get(k) for k in ("EVALPLAT_STORAGE_URL", "EVALPLAT_S3_ENDPOINT_URL",
                                                 "EVALPLAT_S3_REGION")}
        return cls(spec, config, str(Path(app.instance_path) / "files"))


_worker: dict[str, Any] = {}


def _init_worker(setup: WorkerSetup) -> None:
    from evalplat.anonymise import warm_up
    from evalplat.files import EncryptedStorage, KeyRing, storage_from_config
    from evalplat.files.encrypted_type import configure_keyring

    try:
        keyring = KeyRing.from_string(setup.keys)
        configure_keyring(keyring)
        _worker["storage"] = EncryptedStorage(
            storage_from_config(setup.storage_config, default_dir=setup.default_dir), keyring)
        warm_up()
    except Exception as exc:  # a failing initializer makes Pool restart the worker forever: report it instead
        _worker["error"] = f"{type(exc).__name__}: {exc}"


def _compute_batch(works: Sequence[CaseWork]) -> list[CaseResult]:
    if "storage" not in _worker:
        raise RuntimeError(f"redaction worker could not start: {_worker.get('error')}")
    return [compute_case(work, _worker["storage"]) for work in works]


def default_workers(app: Any = None) -> int:
    """``EVALPLAT_REDACTION_WORKERS`` from the app's config, else one process per core."""
    configured = app.config.get("EVALPLAT_REDACTION_WORKERS") if app is not None else None
    return max(1, int(configured or os.cpu_count() or 1))


# --- the calling process: inputs and writes --------------------------------------------------------------
def _load_cases(session: DbSession, case_ids: Sequence[int]) -> list[Case]:
    return list(session.scalars(
        sa.select(Case).where(Case.id.in_(case_ids)).order_by(Case.id).options(
            selectinload(Case.parties), selectinload(Case.documents).selectinload(Document.redaction),
            selectinload(Case.facts_redaction), selectinload(Case.lawyer), selectinload(Case.firm), selectinload(Case.agency))
        .execution_options(populate_existing=True)))


def _fingerprint(case: Case) -> tuple[Any, ...]:
    """Everything the computation read from the case's rows (ciphertexts compared as stored)."""
    return (case.agency_id, case.lawyer_id, case.firm_id, tuple(facts_of_case(case).items()),
            case.facts_redaction.spans if case.facts_redaction else None,
            tuple(sorted((str(p.role), p.name_ciphertext) for p in case.parties)),
            tuple((d.id, str(d.status), d.storage_key, d.extracted_ciphertext,
                   d.redaction.spans if d.redaction else None) for d in case.documents))


def _work_of(case: Case, wanted: Sequence[DocumentStatus], pending: set[int]) -> CaseWork:
    """What the compute part needs of a case; a document waiting for its page jobs is left to them."""
    documents = []
    for d in case.documents:
        retry_pages = d.status in wanted and d.error_code == page_ocr.PAGES_FAILED
        extract = d.status in wanted and d.id not in pending and not retry_pages
        failed = d.status == DocumentStatus.FAILED
        documents.append(DocumentWork(d.id, d.original_filename, d.storage_key, extract, retry_pages,
                                      None if extract or failed else d.extracted_ciphertext,
                                      tuple(d.redaction.spans) if d.redaction else ()))
    return CaseWork(case.id, known_for_case(case), tuple(documents), facts_of_case(case), facts_spans_of(case))


def _pending(session: DbSession, case_ids: Sequence[int]) -> set[int]:
    """The documents of these cases that have scanned pages queued or being read."""
    return set(session.execute(
        sa.select(DocumentPage.document_id).join(Document, Document.id == DocumentPage.document_id)
        .where(Document.case_id.in_(case_ids), DocumentPage.method == "ocr",
               DocumentPage.state.in_((PageState.QUEUED, PageState.RUNNING)))).scalars())


def _read_batch(session: DbSession, case_ids: Sequence[int], wanted: Sequence[DocumentStatus]
                ) -> tuple[list[CaseWork], dict[int, tuple[Any, ...]]]:
    cases = _load_cases(session, case_ids)
    pending = _pending(session, case_ids)
    works = [_work_of(case, wanted, pending) for case in cases]
    prints = {case.id: _fingerprint(case) for case in cases}
    session.commit()  # end the read transaction: each batch is written in a transaction of its own
    return works, prints


def _store_batch(session: DbSession, storage: Storage, results: Sequence[CaseResult],
                 prints: Mapping[int, tuple[Any, ...]], wanted: Sequence[DocumentStatus],
                 counts: dict[str, int], after_batch: AfterBatch | None) -> None:
    """Write one batch's results in one transaction (the caller's session), then commit."""
    ids = [r.case_id for r in results]
    try:
        if ids:  # lock the batch's cases, as redact_case locks one (row locks; SQLite's write lock)
            session.execute(sa.update(Case).where(Case.id.in_(ids)).values(id=Case.id))
        cases = {case.id: case for case in _load_cases(session, ids)}
        for result in results:
            case = cases.get(result.case_id)
            if case is None:  # deleted meanwhile: nothing to store
                continue
            if _fingerprint(case) != prints.get(case.id):  # changed since it was read: redo it here
                process_case(session, case.id, storage, wanted, counts,
                             retry_failed=DocumentStatus.FAILED in wanted)
                continue
            documents = {d.id: d for d in case.documents}
            for doc_id, (extraction, ciphertext) in result.extractions.items():
                store_extraction(session, documents[doc_id], extraction, counts, ciphertext)
            for doc_id in result.retry_pages:
                counts["pages"] += page_ocr.retry_failed_pages(session, documents[doc_id])
                counts["paged"] += 1
            counts["redacted"] += store_case_texts(case, result.texts)
        if after_batch is not None:
            after_batch(session, [cases[i] for i in ids if i in cases])
        session.commit()
    except BaseException:
        session.rollback()
        raise


def redact_cases(session: DbSession, case_ids: Sequence[int], progress: ProgressFn | None = None, *,
                 retry_failed: bool = False, workers: int | None = None, batch_size: int = BATCH_SIZE,
                 after_batch: AfterBatch | None = None) -> dict[str, int]:
    """Extract every waiting document of the cases and redact each case, on ``workers`` processes.

    The same results as :func:`~evalplat.cases.operations.process_case_documents` (see the module
    docstring), committed once per batch of ``batch_size`` cases.

    Parameters
    ----------
    workers : int, optional
        Worker processes; :func:`default_workers` when None. With 1, or a single batch, everything
        runs in this process (no pool).
    after_batch : callable, optional
        ``after_batch(session, cases)`` inside each batch's transaction, after its results are stored
        and before the commit (e.g. approving the batch's redactions in bulk).

    Returns
    -------
    dict
        Counts: ``extracted``, ``failed``, ``redacted`` (documents whose redaction changed).
    """
    from flask import current_app

    from evalplat.services import get_storage

    report = progress or (lambda fraction, message: None)
    counts = zero_counts()
    wanted = waiting_statuses(retry_failed)
    storage = get_storage()
    batches = [list(case_ids[i:i + batch_size]) for i in range(0, len(case_ids), batch_size)]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    workers = min(default_workers(app) if workers is None else max(1, workers), len(batches))
    done = 0

    def finish(results: list[CaseResult], prints: Mapping[int, tuple[Any, ...]], size: int) -> None:
        nonlocal done
        _store_batch(session, storage, results, prints, wanted, counts, after_batch)
        done += size
        report(done / max(len(case_ids), 1), f"{done}/{len(case_ids)}")

    if workers <= 1:
        for batch in batches:
            works, prints = _read_batch(session, batch, wanted)
            finish([compute_case(w, storage) for w in works], prints, len(batch))
        return counts
    context = multiprocessing.get_context("forkserver")
    pool = context.Pool(workers, initializer=_init_worker, initargs=(WorkerSetup.from_app(app),))
    try:
        # keep every worker busy with a second batch queued while this process stores the oldest
        pending: deque[tuple[Any, dict[int, tuple[Any, ...]], int]] = deque()
        queue = iter(batches)
        for batch in queue:
            works, prints = _read_batch(session, batch, wanted)
            pending.append((pool.apply_async(_compute_batch, (works,)), prints, len(batch)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            future, prints, size = pending.popleft()
            results = future.get()
            finish(results, prints, size)
            queued = next(queue, None)
            if queued is not None:
                works, next_prints = _read_batch(session, queued, wanted)
                pending.append((pool.apply_async(_compute_batch, (works,)), next_prints, len(queued)))
    finally:
        pool.terminate()
        pool.join()
    return counts
