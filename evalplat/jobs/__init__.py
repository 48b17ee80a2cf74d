"""Background jobs: one small API over an in-process thread pool (default) or RQ on Redis.

Examples
--------
>>> from evalplat import jobs
>>> @jobs.task("demo.count", needs_app=False)
... def count(n: int) -> int:
...     for i in range(n):
...         jobs.report_progress((i + 1) / n, f"{i + 1}/{n}")
...     return n
>>> job_id = jobs.enqueue("demo.count", 3)                  # doctest: +SKIP
>>> jobs.status(job_id).state                               # doctest: +SKIP
<JobState.DONE: 'done'>

The app calls :func:`configure` at start-up with its config (``EVALPLAT_JOBS_URL`` empty for
in-process, ``redis://…`` for RQ; ``EVALPLAT_JOB_WORKERS`` threads for in-process) and, for the
in-process backend, ``context_factory=app.app_context`` and optionally ``on_update`` to persist
status. Tasks call :func:`report_progress`; a failed job is queued again alone with :func:`retry`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from .base import (
    Backend,
    ContextFactory,
    JobError,
    JobNotFound,
    JobState,
    JobStatus,
    StatusCallback,
    Task,
    UnknownTask,
    current_job_id,
    get_task,
    holder_dead,
    process_identity,
    report_progress,
    task,
)
from .inprocess import InProcessBackend

__all__ = [
    "Backend",
    "InProcessBackend",
    "JobError",
    "JobNotFound",
    "JobState",
    "JobStatus",
    "Task",
    "UnknownTask",
    "backend_from_config",
    "configure",
    "current_job_id",
    "enqueue",
    "enqueue_as",
    "get_backend",
    "get_task",
    "holder_dead",
    "process_identity",
    "report_progress",
    "retry",
    "set_backend",
    "shutdown",
    "status",
    "task",
]

_backend: Backend | None = None
_lock = threading.Lock()


def backend_from_config(
    config: Mapping[str, Any],
    *,
    on_update: StatusCallback | None = None,
    context_factory: ContextFactory | None = None,
) -> Backend:
    """Build the backend a configuration names.

    Parameters
    ----------
    config : mapping
        ``EVALPLAT_JOBS_URL``: empty or ``"inprocess"`` for the thread pool, ``redis://…`` for RQ.
        ``EVALPLAT_JOB_WORKERS``: thread-pool size (default 2).
        ``EVALPLAT_JOBS_QUEUE``: the RQ queue (default ``evalplat``); its workers listen on it.
    on_update : callable, optional
        In-process only: called with each :class:`JobStatus` change (to persist it). With RQ the
        status lives in Redis and is read by :func:`status`.
    context_factory : callable, optional
        In-process only: the context a ``needs_app`` task runs in (``app.app_context``). RQ workers
        build their own app (see :mod:`evalplat.jobs.rq_backend`).
    """
    url = str(config.get("EVALPLAT_JOBS_URL") or "").strip()
    if url in ("", "inprocess"):
        workers = int(config.get("EVALPLAT_JOB_WORKERS") or 2)
        return InProcessBackend(workers, on_update=on_update, context_factory=context_factory)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .rq_backend import DEFAULT_QUEUE, RQBackend

        return RQBackend(url, queue_name=str(config.get("EVALPLAT_JOBS_QUEUE") or DEFAULT_QUEUE))
    raise JobError(f"EVALPLAT_JOBS_URL must be empty, 'inprocess' or a redis:// URL, not {url!r}")


def set_backend(backend: Backend | None) -> Backend | None:
    """Install ``backend`` for the module-level functions; return the previous one (not shut down)."""
    global _backend
    with _lock:
        previous, _backend = _backend, backend
    return previous


def configure(
    config: Mapping[str, Any],
    *,
    on_update: StatusCallback | None = None,
    context_factory: ContextFactory | None = None,
) -> Backend:
    """Build the backend from ``config`` (see :func:`backend_from_config`), install it and return it.

    A previously installed backend is shut down after its queued jobs finish.
    """
    backend = backend_from_config(config, on_update=on_update, context_factory=context_factory)
    previous = set_backend(backend)
    if previous is not None:
        previous.shutdown(wait=False)
    return backend


def get_backend() -> Backend:
    """The installed backend; an in-process one is created on first use if none was configured."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = InProcessBackend()
        return _backend


def enqueue(task_name: str | Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Queue a registered task with its arguments; return the job id.

    Parameters
    ----------
    task_name : str or callable
        The registered name, or the decorated function itself.
    *args, **kwargs
        Arguments for the task. With RQ they are pickled: pass ids and plain data, not ORM objects.

    Raises
    ------
    UnknownTask
    """
    name = getattr(task_name, "task_name", task_name)
    if not isinstance(name, str):
        raise UnknownTask(f"{task_name!r} is not a registered task; decorate it with @evalplat.jobs.task")
    return get_backend().enqueue(name, args, kwargs)


def enqueue_as(job_id: str, task_name: str, *args: Any) -> str:
    """:func:`enqueue` under a given job id (a tracked job's record id, so that its record and the backend's
    job can be matched); returns it."""
    get_task(task_name)
    return get_backend().enqueue(task_name, args, {}, job_id=job_id)


def status(job_id: str) -> JobStatus:
    """Return the job's :class:`JobStatus`; :class:`JobNotFound` if unknown."""
    return get_backend().status(job_id)


def retry(job_id: str) -> str:
    """Queue a failed job again with the same arguments; returns its (unchanged) id."""
    return get_backend().retry(job_id)


def shutdown(wait: bool = True) -> None:
    """Shut down the installed backend and forget it."""
    backend = set_backend(None)
    if backend is not None:
        backend.shutdown(wait=wait)
