"""The write path of case intake: documents, text extraction, redaction, approval and background jobs.

Operations take the session and the actor explicitly, change rows and write their audit event in the
same transaction; the caller commits. The background tasks at the end of this module run the same
operations inside a job and commit step by step, so a long OCR never holds a write transaction.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from evalplat import jobs
from evalplat.accounts.models import User
from evalplat.anonymise import CaseMapping, Span, apply_corrections, redact, redact_many
from evalplat.anonymise import Redaction as TextRedaction
from evalplat.audit.operations import record
from evalplat.cases import importer, page_ocr
from evalplat.cases.models import (
    FACT_FIELDS,
    Case,
    CaseRedaction,
    Document,
    DocumentKind,
    DocumentPage,
    DocumentStatus,
    EvidenceChange,
    PageState,
    PartyRole,
    Redaction,
    RedactionStatus,
)
from evalplat.cases.page_ocr import start_pages
from evalplat.cases.suspicion import flags_for, merge_flags, open_count
from evalplat.db import DbSession, utcnow
from evalplat.errors import DomainError, InvalidTransition
from evalplat.extensions import db
from evalplat.extract import extract_text
from evalplat.extract.core import PagePlan, finish_pdf, ready_engine
from evalplat.extract.known_names import correct_known_names
from evalplat.extract.ocr import OcrConfig
from evalplat.files import CodedError, FileRejected, Storage
from evalplat.i18n import lazy_gettext as _l
from evalplat.jobs.models import JobRecord, JobState
from evalplat.jobs.tracking import PartsProgress, ProgressFn, on_settled, run_tracked, submit_job, update_job
from evalplat.services import get_storage

log = logging.getLogger(__name__)

MANUAL = "manual"
AUTO = "auto"
REMOVED = "removed"

# Redaction kinds an organiser may choose when adding a span by hand.
MANUAL_KINDS = ("person", "org", "place", "address", "id_card", "phone", "number")


def _no_progress(fraction: float, message: str) -> None:
    return None


# --- frozen evidence ---------------------------------------------------------------------------------------
FROZEN_MESSAGE = _l("This case is sampled in a campaign whose population is frozen: its documents can no longer "
                    "change. Ask the organiser if a file must be corrected.")


class EvidenceFrozen(DomainError):
    code = "evidence_frozen"
    status = 403


def ensure_can_change_evidence(actor: User, case: Case) -> None:
    if not case.can_change_evidence(actor):
        raise EvidenceFrozen(FROZEN_MESSAGE)


def evidence_change_reason(actor: User, case: Case, reason: str | None) -> str | None:
    """Check that ``actor`` may change the case's documents; the reason the change needs, if it is frozen.

    A case sampled by a campaign whose population is frozen keeps its file: the agency can no longer add,
    remove or reprocess documents, and the organiser must say why.
    """
    ensure_can_change_evidence(actor, case)
    if not case.evidence_frozen():
        return None
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("This case's documents are frozen for peer review: give the reason for the change "
                             "(reviewers who have scored it will see it)."), code="evidence_reason_missing")
    return reason[:2000]


def record_evidence_change(session: DbSession, *, actor: User, case: Case, action: str, reason: str,
                           documents: Sequence[Document]) -> None:
    """Audit a change to a frozen case's file and keep it for the reviewers who had scored the case."""
    from evalplat.cases.corrections import mark_samples_changed

    known = known_for_case(case)
    redacted = redact(reason, known).text
    now = utcnow()  # one time for the rows of one change: the reviewers' notice groups them by it
    for document in documents:
        session.add(EvidenceChange(case_id=case.id, actor_id=actor.id, action=action, at=now,
                                   document_kind=DocumentKind(document.kind).value if document.kind else None,
                                   reason=reason, reason_redacted=redacted))
    mark_samples_changed(session, case.id, now)
    record(session, actor_id=actor.id, action="cases.frozen_evidence_changed", object_type="case",
           object_id=case.id, after={"change": action, "documents": [d.id for d in documents], "reason": reason})


# --- uploads ---------------------------------------------------------------------------------------------
@dataclass
class UploadResult:
    added: list[Document]
    unchanged: int
    problems: list[importer.FileProblem]


def upload_documents(session: DbSession, *, actor: User, case: Case, files: Sequence[tuple[str, bytes]],
                     storage: Storage, kind: DocumentKind | None = None, stop_on_bad: bool = False,
                     reason: str | None = None) -> UploadResult:
    """Add files uploaded on the case page: each checked by content; bad ones reported by name.

    Parameters
    ----------
    files : sequence of (original file name, content)
    stop_on_bad : bool
        Refuse the whole upload (write nothing) when any file is bad, instead of skipping it.
    reason : str, optional
        Why the file of a frozen case changes (required then; only an organiser may change it).

    Raises
    ------
    DomainError
        With ``stop_on_bad`` and a bad file: the message names the file and the problem; a frozen case
        changed by its agency (:class:`EvidenceFrozen`) or by the organiser without a reason.
    """
    from evalplat.files import sniff

    frozen_reason = evidence_change_reason(actor, case, reason)

    problems: list[importer.FileProblem] = []
    for name, data in files:
        try:
            sniff(data, name)
        except FileRejected as exc:
            problems.append(importer.FileProblem.from_rejection(exc))
    if problems and stop_on_bad:
        raise DomainError(problems[0].message(), code=problems[0].code)
    bad = {p.filename for p in problems}
    added: list[Document] = []
    unchanged = 0
    writer = importer.DocumentWriter(session, storage, [case.id])
    with storage.batch():  # the files are durable before the caller commits the rows
        for name, data in files:
            if name in bad:
                continue
            document = writer.add(case.id, data, name, kind)
            if document is None:
                unchanged += 1
            else:
                added.append(document)
        session.flush()
    if added:
        record(session, actor_id=actor.id, action="cases.documents_upload", object_type="case", object_id=case.id,
               after={"documents": [d.id for d in added], "bad_files": [p.code for p in problems]})
        if frozen_reason:
            record_evidence_change(session, actor=actor, case=case, action="document_added", reason=frozen_reason,
                                   documents=added)
    return UploadResult(added, unchanged, problems)


def delete_document(session: DbSession, *, actor: User, document: Document, reason: str | None = None) -> None:
    """Remove a document (e.g. a wrong or unreadable file) from its case; a frozen case's only by the
    organiser, with a reason."""
    frozen_reason = evidence_change_reason(actor, document.case, reason)
    record(session, actor_id=actor.id, action="cases.document_delete", object_type="document",
           object_id=document.id, before={"case_id": document.case_id, "status": document.status,
                                          "storage_key": document.storage_key})
    if frozen_reason:
        record_evidence_change(session, actor=actor, case=document.case, action="document_removed",
                               reason=frozen_reason, documents=[document])
    session.delete(document)


