"""A campaign's redaction fanned out over RQ: wall time with one and with two worker processes.

Usage: .venv/bin/python bench/bench_redaction_fanout.py [CASES] [--chunk N] [--workers 1,2] [--simple]

A fresh SQLite database gets CASES sampled cases of generated case files (evalplat.demo.textgen: three
documents each, text already extracted, so only the redaction is measured), their parties as the known
names, and a campaign that draws them all. For each worker count the redaction is reset, the campaign job's
fan-out (``evalplat.cases.operations.fan_out_campaign_redaction``) queues one ``cases.redact_chunk`` job per
``--chunk`` cases on a fresh queue of Redis database 5 (127.0.0.1:6379), and that many
``python -m evalplat.jobs.worker --burst`` processes share the chunks until the queue is empty. Printed: the
wall time from starting the workers to the last one leaving, the workers' CPU time, the speed-up, and a
check that every document was redacted and the parent job closed.

By default the workers fork a work-horse per job, as in production: each chunk pays for building the app
and loading the redactor's model, so chunks should be large. ``--simple`` runs jobs inside the worker
process (the app and the model are loaded once per worker).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_env import machine  # noqa: E402

REDIS = "redis://127.0.0.1:6379/5"


def seed(session: object, cases: int) -> tuple[int, int, int]:
    """Cases with three generated documents each (text extracted) and a campaign sampling all of them."""
    from datetime import date

    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.cases.models import Case, CaseParty, Document, DocumentKind, DocumentStatus, PartyRole
    from evalplat.demo.textgen import generate_case, random_facts
    from evalplat.organisations.models import Agency, CaseType, Firm, Lawyer, Region, RegionLevel

    city = Region(code="440700", name="江门市", level=RegionLevel.CITY)
    agency = Agency(code="A0001", name="江门市法律援助处", region=city, city=city)
    firm = Firm(name="广东星河律师事务所", region=city, city=city)
    lawyer = Lawyer(name="温家明", licence_no="14407201010000001", firm=firm, years_of_practice=8,
                    case_types=["criminal"])
    campaign = Campaign(name="bench", code_prefix="B2024", year=2024, reviewers_per_case=2,
                        state=CampaignState.SAMPLED, jurisdiction=city)
    session.add_all([city, agency, firm, lawyer, campaign])  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    size = documents = 0
    kinds = list(DocumentKind)
    for i in range(cases):
        rng = random.Random(i)
        generated = generate_case(rng, random_facts(rng, case_type="criminal"))
        case = Case(agency=agency, case_number=f"B-{i:06d}", year=2024, sequence_no=i + 1,
                    case_type=CaseType.CRIMINAL, cause="盗窃罪", stage_reached="一审", result="判处有期徒刑一年",
                    assigned_on=date(2024, 3, 1), closed_on=date(2024, 9, 1), lawyer=lawyer, firm_id=firm.id)
        session.add(case)  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]
        for name in generated.known.get("person", [])[:3]:
            party = CaseParty(case_id=case.id, role=PartyRole.CLIENT)
            party.name = name
            session.add(party)  # type: ignore[attr-defined]
        for position, doc in enumerate(generated.documents[:3]):
            document = Document(case_id=case.id, kind=kinds[position % len(kinds)], position=position,
                                original_filename=f"{doc.kind}.txt", status=DocumentStatus.EXTRACTED,
                                size=len(doc.text.encode()))
            document.extracted_text = doc.text
            session.add(document)  # type: ignore[attr-defined]
            size += len(doc.text.encode())
            documents += 1
        session.add(Sample(campaign_id=campaign.id, case_id=case.id, code=f"B2024-{i:05d}",  # type: ignore[attr-defined]
                           stratum="all"))
    session.commit()  # type: ignore[attr-defined]
    return campaign.id, documents, size


def reset(session: object) -> None:
    """Forget every redaction and job, as before a first campaign redaction."""
    import sqlalchemy as sa

    from evalplat.cases.models import CaseRedaction, Document, DocumentStatus, Redaction
    from evalplat.jobs.models import JobRecord

    for model in (Redaction, CaseRedaction, JobRecord):
        session.execute(sa.delete(model))  # type: ignore[attr-defined]
    session.execute(sa.update(Document).values(status=DocumentStatus.EXTRACTED, redacted_text=None))  # type: ignore[attr-defined]
    session.commit()  # type: ignore[attr-defined]


def run(workers: int, campaign_id: int, env: dict[str, str], queue: str, chunk: int, simple: bool) -> tuple[float, float]:
    """Fan out, then ``workers`` burst workers until the queue is empty: (wall seconds, workers' CPU seconds)."""
    from evalplat.cases.operations import fan_out_campaign_redaction
    from evalplat.extensions import db
    from evalplat.jobs.models import JobRecord, JobState

    parent = JobRecord(id=uuid.uuid4().hex, task="cases.redact_campaign", state=JobState.RUNNING,
                       object_type="campaign", object_id=campaign_id, message="")
    db.session.add(parent)
    db.session.commit()
    chunks = fan_out_campaign_redaction(db.session, campaign_id, parent.id, chunk_size=chunk)
    command = [sys.executable, "-m", "evalplat.jobs.worker", "--url", REDIS, "--queue", queue, "--burst",
               *(["--simple"] if simple else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # noqa: S603
                              text=True) for _ in range(workers)]
    for proc in procs:
        _out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker failed:\n{err[-3000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    db.session.expire_all()
    closed = db.session.get(JobRecord, parent.id)
    if closed.state != JobState.DONE:
        raise SystemExit(f"the campaign job did not finish: {closed.state} {closed.error} ({chunks} chunks)")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=int, default=600)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--simple", action="store_true")
    args = parser.parse_args()

    import logging

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from redis import Redis

    from evalplat import create_app
    from evalplat.cases.models import Document, DocumentStatus
    from evalplat.extensions import db
    from evalplat.files import generate_key

    Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    folder = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    queue = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "EVALPLAT_ENV": "testing", "EVALPLAT_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "EVALPLAT_SECRET_KEY": "bench-fanout-" + "k" * 32, "EVALPLAT_STORAGE_URL": f"file://{folder / 'files'}",
           "EVALPLAT_DATA_KEYS": f"b1:{generate_key()}", "EVALPLAT_JOBS_URL": REDIS, "EVALPLAT_JOBS_QUEUE": queue,
           "EVALPLAT_REDACTION_CHUNK": str(args.chunk), "PYTHONPATH": str(ROOT)}
    os.environ.update({k: v for k, v in env.items() if k.startswith("EVALPLAT_")})
    app = create_app()
    print(machine())
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade(directory=str(ROOT / "migrations"))
        campaign_id, documents, size = seed(db.session, args.cases)
        print(f"{args.cases} cases, {documents} documents, {size / 1e6:.2f} MB of text; chunks of {args.chunk} "
              f"cases; {'simple' if args.simple else 'forking'} RQ workers; Redis db 5, SQLite")
        results = {}
        for workers in (int(w) for w in args.workers.split(",")):
            reset(db.session)
            wall, cpu = run(workers, campaign_id, env, queue, args.chunk, args.simple)
            redacted = db.session.scalar(sa.select(sa.func.count()).select_from(Document)
                                         .where(Document.status == DocumentStatus.REDACTED))
            assert redacted == documents, (redacted, documents)
            results[workers] = wall
            print(f"{workers} worker(s): {wall:7.1f} s wall, {cpu:7.1f} s CPU in the workers, "
                  f"{size / 1e6 / wall:.3f} MB/s, every document redacted")
        if 1 in results:
            for workers, wall in results.items():
                if workers != 1:
                    print(f"speed-up with {workers} workers: {results[1] / wall:.2f}×")
    print(f"load average after: {os.getloadavg()[0]:.1f} (the machine is shared; see the first line)")
    Redis.from_url(REDIS).delete(f"rq:queue:{queue}")


if __name__ == "__main__":
    main()
