"""The default job backend: a small thread pool inside the web process; needs nothing else.

Status lives in memory; pass ``on_update`` to persist every change (e.g. into a jobs table) so
progress survives and is visible to the other application processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from .base import (
    Backend,
    ContextFactory,
    JobError,
    JobNotFound,
    JobState,
    JobStatus,
    StatusCallback,
    describe_error,
    get_task,
    now,
    reporting,
)

__all__ = ["InProcessBackend"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class _Record:
    status: JobStatus
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    context_factory: ContextFactory | None


def _flask_app_factory() -> ContextFactory | None:
    """The app context factory of the Flask app active in this thread, if any."""
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    if not has_app_context():
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app.app_context  # type: ignore[no-any-return]


class InProcessBackend(Backend):
    """Run jobs on a ``ThreadPoolExecutor``.

    Parameters
    ----------
    max_workers : int
        Threads (default 2: one per core on the reference machine; OCR runs in subprocesses).
    on_update : callable, optional
        ``on_update(status)`` after every change of state or progress, from whichever thread made
        it. It must not assume an app context; its exceptions are logged and ignored.
    context_factory : callable, optional
        Returns the context manager a ``needs_app`` task runs in (e.g. ``app.app_context``). When
        omitted, the Flask app active at :meth:`enqueue` time is used.
    max_kept : int
        Finished jobs kept in memory; the oldest finished ones are forgotten beyond this.

    Notes
    -----
    A task's ``timeout`` is not enforced here (a thread cannot be stopped from outside); OCR
    subprocesses carry their own per-page timeouts.
    """

    def __init__(
        self,
        max_workers: int = 2,
        *,
        on_update: StatusCallback | None = None,
        context_factory: ContextFactory | None = None,
        max_kept: int = 10_000,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="evalplat-job")
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()
        self._on_update = on_update
        self._context_factory = context_factory
        self._max_kept = max_kept

    def __repr__(self) -> str:
        return f"InProcessBackend(max_workers={self._pool._max_workers})"

    # --- public ----------------------------------------------------------------------------------
    def enqueue(self, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                job_id: str | None = None) -> str:
        entry = get_task(task_name)
        factory = None
        if entry.needs_app:
            factory = self._context_factory or _flask_app_factory()
        job_id = job_id or uuid.uuid4().hex
        status = JobStatus(id=job_id, task=task_name, state=JobState.QUEUED, enqueued_at=now())
        with self._lock:
            self._records[job_id] = _Record(status, tuple(args), dict(kwargs), factory)
            self._forget_old()
        self._notify(status)
        self._pool.submit(self._run, job_id)
        return job_id

    def status(self, job_id: str) -> JobStatus:
        with self._lock:
            record = self._records.get(job_id)
        if record is None:
            raise JobNotFound(f"no job has id {job_id!r}")
        return record.status

    def retry(self, job_id: str) -> str:
        with self._lock:
            record = self._records.get(job_id)
            if record is None:
                raise JobNotFound(f"no job has id {job_id!r}")
            if record.status.state != JobState.FAILED:
                raise JobError(
                    f"job {job_id} is {record.status.state.value}; only a failed job can be retried"
                )
            record.status = dataclasses.replace(
                record.status,
                state=JobState.QUEUED,
                progress=0.0,
                message="",
                error=None,
                error_info=None,
                attempts=record.status.attempts + 1,
                enqueued_at=now(),
                started_at=None,
                ended_at=None,
            )
            status = record.status
        self._notify(status)
        self._pool.submit(self._run, job_id)
        return job_id

    def is_lost(self, job_id: str, owner: str | None) -> bool:
        """A job this backend holds is not lost; another process's job is when that process has died (its
        queue was in its memory: after a restart, or a crash, nothing will run it)."""
        with self._lock:
            if job_id in self._records:
                return False
        return super().is_lost(job_id, owner)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no job is queued or running (or ``timeout`` seconds pass); True when idle.

        Tests call it before wiping the database, so that a job started by one test cannot write into
        the next test's rows (SQLite reuses ids after a delete).
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                busy = any(not r.status.finished for r in self._records.values())
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting jobs; queued and running jobs still finish (``wait`` blocks until they have)."""
        self._pool.shutdown(wait=wait)

    # --- internals ---------------------------------------------------------------------------------
    def _update(self, job_id: str, **changes: Any) -> JobStatus:
        with self._lock:
            record = self._records[job_id]
            record.status = dataclasses.replace(record.status, **changes)
            status = record.status
        self._notify(status)
        return status

    def _notify(self, status: JobStatus) -> None:
        if self._on_update is None:
            return
        try:
            self._on_update(status)
        except Exception:
            log.exception("job %s: the status callback failed", status.id)

    def _forget_old(self) -> None:
        excess = len(self._records) - self._max_kept
        if excess <= 0:
            return
        for job_id in [k for k, r in self._records.items() if r.status.finished][:excess]:
            del self._records[job_id]

    def _run(self, job_id: str) -> None:
        with self._lock:
            record = self._records[job_id]
        self._update(job_id, state=JobState.RUNNING, started_at=now())
        try:
            entry = get_task(record.status.task)
            if entry.needs_app and record.context_factory is None:
                raise JobError(
                    f"task {entry.name!r} needs the application context, but the job was queued outside "
                    "an app context and the backend has no context_factory"
                )
            context: AbstractContextManager[Any] = (
                record.context_factory()
                if entry.needs_app and record.context_factory
                else contextlib.nullcontext()
            )
            with context, reporting(job_id, lambda f, m: self._update(job_id, progress=f, message=m)):
                result = entry.func(*record.args, **record.kwargs)
        except BaseException as exc:
            error, info = describe_error(exc)
            log.warning("job %s (%s) failed: %s", job_id, record.status.task, error)
            self._update(job_id, state=JobState.FAILED, error=error, error_info=info, ended_at=now())
            if not isinstance(exc, Exception):
                raise
            return
        self._update(job_id, state=JobState.DONE, progress=1.0, result=result, ended_at=now())
