"""Scoped reads for case intake: lists, details, job status and — for reviewers — approved redacted text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from evalplat.accounts.models import Role, User
from evalplat.cases.models import (
    FACT_FIELDS,
    Case,
    CaseRedaction,
    Document,
    DocumentKind,
    DocumentStatus,
    Redaction,
    RedactionStatus,
)
from evalplat.db import Cols
from evalplat.extensions import db
from evalplat.jobs.models import JobRecord
from evalplat.organisations.models import Agency, CaseType

__all__ = [
    "ReviewerDocument",
    "Segment",
    "case_detail",
    "case_jobs",
    "campaigns_for",
    "case_list",
    "highlight",
    "is_released",
    "offer_visible",
    "released",
    "reviewer_documents",
    "reviewer_facts",
]


def _scope(query: sa.Select[*Cols], user: User) -> sa.Select[*Cols]:
    """Organisers see the cases of their jurisdiction's agencies; agency staff only their own agency's."""
    if Role.ORGANISER in user.roles:
        from evalplat.organisations.jurisdiction import cases_within

        return query.where(cases_within(user))
    if Role.AGENCY_STAFF in user.roles and user.agency_id is not None:
        return query.where(Case.agency_id == user.agency_id)
    return query.where(sa.false())


@dataclass(frozen=True)
class CaseRow:
    id: int
    case_number: str
    agency: str
    year: int
    case_type: CaseType
    closed_on: Any
    documents: int
    approved: int
    failed: int


def _redaction_filter(redaction: str | None) -> sa.ColumnElement[bool] | None:
    """Cases by the state of their files, as EXISTS tests (no count over every document)."""
    has = sa.select(Document.id).where(Document.case_id == Case.id)
    unapproved = has.where(Document.status != DocumentStatus.APPROVED).exists()
    if redaction == "approved":
        return sa.and_(has.exists(), ~unapproved)
    if redaction == "pending":
        return unapproved
    if redaction == "failed":
        return has.where(Document.status == DocumentStatus.FAILED).exists()
    if redaction == "none":
        return ~has.exists()
    return None


#: the list's order: newest year first, then agency and case number (unique per agency, so the order is total);
#: ix_cases_list_order serves it
_ORDER = (Case.year.desc(), Case.agency_id, Case.case_number)


def case_list(user: User, *, agency_id: int | None = None, year: int | None = None,
              case_type: str | None = None, q: str | None = None, redaction: str | None = None,
              campaign_id: int | None = None, after: int | None = None,
              page: int = 1, per_page: int = 50) -> tuple[list[CaseRow], int]:
    """One page of cases the user may see, with document counts, and the total.

    The page is read by key when ``after`` (the id of the last case of the previous page) is given, else by
    position (``page``, for a jump); document counts are read for that page's cases only.

    Parameters
    ----------
    redaction : {"pending", "approved", "failed", "none"}, optional
        Cases with a document awaiting approval, fully approved, with a failed document, or without documents.
    campaign_id : int, optional
        Only the cases sampled by this campaign.
    """
    from evalplat.campaigns.models import Sample

    query = _scope(sa.select(Case.id), user)
    if agency_id:
        query = query.where(Case.agency_id == agency_id)
    if year:
        query = query.where(Case.year == year)
    if case_type and case_type in {t.value for t in CaseType}:
        query = query.where(Case.case_type == CaseType(case_type))
    if q and q.strip():
        query = query.where(Case.case_number.contains(q.strip(), autoescape=True))
    if campaign_id:  # only a campaign the user runs: another's sample stays unseen before it is published
        from evalplat.campaigns.models import Campaign
        from evalplat.organisations.jurisdiction import campaigns_managed_by

        query = query.where(Case.id.in_(sa.select(Sample.case_id).join(Campaign, Campaign.id == Sample.campaign_id)
                                        .where(Sample.campaign_id == campaign_id, campaigns_managed_by(user))))
    condition = _redaction_filter(redaction)
    if condition is not None:
        query = query.where(condition)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    last = db.session.execute(sa.select(Case.year, Case.agency_id, Case.case_number)
                              .where(Case.id == after)).one_or_none() if after else None
    if last is not None:
        query = query.where(sa.or_(Case.year < last.year,
                                   sa.and_(Case.year == last.year,
                                           sa.tuple_(Case.agency_id, Case.case_number)
                                           > sa.tuple_(last.agency_id, last.case_number))))
    else:
        query = query.offset((max(page, 1) - 1) * per_page)
    ids = list(db.session.execute(query.order_by(*_ORDER).limit(per_page)).scalars())
    if not ids:
        return [], int(total)
    docs = (sa.select(Document.case_id.label("case_id"),
                      sa.func.count(Document.id).label("n"),
                      sa.func.sum(sa.case((Document.status == DocumentStatus.APPROVED, 1), else_=0)).label("ok"),
                      sa.func.sum(sa.case((Document.status == DocumentStatus.FAILED, 1), else_=0)).label("bad"))
            .where(Document.case_id.in_(ids)).group_by(Document.case_id).subquery())
    rows = db.session.execute(
        sa.select(Case.id, Case.case_number, Agency.name, Case.year, Case.case_type, Case.closed_on,
                  sa.func.coalesce(docs.c.n, 0), sa.func.coalesce(docs.c.ok, 0), sa.func.coalesce(docs.c.bad, 0))
        .join(Agency, Agency.id == Case.agency_id).outerjoin(docs, docs.c.case_id == Case.id)
        .where(Case.id.in_(ids)).order_by(*_ORDER)).all()
    return [CaseRow(*row) for row in rows], int(total)


def campaigns_for(user: User) -> list[tuple[int, str]]:
    """Campaigns offered in the list's campaign filter (organisers only: staff see their agency's cases)."""
    from evalplat.campaigns.models import Campaign
    from evalplat.organisations.jurisdiction import campaigns_managed_by

    if Role.ORGANISER not in user.roles:
        return []
    return [(i, n) for i, n in db.session.execute(sa.select(Campaign.id, Campaign.name)
                                                   .where(campaigns_managed_by(user))
                                                   .order_by(Campaign.id.desc()))]


def agencies_for(user: User) -> list[tuple[int, str]]:
    """Agencies offered in the list filter (organisers only; staff see one)."""
    from evalplat.organisations.jurisdiction import agency_scope

    query = sa.select(Agency.id, Agency.name).where(agency_scope(user, Agency.id)).order_by(Agency.name)
    return [(i, n) for i, n in db.session.execute(query)]


def case_detail(case_id: int) -> Case | None:
    """A case with its agency, lawyer, firm, parties, documents and their redactions (no lazy loads)."""
    return db.session.execute(
        sa.select(Case).where(Case.id == case_id).options(
            joinedload(Case.agency), joinedload(Case.lawyer), joinedload(Case.firm), selectinload(Case.parties),
            selectinload(Case.documents).selectinload(Document.redaction), selectinload(Case.facts_redaction))
    ).unique().scalar_one_or_none()


def case_jobs(case: Case, limit: int = 20) -> list[JobRecord]:
    """The latest background jobs about the case or its documents."""
    document_ids = [d.id for d in case.documents]
    condition = sa.and_(JobRecord.object_type == "case", JobRecord.object_id == case.id)
    if document_ids:
        condition = sa.or_(condition, sa.and_(JobRecord.object_type == "document",
                                              JobRecord.object_id.in_(document_ids)))
    return list(db.session.execute(sa.select(JobRecord).where(condition)
                                   .order_by(JobRecord.created_at.desc()).limit(limit)).scalars())


def job_error_text(job: JobRecord, lang: str) -> str:
    """A failed job's error in the user's language (coded errors carry both)."""
    if not job.error:
        return ""
    try:
        data = json.loads(job.error)
    except ValueError:
        return job.error
    if isinstance(data, dict):
        return str(data.get("message_en" if lang.startswith("en") else "message_zh") or job.error)
    return job.error


def document_error_text(document: Document, lang: str) -> str:
    """A failed document's named error in the user's language."""
    if not document.error_detail:
        return document.error_code or ""
    try:
        data = json.loads(document.error_detail)
    except ValueError:
        return document.error_detail
    return str(data.get("en" if lang.startswith("en") else "zh", document.error_code))


def released(case_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the case's redaction has been approved, so reviewers may be offered it (``case_id`` a column).

    Every read that shows a reviewer an offer (inbox, to-do counts, decisions) adds this condition: an
    offer made before the approval waits, invisible, until then.
    """
    return sa.exists().where(CaseRedaction.case_id == case_id, CaseRedaction.status == RedactionStatus.APPROVED)


