"""Translated labels for the codes this domain stores (document kinds and states, job states, party roles)."""

from __future__ import annotations

from typing import Any

from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label, register

LABELS: dict[str, Any] = register({
    # document kinds
    "application": _l("Application"),
    "assignment_letter": _l("Assignment letter"),
    "agreement": _l("Agreement and power of attorney"),
    "meeting_notes": _l("Meeting notes"),
    "file_reading_notes": _l("File-reading notes"),
    "opinion": _l("Defence or representation opinion"),
    "judgment": _l("Judgment or ruling"),
    "closing_report": _l("Closing report"),
    "other": _l("Other"),
    # document states
    "uploaded": _l("Uploaded"),
    "extracting": _l("Extracting text"),
    "extracted": _l("Text extracted"),
    "redacted": _l("Redacted, awaiting approval"),
    "approved": _l("Approved"),
    "failed": _l("Failed"),
    # redaction / job states
    "pending": _l("Awaiting approval"),
    "queued": _l("Queued"),
    "running": _l("Running"),
    "done": _l("Done"),
    # party roles
    "client": _l("Client"),
    "opponent": _l("Opposing party"),
    "victim": _l("Victim"),
    "witness": _l("Witness"),
    "judge": _l("Judge"),
    "prosecutor": _l("Prosecutor"),
    "relative": _l("Relative"),
    "court": _l("Court"),
    # the campaign's redaction queue (evalplat.cases.queue.QueueState)
    "no_documents": _l("No files"),
    "processing": _l("Processing"),
    "proposed": _l("Approved, changes proposed"),
    "to_check": _l("To check"),
    # why a stretch is flagged for the checker (evalplat.cases.suspicion.REASONS)
    "repeat": _l("A redacted name occurs here unredacted"),
    "name_like": _l("Looks like a name"),
    "after_role_word": _l("Unusual characters after a role word"),
    "identifier_number": _l("Looks like an identifier"),
    # the case's free-text fields (evalplat.cases.models.FACT_FIELDS)
    "cause": _l("Cause"),
    "stage_reached": _l("Stages reached"),
    "result": _l("Result of the case"),
    # background tasks (job pages); tests/cases/test_task_labels.py fails on a registered task without one
    "cases.process_document": _l("Reading and redacting a document"),
    "cases.process_case": _l("Reading and redacting a case's files"),
    "cases.redact_campaign": _l("Redacting the campaign's sampled cases"),
    "cases.redact_chunk": _l("Redacting a batch of sampled cases"),
    "cases.ocr_page": _l("Reading a scanned page"),
    "results.reliability": _l("Computing the reliability panel"),
    "notifications.sync": _l("Sending notifications"),
    "jobs.recover": _l("Queueing again the work of job processes that died"),
})


def case_label(value: Any) -> str:
    """The translated label of a code of this domain; unknown codes are shown as they are."""
    return label(value, LABELS)
