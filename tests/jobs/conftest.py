"""Fixtures for the job tests: importable sample tasks, an in-process backend, a Redis connection."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jobs_sample_tasks  # noqa: E402,F401 - registers the tasks

from evalplat.jobs import InProcessBackend, JobStatus  # noqa: E402


@pytest.fixture
def updates() -> list[JobStatus]:
    return []


@pytest.fixture
def backend(updates: list[JobStatus]) -> Iterator[InProcessBackend]:
    pool = InProcessBackend(2, on_update=updates.append)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def redis_conn(redis_url: str):
    """A connection to the server of the root ``redis_url`` fixture (skipped, or in CI failed, without one)."""
    from redis import Redis

    connection = Redis.from_url(redis_url, socket_connect_timeout=5)
    yield connection
    connection.close()


@pytest.fixture
def queue_name(redis_conn) -> Iterator[str]:
    """A queue of its own per test, emptied afterwards."""
    from rq import Queue

    name = f"evalplat-test-{uuid.uuid4().hex[:10]}"
    yield name
    Queue(name, connection=redis_conn).empty()
