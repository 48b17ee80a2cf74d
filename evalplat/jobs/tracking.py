"""Job tracking: a background job's :class:`~evalplat.jobs.models.JobRecord` kept in step with its work.

:func:`submit_job` stages a record in the caller's session and queues the task once that session
commits (never before: the job would not find the rows it concerns), so it can be called inside an
operation and commits nothing itself. :func:`run_tracked` wraps a task's work: the record goes
``running``, follows its progress and ends ``done`` or ``failed`` with the error, each write on its own
connection so that the work's transaction is never committed by the bookkeeping.

:func:`init_app` (called by the factory through :func:`evalplat.services.init_app`) connects the
session events that queue and forget staged jobs.

A job's work may queue **parts** (``submit_job(..., part=True)``: a document's or a campaign's OCR page
jobs): the job then stays ``running`` after its own work has ended (``work_ended_at``), its progress that
of its parts, until the last part has ended; :func:`settle` closes it then — ``done``, or ``failed`` naming
the parts that failed — exactly once, whichever process finishes last. :func:`parts_progress` says what it
still waits for. The parts of a job's part (a campaign chunk's pages) are parts of the top job.

A job whose process died (a killed worker, a restarted web process whose in-process queue was lost) never
ends by itself: :func:`recover` runs the recoverers the domains register (:func:`recoverer`), which ask the
backend whether each of their open jobs is lost (:meth:`~evalplat.jobs.base.Backend.is_lost`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from evalplat.db import DbSession, utcnow
from evalplat.extensions import db
from evalplat.files import CodedError

from . import InProcessBackend, enqueue, enqueue_as, get_backend, process_identity, report_progress, task
from .models import JobRecord, JobState

__all__ = ["PartsProgress", "ProgressFn", "init_app", "on_settled", "parts_progress", "recover", "recoverer",
           "run_tracked", "settle", "submit_job"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]

_PENDING = "evalplat.jobs.pending"


#: the tracked job whose work is running in this context: jobs submitted as parts become its parts
_parts_of: ContextVar[str | None] = ContextVar("evalplat_job_parts_of", default=None)


@contextlib.contextmanager
def parts_of(job_id: str | None) -> Iterator[None]:
    """Jobs submitted with ``part=True`` inside the block are parts of ``job_id``."""
    token = _parts_of.set(job_id)
    try:
        yield
    finally:
        _parts_of.reset(token)


def submit_job(session: DbSession, task_name: str, *, actor_id: int | None, object_type: str, object_id: int,
               args: Sequence[Any] = (), part: bool = False, parent_id: str | None = None) -> str:
    """Record a job in ``session`` and queue it when the session commits (the caller commits).

    The task receives the record's id first, then ``args``. If the session rolls back, the job is
    neither recorded nor queued. With ``part``, the job is a part of the tracked job whose work submits it
    (if any; or of ``parent_id``): that job is finished only when this one has ended too.

    Returns
    -------
    str
        The job record's id.
    """
    if part and parent_id is None:
        parent_id = _parts_of.get()
    job = JobRecord(id=uuid.uuid4().hex, task=task_name, state=JobState.QUEUED, object_type=object_type,
                    object_id=object_id, created_by_id=actor_id, message="", parent_id=parent_id)
    session.add(job)
    session.info.setdefault(_PENDING, []).append((job.id, task_name, tuple(args)))
    return job.id


def _enqueue_pending(session: DbSession) -> None:
    pending = session.info.pop(_PENDING, ())
    if not pending:
        return
    # an in-process queue lives in this process's memory: the process holds the job until it has run
    owner = process_identity() if isinstance(get_backend(), InProcessBackend) else None
    for job_id, task_name, args in pending:
        try:
            if owner:
                update_job(job_id, owner=owner)
            enqueue_as(job_id, task_name, job_id, *args)
        except Exception as exc:  # the work is committed: the job shows failed and can be retried
            log.exception("job %s (%s): queueing failed", job_id, task_name)
            update_job(job_id, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}")


def _forget_pending(session: DbSession, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Connect the session events that queue staged jobs after commit and forget them on rollback; with the
    in-process backend, recover once per process, at its first request, the jobs of processes that died
    (``EVALPLAT_RECOVER_JOBS``, on except in tests)."""
    if not event.contains(Session, "after_commit", _enqueue_pending):
        event.listen(Session, "after_commit", _enqueue_pending)
        event.listen(Session, "after_soft_rollback", _forget_pending)
    if app.config.get("EVALPLAT_RECOVER_JOBS", not app.testing):
        started = {"done": False}

        @app.before_request
        def _recover_once() -> None:
            if started["done"]:
                return
            started["done"] = True
            if isinstance(get_backend(), InProcessBackend):  # RQ workers recover when they start
                enqueue("jobs.recover")


