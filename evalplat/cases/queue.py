"""The campaign's redaction queue: the state of every sampled case's redaction, in one scoped read.

A sampled case is, in this order of precedence:

- ``no_documents``: nothing to redact yet;
- ``processing``: a file is still being read or redacted;
- ``failed``: a file could not be read (retry or remove it);
- ``proposed``: approved, and a re-run of the redactor proposes changes for the checker;
- ``approved``: every document and the facts approved — reviewers may be offered it;
- ``to_check``: redacted, waiting for the checker.

``open_flags`` counts what the checker has not looked at yet (documents and facts). Cases to check with no
open flag may be approved in bulk (:func:`bulk_approvable`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from evalplat.cases.models import (
    Case,
    CaseRedaction,
    Document,
    DocumentPage,
    DocumentStatus,
    PageState,
    Redaction,
    RedactionStatus,
)
from evalplat.extensions import db
from evalplat.organisations.models import Agency

__all__ = ["OcrWaiting", "QueueRow", "QueueState", "bulk_approvable", "next_case", "ocr_waiting", "queue",
           "queue_counts"]


class QueueState(enum.StrEnum):
    NO_DOCUMENTS = "no_documents"
    PROCESSING = "processing"
    FAILED = "failed"
    PROPOSED = "proposed"
    APPROVED = "approved"
    TO_CHECK = "to_check"


@dataclass(frozen=True)
class QueueRow:
    sample_code: str
    case_id: int
    case_number: str
    agency: str
    documents: int
    open_flags: int
    state: QueueState


def _columns(campaign_id: int) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The queue's select (sample × case × per-case aggregates) and its named expressions."""
    from evalplat.campaigns.models import Sample

    ready = (DocumentStatus.REDACTED, DocumentStatus.APPROVED)
    docs = (sa.select(
        Document.case_id.label("case_id"),
        sa.func.count(Document.id).label("n"),
        sa.func.sum(sa.case((Document.status == DocumentStatus.FAILED, 1), else_=0)).label("bad"),
        sa.func.sum(sa.case((sa.and_(Document.status.not_in(ready), Document.status != DocumentStatus.FAILED), 1),
                            else_=0)).label("waiting"),
        sa.func.sum(sa.case((Redaction.status == RedactionStatus.APPROVED, 1), else_=0)).label("ok"),
        sa.func.sum(sa.func.coalesce(Redaction.open_flags, 0)).label("flags"),
        sa.func.sum(sa.case((Redaction.proposed_spans.is_not(None), 1), else_=0)).label("proposals"))
        .outerjoin(Redaction, Redaction.document_id == Document.id)
        .join(Sample, sa.and_(Sample.case_id == Document.case_id, Sample.campaign_id == campaign_id))
        .group_by(Document.case_id).subquery())
    n = sa.func.coalesce(docs.c.n, 0)
    bad = sa.func.coalesce(docs.c.bad, 0)
    waiting = sa.func.coalesce(docs.c.waiting, 0)
    ok = sa.func.coalesce(docs.c.ok, 0)
    flags = sa.func.coalesce(docs.c.flags, 0) + sa.func.coalesce(CaseRedaction.open_flags, 0)
    proposals = sa.func.coalesce(docs.c.proposals, 0) + sa.case((CaseRedaction.proposed.is_not(None), 1), else_=0)
    facts_ok = CaseRedaction.status == RedactionStatus.APPROVED
    state = sa.case(
        (n == 0, QueueState.NO_DOCUMENTS.value),
        (waiting > 0, QueueState.PROCESSING.value),
        (bad > 0, QueueState.FAILED.value),
        (sa.and_(ok == n, facts_ok, proposals > 0), QueueState.PROPOSED.value),
        (sa.and_(ok == n, facts_ok), QueueState.APPROVED.value),
        else_=QueueState.TO_CHECK.value)
    stmt = (sa.select(Sample.code, Case.id, Case.case_number, Agency.name, n, flags, state.label("state"))
            .join(Case, Case.id == Sample.case_id).join(Agency, Agency.id == Case.agency_id)
            .outerjoin(docs, docs.c.case_id == Case.id)
            .outerjoin(CaseRedaction, CaseRedaction.case_id == Case.id)
            .where(Sample.campaign_id == campaign_id))
    return stmt, {"state": state, "flags": flags, "code": Sample.code, "agency": Case.agency_id}