def offer_visible() -> sa.ColumnElement[bool]:
    """SQL, for a select joined to ``Sample``: the assignment is not an offer still waiting for approval."""
    from evalplat.assignments.models import Assignment, AssignmentState
    from evalplat.campaigns.models import Sample

    return sa.or_(Assignment.state != AssignmentState.OFFERED, released(Sample.case_id))


def is_released(case_id: int) -> bool:
    return bool(db.session.scalar(sa.select(released(sa.literal(case_id)))))


def reviewer_facts(case_id: int) -> dict[str, str]:
    """The case's free-text fields as approved redacted (empty until the case's redaction is approved)."""
    fields = db.session.scalar(sa.select(CaseRedaction.fields).where(
        CaseRedaction.case_id == case_id, CaseRedaction.status == RedactionStatus.APPROVED))
    return {name: str((fields or {}).get(name) or "") for name in FACT_FIELDS}


@dataclass(frozen=True)
class ReviewerDocument:
    """What a reviewer may read of a document: its kind and its approved redacted text, nothing else."""

    document_id: int
    kind: DocumentKind
    position: int
    text: str


def reviewer_documents(case_id: int) -> list[ReviewerDocument]:
    """The approved redacted texts of a case, in reading order — the only case text reviewers ever get.

    A document whose redaction is not approved (new, changed since approval, failed) is left out; the
    original text, file, file name and title are never part of the result.
    """
    rows = db.session.execute(
        sa.select(Document.id, Document.kind, Document.position, Document.redacted_text)
        .join(Redaction, Redaction.document_id == Document.id)
        .where(Document.case_id == case_id, Redaction.status == RedactionStatus.APPROVED,
               Document.status == DocumentStatus.APPROVED, Document.redacted_text.is_not(None))
        .order_by(Document.position, Document.id)).all()
    # The query keeps only documents whose redacted text is set.
    return [ReviewerDocument(i, kind, pos, cast(str, text)) for i, kind, pos, text in rows]


