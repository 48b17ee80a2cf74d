"""Closed legal-aid cases, their parties (kept only for redaction), documents and redactions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model, db
from evalplat.files.encrypted_type import current_keyring
from evalplat.organisations.models import CaseType

if TYPE_CHECKING:
    from evalplat.accounts.models import User
    from evalplat.organisations.models import Agency, Firm, Lawyer


PARTY_NAME_CONTEXT = "case_parties.name"
DOCUMENT_TEXT_CONTEXT = "documents.extracted_text"
PAGE_TEXT_CONTEXT = "document_pages.text"


def encrypt_column(value: str | None, context: str) -> str | None:
    """Encrypt a personal-information value for its column (``context`` is bound as associated data)."""
    if value is None:
        return None
    return current_keyring().encrypt_text(value, aad=context.encode())


def decrypt_column(token: str | None, context: str) -> str | None:
    """Decrypt a value written by :func:`encrypt_column`."""
    if token is None:
        return None
    return current_keyring().decrypt_text(token, aad=context.encode())


class PartyRole(enum.StrEnum):
    CLIENT = "client"
    OPPONENT = "opponent"
    VICTIM = "victim"
    WITNESS = "witness"
    JUDGE = "judge"
    PROSECUTOR = "prosecutor"
    RELATIVE = "relative"
    COURT = "court"
    OTHER = "other"


class DocumentKind(enum.StrEnum):
    APPLICATION = "application"
    ASSIGNMENT_LETTER = "assignment_letter"
    AGREEMENT = "agreement"
    MEETING_NOTES = "meeting_notes"
    FILE_READING_NOTES = "file_reading_notes"
    OPINION = "opinion"
    JUDGMENT = "judgment"
    CLOSING_REPORT = "closing_report"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    EXTRACTING = "extracting"
    EXTRACTED = "extracted"
    REDACTED = "redacted"
    APPROVED = "approved"
    FAILED = "failed"


class PageState(enum.StrEnum):
    """A page of a scanned document on its way through OCR (one background job per page)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RedactionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"


