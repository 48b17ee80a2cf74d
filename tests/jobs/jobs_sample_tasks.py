"""Tasks used by the job tests; importable by name so an RQ worker in another process can run them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from evalplat.files.errors import FileRejected
from evalplat.jobs import current_job_id, report_progress, task

_marker: list[str] = []


@task("tests.count_pages", needs_app=False)
def count_pages(pages: int, *, label: str = "OCR") -> dict[str, object]:
    """Report progress page by page and return what it did."""
    for page in range(1, pages + 1):
        report_progress(page / pages, f"{label} {page}/{pages}")
    return {"pages": pages, "job": current_job_id()}


@task("tests.fail_once", needs_app=False)
def fail_once(flag_file: str) -> str:
    """Fail with a named file error the first time, succeed when retried."""
    flag = Path(flag_file)
    if not flag.exists():
        flag.write_text("attempted")
        raise FileRejected("corrupt_pdf", "判决书.pdf", reason="damaged_structure", detail="xref table broken")
    return "second attempt worked"


@task("tests.always_fails", needs_app=False)
def always_fails() -> None:
    report_progress(0.5, "halfway")
    raise RuntimeError("disk full")


@task("tests.app_name")
def app_name() -> str:
    """Needs the app context: returns the running app's name and its environment setting."""
    from flask import current_app

    return f"{current_app.import_name}:{current_app.config.get('EVALPLAT_ENV')}"


@task("tests.read_marker")
def read_marker() -> str:
    """Needs the app context; here the context is the marker context below."""
    return _marker[-1] if _marker else "no context"


@contextlib.contextmanager
def marker_context() -> Iterator[None]:
    """A context factory for EVALPLAT_JOBS_CONTEXT_FACTORY: records the worker's pid."""
    _marker.append(f"marker-context pid={os.getpid()}")
    try:
        yield
    finally:
        _marker.pop()