def _filtered(stmt: sa.Select[Any], cols: dict[str, Any], *, state: str | None, flags: str | None,
              agency_id: int | None) -> sa.Select[Any]:
    if state in {s.value for s in QueueState}:
        stmt = stmt.where(cols["state"] == state)
    if flags == "open":
        stmt = stmt.where(cols["flags"] > 0)
    elif flags == "none":
        stmt = stmt.where(cols["flags"] == 0)
    if agency_id:
        stmt = stmt.where(cols["agency"] == agency_id)
    return stmt


def queue(campaign_id: int, *, state: str | None = None, flags: str | None = None, agency_id: int | None = None,
          page: int = 1, per_page: int = 50) -> tuple[list[QueueRow], int]:
    """One page of the campaign's sampled cases with their redaction state, in sample-code order, and the total.

    Parameters
    ----------
    state : str, optional
        One :class:`QueueState` value.
    flags : {"open", "none"}, optional
        Only cases with open flags, or only cases without.
    """
    stmt, cols = _columns(campaign_id)
    stmt = _filtered(stmt, cols, state=state, flags=flags, agency_id=agency_id)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(stmt.order_by(cols["code"]).limit(per_page)
                              .offset((max(page, 1) - 1) * per_page)).all()
    return [QueueRow(code, ident, number, agency, int(n), int(f), QueueState(s))
            for code, ident, number, agency, n, f, s in rows], int(total)


def queue_counts(campaign_id: int) -> dict[str, int]:
    """How many sampled cases are in each state (every state present, zero where none)."""
    stmt, cols = _columns(campaign_id)
    sub = stmt.subquery()
    counts = {s.value: 0 for s in QueueState}
    for value, n in db.session.execute(sa.select(sub.c.state, sa.func.count()).group_by(sub.c.state)):
        counts[str(value)] = int(n)
    return counts


def bulk_approvable(campaign_id: int) -> list[int]:
    """Ids of the campaign's cases waiting for the checker with no open flag (approvable in bulk)."""
    stmt, cols = _columns(campaign_id)
    stmt = _filtered(stmt, cols, state=QueueState.TO_CHECK.value, flags="none", agency_id=None)
    return [row[1] for row in db.session.execute(stmt.order_by(cols["code"]))]


def next_case(campaign_id: int, after_case_id: int | None = None) -> int | None:
    """The next case the checker should open: the first to check (or with a proposal) after ``after_case_id``
    in sample-code order, wrapping round; None when nothing is left."""
    stmt, cols = _columns(campaign_id)
    stmt = stmt.where(cols["state"].in_([QueueState.TO_CHECK.value, QueueState.PROPOSED.value]))
    ids = [row[1] for row in db.session.execute(stmt.order_by(cols["code"]))]
    if not ids:
        return None
    if after_case_id in ids:
        position = ids.index(after_case_id)
        rest = ids[position + 1:] + ids[:position]
        return rest[0] if rest else None
    return ids[0]


@dataclass(frozen=True)
class OcrWaiting:
    """The campaign's scanned pages still to be read, and the redaction job that waits for them."""

    queued: int
    running: int
    job_id: str | None  # the campaign's unfinished redaction job, if any

    @property
    def pages(self) -> int:
        return self.queued + self.running


def ocr_waiting(campaign_id: int) -> OcrWaiting:
    """How many scanned pages of the campaign's sampled cases are queued or being read (their cases show as
    ``processing`` until the last is read), and the campaign's latest redaction job still running."""
    from evalplat.campaigns.models import Sample
    from evalplat.jobs.models import JobRecord, JobState

    rows = db.session.execute(
        sa.select(DocumentPage.state, sa.func.count()).join(Document, Document.id == DocumentPage.document_id)
        .join(Sample, sa.and_(Sample.case_id == Document.case_id, Sample.campaign_id == campaign_id))
        .where(DocumentPage.method == "ocr", DocumentPage.state.in_((PageState.QUEUED, PageState.RUNNING)))
        .group_by(DocumentPage.state)).all()
    counts = {state: int(n) for state, n in rows}
    job_id = db.session.scalar(
        sa.select(JobRecord.id).where(JobRecord.task == "cases.redact_campaign", JobRecord.object_type == "campaign",
                                      JobRecord.object_id == campaign_id,
                                      JobRecord.state.in_((JobState.QUEUED, JobState.RUNNING)))
        .order_by(JobRecord.created_at.desc()).limit(1))
    return OcrWaiting(counts.get(PageState.QUEUED, 0), counts.get(PageState.RUNNING, 0), job_id)