class Case(Model):
    """A closed legal-aid case (结案的法律援助案件)."""

    __tablename__ = "cases"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "case_number"),
        sa.Index("ix_cases_agency_year_type", "agency_id", "year", "case_type"),
        sa.Index("ix_cases_list_order", "year", "agency_id", "case_number"),  # the cases list's order and keys
        sa.CheckConstraint("closed_on IS NULL OR assigned_on IS NULL OR closed_on >= assigned_on",
                           name="closed_after_assigned"),
        sa.CheckConstraint("sequence_no IS NULL OR sequence_no > 0", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    case_number: Mapped[str] = mapped_column(sa.String(64))
    year: Mapped[int]
    sequence_no: Mapped[int | None]
    case_type: Mapped[CaseType] = mapped_column(enum_column(CaseType))
    cause: Mapped[str] = mapped_column(sa.String(128), default="")
    stage_reached: Mapped[str] = mapped_column(sa.String(64), default="")
    applied_on: Mapped[date | None]
    assigned_on: Mapped[date | None]
    first_meeting_on: Mapped[date | None]
    closed_on: Mapped[date | None] = mapped_column(index=True)
    result: Mapped[str] = mapped_column(sa.String(128), default="")
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"), index=True)
    # SHA-256 of the imported row's normalised content: a re-import of the same row is a no-op, a
    # different row under the same case number is refused.
    import_digest: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()
    lawyer: Mapped[Lawyer | None] = relationship()
    firm: Mapped[Firm | None] = relationship()
    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", cascade="all, delete-orphan")
    documents: Mapped[list[Document]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Document.position"
    )
    facts_redaction: Mapped[CaseRedaction | None] = relationship(back_populates="case", cascade="all, delete-orphan")

    def can_view_original(self, user: User) -> bool:
        """Unredacted data: the organiser, and staff of the case's own agency."""
        return user.can_view_agency(self.agency_id)

    def can_edit(self, user: User) -> bool:
        return user.can_view_agency(self.agency_id)

    def evidence_frozen(self) -> bool:
        """Whether a campaign whose population is frozen has sampled this case: its file is then evidence
        that reviewers score, and changes only through the organiser, with a reason (issue 13)."""
        from evalplat.campaigns.models import Campaign, Sample

        session = sa.orm.object_session(self) or db.session
        return bool(session.scalar(sa.select(sa.exists().where(
            Sample.case_id == self.id, Sample.campaign_id == Campaign.id,
            Campaign.population_frozen_at.is_not(None)))))

    def can_change_evidence(self, user: User) -> bool:
        """Add, remove or reprocess documents: the case's agency until the case is frozen, the organiser always
        (with a reason once it is frozen)."""
        return self.can_edit(user) and (user.is_organiser or not self.evidence_frozen())

    def can_correct(self, user: User) -> bool:
        """Correct the case's fields (evalplat.cases.corrections): the organiser, frozen or not."""
        return bool(user.is_organiser) and self.can_edit(user)


class CaseParty(Model):
    """A named person or organisation in a case: the known entities for redaction, never shown to reviewers."""

    __tablename__ = "case_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    # Encrypted at rest: the column holds an AES-GCM envelope token of the key ring that
    # evalplat.services configures (the format of evalplat.files.encrypted_type.EncryptedText, same
    # associated data); ``name`` reads and writes the plaintext.
    name_ciphertext: Mapped[str] = mapped_column("name", sa.Text)

    case: Mapped[Case] = relationship(back_populates="parties")

    @property
    def name(self) -> str:
        return decrypt_column(self.name_ciphertext, PARTY_NAME_CONTEXT) or ""

    @name.setter
    def name(self, value: str) -> None:
        self.name_ciphertext = encrypt_column(value, PARTY_NAME_CONTEXT)  # type: ignore[assignment]


class Document(Model):
    __tablename__ = "documents"
    __table_args__ = (sa.Index("ix_documents_case_position", "case_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind), default=DocumentKind.OTHER)
    title: Mapped[str] = mapped_column(sa.String(256), default="")
    position: Mapped[int] = mapped_column(default=0)
    original_filename: Mapped[str] = mapped_column(sa.String(256), default="")
    storage_key: Mapped[str | None] = mapped_column(sa.String(128))
    content_type: Mapped[str] = mapped_column(sa.String(128), default="text/plain")  # the DOCX type is 71 long
    size: Mapped[int] = mapped_column(default=0)
    status: Mapped[DocumentStatus] = mapped_column(enum_column(DocumentStatus), default=DocumentStatus.UPLOADED)
    # Original extracted text, encrypted at rest like the parties' names (see ``extracted_text``).
    extracted_ciphertext: Mapped[str | None] = mapped_column("extracted_text", sa.Text)
    redacted_text: Mapped[str | None] = mapped_column(sa.Text)
    ocr_used: Mapped[bool] = mapped_column(default=False)
    # The OCR engine and model that read the scanned pages (None when no page was OCR'd).
    ocr_engine: Mapped[str | None] = mapped_column(sa.String(64))
    ocr_model: Mapped[str | None] = mapped_column(sa.String(160))
    page_count: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_detail: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="documents")
    redaction: Mapped[Redaction | None] = relationship(back_populates="document", cascade="all, delete-orphan")
    pages: Mapped[list[DocumentPage]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DocumentPage.number",
    )

    @property
    def extracted_text(self) -> str | None:
        return decrypt_column(self.extracted_ciphertext, DOCUMENT_TEXT_CONTEXT)

    @extracted_text.setter
    def extracted_text(self, value: str | None) -> None:
        self.extracted_ciphertext = encrypt_column(value, DOCUMENT_TEXT_CONTEXT)


class DocumentPage(Model):
    """One page of a PDF whose scanned pages, or of an image (PNG, JPEG, TIFF: one page per frame), are OCR'd
    by separate jobs (see :mod:`evalplat.cases.page_ocr`).

    Pages with a text layer are stored ``done`` with method ``text`` at once; each scanned page is a job
    of its own, so a long scan spreads over every worker, shows its progress page by page, and a page
    that failed is retried alone. The text is encrypted at rest like the document's.
    """

    __tablename__ = "document_pages"
    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1-based
    method: Mapped[str] = mapped_column(sa.String(16), default="ocr")  # text | ocr
    state: Mapped[PageState] = mapped_column(enum_column(PageState), default=PageState.QUEUED)
    text_ciphertext: Mapped[str | None] = mapped_column("text", sa.Text)
    seconds: Mapped[float | None]
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_detail: Mapped[str | None] = mapped_column(sa.Text)
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")  # times a job began reading it
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    document: Mapped[Document] = relationship(back_populates="pages")

    @property
    def text(self) -> str | None:
        return decrypt_column(self.text_ciphertext, PAGE_TEXT_CONTEXT)

    @text.setter
    def text(self, value: str | None) -> None:
        self.text_ciphertext = encrypt_column(value, PAGE_TEXT_CONTEXT)


class Redaction(Model):
    """The redaction of one document: its spans, and whether a person has approved it."""

    __tablename__ = "redactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    # [{"start", "end", "category", "placeholder", "source": "auto"|"manual"}]
    spans: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[RedactionStatus] = mapped_column(enum_column(RedactionStatus), default=RedactionStatus.PENDING,
                                                    index=True)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # What the checker should look at: [{"start", "end", "reason", "dismissed"}] (offsets into the original
    # text; see evalplat.cases.suspicion), and how many are not dismissed (for the campaign queue).
    flags: Mapped[list[Any]] = mapped_column(default=list)
    open_flags: Mapped[int] = mapped_column(default=0)
    # A re-run of the redactor never replaces an approved redaction: it proposes its spans and text here,
    # and the checker accepts or rejects them.
    proposed_spans: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    proposed_text: Mapped[str | None] = mapped_column(sa.Text)

    document: Mapped[Document] = relationship(back_populates="redaction")


#: The free-text fields of a case a reviewer reads (案由, 办理阶段, 办理结果), redacted like the documents.
FACT_FIELDS = ("cause", "stage_reached", "result")


class CaseRedaction(Model):
    """The redaction of a case's free-text fields, and the approval of the case's redaction as a whole.

    Computed with the documents' redaction (same known names, same placeholders) and approved with them;
    reviewers read ``fields`` only, and are offered the case only once ``status`` is approved.
    """

    __tablename__ = "case_redactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    # {field: redacted text} and {field: [spans as stored for documents]} for each of FACT_FIELDS
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    spans: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flags: Mapped[list[Any]] = mapped_column(default=list)  # as Redaction.flags, with a "field" key
    open_flags: Mapped[int] = mapped_column(default=0)
    proposed: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # {"fields", "spans"} of a re-run
    status: Mapped[RedactionStatus] = mapped_column(enum_column(RedactionStatus), default=RedactionStatus.PENDING,
                                                    index=True)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(back_populates="facts_redaction")


class EvidenceChange(Model):
    """A change an organiser made to a frozen case's file or fields, with the reason; reviewers who had already
    begun scoring the case are shown it on their case page and notified. The rows of one change share ``at``."""

    __tablename__ = "evidence_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # document_added | document_removed | document_reprocessed | fields_corrected
    action: Mapped[str] = mapped_column(sa.String(32))
    document_kind: Mapped[str | None] = mapped_column(sa.String(32))  # a DocumentKind value
    reason: Mapped[str] = mapped_column(sa.Text)
    # The reason as reviewers read it: redacted with the case's known names when it was written.
    reason_redacted: Mapped[str] = mapped_column(sa.Text)
    # fields_corrected: the keys of the corrected fields (CORRECTABLE_FIELDS); their values are in the audit log
    fields: Mapped[list[str] | None]