@task("jobs.recover")
def recover_task() -> str:
    """Background task: :func:`recover` (the in-process backend's, when a web process starts)."""
    recovered = recover()
    if any(recovered.values()):
        log.warning("recovered lost jobs: %s", recovered)
    return json.dumps(recovered)


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
    JSON, so pages show it in the reader's language) and propagates. When the work has queued parts
    (page jobs), the record stays ``running`` until they have ended (:func:`settle`); when the job is itself
    a part, its parent is settled once it has ended.
    """
    name, parent_id = _task_of(job_id)
    log.info("job %s (%s): started", job_id, name)
    started = time.perf_counter()
    update_job(job_id, state=JobState.RUNNING, progress=0.0, error=None, work_ended_at=None,
               owner=process_identity())
    tracker = _Tracker(job_id)
    try:
        with parts_of(parent_id or job_id):
            result = work(tracker)
    except Exception as exc:
        db.session.rollback()
        detail = exc.to_dict() if isinstance(exc, CodedError) else None
        error = json.dumps(detail, ensure_ascii=False) if detail else f"{type(exc).__name__}: {exc}"
        update_job(job_id, state=JobState.FAILED, error=error, work_ended_at=utcnow())
        log.warning("job %s (%s): failed after %.2f s: %s", job_id, name, time.perf_counter() - started,
                    error[:500])
        if parent_id:
            settle(parent_id)
        raise
    update_job(job_id, progress=1.0, message=str(result or "")[:500], work_ended_at=utcnow())
    if settle(job_id):
        log.info("job %s (%s): done in %.2f s: %s", job_id, name, time.perf_counter() - started,
                 str(result or "")[:200])
    else:
        log.info("job %s (%s): its own work done in %.2f s, waiting for its parts: %s", job_id, name,
                 time.perf_counter() - started, str(result or "")[:200])
    if parent_id:
        settle(parent_id)
    return result


# --- jobs that wait for their parts ---------------------------------------------------------------------
@dataclass(frozen=True)
class PartsProgress:
    """A job's parts: how many, how many ended, failed, and those not ended yet per task."""

    total: int
    ended: int
    failed: int
    waiting: dict[str, int]  # task → parts queued or running

    @property
    def outstanding(self) -> int:
        return self.total - self.ended


def parts_progress(session: DbSession, job_id: str) -> PartsProgress:
    """What the job's parts are doing (in one query)."""
    rows = session.execute(sa.select(JobRecord.task, JobRecord.state, sa.func.count())
                           .where(JobRecord.parent_id == job_id).group_by(JobRecord.task, JobRecord.state)).all()
    ended = sum(n for _, state, n in rows if state in (JobState.DONE, JobState.FAILED))
    waiting: dict[str, int] = {}
    for name, state, n in rows:
        if state not in (JobState.DONE, JobState.FAILED):
            waiting[name] = waiting.get(name, 0) + n
    return PartsProgress(sum(n for *_, n in rows), ended, sum(n for _, s, n in rows if s == JobState.FAILED),
                         waiting)


SettledHook = Callable[[DbSession, JobRecord, dict[str, int], PartsProgress], None]
_settled_hooks: dict[str, SettledHook] = {}


def on_settled(task_name: str) -> Callable[[SettledHook], SettledHook]:
    """Register ``hook(session, record, counts, parts)``, called once when a job of the task is finished
    (:func:`settle`), with the counts of its summary and its parts' summaries added up."""
    def decorator(hook: SettledHook) -> SettledHook:
        _settled_hooks[task_name] = hook
        return hook
    return decorator


