"""The persisted record of a background job (table ``job_records``), shown on pages and in the CLI."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

from .base import JobState

__all__ = ["JobRecord", "JobState"]


class JobRecord(Model):
    """A background job's persisted status, shown on pages and in the CLI."""

    __tablename__ = "job_records"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    task: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED, index=True)
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str | None] = mapped_column(sa.Text)
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # A part of a larger job (one chunk of a campaign's redaction): the parent's state follows its parts'.
    parent_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # When the job's own work ended. A job whose work queued parts (a document's or a campaign's OCR page jobs)
    # stays running until the last part has ended too (evalplat.jobs.tracking.settle).
    work_ended_at: Mapped[datetime | None]
    # The process holding the job, "host:pid:start": the one running it, or (in-process backend) the one whose
    # memory queues it; a job whose holder died is recovered (evalplat.jobs.tracking.recover).
    owner: Mapped[str | None] = mapped_column(sa.String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