# --- extraction ------------------------------------------------------------------------------------------
def _error_detail(exc: CodedError) -> str:
    return json.dumps({"zh": exc.message("zh"), "en": exc.message("en")}, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Extraction:
    """What reading one stored file gave: its text, or the named error that marks the document failed, or
    (``pages``) the plan of a PDF or image whose scanned pages are to be read by page jobs.

    Plain data (no database objects), so that worker processes can compute it (see
    :mod:`evalplat.cases.batch_redaction`).
    """

    text: str | None
    ocr_used: bool = False
    page_count: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    ocr_engine: str | None = None
    ocr_model: str | None = None
    pages: PagePlan | None = None
    names_corrected: int = 0


#: the categories of :func:`known_for_case` that are people's names (OCR'd text is corrected towards them)
PERSON_CATEGORIES = ("person", "judge", "lawyer")


def person_names(known: Mapping[str, Sequence[str]]) -> list[str]:
    """The people's names among a case's known names (:func:`known_for_case`)."""
    return [name for category in PERSON_CATEGORIES for name in known.get(category, ())]


def correct_ocr_pages(text: str, pages: Iterable[tuple[int, int]], names: Sequence[str]) -> tuple[str, int]:
    """:func:`~evalplat.extract.known_names.correct_known_names` on the OCR'd stretches ``(start, end)`` of a
    text only (a text layer is never changed); the text and the number of names put back.

    Nothing is changed when ``EVALPLAT_OCR_KNOWN_NAMES=0`` (:attr:`~evalplat.extract.ocr.OcrConfig.known_names`).
    """
    if not names or not OcrConfig.from_env().known_names:
        return text, 0
    count = 0
    for start, end in pages:
        corrected, changes = correct_known_names(text[start:end], names)
        if changes:
            text = text[:start] + corrected + text[end:]
            count += len(changes)
    return text, count


def read_document(storage: Storage, storage_key: str | None, filename: str,
                  progress: ProgressFn = _no_progress, *, paged: bool = False,
                  names: Sequence[str] = ()) -> Extraction:
    """Read, decrypt and extract one stored file (OCR where needed); a bad file gives its named error.

    Parameters
    ----------
    paged : bool
        A PDF with scanned pages, or an image, is not OCR'd here: the result carries its plan (``pages``) and no text,
        and the caller queues its page jobs (:func:`evalplat.cases.page_ocr.queue_pages`).
    names : sequence of str
        The case's people's names (:func:`person_names`): a name OCR misread by one look-alike character is
        put back (:func:`correct_ocr_pages`).
    """
    try:
        data = storage.get(storage_key or "")
        plan = page_ocr.scan_plan(data, filename) if paged else None
        if plan is not None and plan.todo:
            ready_engine(filename, OcrConfig.from_env())  # no engine: the named error, as when read whole
            return Extraction(None, page_count=plan.page_count, pages=plan)
        if plan is not None:  # text layers only: the plan is the whole reading
            result = finish_pdf(plan.texts, [], plan.warnings, (None, None))
        else:
            result = extract_text(data, filename, progress=progress)
    except CodedError as exc:
        return Extraction(None, error_code=exc.code, error_detail=_error_detail(exc))
    text, corrected = correct_ocr_pages(result.text, [(p.start, p.end) for p in result.pages if p.method == "ocr"],
                                        names)
    return Extraction(text, result.ocr_used, result.page_count, ocr_engine=result.ocr_engine,
                      ocr_model=result.ocr_model, names_corrected=corrected)


def apply_extraction(document: Document, extraction: Extraction, ciphertext: str | None = None) -> bool:
    """Store an :class:`Extraction` on its document: the text (encrypted) and ``extracted``, or ``failed``.

    ``ciphertext`` is the text already encrypted for the column (by a worker process); the text is
    encrypted here otherwise. Returns True when text was extracted.
    """
    if extraction.text is None:
        document.status = DocumentStatus.FAILED
        document.error_code = extraction.error_code
        document.error_detail = extraction.error_detail
        return False
    if ciphertext is None:
        document.extracted_text = extraction.text
    else:
        document.extracted_ciphertext = ciphertext
    document.ocr_used = extraction.ocr_used
    document.ocr_engine = extraction.ocr_engine
    document.ocr_model = extraction.ocr_model
    document.page_count = extraction.page_count
    document.error_code = None
    document.error_detail = None
    document.status = DocumentStatus.EXTRACTED
    return True


def extract_document(session: DbSession, document: Document, storage: Storage,
                     progress: ProgressFn = _no_progress) -> bool:
    """Extract a document's text (OCR where needed); on a bad file mark it failed with the named error.

    Returns
    -------
    bool
        True when text was extracted, False when the document failed (its ``error_code`` says why).
    """
    names = person_names(known_for_case(document.case))
    return apply_extraction(document, read_document(storage, document.storage_key, document.original_filename,
                                                    progress, names=names))


# --- redaction -------------------------------------------------------------------------------------------
_PARTY_KNOWN = {PartyRole.JUDGE: "judge", PartyRole.COURT: "court", PartyRole.PROSECUTOR: "person"}


def known_for_case(case: Case) -> dict[str, list[str]]:
    """What the case's metadata names: parties, lawyer, firm, agency, court and places of the region."""
    known: dict[str, list[str]] = {}

    def add(category: str, name: str | None) -> None:
        if name and name.strip() and name.strip() not in known.setdefault(category, []):
            known[category].append(name.strip())

    for party in case.parties:
        add(_PARTY_KNOWN.get(party.role, "person"), party.name)
    if case.lawyer is not None:
        add("lawyer", case.lawyer.name)
        if case.lawyer.firm is not None:
            add("firm", case.lawyer.firm.name)
    if case.firm is not None:
        add("firm", case.firm.name)
    add("agency", case.agency.name)
    for region in (case.agency.region, case.agency.city):
        if region is not None:
            add("place", region.name)
    return known


def _spans_of(document: Document, text: str) -> list[Span]:
    """The document's stored (non-removed) spans as :class:`Span` objects, originals taken from the text."""
    return _spans_from(document.redaction.spans if document.redaction else [], text)


def _spans_from(stored: Iterable[Mapping[str, Any]], text: str) -> list[Span]:
    """Stored (non-removed) spans as :class:`Span` objects, originals taken from the text."""
    spans = []
    for item in stored:
        if item.get("source") == REMOVED:
            continue
        spans.append(Span(item["start"], item["end"], item["category"], text[item["start"]:item["end"]],
                          item["placeholder"], item["kind"], item.get("detector", item.get("source", AUTO))))
    return spans


def _stored(spans: Iterable[Span], removed: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Spans as stored: offsets, category, kind, placeholder, source — never the original string."""
    out = [{"start": s.start, "end": s.end, "category": s.category, "kind": s.kind, "placeholder": s.placeholder,
            "detector": s.detector, "source": MANUAL if s.detector == "manual" else AUTO} for s in spans]
    out.extend(dict(r) for r in removed)
    return sorted(out, key=lambda s: (s["start"], s["end"]))


def _save_redaction(document: Document, text: str, spans: Sequence[Span],
                    removed: Iterable[Mapping[str, Any]] = ()) -> bool:
    """Store spans and redacted text; a change sends an approved redaction back to pending. True if changed."""
    from evalplat.anonymise import render

    stored = _stored(spans, removed)
    if document.redaction is not None:  # the checker's own change supersedes what a re-run proposed
        document.redaction.proposed_spans = document.redaction.proposed_text = None
    return store_redaction(document, stored, render(text, spans), flags_for(text, stored))


def store_redaction(document: Document, stored: list[dict[str, Any]], redacted_text: str,
                    flags: Sequence[Mapping[str, Any]] | None = None, *, propose: bool = False) -> bool:
    """Store computed spans (as :func:`_stored` gives them), the redacted text and the checker's flags.

    A change sends an approved redaction back to pending — unless ``propose`` (a re-run of the redactor):
    then an approved redaction stays as approved, text and all, and the new spans and text are kept as a
    proposal for the checker (:func:`settle_proposals`). The document becomes ``redacted`` unless it is
    approved and stays so.

    Returns
    -------
    bool
        True if the spans (or, for an approved redaction re-run, the proposal) changed.
    """
    redaction = document.redaction
    if redaction is None:
        redaction = Redaction(spans=stored, status=RedactionStatus.PENDING, flags=[], open_flags=0)
        document.redaction = redaction
        changed = True
    elif propose and redaction.status == RedactionStatus.APPROVED:
        wanted = None if redaction.spans == stored else stored
        changed = redaction.proposed_spans != wanted
        redaction.proposed_spans = wanted
        redaction.proposed_text = None if wanted is None else redacted_text
        return changed
    else:
        changed = redaction.spans != stored
        if changed:
            redaction.spans = stored
            redaction.status = RedactionStatus.PENDING
            redaction.approved_by_id = None
            redaction.approved_at = None
    if flags is not None:
        redaction.flags = merge_flags(flags, redaction.flags or [])
        redaction.open_flags = open_count(redaction.flags)
    document.redacted_text = redacted_text
    if changed or document.status != DocumentStatus.APPROVED:
        document.status = DocumentStatus.REDACTED
    return changed


@dataclass(frozen=True, slots=True)
class FactsResult:
    """The redaction of a case's free-text fields (plain data: worker processes compute it)."""

    fields: dict[str, str]
    spans: dict[str, list[dict[str, Any]]]
    flags: list[dict[str, Any]]


def redact_facts(known: Mapping[str, Sequence[str]], facts: Mapping[str, str | None],
                 mapping: CaseMapping | None = None,
                 stored: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> FactsResult:
    """Redact the case's :data:`~evalplat.cases.models.FACT_FIELDS` as its documents are redacted.

    ``mapping`` is the one the case's documents were redacted with, so that a name has the same
    placeholder in the facts as in the documents; ``stored`` holds each field's current spans, whose
    added and kept stretches (the checker's corrections) are applied again.
    """
    mapping = mapping if mapping is not None else CaseMapping()
    fields: dict[str, str] = {}
    spans: dict[str, list[dict[str, Any]]] = {}
    flags: list[dict[str, Any]] = []
    for name in FACT_FIELDS:
        text = (facts.get(name) or "").strip()
        if not text:
            fields[name], spans[name] = "", []
            continue
        spans[name], fields[name], leads = _redact_keeping_corrections(text, known, (stored or {}).get(name, ()),
                                                                       mapping)
        flags.extend({**flag, "field": name} for flag in flags_for(text, spans[name], leads))
    return FactsResult(fields, spans, flags)


def facts_of_case(case: Case) -> dict[str, str]:
    """The case's free-text fields as :func:`redact_facts` reads them."""
    return {name: getattr(case, name) or "" for name in FACT_FIELDS}


def facts_spans_of(case: Case) -> dict[str, list[dict[str, Any]]]:
    """The case facts' stored spans by field (the checker's corrections among them); empty before a redaction."""
    row = case.facts_redaction
    return {name: list((row.spans or {}).get(name, [])) for name in FACT_FIELDS} if row is not None else {}


def store_facts(case: Case, result: FactsResult) -> bool:
    """Store the facts' redaction; as :func:`store_redaction` with ``propose``: an approved one is never
    replaced, a different result becomes its proposal. True if something changed."""
    row = case.facts_redaction
    if row is None:
        case.facts_redaction = CaseRedaction(fields=result.fields, spans=result.spans,
                                             flags=list(result.flags), open_flags=open_count(result.flags),
                                             status=RedactionStatus.PENDING)
        return True
    if row.status == RedactionStatus.APPROVED:
        wanted = None if (row.fields, row.spans) == (result.fields, result.spans) else \
            {"fields": result.fields, "spans": result.spans}
        changed = row.proposed != wanted
        row.proposed = wanted
        return changed
    changed = (row.fields, row.spans) != (result.fields, result.spans)
    row.fields, row.spans = result.fields, result.spans
    row.flags = merge_flags(result.flags, row.flags or [])
    row.open_flags = open_count(row.flags)
    return changed


def _lock_case(session: DbSession, case_id: int) -> None:
    """Serialise redaction of one case (a row lock on PostgreSQL, the write lock on SQLite)."""
    session.execute(sa.update(Case).where(Case.id == case_id).values(id=Case.id))


def _load_case(session: DbSession, case_id: int) -> Case:
    case = session.execute(
        sa.select(Case).where(Case.id == case_id).options(
            selectinload(Case.parties), selectinload(Case.documents).selectinload(Document.redaction),
            selectinload(Case.facts_redaction))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if case is None:
        raise DomainError(_l("The case does not exist."), code="case_missing", status=404)
    return case


#: what the redactor took for a person in one text (``Redaction.leads``), read by :func:`flags_for`
Leads = tuple[tuple[int, int], ...] | None


def redact_texts(known: Mapping[str, Sequence[str]],
                 documents: Sequence[tuple[str | None, Sequence[Mapping[str, Any]]]],
                 mapping: CaseMapping | None = None) -> list[tuple[list[dict[str, Any]], str] | None]:
    """The automatic redaction of a case's documents, in reading order, keeping an organiser's corrections.

    Pure computation (no database): worker processes run it too (:mod:`evalplat.cases.batch_redaction`).

    Parameters
    ----------
    known : mapping
        :func:`known_for_case` of the case.
    documents : sequence of (text, stored spans)
        Every document of the case in reading order: its extracted text (None when it is not to be
        redacted: no text yet, or failed) and its currently stored spans (manual and removed ones are kept).
    mapping : CaseMapping, optional
        The case's placeholders (a new one when None); the caller may go on with it (:func:`redact_facts`).

    Returns
    -------
    list
        Per document, ``(spans as stored, redacted text)``, or None where the text was None.
    """
    return [None if r is None else r[:2] for r in _redact_texts(known, documents, mapping)]


def _redact_texts(known: Mapping[str, Sequence[str]],
                  documents: Sequence[tuple[str | None, Sequence[Mapping[str, Any]]]],
                  mapping: CaseMapping | None = None) -> list[tuple[list[dict[str, Any]], str, Leads] | None]:
    """:func:`redact_texts` with each text's leads for its flags (``Redaction.leads``)."""
    # shared, so the same person has the same placeholder in every document
    mapping = mapping if mapping is not None else CaseMapping()
    present = [(text, stored) for text, stored in documents if text is not None]
    # the model's windows of all the case's documents are encoded together; each document is finished
    # (and its corrections recorded in the mapping) before the next, as one redact() after another
    redactions = redact_many([text for text, _ in present], known, mapping=mapping)
    done = iter([_redact_keeping_corrections(text, known, stored, mapping, next(redactions))
                 for text, stored in present])
    return [None if text is None else next(done) for text, _ in documents]


def _redact_keeping_corrections(text: str, known: Mapping[str, Sequence[str]], stored: Sequence[Mapping[str, Any]],
                                mapping: CaseMapping, automatic: TextRedaction | None = None
                                ) -> tuple[list[dict[str, Any]], str, Leads]:
    """The automatic redaction of one text (``automatic`` when the caller has it already) with the
    checker's added (manual) and kept (removed) stretches of its ``stored`` spans applied again: (spans
    as stored, redacted text, the redactor's leads for the flags). Documents and case facts alike."""
    if automatic is None:
        automatic = redact(text, known, mapping=mapping)
    manual = [(s["start"], s["end"], s["kind"]) for s in stored
              if s.get("source") == MANUAL and s["end"] <= len(text)]
    removed = [dict(s) for s in stored if s.get("source") == REMOVED]
    removable = {(s.start, s.end) for s in automatic.spans}
    dropped = [(r["start"], r["end"]) for r in removed if (r["start"], r["end"]) in removable]
    if manual or dropped:
        result = apply_corrections(text, automatic.spans, add=manual, mapping=mapping, propagate=False,
                                   remove=dropped)
        return _stored(result.spans, removed), result.text, automatic.leads
    # apply_corrections without corrections: it only records the spans in the mapping (which
    # later documents see) and sorts them; the rendered text is the automatic one.
    for span in automatic.spans:
        mapping.observe(span.kind, span.original, span.placeholder)
    return _stored(sorted(automatic.spans, key=lambda s: s.start), removed), automatic.text, automatic.leads


@dataclass(frozen=True, slots=True)
class CaseTexts:
    """Everything :func:`redact_case_texts` computes for one case (plain data)."""

    documents: list[tuple[list[dict[str, Any]], str, list[dict[str, Any]]] | None]
    facts: FactsResult


def redact_case_texts(known: Mapping[str, Sequence[str]],
                      documents: Sequence[tuple[str | None, Sequence[Mapping[str, Any]]]],
                      facts: Mapping[str, str | None],
                      facts_spans: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> CaseTexts:
    """The documents (:func:`redact_texts`) with their flags, then the facts (with their stored spans,
    ``facts_spans``, as :func:`facts_spans_of` gives them), with one mapping. Pure."""
    mapping = CaseMapping()
    computed = _redact_texts(known, documents, mapping)
    out: list[tuple[list[dict[str, Any]], str, list[dict[str, Any]]] | None] = []
    for (text, _spans), result in zip(documents, computed, strict=True):
        out.append(None if result is None or text is None
                   else (*result[:2], flags_for(text, result[0], result[2])))
    return CaseTexts(out, redact_facts(known, facts, mapping, facts_spans))


def store_case_texts(case: Case, computed: CaseTexts) -> int:
    """Store what :func:`redact_case_texts` computed for the case's documents (in reading order) and facts.

    A re-run never replaces an approved redaction: it proposes (:func:`store_redaction`). Returns the
    documents whose redaction (or proposal) changed.
    """
    changed = 0
    for document, result in zip(case.documents, computed.documents, strict=True):
        if result is not None:
            changed += store_redaction(document, result[0], result[1], result[2], propose=True)
    store_facts(case, computed.facts)
    return changed


def redactable_text(document: Document) -> str | None:
    """The text :func:`redact_case` redacts: the extracted text, unless the document failed."""
    if document.status == DocumentStatus.FAILED:
        return None
    return document.extracted_text


def redact_case(session: DbSession, case_id: int) -> int:
    """(Re)compute the automatic redaction of every extracted document of a case, in reading order.

    One :class:`~evalplat.anonymise.CaseMapping` is shared by the documents and the case's free-text
    fields, so the same person has the same placeholder everywhere; an organiser's added and removed spans
    are kept. A pending redaction whose spans change is replaced; an approved one keeps its text and gets
    the new result as a proposal for the checker.

    Returns
    -------
    int
        Documents whose redaction changed.
    """
    _lock_case(session, case_id)
    case = _load_case(session, case_id)
    computed = redact_case_texts(known_for_case(case), [
        (redactable_text(d), d.redaction.spans if d.redaction else []) for d in case.documents],
        facts_of_case(case), facts_spans_of(case))
    return store_case_texts(case, computed)


def _case_mapping(case: Case) -> CaseMapping:
    mapping = CaseMapping()
    for document in case.documents:
        text = document.extracted_text
        if text is None:
            continue
        for span in _spans_of(document, text):
            mapping.observe(span.kind, span.original, span.placeholder)
    return mapping


def redact_for_case(case: Case, text: str) -> str:
    """Any other text about the case (an appeal's reason, an attachment) redacted as its documents are: the
    same known names, and the placeholders its documents already use."""
    if not text.strip():
        return text
    return redact(text, known_for_case(case), mapping=_case_mapping(case)).text


def _editable(document: Document) -> str:
    text = document.extracted_text
    if text is None or document.redaction is None:
        raise InvalidTransition(_l("This document has no redaction yet; wait for its text extraction."),
                                code="not_redacted")
    return text


def add_span(session: DbSession, *, actor: User, document: Document, start: int | None = None,
             end: int | None = None, text: str | None = None, kind: str = "person") -> int:
    """Redact more: a stretch given by offsets, or every occurrence of a string in the case's documents.

    Returns
    -------
    int
        Spans added.
    """
    original = _editable(document)
    if kind not in MANUAL_KINDS:
        raise DomainError(_l("Unknown kind of redaction."), code="bad_kind")
    case = _load_case(session, document.case_id)
    mapping = _case_mapping(case)
    selection: list[tuple[int, int, str]] = []  # the offsets given, when no string is
    if text:
        targets = [d for d in case.documents if d.extracted_text is not None and d.redaction is not None]
        needle = text
    else:
        if start is None or end is None or not 0 <= start < end <= len(original):
            raise DomainError(_l("The selection lies outside the text (0–%(n)d).", n=len(original)),
                              code="bad_offsets")
        targets = [document]
        needle = original[start:end]
        selection = [(start, end, kind)]
    added = 0
    for target in targets:
        body = target.extracted_text or ""
        spans = _spans_of(target, body)
        if text:
            first = body.find(needle)
            if first < 0:
                continue
            additions = [(first, first + len(needle), kind)]
        else:
            additions = selection
        result = apply_corrections(body, spans, add=additions, mapping=mapping, propagate=True)
        removed = [s for s in target.redaction.spans if s.get("source") == REMOVED] if target.redaction else []
        before = len(spans)
        if _save_redaction(target, body, result.spans, removed):
            added += max(len(result.spans) - before, 1)
    if text and added == 0:
        raise DomainError(_l("“%(text)s” does not occur in the case's documents.", text=needle),
                          code="text_not_found")
    record(session, actor_id=actor.id, action="cases.redaction_add", object_type="document", object_id=document.id,
           after={"kind": kind, "by": "text" if text else "offsets", "length": len(needle), "added": added})
    return added


def remove_span(session: DbSession, *, actor: User, document: Document, start: int, end: int) -> None:
    """Keep a stretch the automatic redaction had removed (remembered across re-redaction)."""
    text = _editable(document)
    spans = _spans_of(document, text)
    target = next((s for s in spans if (s.start, s.end) == (start, end)), None)
    if target is None:
        raise DomainError(_l("That span does not exist (any more); reload the page."), code="no_span")
    result = apply_corrections(text, spans, remove=[(start, end)], propagate=False)
    assert document.redaction is not None
    removed = [s for s in document.redaction.spans if s.get("source") == REMOVED]
    if target.detector != "manual":
        removed.append({"start": start, "end": end, "category": target.category, "kind": target.kind,
                        "placeholder": target.placeholder, "detector": target.detector, "source": REMOVED})
    _save_redaction(document, text, result.spans, removed)
    record(session, actor_id=actor.id, action="cases.redaction_remove", object_type="document",
           object_id=document.id, after={"start": start, "end": end, "kind": target.kind})


def _fact_text(case: Case, field: str) -> tuple[CaseRedaction, str]:
    """The facts' redaction and the field's text as :func:`redact_facts` read it (offsets refer to it)."""
    if field not in FACT_FIELDS:
        raise DomainError(_l("Unknown case fact."), code="bad_field")
    text = (getattr(case, field) or "").strip()
    row = case.facts_redaction
    if row is None or not text:
        raise InvalidTransition(_l("This case fact has no redaction yet."), code="not_redacted")
    return row, text


def _save_fact(case: Case, field: str, text: str, spans: Sequence[Span], removed: Iterable[Mapping[str, Any]]) -> bool:
    """Store one fact's corrected spans and text: the facts (and so the case) need approval again, the
    field's flags are computed again (dismissals kept), a re-run's proposal is superseded. True if changed."""
    from evalplat.anonymise import render

    row = case.facts_redaction
    assert row is not None
    stored = _stored(spans, removed)
    if (row.spans or {}).get(field) == stored:
        return False
    row.spans = {**(row.spans or {}), field: stored}
    row.fields = {**(row.fields or {}), field: render(text, spans)}
    others = [f for f in row.flags or [] if f.get("field") != field]
    row.flags = merge_flags(others + [{**f, "field": field} for f in flags_for(text, stored)], row.flags or [])
    row.open_flags = open_count(row.flags)
    row.proposed = None
    row.status, row.approved_by_id, row.approved_at = RedactionStatus.PENDING, None, None
    return True


def add_fact_span(session: DbSession, *, actor: User, case: Case, field: str, start: int | None = None,
                  end: int | None = None, text: str | None = None, kind: str = "person") -> int:
    """Redact more of a case fact (案由, 办理阶段, 办理结果): a stretch given by offsets, or every occurrence of a
    string in the field. The case needs approval again. Returns the spans added."""
    row, original = _fact_text(case, field)
    if kind not in MANUAL_KINDS:
        raise DomainError(_l("Unknown kind of redaction."), code="bad_kind")
    if text:
        start = original.find(text)
        if start < 0:
            raise DomainError(_l("“%(text)s” does not occur in this case fact.", text=text), code="text_not_found")
        end = start + len(text)
    elif start is None or end is None or not 0 <= start < end <= len(original):
        raise DomainError(_l("The selection lies outside the text (0–%(n)d).", n=len(original)), code="bad_offsets")
    stored = (row.spans or {}).get(field, [])
    spans = _spans_from(stored, original)
    result = apply_corrections(original, spans, add=[(start, end, kind)], mapping=_case_mapping(case), propagate=True)
    removed = [s for s in stored if s.get("source") == REMOVED]
    added = max(len(result.spans) - len(spans), 1) if _save_fact(case, field, original, result.spans, removed) else 0
    record(session, actor_id=actor.id, action="cases.facts_redaction_add", object_type="case", object_id=case.id,
           after={"field": field, "kind": kind, "by": "text" if text else "offsets", "length": end - start,
                  "added": added})
    return added


def remove_fact_span(session: DbSession, *, actor: User, case: Case, field: str, start: int, end: int) -> None:
    """Keep a stretch of a case fact that the automatic redaction had removed (remembered across re-runs).
    The case needs approval again."""
    row, original = _fact_text(case, field)
    stored = (row.spans or {}).get(field, [])
    spans = _spans_from(stored, original)
    target = next((s for s in spans if (s.start, s.end) == (start, end)), None)
    if target is None:
        raise DomainError(_l("That span does not exist (any more); reload the page."), code="no_span")
    result = apply_corrections(original, spans, remove=[(start, end)], propagate=False)
    removed = [s for s in stored if s.get("source") == REMOVED]
    if target.detector != "manual":
        removed.append({"start": start, "end": end, "category": target.category, "kind": target.kind,
                        "placeholder": target.placeholder, "detector": target.detector, "source": REMOVED})
    _save_fact(case, field, original, result.spans, removed)
    record(session, actor_id=actor.id, action="cases.facts_redaction_remove", object_type="case", object_id=case.id,
           after={"field": field, "start": start, "end": end, "kind": target.kind})


def approve_redaction(session: DbSession, *, actor: User, case: Case) -> int:
    """Approve the redaction of every document of the case; from now on reviewers may read them.

    Raises
    ------
    InvalidTransition
        When the case has no documents, or one is not yet redacted (still extracting, or failed).
    """
    approved = _approve_documents(actor, case, utcnow())
    record(session, actor_id=actor.id, action="cases.redaction_approve", object_type="case", object_id=case.id,
           after={"documents": approved})
    return len(approved)


def approve_redactions(session: DbSession, *, actor: User, cases: Sequence[Case]) -> int:
    """Approve the redactions of several cases (all or none) with one audit event for the batch.

    The event (``cases.redaction_approve_batch``) names every case and, per case, every document approved,
    so the trail says exactly what :func:`approve_redaction` would have said case by case; one append to
    the audit chain instead of one per case keeps concurrent workers from queueing on its lock.

    Returns
    -------
    int
        Documents approved.

    Raises
    ------
    InvalidTransition
        When a case has no documents, or one is not yet redacted; nothing is approved then.
    """
    now = utcnow()
    for case in cases:  # check all before changing any
        _approvable(case)
    approved = {case.id: _approve_documents(actor, case, now) for case in cases}
    if approved:
        record(session, actor_id=actor.id, action="cases.redaction_approve_batch", object_type="case",
               object_id=None, after={"cases": [{"case": case_id, "documents": documents}
                                                for case_id, documents in approved.items()]})
    return sum(len(documents) for documents in approved.values())


def _approvable(case: Case) -> list[Document]:
    documents = list(case.documents)
    if not documents:
        raise InvalidTransition(_l("The case has no documents to approve."), code="no_documents")
    waiting = [d for d in documents if d.redaction is None or d.status not in
               (DocumentStatus.REDACTED, DocumentStatus.APPROVED)]
    if waiting:
        raise InvalidTransition(
            _l("%(n)d document(s) are not redacted yet (still processing, or failed: retry or remove them).",
               n=len(waiting)), code="not_all_redacted")
    return documents


def _approve_documents(actor: User, case: Case, now: datetime) -> list[int]:
    """Mark every document and the facts of a checked case approved; the document ids not approved yet.

    From then on the case is released: reviewers are offered it (:func:`evalplat.cases.queries.released`).
    """
    approved = []
    for document in _approvable(case):
        assert document.redaction is not None
        if document.redaction.status != RedactionStatus.APPROVED:
            document.redaction.status = RedactionStatus.APPROVED
            document.redaction.approved_by_id = actor.id
            document.redaction.approved_at = now
            approved.append(document.id)
        document.status = DocumentStatus.APPROVED
    if case.facts_redaction is None:  # a case redacted before the facts were: redact them now
        store_facts(case, redact_facts(known_for_case(case), facts_of_case(case), _case_mapping(case)))
    facts = case.facts_redaction
    assert facts is not None
    if facts.status != RedactionStatus.APPROVED:
        facts.status, facts.approved_by_id, facts.approved_at = RedactionStatus.APPROVED, actor.id, now
    return approved


def settle_proposals(session: DbSession, *, actor: User, case: Case, accept: bool) -> int:
    """Accept (the proposed text becomes the approved one) or reject what a re-run of the redactor proposed.

    Accepting is the checker's approval of the new text: it stays approved, under the actor's name.
    Returns the number of proposals settled (documents, and the facts counted as one).
    """
    now = utcnow()
    settled: list[str] = []
    for document in case.documents:
        redaction = document.redaction
        if redaction is None or redaction.proposed_spans is None:
            continue
        if accept:
            text = document.extracted_text or ""
            redaction.spans = redaction.proposed_spans
            document.redacted_text = redaction.proposed_text
            redaction.flags = merge_flags(flags_for(text, redaction.spans), redaction.flags or [])
            redaction.open_flags = open_count(redaction.flags)
            redaction.approved_by_id, redaction.approved_at = actor.id, now
        redaction.proposed_spans = redaction.proposed_text = None
        settled.append(f"document:{document.id}")
    facts = case.facts_redaction
    if facts is not None and facts.proposed is not None:
        if accept:
            facts.fields, facts.spans = facts.proposed["fields"], facts.proposed["spans"]
            texts = facts_of_case(case)
            facts.flags = merge_flags([{**f, "field": name} for name in FACT_FIELDS
                                       for f in flags_for(texts[name], facts.spans.get(name, []))], facts.flags or [])
            facts.open_flags = open_count(facts.flags)
            facts.approved_by_id, facts.approved_at = actor.id, now
        facts.proposed = None
        settled.append("facts")
    if settled:
        record(session, actor_id=actor.id, action="cases.redaction_proposal_accept" if accept
               else "cases.redaction_proposal_reject", object_type="case", object_id=case.id,
               after={"settled": settled})
    return len(settled)


def dismiss_flags(session: DbSession, *, actor: User, case: Case, target: str | None = None,
                  start: int | None = None, end: int | None = None) -> int:
    """The checker has looked: mark flags as fine. One flag (``target`` "document:<id>" or "facts:<field>"
    with its offsets), or every open flag of the case when ``target`` is None. Returns flags dismissed."""
    def dismiss(flags: list[Any], field: str | None, doc: bool) -> tuple[list[Any], int]:
        out, n = [], 0
        for flag in flags:
            item = dict(flag)
            hit = target is None or (item["start"], item["end"]) == (start, end) and (doc or item.get("field") == field)
            if hit and not item.get("dismissed"):
                item["dismissed"] = True
                n += 1
            out.append(item)
        return out, n

    total = 0
    for document in case.documents:
        redaction = document.redaction
        if redaction is None or (target is not None and target != f"document:{document.id}"):
            continue
        redaction.flags, n = dismiss(redaction.flags or [], None, True)
        redaction.open_flags = open_count(redaction.flags)
        total += n
    facts = case.facts_redaction
    if facts is not None and (target is None or target.startswith("facts:")):
        field = None if target is None else target.partition(":")[2]
        facts.flags, n = dismiss(facts.flags or [], field, False)
        facts.open_flags = open_count(facts.flags)
        total += n
    if target is not None and total == 0:
        raise DomainError(_l("That flag does not exist (any more); reload the page."), code="no_flag")
    record(session, actor_id=actor.id, action="cases.redaction_flags_dismiss", object_type="case", object_id=case.id,
           after={"target": target or "all", "dismissed": total})
    return total


# --- background jobs -------------------------------------------------------------------------------------
def process_documents(*, actor_id: int | None, document_ids: Iterable[int]) -> list[str]:
    """Queue text extraction and redaction of each document as its own job (so each can be retried alone).

    Called by views and commands after the documents are committed; commits the job records.
    """
    job_ids = [submit_job(db.session, "cases.process_document", actor_id=actor_id, object_type="document",
                          object_id=ident, args=(ident,)) for ident in document_ids]
    db.session.commit()
    return job_ids


def _storage() -> Storage:
    return get_storage()


class DocumentFailed(Exception):
    """Raised by a job whose document could not be read, so the job shows as failed and can be retried."""

    def __init__(self, document: Document) -> None:
        detail = json.loads(document.error_detail or "{}")
        super().__init__(f"document {document.id}: {document.error_code}: {detail.get('en', '')}")
        self.document_id = document.id
        self.code = document.error_code


def process_document(session: DbSession, document_id: int, progress: ProgressFn = _no_progress) -> Document:
    """Extract one document's text and redact its case; commits after each step.

    A PDF with scanned pages, or an image, is split into page jobs instead (:mod:`evalplat.cases.page_ocr`): the
    document stays ``extracting`` and the job of its last page assembles and redacts it.

    Raises
    ------
    DocumentFailed
        When the file cannot be read (the document is left ``failed`` with the named error).
    """
    document = session.get(Document, document_id)
    if document is None:
        raise DomainError(_l("The document does not exist."), code="document_missing", status=404)
    document.status = DocumentStatus.EXTRACTING
    session.commit()
    progress(0.05, "extract")
    queued = start_pages(session, document, _storage())
    if queued:  # a scan: each page is a job of its own; the last one assembles and redacts the document
        progress(1.0, f"OCR: {queued} pages queued")
        return document
    ok = extract_document(session, document, _storage(), lambda f, m: progress(0.05 + 0.8 * f, m))
    record(session, actor_id=None, action="cases.document_extract", object_type="document", object_id=document.id,
           after={"status": document.status, "error_code": document.error_code, "ocr": document.ocr_used})
    session.commit()
    if not ok:
        raise DocumentFailed(document)
    progress(0.9, "redact")
    redact_case(session, document.case_id)
    session.commit()
    progress(1.0, "done")
    return document


@jobs.task("cases.process_document", timeout=3 * 3600)
def process_document_task(job_id: str, document_id: int) -> str:
    """Background task: extract and redact one document."""
    def work(progress: ProgressFn) -> str:
        document = process_document(db.session, document_id, progress)
        return f"document {document.id}: {document.status}"
    return str(run_tracked(job_id, work))


def waiting_statuses(retry_failed: bool = False) -> list[DocumentStatus]:
    """The statuses of documents whose file is (re)read by the campaign-wide work."""
    wanted = [DocumentStatus.UPLOADED, DocumentStatus.EXTRACTING]
    if retry_failed:
        wanted.append(DocumentStatus.FAILED)
    return wanted


def waiting_documents(session: DbSession, case_id: int, wanted: Sequence[DocumentStatus]) -> list[Document]:
    """The case's documents to (re)read: in a ``wanted`` status, and not waiting for their page jobs."""
    pending = sa.select(DocumentPage.document_id).where(
        DocumentPage.method == "ocr", DocumentPage.state.in_((PageState.QUEUED, PageState.RUNNING)))
    return list(session.execute(sa.select(Document).where(
        Document.case_id == case_id, Document.status.in_(wanted), Document.id.not_in(pending))).scalars())


def zero_counts() -> dict[str, int]:
    """The counts of campaign-wide work: documents ``extracted`` and ``failed``, documents whose scanned
    pages went to page jobs (``paged``) and those ``pages``, redactions changed (``redacted``)."""
    return {"extracted": 0, "failed": 0, "paged": 0, "pages": 0, "redacted": 0}


def store_extraction(session: DbSession, document: Document, extraction: Extraction, counts: dict[str, int],
                     ciphertext: str | None = None) -> bool:
    """Store one document's :class:`Extraction`: its text, its named error, or its page jobs (queued when the
    caller commits; the document is then redacted when its last page is read). True when it was paged."""
    if extraction.pages is not None:
        counts["pages"] += page_ocr.queue_pages(session, document, extraction.pages)
        counts["paged"] += 1
        return True
    if apply_extraction(document, extraction, ciphertext):
        counts["extracted"] += 1
    else:
        counts["failed"] += 1
    return False


def process_case(session: DbSession, case_id: int, storage: Storage, wanted: Sequence[DocumentStatus],
                 counts: dict[str, int], *, retry_failed: bool = False, paged: list[int] | None = None) -> None:
    """Extract the case's waiting documents and redact the case, adding to ``counts`` (the caller commits).

    Extraction only sets attributes: nothing is flushed until redact_case locks the case, so no write
    transaction is open while a file is read. A PDF's scanned pages and an image's pages are not OCR'd here: each becomes a page
    job (:mod:`evalplat.cases.page_ocr`) that workers share, queued when the caller commits, and the
    document is redacted when its last page is read; a document already waiting for its pages is left to
    them. With ``retry_failed``, a document that failed on some of its pages has those pages queued again,
    each alone. A file that cannot be read is marked failed with its error and is retried alone
    (retry_document). The ids of the documents sent to page jobs are added to ``paged``.
    """
    documents = waiting_documents(session, case_id, wanted)
    case = session.get(Case, case_id)
    names = person_names(known_for_case(case)) if documents and case is not None else []
    read: list[tuple[Document, Extraction]] = []
    retry: list[Document] = []
    for document in documents:
        if retry_failed and document.error_code == page_ocr.PAGES_FAILED:
            retry.append(document)
        else:
            read.append((document, read_document(storage, document.storage_key, document.original_filename,
                                                 paged=True, names=names)))
    sent: list[int] = []
    for document, extraction in read:  # the writes, after every file is read
        if store_extraction(session, document, extraction, counts):
            sent.append(document.id)
    for document in retry:
        counts["pages"] += page_ocr.retry_failed_pages(session, document)
        counts["paged"] += 1
        sent.append(document.id)
    if paged is not None:
        paged.extend(sent)
    counts["redacted"] += redact_case(session, case_id)


def process_case_documents(session: DbSession, case_ids: Sequence[int], progress: ProgressFn = _no_progress,
                           *, retry_failed: bool = False, paged: list[int] | None = None) -> dict[str, int]:
    """Extract every not-yet-extracted document of the cases, then redact each case, one commit per case.

    The sequential path (one case's job, and the reference for
    :func:`evalplat.cases.batch_redaction.redact_cases`, which does the same campaign-wide on every core).
    Scanned PDF pages and images go to page jobs (:func:`process_case`); this returns when they are queued, with the
    ids of their documents added to ``paged``.

    Returns
    -------
    dict
        :func:`zero_counts`: ``extracted``, ``failed``, ``paged``, ``pages``, ``redacted``.
    """
    counts = zero_counts()
    storage = _storage()
    wanted = waiting_statuses(retry_failed)
    for done, case_id in enumerate(case_ids):
        process_case(session, case_id, storage, wanted, counts, retry_failed=retry_failed, paged=paged)
        session.commit()
        progress((done + 1) / max(len(case_ids), 1), f"{done + 1}/{len(case_ids)}")
    return counts


def campaign_case_ids(session: DbSession, campaign_id: int) -> list[int]:
    """The cases drawn into a campaign, in case id order."""
    from evalplat.campaigns.models import Sample

    return list(session.execute(sa.select(Sample.case_id).where(Sample.campaign_id == campaign_id)
                                .order_by(Sample.case_id)).scalars())


#: cases per job when a campaign's redaction fans out over a distributed job backend (the default of
#: ``EVALPLAT_REDACTION_CHUNK``)
CHUNK_SIZE = 100


def _distributed() -> bool:
    """Whether jobs run on workers outside this process (RQ), so a campaign's redaction should fan out."""
    return not isinstance(jobs.get_backend(), jobs.InProcessBackend)


@jobs.task("cases.redact_campaign", timeout=24 * 3600)
def redact_campaign_task(job_id: str, campaign_id: int) -> str:
    """Background task: extract and redact every document of every case drawn into a campaign.

    On RQ the work fans out: :func:`fan_out_campaign_redaction` queues one ``cases.redact_chunk`` job per
    :data:`CHUNK_SIZE` cases, which workers on any number of machines share. In-process, the redaction runs
    here on every core (:func:`evalplat.cases.batch_redaction.redact_cases`), committed per batch of cases.
    Either way the chunks and the OCR page jobs of scanned files are parts of this job: it stays running,
    waiting for them, until the last page is read and its document assembled and redacted
    (:func:`evalplat.jobs.tracking.settle`; :func:`_campaign_redacted` then audits the counts).
    """
    from evalplat.cases.batch_redaction import redact_cases

    if _distributed():
        from flask import current_app

        size = int(current_app.config.get("EVALPLAT_REDACTION_CHUNK") or CHUNK_SIZE)

        def fan_out(progress: ProgressFn) -> str:
            fan_out_campaign_redaction(db.session, campaign_id, job_id, chunk_size=size)
            return json.dumps(zero_counts())
        return str(run_tracked(job_id, fan_out))

    def work(progress: ProgressFn) -> str:
        return json.dumps(redact_cases(db.session, campaign_case_ids(db.session, campaign_id), progress))
    return str(run_tracked(job_id, work))


def fan_out_campaign_redaction(session: DbSession, campaign_id: int, job_id: str, *,
                               chunk_size: int = CHUNK_SIZE) -> int:
    """Queue the campaign's redaction as one job per chunk of cases, each a part of the job ``job_id``.

    Every chunk's record is committed before the first chunk is queued, so the parent's progress always
    counts all of them. Returns the number of chunks (0: nothing to redact).
    """
    case_ids = campaign_case_ids(session, campaign_id)
    chunks = [case_ids[i:i + chunk_size] for i in range(0, len(case_ids), max(1, chunk_size))]
    parent = session.get(JobRecord, job_id)
    children = [JobRecord(id=uuid.uuid4().hex, task="cases.redact_chunk", state=JobState.QUEUED,
                          object_type="campaign", object_id=campaign_id, parent_id=job_id,
                          created_by_id=parent.created_by_id if parent else None, message="")
                for _ in chunks]
    session.add_all(children)
    session.commit()
    for child, chunk in zip(children, chunks, strict=True):
        try:
            jobs.enqueue_as(child.id, "cases.redact_chunk", child.id, job_id, campaign_id, chunk)
        except Exception as exc:
            update_job(child.id, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}")
            raise
    return len(chunks)


@jobs.task("cases.redact_chunk", timeout=6 * 3600)
def redact_chunk_task(job_id: str, parent_id: str, campaign_id: int, case_ids: list[int]) -> str:
    """Background task: one chunk of a campaign's redaction, in this worker's process (the workers are the
    parallelism); a part of the campaign's job, like the page jobs it queues."""
    from evalplat.cases.batch_redaction import redact_cases

    def work(progress: ProgressFn) -> str:
        return json.dumps(redact_cases(db.session, case_ids, progress, workers=1))
    return str(run_tracked(job_id, work))


@on_settled("cases.redact_campaign")
def _campaign_redacted(session: DbSession, job: JobRecord, counts: dict[str, int], parts: PartsProgress) -> None:
    """Audit a campaign's redaction once it has finished, its chunks and page jobs included."""
    chunks = session.scalar(sa.select(sa.func.count()).select_from(JobRecord).where(
        JobRecord.parent_id == job.id, JobRecord.task == "cases.redact_chunk")) or 0
    failed_chunks = session.scalar(sa.select(sa.func.count()).select_from(JobRecord).where(
        JobRecord.parent_id == job.id, JobRecord.task == "cases.redact_chunk",
        JobRecord.state == JobState.FAILED)) or 0
    record(session, actor_id=None, action="cases.redact_campaign", object_type="campaign", object_id=job.object_id,
           after={**zero_counts(), **counts, "chunks": chunks, "failed_chunks": failed_chunks,
                  "failed_parts": parts.failed})


@jobs.task("cases.process_case", timeout=6 * 3600)
def process_case_task(job_id: str, case_id: int) -> str:
    """Background task: extract and redact every waiting document of one case."""
    def work(progress: ProgressFn) -> str:
        return json.dumps(process_case_documents(db.session, [case_id], progress))
    return str(run_tracked(job_id, work))


def retry_document(session: DbSession, *, actor: User, document: Document) -> None:
    """Reset a failed document so that a new job processes it alone (the caller commits, then submits)."""
    ensure_can_change_evidence(actor, document.case)
    if document.status != DocumentStatus.FAILED:
        raise InvalidTransition(_l("Only a failed document can be retried."), code="not_failed")
    document.status = DocumentStatus.UPLOADED
    record(session, actor_id=actor.id, action="cases.document_retry", object_type="document", object_id=document.id,
           before={"error_code": document.error_code})
