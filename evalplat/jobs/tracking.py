"""Job tracking: a background job's :class:`~evalplat.jobs.models.JobRecord` kept in step with its work.

:func:`submit_job` stages a record in the caller's session and queues the task once that session
commits (never before: the job would not find the rows it concerns), so it can be called inside an
operation and commits nothing itself. :func:`run_tracked` wraps a task's work: the record goes
``running``, follows its progress and ends ``done`` or ``failed`` with the error, each write on its own
connection so that the work's transaction is never committed by the bookkeeping.

:func:`init_app` (called by the factory through :func:`evalplat.services.init_app`) connects the
session events that queue and forget staged jobs.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from evalplat.db import DbSession, utcnow
from evalplat.extensions import db
from evalplat.files import CodedError

from . import enqueue, report_progress
from .models import JobRecord, JobState

__all__ = ["ProgressFn", "init_app", "run_tracked", "submit_job"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]

_PENDING = "evalplat.jobs.pending"


def submit_job(session: DbSession, task_name: str, *, actor_id: int | None, object_type: str, object_id: int,
               args: Sequence[Any] = ()) -> str:
    """Record a job in ``session`` and queue it when the session commits (the caller commits).

    The task receives the record's id first, then ``args``. If the session rolls back, the job is
    neither recorded nor queued.

    Returns
    -------
    str
        The job record's id.
    """
    job = JobRecord(id=uuid.uuid4().hex, task=task_name, state=JobState.QUEUED, object_type=object_type,
                    object_id=object_id, created_by_id=actor_id, message="")
    session.add(job)
    session.info.setdefault(_PENDING, []).append((job.id, task_name, tuple(args)))
    return job.id


def _enqueue_pending(session: DbSession) -> None:
    for job_id, task_name, args in session.info.pop(_PENDING, ()):
        try:
            enqueue(task_name, job_id, *args)
        except Exception as exc:  # the work is committed: the job shows failed and can be retried
            log.exception("job %s (%s): queueing failed", job_id, task_name)
            update_job(job_id, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}")


def _forget_pending(session: DbSession, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Connect the session events that queue staged jobs after commit and forget them on rollback."""
    if not event.contains(Session, "after_commit", _enqueue_pending):
        event.listen(Session, "after_commit", _enqueue_pending)
        event.listen(Session, "after_soft_rollback", _forget_pending)


def update_job(job_id: str, **values: Any) -> None:
    """Write a job's state on its own connection (never inside the work's transaction)."""
    values["updated_at"] = utcnow()
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.update(JobRecord).where(JobRecord.id == job_id).values(**values))
    except Exception:  # progress must never break the work
        log.exception("job %s: recording its state failed", job_id)


class _Tracker:
    """Progress of a tracked job: to the job backend and (throttled) to its JobRecord."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.last = 0.0
        self.last_fraction = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        report_progress(fraction, message)
        now = time.monotonic()
        if fraction - self.last_fraction >= 0.05 or now - self.last >= 1.0 or fraction >= 1.0:
            self.last, self.last_fraction = now, fraction
            update_job(self.job_id, progress=fraction, message=message[:500])


def run_tracked(job_id: str, work: Callable[[ProgressFn], Any]) -> Any:
    """Run a task's ``work(progress)``, keeping the job's record in step; the work's result is returned.

    An exception rolls the session back, marks the record failed with the error (a coded error as its
    JSON, so pages show it in the reader's language) and propagates.
    """
    task = _task_of(job_id)
    log.info("job %s (%s): started", job_id, task)
    started = time.perf_counter()
    update_job(job_id, state=JobState.RUNNING, progress=0.0, error=None)
    tracker = _Tracker(job_id)
    try:
        result = work(tracker)
    except Exception as exc:
        db.session.rollback()
        detail = exc.to_dict() if isinstance(exc, CodedError) else None
        error = json.dumps(detail, ensure_ascii=False) if detail else f"{type(exc).__name__}: {exc}"
        update_job(job_id, state=JobState.FAILED, error=error)
        log.warning("job %s (%s): failed after %.2f s: %s", job_id, task, time.perf_counter() - started,
                    error[:500])
        raise
    update_job(job_id, state=JobState.DONE, progress=1.0, message=str(result or "")[:500])
    log.info("job %s (%s): done in %.2f s: %s", job_id, task, time.perf_counter() - started, str(result or "")[:200])
    return result


def _task_of(job_id: str) -> str:
    """The task name of a job's record, for the log ("?" when it cannot be read)."""
    try:
        with db.engine.connect() as connection:
            return str(connection.scalar(sa.select(JobRecord.task).where(JobRecord.id == job_id)) or "?")
    except Exception:  # the log line must never break the work
        return "?"