@dataclass(frozen=True)
class Segment:
    """A piece of text for display; ``span`` is set for a redacted stretch, ``flag`` for a suspicious one."""

    text: str
    span: dict[str, Any] | None = None
    flag: dict[str, Any] | None = None


def highlight(text: str, spans: Sequence[dict[str, Any]], *, redacted: bool,
              flags: Sequence[dict[str, Any]] = ()) -> list[Segment]:
    """Cut a document's text into plain and highlighted segments.

    Parameters
    ----------
    text : str
        The original (extracted) text.
    spans : sequence of dict
        The stored spans (offsets into ``text``); removed spans are skipped.
    redacted : bool
        False: the original text with each redacted stretch marked; True: the redacted text, each
        placeholder marked.
    flags : sequence of dict
        With ``redacted`` False: the open flags (offsets into ``text``), marked as such.
    """
    marks: list[tuple[int, int, dict[str, Any] | None, dict[str, Any] | None]] = [
        (s["start"], s["end"], s, None) for s in spans if s.get("source") != "removed"]
    if not redacted:
        marks += [(f["start"], f["end"], None, f) for f in flags if not f.get("dismissed")]
    out: list[Segment] = []
    pos = 0
    for start, end, span, flag in sorted(marks, key=lambda m: (m[0], m[1])):
        if start < pos:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        if span is not None:
            out.append(Segment(span["placeholder"] if redacted else text[start:end], span))
        else:
            out.append(Segment(text[start:end], None, flag))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out
