"""Run an RQ worker for evalplat jobs.

Usage::

    python -m evalplat.jobs.worker [--url redis://127.0.0.1:6379/0] [--queue evalplat] [--burst]
                                   [--import package.module ...] [--simple] [--no-recover]

``--import`` names modules whose ``@task`` functions should be registered before work starts (a
worker also imports a task's module on demand, from the name stored with the job). ``--simple``
runs jobs in the worker process instead of a forked child (needed where fork is unavailable).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .rq_backend import DEFAULT_QUEUE

__all__ = ["main", "run_worker"]


def run_worker(
    url: str,
    *,
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    burst: bool = False,
    simple: bool = False,
    imports: Sequence[str] = (),
    recover: bool = True,
) -> bool:
    """Process jobs from ``queues`` until stopped (or, with ``burst``, until the queues are empty).

    With ``recover`` (the default), the work of jobs whose process died — a worker killed mid-job, as the
    one this may replace — is queued again first (:func:`evalplat.jobs.tracking.recover`).

    Returns
    -------
    bool
        True if any job was performed.
    """
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker

    for module in imports:
        importlib.import_module(module)
    if recover:
        _recover()
    connection = Redis.from_url(url)
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([Queue(name, connection=connection) for name in queues], connection=connection)
    return bool(worker.work(burst=burst))


def _recover() -> None:
    """Queue again the work of jobs whose process died (in the app's context, as tasks run)."""
    import logging

    from .rq_backend import _worker_context

    try:
        with _worker_context():
            from evalplat.extensions import db

            from .tracking import recover

            try:
                recovered = recover()
            finally:
                db.engine.dispose()  # no database connection may be shared with the work horses forked later
    except Exception:  # the worker starts anyway: recovery is tried again by the next one
        logging.getLogger(__name__).exception("recovering lost jobs failed")
        return
    if any(recovered.values()):
        logging.getLogger(__name__).warning("recovered lost jobs: %s", recovered)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m evalplat.jobs.worker", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", default=os.environ.get("EVALPLAT_JOBS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--queue", action="append", dest="queues", help=f"queue name (default {DEFAULT_QUEUE})"
    )
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--simple", action="store_true", help="run jobs in this process (no fork)")
    parser.add_argument(
        "--import", action="append", dest="imports", default=[], help="module to import first"
    )
    parser.add_argument("--no-recover", dest="recover", action="store_false",
                        help="do not first queue again the work of jobs whose process died")
    args = parser.parse_args(argv)
    if not args.url.startswith(("redis://", "rediss://", "unix://")):
        print(f"--url must be a redis:// URL, not {args.url!r}", file=sys.stderr)
        return 2
    run_worker(
        args.url,
        queues=args.queues or [DEFAULT_QUEUE],
        burst=args.burst,
        simple=args.simple,
        imports=args.imports,
        recover=args.recover,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
