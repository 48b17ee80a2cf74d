"""Shared pieces of the job layer: task registry, job status, progress reporting, backend interface."""

from __future__ import annotations

import abc
import contextlib
import enum
import importlib
import logging
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

__all__ = [
    "Backend",
    "ContextFactory",
    "JobError",
    "JobNotFound",
    "JobState",
    "JobStatus",
    "StatusCallback",
    "Task",
    "UnknownTask",
    "current_job_id",
    "describe_error",
    "get_task",
    "holder_dead",
    "process_identity",
    "report_progress",
    "reporting",
    "task",
]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
ContextFactory = Callable[[], AbstractContextManager[Any]]
StatusCallback = Callable[["JobStatus"], None]


class JobError(Exception):
    """A job-layer misuse: retrying a job that has not failed, an unserialisable argument …"""


class UnknownTask(JobError):
    """No task is registered under the name."""


class JobNotFound(JobError):
    """No job has the id (never existed, or expired from the store)."""


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job.

    Attributes
    ----------
    id, task : str
        Job id and task name.
    state : JobState
    progress : float
        0–1, as last reported by the task (1 when done).
    message : str
        The task's last progress message.
    error : str or None
        ``"ExceptionType: message"`` for a failed job.
    error_info : dict or None
        For errors with codes (:class:`evalplat.files.errors.CodedError`): code, filename,
        params and the Chinese and English messages.
    result : object
        The task's return value once done.
    attempts : int
        1, plus one per retry.
    enqueued_at, started_at, ended_at : datetime or None
        UTC.
    """

    id: str
    task: str
    state: JobState
    progress: float = 0.0
    message: str = ""
    error: str | None = None
    error_info: dict[str, Any] | None = None
    result: Any = None
    attempts: int = 1
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Whether the job is done or failed."""
        return self.state in (JobState.DONE, JobState.FAILED)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready: datetimes as ISO strings) for a progress endpoint or the database."""
        data = asdict(self)
        data["state"] = self.state.value
        for key in ("enqueued_at", "started_at", "ended_at"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


@dataclass(frozen=True)
class Task:
    """A registered task: its name, function and whether it needs the Flask app context."""

    name: str
    func: Callable[..., Any]
    module: str
    needs_app: bool = True
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    retries_if_lost: int = 0


_tasks: dict[str, Task] = {}
_tasks_lock = threading.Lock()


def task(
    name: str | None = None, *, needs_app: bool = True, timeout: float | None = None, retries_if_lost: int = 0
) -> Callable[[F], F]:
    """Register a function as a background task.

    Parameters
    ----------
    name : str, optional
        The name used with :func:`enqueue`; defaults to ``"module.function"``.
    needs_app : bool
        Run inside an application context (default True: tasks that touch the database need it).
        Pure tasks (text extraction, OCR) pass False and avoid building an app in the worker.
    timeout : float, optional
        Seconds the job may run on the RQ backend before the worker kills it (default 1 hour).
    retries_if_lost : int
        On RQ: times the job is queued again, by RQ itself, when the process running it died (its work
        horse was killed, or the worker's heartbeat expired: RQ's abandoned jobs) — never when the task
        raised. The task must then be safe to run again.

    Returns
    -------
    callable
        A decorator that returns the function unchanged (it can still be called directly).

    Examples
    --------
    >>> @task("demo.add", needs_app=False)
    ... def add(a: int, b: int) -> int:
    ...     return a + b
    """

    def decorator(func: F) -> F:
        task_name = name or f"{func.__module__}.{func.__qualname__}"
        entry = Task(task_name, func, func.__module__, needs_app, timeout, retries_if_lost=retries_if_lost)
        with _tasks_lock:
            existing = _tasks.get(task_name)
            if existing is not None and (existing.module, existing.func.__qualname__) != (
                entry.module,
                func.__qualname__,
            ):
                raise JobError(f"task name {task_name!r} is already registered by {existing.module}")
            _tasks[task_name] = entry
        func.task_name = task_name  # type: ignore[attr-defined]
        return func

    return decorator


def get_task(name: str, module: str | None = None) -> Task:
    """Return the task registered as ``name``, importing ``module`` first if it is not yet registered.

    Raises
    ------
    UnknownTask
    """
    if name not in _tasks and module:
        importlib.import_module(module)
    try:
        return _tasks[name]
    except KeyError:
        raise UnknownTask(
            f"no task is registered as {name!r}; decorate it with @evalplat.jobs.task"
        ) from None


# --- progress ------------------------------------------------------------------------------------
_reporter: ContextVar[Callable[[float, str], object] | None] = ContextVar("evalplat_job_reporter", default=None)
_job_id: ContextVar[str | None] = ContextVar("evalplat_job_id", default=None)


def report_progress(fraction: float, message: str = "") -> None:
    """Report progress from inside a running task; does nothing outside one.

    Its signature matches :data:`evalplat.extract.ProgressCallback`, so it can be passed straight
    to ``extract_text(..., progress=report_progress)``.

    Parameters
    ----------
    fraction : float
        0–1 (clamped).
    message : str
        A short note such as ``"OCR 3/50"``.
    """
    reporter = _reporter.get()
    if reporter is None:
        return
    try:
        reporter(min(max(float(fraction), 0.0), 1.0), str(message))
    except Exception:  # progress must never break the work itself
        log.exception("job %s: reporting progress failed", _job_id.get())


def current_job_id() -> str | None:
    """The id of the job running in this context, or None."""
    return _job_id.get()


@contextlib.contextmanager
def reporting(job_id: str, reporter: Callable[[float, str], object]) -> Iterator[None]:
    """Make :func:`report_progress` inside the block go to ``reporter``."""
    token_r = _reporter.set(reporter)
    token_j = _job_id.set(job_id)
    try:
        yield
    finally:
        _reporter.reset(token_r)
        _job_id.reset(token_j)


def describe_error(exc: BaseException) -> tuple[str, dict[str, Any] | None]:
    """Return ``("Type: message", info)`` for a failed job; ``info`` from ``exc.to_dict()`` if it has one."""
    to_dict = getattr(exc, "to_dict", None)
    info = to_dict() if callable(to_dict) else None
    text = str(exc) if str(exc) else "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{type(exc).__name__}: {text}", info


def now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


class Backend(abc.ABC):
    """What every job backend provides."""

    @abc.abstractmethod
    def enqueue(self, task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                job_id: str | None = None) -> str:
        """Queue a registered task (under ``job_id`` when given); return the job id."""

    @abc.abstractmethod
    def status(self, job_id: str) -> JobStatus:
        """Return the job's status; :class:`JobNotFound` if unknown."""

    @abc.abstractmethod
    def retry(self, job_id: str) -> str:
        """Queue a failed job again (same id, same arguments); :class:`JobError` if it has not failed."""

    def reap(self) -> None:  # noqa: B027 - optional hook
        """Let the backend notice jobs whose process died (RQ: its started-job registry's clean-up)."""

    def is_lost(self, job_id: str, owner: str | None) -> bool:
        """Whether the job was queued or started and will now never end by itself: its process died
        (``owner``, ``"host:pid:start"``, as :func:`process_identity` gave it) or the backend lost it.
        False when it cannot tell (a process on another machine)."""
        return holder_dead(owner) is True

    def shutdown(self, wait: bool = True) -> None:  # noqa: B027 - optional hook
        """Release resources (worker threads, connections)."""


def process_identity() -> str:
    """This process as ``"host:pid:start"`` (the start time tells a reused pid apart)."""
    import os
    import socket

    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def _started(pid: int) -> str:
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # ended, not yet reaped by its parent
            return "?"
        return f"{process.create_time():.2f}"
    except psutil.Error:
        return "?"


def holder_dead(owner: str | None) -> bool | None:
    """Whether the process ``owner`` names (:func:`process_identity`) has died: True or False on this machine,
    None when it is on another machine or unknown."""
    import socket

    if not owner:
        return None
    parts = owner.rsplit(":", 2)
    if len(parts) != 3:
        return None
    host, pid, started = parts
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return _started(int(pid)) != started