def _counts(message: str | None) -> dict[str, int] | None:
    try:
        data = json.loads(message or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, int) for v in data.values()):
        return None
    return data


def settle(job_id: str) -> bool:
    """Finish a job whose own work has ended once none of its parts is queued or running: ``done``, or
    ``failed`` naming how many parts failed; until then its progress is its parts'. True for the one caller
    (of any process) that finished it.

    Its summary becomes the counts of its own summary and its parts' added up, when they are counts (JSON).
    """
    db.session.rollback()  # a fresh snapshot: the parts' states were committed on other connections
    record = db.session.get(JobRecord, job_id, populate_existing=True)
    if record is None or record.state in (JobState.DONE, JobState.FAILED) or record.work_ended_at is None:
        db.session.rollback()
        return False
    parts = parts_progress(db.session, job_id)
    if parts.outstanding:
        db.session.rollback()
        update_job(job_id, progress=parts.ended / parts.total)
        return False
    messages = [record.message] + list(db.session.execute(
        sa.select(JobRecord.message).where(JobRecord.parent_id == job_id, JobRecord.state == JobState.DONE))
        .scalars())
    summed: dict[str, int] | None = None
    for counts in filter(None, map(_counts, messages)):
        summed = summed or {}
        for key, value in counts.items():
            summed[key] = summed.get(key, 0) + value
    db.session.rollback()
    values: dict[str, Any] = {"state": JobState.FAILED if parts.failed else JobState.DONE, "progress": 1.0,
                              "updated_at": utcnow()}
    if summed is not None:
        values["message"] = json.dumps(summed)[:500]
    if parts.failed:
        values["error"] = f"{parts.failed} of {parts.total} part(s) failed; retry them"
    with db.engine.begin() as connection:  # only one finishing process wins this update
        won = connection.execute(sa.update(JobRecord).where(
            JobRecord.id == job_id, JobRecord.state.not_in((JobState.DONE, JobState.FAILED)))
            .values(**values)).rowcount
    if not won:
        return False
    if parts.total:
        log.info("job %s (%s): finished with its %d part(s), %d failed", job_id, record.task, parts.total,
                 parts.failed)
    hook = _settled_hooks.get(record.task)
    if hook is not None:
        finished = db.session.get(JobRecord, job_id, populate_existing=True)
        assert finished is not None
        hook(db.session, finished, summed or {}, parts)
        db.session.commit()
    return True


# --- jobs whose process died --------------------------------------------------------------------------------
Recoverer = Callable[[DbSession], int]
_recoverers: dict[str, Recoverer] = {}


def recoverer(name: str) -> Callable[[Recoverer], Recoverer]:
    """Register ``recover(session) -> count`` under ``name``: it finds its domain's jobs whose process died
    (:meth:`~evalplat.jobs.base.Backend.is_lost`) and queues their work again, or fails it, and commits."""
    def decorator(fn: Recoverer) -> Recoverer:
        _recoverers[name] = fn
        return fn
    return decorator


def recover(session: DbSession | None = None) -> dict[str, int]:
    """Run every registered recoverer (after the backend's own reaping); what each recovered."""
    work: DbSession = session if session is not None else db.session
    get_backend().reap()
    done = {}
    for name, fn in _recoverers.items():
        try:
            done[name] = fn(work)
        except Exception:  # one domain's recovery must not stop the others'
            work.rollback()
            log.exception("recovering %s failed", name)
    return done


def _task_of(job_id: str) -> tuple[str, str | None]:
    """The task name of a job's record ("?" when it cannot be read, for the log) and its parent's id."""
    try:
        with db.engine.connect() as connection:
            row = connection.execute(sa.select(JobRecord.task, JobRecord.parent_id)
                                     .where(JobRecord.id == job_id)).one_or_none()
    except Exception:  # the log line must never break the work
        return "?", None
    return (str(row.task), row.parent_id) if row is not None else ("?", None)
