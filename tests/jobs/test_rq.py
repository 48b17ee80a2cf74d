"""The RQ path with a real worker process against the local Redis server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalplat.jobs import JobError, JobNotFound, JobState
from evalplat.jobs.rq_backend import RQBackend

pytestmark = pytest.mark.redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def run_worker(queue: str, tmp_path: Path, redis_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m evalplat.jobs.worker --burst`` (a forking rq Worker) until the queue is empty."""
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]),
        EVALPLAT_ENV="testing",
        EVALPLAT_SECRET_KEY="worker-test-secret-key-0123456789abcdef",
        EVALPLAT_DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}",
        EVALPLAT_STORAGE_URL=f"file://{tmp_path / 'files'}",
        **env,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evalplat.jobs.worker",
            "--url",
            redis_url,
            "--queue",
            queue,
            "--burst",
            "--import",
            "jobs_sample_tasks",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_job_runs_on_a_real_worker_with_progress_and_result(
    redis_conn, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    backend = RQBackend(connection=redis_conn, queue_name=queue_name)
    job_id = backend.enqueue("tests.count_pages", (5,), {"label": "OCR"})
    queued = backend.status(job_id)
    assert (queued.state, queued.progress, queued.task) == (JobState.QUEUED, 0.0, "tests.count_pages")
    run_worker(queue_name, tmp_path, redis_url)
    status = backend.status(job_id)
    assert status.state == JobState.DONE
    assert status.result == {"pages": 5, "job": job_id}  # current_job_id() inside the worker
    assert (status.progress, status.message) == (1.0, "OCR 5/5")
    assert status.started_at is not None
    assert status.ended_at >= status.started_at


def test_failed_job_reports_its_error_and_is_retried_alone(
    redis_conn, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    backend = RQBackend(connection=redis_conn, queue_name=queue_name)
    flag = tmp_path / "flag"
    failing = backend.enqueue("tests.fail_once", (str(flag),), {})
    done = backend.enqueue("tests.count_pages", (1,), {})
    always = backend.enqueue("tests.always_fails", (), {})
    run_worker(queue_name, tmp_path, redis_url)

    status = backend.status(failing)
    assert status.state == JobState.FAILED
    assert status.error_info["code"] == "corrupt_pdf"
    assert status.error_info["filename"] == "判决书.pdf"
    assert backend.status(always).error == "RuntimeError: disk full"
    assert backend.status(always).message == "halfway"
    with pytest.raises(JobError, match="only a failed job"):
        backend.retry(done)

    assert backend.retry(failing) == failing
    again = backend.status(failing)
    assert (again.state, again.attempts, again.error) == (JobState.QUEUED, 2, None)
    run_worker(queue_name, tmp_path, redis_url)
    final = backend.status(failing)
    assert (final.state, final.result, final.attempts) == (JobState.DONE, "second attempt worked", 2)
    assert backend.status(always).state == JobState.FAILED  # not retried: only the one asked for


def test_worker_builds_the_flask_app_lazily_for_tasks_that_need_it(
    redis_conn, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    backend = RQBackend(connection=redis_conn, queue_name=queue_name)
    job_id = backend.enqueue("tests.app_name", (), {})
    run_worker(queue_name, tmp_path, redis_url)
    status = backend.status(job_id)
    assert status.state == JobState.DONE, status.error
    assert status.result == "evalplat:testing"  # create_app() from the worker's environment


def test_worker_context_factory_is_pluggable(
    redis_conn, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    backend = RQBackend(connection=redis_conn, queue_name=queue_name)
    job_id = backend.enqueue("tests.read_marker", (), {})
    run_worker(
        queue_name, tmp_path, redis_url, EVALPLAT_JOBS_CONTEXT_FACTORY="jobs_sample_tasks:marker_context"
    )
    status = backend.status(job_id)
    assert status.state == JobState.DONE, status.error
    assert status.result.startswith("marker-context pid=")
    assert status.result != f"marker-context pid={os.getpid()}"  # it ran in the worker, not here


def test_unknown_job_id(redis_conn, queue_name: str) -> None:
    backend = RQBackend(connection=redis_conn, queue_name=queue_name)
    with pytest.raises(JobNotFound):
        backend.status("no-such-job")
