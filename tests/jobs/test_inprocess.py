from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flask import Flask

import evalplat.jobs as jobs
from evalplat.jobs import InProcessBackend, JobError, JobNotFound, JobState, JobStatus, UnknownTask


def wait(backend: jobs.Backend, job_id: str, timeout: float = 10.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = backend.status(job_id)
        if status.finished:
            return status
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {backend.status(job_id)}")


def test_job_runs_reports_progress_and_returns_its_result(
    backend: InProcessBackend, updates: list[JobStatus]
) -> None:
    job_id = backend.enqueue("tests.count_pages", (4,), {"label": "页"})
    status = wait(backend, job_id)
    assert status.state == JobState.DONE
    assert status.result == {"pages": 4, "job": job_id}
    assert (status.progress, status.message) == (1.0, "页 4/4")
    assert status.enqueued_at <= status.started_at <= status.ended_at
    mine = [u for u in updates if u.id == job_id]
    assert [u.state for u in mine][:2] == [JobState.QUEUED, JobState.RUNNING]
    assert [u.progress for u in mine if u.state == JobState.RUNNING][1:] == [0.25, 0.5, 0.75, 1.0]
    assert mine[-1].state == JobState.DONE


def test_failed_job_keeps_the_named_error_and_can_be_retried_alone(
    backend: InProcessBackend, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    failing = backend.enqueue("tests.fail_once", (str(flag),), {})
    other = backend.enqueue("tests.count_pages", (2,), {})
    status = wait(backend, failing)
    assert status.state == JobState.FAILED
    assert status.error.startswith("FileRejected: ")
    assert status.error_info["code"] == "corrupt_pdf"
    assert status.error_info["filename"] == "判决书.pdf"
    assert "structure is incomplete or damaged" in status.error_info["message_en"]
    assert "xref table broken" not in status.error_info["message_en"]  # the library detail is logged only
    assert wait(backend, other).state == JobState.DONE

    assert backend.retry(failing) == failing
    again = wait(backend, failing)
    assert (again.state, again.result, again.attempts, again.error) == (
        JobState.DONE,
        "second attempt worked",
        2,
        None,
    )
    assert backend.status(other).attempts == 1


def test_only_failed_jobs_can_be_retried(backend: InProcessBackend) -> None:
    job_id = backend.enqueue("tests.count_pages", (1,), {})
    wait(backend, job_id)
    with pytest.raises(JobError, match="only a failed job"):
        backend.retry(job_id)
    with pytest.raises(JobNotFound):
        backend.retry("nope")


def test_progress_survives_failure(backend: InProcessBackend) -> None:
    status = wait(backend, backend.enqueue("tests.always_fails", (), {}))
    assert (status.state, status.progress, status.message) == (JobState.FAILED, 0.5, "halfway")
    assert status.error == "RuntimeError: disk full"
    assert status.error_info is None


def test_unknown_tasks_and_jobs(backend: InProcessBackend) -> None:
    with pytest.raises(UnknownTask, match="no task is registered as 'tests.nothing'"):
        backend.enqueue("tests.nothing", (), {})
    with pytest.raises(JobNotFound):
        backend.status("0" * 32)


def test_task_needing_the_app_runs_in_the_app_that_queued_it(backend: InProcessBackend) -> None:
    app = Flask("evalplat_jobs_test")
    app.config["EVALPLAT_ENV"] = "testing"
    with app.app_context():
        job_id = backend.enqueue("tests.app_name", (), {})
    assert wait(backend, job_id).result == "evalplat_jobs_test:testing"


def test_task_needing_the_app_without_one_fails_with_a_clear_message(backend: InProcessBackend) -> None:
    status = wait(backend, backend.enqueue("tests.app_name", (), {}))
    assert status.state == JobState.FAILED
    assert "needs the application context" in status.error


def test_explicit_context_factory_is_used() -> None:
    from jobs_sample_tasks import marker_context

    pool = InProcessBackend(1, context_factory=marker_context)
    try:
        result = wait(pool, pool.enqueue("tests.read_marker", (), {})).result
    finally:
        pool.shutdown()
    assert result.startswith("marker-context pid=")


def test_a_broken_status_callback_does_not_break_the_job() -> None:
    def explode(status: JobStatus) -> None:
        raise OSError("database down")

    pool = InProcessBackend(1, on_update=explode)
    try:
        status = wait(pool, pool.enqueue("tests.count_pages", (2,), {}))
    finally:
        pool.shutdown()
    assert status.state == JobState.DONE


def test_jobs_run_concurrently_on_the_pool() -> None:
    barrier = threading.Barrier(2, timeout=5)

    @jobs.task("tests.meet", needs_app=False)
    def meet() -> bool:
        barrier.wait()  # both jobs must be running at once to pass
        return True

    pool = InProcessBackend(2)
    try:
        ids = [pool.enqueue("tests.meet", (), {}) for _ in range(2)]
        assert [wait(pool, i).result for i in ids] == [True, True]
    finally:
        pool.shutdown()


def test_finished_jobs_beyond_the_limit_are_forgotten() -> None:
    pool = InProcessBackend(1, max_kept=3)
    try:
        ids = []
        for _ in range(5):
            ids.append(pool.enqueue("tests.count_pages", (1,), {}))
            wait(pool, ids[-1])
        with pytest.raises(JobNotFound):
            pool.status(ids[0])
        assert pool.status(ids[-1]).state == JobState.DONE
    finally:
        pool.shutdown()


def test_module_api_configures_from_config_and_accepts_the_function() -> None:
    from jobs_sample_tasks import count_pages

    seen: list[JobStatus] = []
    backend = jobs.configure({"EVALPLAT_JOBS_URL": "", "EVALPLAT_JOB_WORKERS": 1}, on_update=seen.append)
    try:
        assert isinstance(backend, InProcessBackend)
        job_id = jobs.enqueue(count_pages, 3)
        assert wait(jobs.get_backend(), job_id).result["pages"] == 3
        assert jobs.status(job_id).state == JobState.DONE
        assert jobs.status(job_id).to_dict()["state"] == "done"
        assert seen[-1].state == JobState.DONE
    finally:
        jobs.shutdown()


def test_bad_jobs_url_is_refused() -> None:
    with pytest.raises(JobError, match="EVALPLAT_JOBS_URL"):
        jobs.backend_from_config({"EVALPLAT_JOBS_URL": "amqp://localhost"})


def test_report_progress_outside_a_job_does_nothing() -> None:
    assert jobs.current_job_id() is None
    jobs.report_progress(0.5, "not in a job")  # must not raise, and there is no job to change


def test_registering_a_different_function_under_a_taken_name_is_refused() -> None:
    with pytest.raises(JobError, match="already registered"):

        @jobs.task("tests.count_pages", needs_app=False)
        def impostor() -> None:
            return None


def test_reconfiguring_lets_jobs_of_the_previous_backend_finish() -> None:
    gate = threading.Event()

    @jobs.task("tests.gated", needs_app=False)
    def gated() -> str:
        gate.wait(5)
        return "finished"

    first = jobs.configure({"EVALPLAT_JOB_WORKERS": 1})
    try:
        running = jobs.enqueue("tests.gated")
        queued = jobs.enqueue("tests.gated")
        jobs.configure({"EVALPLAT_JOB_WORKERS": 1})  # e.g. a second create_app in the same process
        gate.set()
        assert [wait(first, i).result for i in (running, queued)] == ["finished", "finished"]
    finally:
        jobs.shutdown()


def test_wait_idle_returns_when_every_job_has_finished_and_times_out_otherwise() -> None:
    release = threading.Event()

    @jobs.task("tests.hold", needs_app=False)
    def hold() -> str:
        release.wait(5)
        return "released"

    pool = InProcessBackend(2)
    try:
        job_id = pool.enqueue("tests.hold", (), {})
        assert pool.wait_idle(timeout=0.1) is False  # still held
        assert not pool.status(job_id).finished
        release.set()
        assert pool.wait_idle(timeout=5) is True
        assert pool.status(job_id).result == "released"
    finally:
        release.set()
        pool.shutdown()
