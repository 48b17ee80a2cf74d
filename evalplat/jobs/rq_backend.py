"""Jobs on RQ over Redis, for deployments with workers on several machines.

The web process enqueues :func:`run_task` with the task's *name* (and its module, so a worker can
import it); the worker resolves the name, enters an application context when the task needs one,
and runs it. In the worker, the application is built lazily inside the task wrapper — once per
worker process — with ``from evalplat import create_app``; replace that with
:func:`set_worker_context_factory` or the environment variable ``EVALPLAT_JOBS_CONTEXT_FACTORY``
(``"package.module:callable"`` returning a context manager).

Start a worker with ``python -m evalplat.jobs.worker`` (see :mod:`evalplat.jobs.worker`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from .base import (
    Backend,
    ContextFactory,
    JobError,
    JobNotFound,
    JobState,
    JobStatus,
    describe_error,
    get_task,
    reporting,
)

__all__ = ["DEFAULT_QUEUE", "RQBackend", "run_task", "set_worker_context_factory"]

DEFAULT_QUEUE = "evalplat"
CONTEXT_FACTORY_VARIABLE = "EVALPLAT_JOBS_CONTEXT_FACTORY"

_STATE_MAP = {
    "created": JobState.QUEUED,
    "queued": JobState.QUEUED,
    "deferred": JobState.QUEUED,
    "scheduled": JobState.QUEUED,
    "ready_to_enqueue": JobState.QUEUED,
    "rate_limited": JobState.QUEUED,
    "started": JobState.RUNNING,
    "finished": JobState.DONE,
    "failed": JobState.FAILED,
    "stopped": JobState.FAILED,
    "canceled": JobState.FAILED,
}

# --- worker side -----------------------------------------------------------------------------------
_worker_factory: ContextFactory | None = None
_worker_app: Any = None
_worker_lock = threading.Lock()


def set_worker_context_factory(factory: ContextFactory | None) -> None:
    """Set the context a ``needs_app`` task runs in, in this worker process (None: the default)."""
    global _worker_factory
    _worker_factory = factory


def _default_app_context() -> AbstractContextManager[Any]:
    """Build the Flask app once per worker process (lazily) and return an app context."""
    global _worker_app
    with _worker_lock:
        if _worker_app is None:
            from evalplat import create_app  # lazy: the worker imports this module before any app exists

            _worker_app = create_app()
    return _worker_app.app_context()  # type: ignore[no-any-return]


def _load_factory(spec: str) -> ContextFactory:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise JobError(f"{CONTEXT_FACTORY_VARIABLE} must look like 'package.module:callable', not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    if not callable(factory):
        raise JobError(f"{spec} is not callable")
    return factory  # type: ignore[no-any-return]


def _worker_context() -> AbstractContextManager[Any]:
    global _worker_factory
    if _worker_factory is None:
        spec = os.environ.get(CONTEXT_FACTORY_VARIABLE, "").strip()
        _worker_factory = _load_factory(spec) if spec else _default_app_context
    return _worker_factory()


def run_task(task_name: str, module: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The function RQ runs: resolve the task, enter its context, run it, keep progress and errors in meta."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:  # pragma: no cover - only RQ calls this
        raise JobError("run_task must run inside an RQ worker")

    def reporter(fraction: float, message: str) -> None:
        job.meta["progress"] = fraction
        job.meta["message"] = message
        job.save_meta()

    try:
        entry = get_task(task_name, module)
        context = _worker_context() if entry.needs_app else contextlib.nullcontext()
        with context, reporting(job.id, reporter):
            result = entry.func(*args, **kwargs)
    except Exception as exc:
        error, info = describe_error(exc)
        job.meta.update(error=error, error_info=info)
        job.save_meta()
        job.retries_left = 0  # RQ retries a job whose process died (retries_if_lost), never one that raised
        raise
    job.meta.update(progress=1.0)
    job.save_meta()
    return result


# --- web side -----------------------------------------------------------------------------------
def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RQBackend(Backend):
    """Enqueue jobs on an RQ queue and read their status from Redis.

    Parameters
    ----------
    url : str
        Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
    queue_name : str
        RQ queue (default ``"evalplat"``); workers must listen on it.
    connection : redis.Redis, optional
        An existing connection (``url`` is then ignored).
    default_timeout : int
        Seconds a job may run when its task sets no timeout (default 1 hour).
    result_ttl, failure_ttl : int
        Seconds finished and failed jobs stay in Redis (default 7 and 30 days).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        queue_name: str = DEFAULT_QUEUE,
        connection: Any = None,
        default_timeout: int = 3600,
        result_ttl: int = 7 * 86400,
        failure_ttl: int = 30 * 86400,
    ) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = connection if connection is not None else Redis.from_url(url)
        self.queue = Queue(queue_name, connection=self.connection)
        self.default_timeout = default_timeout
        self.result_ttl = result_ttl
        self.failure_ttl = failure_ttl

    def __repr__(self) -> str:
        return f"RQBackend(queue={self.queue.name!r})"

    def enqueue(self, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                job_id: str | None = None) -> str:
        from rq import Retry

        entry = get_task(task_name)
        job = self.queue.enqueue(
            run_task,
            args=(task_name, entry.module, tuple(args), dict(kwargs)),
            job_id=job_id,
            retry=Retry(max=entry.retries_if_lost) if entry.retries_if_lost else None,
            job_timeout=int(entry.timeout or self.default_timeout),
            result_ttl=self.result_ttl,
            failure_ttl=self.failure_ttl,
            description=task_name,
            meta={"task": task_name, "progress": 0.0, "message": "", "attempts": 1},
        )
        return str(job.id)

    def _fetch(self, job_id: str) -> Any:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            raise JobNotFound(f"no job has id {job_id!r}") from None

    def status(self, job_id: str) -> JobStatus:
        job = self._fetch(job_id)
        raw = job.get_status(refresh=True)
        state = _STATE_MAP.get(getattr(raw, "value", str(raw)), JobState.QUEUED)
        meta = job.get_meta(refresh=True)
        error = meta.get("error")
        if state == JobState.FAILED and not error:
            latest = job.latest_result()
            exc_string = (latest.exc_string or "").strip() if latest is not None else ""
            error = exc_string.splitlines()[-1] if exc_string else f"job {raw}"
        return JobStatus(
            id=str(job.id),
            task=str(meta.get("task", job.description)),
            state=state,
            progress=1.0 if state == JobState.DONE else float(meta.get("progress", 0.0)),
            message=str(meta.get("message", "")),
            error=error if state == JobState.FAILED else None,
            error_info=meta.get("error_info") if state == JobState.FAILED else None,
            result=job.return_value() if state == JobState.DONE else None,
            attempts=int(meta.get("attempts", 1)),
            enqueued_at=_utc(job.enqueued_at),
            started_at=_utc(job.started_at),
            ended_at=_utc(job.ended_at) if state in (JobState.DONE, JobState.FAILED) else None,
        )

    def reap(self) -> None:
        """RQ's own handling of abandoned jobs (a worker that died mid-job, its heartbeat expired): each is
        queued again if it has retries left, else moved to the failed-job registry."""
        from rq.registry import StartedJobRegistry

        StartedJobRegistry(queue=self.queue).cleanup()

    def is_lost(self, job_id: str, owner: str | None) -> bool:
        """Lost when RQ no longer has the job or has failed it (our tasks record their own failures first, so a
        job RQ failed while its record still runs died outside the task: a killed work horse, an abandoned
        job), or when it is started by a process on this machine that has died (RQ notices that only when
        the job's heartbeat expires, an hour or more for a simple worker)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return True
        state = _STATE_MAP.get(job.get_status(refresh=True).value, JobState.QUEUED)
        if state == JobState.FAILED:
            return True
        return state == JobState.RUNNING and super().is_lost(job_id, owner)

    def retry(self, job_id: str) -> str:
        job = self._fetch(job_id)
        state = _STATE_MAP.get(job.get_status(refresh=True).value, JobState.QUEUED)
        if state != JobState.FAILED:
            raise JobError(f"job {job_id} is {state.value}; only a failed job can be retried")
        meta = job.get_meta(refresh=True)
        meta.update(
            progress=0.0, message="", error=None, error_info=None, attempts=int(meta.get("attempts", 1)) + 1
        )
        job.save_meta()
        job.requeue()
        return str(job.id)
