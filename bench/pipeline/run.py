"""National-scale pipeline: one assessment year from the case list to the annual report, timed stage by stage.

    .venv/bin/python bench/pipeline/run.py [--scale 1.0] [--databases sqlite,postgresql] [--workers 2]
                                           [--out DIR] [--json FILE]

At ``--scale 1`` (a country-sized year): 1,400,000 closed cases in ~2,800 agencies of 340 cities, 50,000
lawyers, 5,000 reviewers (a third third-party evaluators). ``--scale 0.01`` smoke-runs in about a minute.
Every stage goes through evalplat's own code, in this order:

1. **import cases** — ``cases.importer.import_cases`` of the generated CSV (validation, duplicates, COPY on
   PostgreSQL / executemany on SQLite); the CSV comes from bench/bench_import.py's generator.
2. **sample** — ``campaigns.operations``: create, plan (5 % proportional, stratified by agency and case type,
   administrative folded into civil), seed, freeze the population, draw.
3. **import files** — the sampled cases' rows again with a zip of their files, through ``import_cases``
   (the same rows are recognised as unchanged; the files are checked and stored encrypted). Each case gets
   six documents of about 15 KB of text in all, written by ``evalplat.demo.textgen`` (four generated files
   of one case type joined per document kind, so names, ID numbers, phones and addresses are planted as in
   the demo).
4. **anonymise** — ``cases.batch_redaction.redact_cases`` (the ``cases.redact_campaign`` job's path): file
   reading, text extraction and redaction in ``--workers`` worker processes, the results stored by this
   process in one transaction per batch of 100 cases, in which ``approve_redactions`` approves the batch.
5. **assign** — ``assignments.operations.preview_run`` (conflicts, engine, 3 reviewers per case, at least one
   evaluator) and ``commit_run``, then the campaign goes to scoring.
6. **reviews (bulk)** — every initial assignment gets a submitted review. Scores come from the demo's model
   (``evalplat.demo.campaigns.review_scores``: case quality + reviewer leniency + noise) and totals and
   grades from the rubric's own ``evaluate`` with the campaign's bands; the rows written are those of
   ``reviews.operations.submit_review`` (a submitted ``reviews`` row, its ``review_items``, the assignment
   set to submitted) but with bulk inserts and one audit event per chunk of 5,000 reviews instead of one
   per review. This is the one stage that does not run the operation itself (210,000 reviewers' clicks).
7. **consolidate + adjudicate** — ``results.operations.consolidate`` (consensus results; adjudication
   assignments for the disagreeing cases through the assignment engine), then ``results.operations.decide``
   for every adjudication assignment, as its adjudicator.
8. **reliability panel** — ``results.snapshots.compute``: alpha and ICC on totals and per rubric item, the
   rater-effects fit (leniency, consistency, flags) and the bias-corrected totals, stored as the snapshot the
   organiser's page shows.
9. **calibrate + publish** — ``set_official_scores("calibrated")`` (rater-effects fit), consolidating,
   appeal window, published.
10. **rankings** — ``rankings.queries.rankings_for`` (agencies, cities, lawyers).
11. **annual report** — ``rankings.report_data.build_report_data`` and the PDF, XLSX and HTML renderers.

Printed per stage: wall time, CPU time and the peak resident memory of this process and its children (the
worker processes), sampled every 0.2 s from /proc, and the 1-minute load average at the stage's end. The PostgreSQL server's own memory is not included. Input
generation (the CSV, the case files) is timed apart and is not part of the pipeline total.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
FULL = {"cases": 1_400_000, "agencies": 2_801, "cities": 340, "lawyers": 50_000, "reviewers": 5_000}
RATE = 0.05
PER_CASE = 3
CHUNK = 5000
ANONYMISE_BATCH = 100  # cases per worker task and per write transaction (approved in the same transaction)
FILE_BATCH = 1500  # cases per uploaded zip (six files each; the importer accepts 10,000 entries per zip)
KIND_TITLES = {"application": "法律援助申请表", "assignment": "法律援助指派函", "meeting": "会见笔录",
               "opinion": "辩护词", "judgment": "判决书", "closing": "结案报告"}


def _bench_import() -> Any:
    """bench/bench_import.py (its CSV generator serves this benchmark too)."""
    spec = importlib.util.spec_from_file_location("evalplat_bench_import", ROOT / "bench" / "bench_import.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for bench_env
from bench_env import machine  # noqa: E402

# --- memory and CPU of the process tree --------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def _tree_stats(pid: int) -> tuple[int, dict[int, float]]:
    """Resident bytes of ``pid`` and all its descendants, and each one's CPU seconds so far (from /proc)."""
    total = 0
    cpu: dict[int, float] = {}
    stack = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * page
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            cpu[current] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(c) for c in handle.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total, cpu


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    return _tree_stats(pid)[0]


class MemorySampler:
    """Samples the RSS and CPU time of this process tree in a thread: ``peak`` and ``cpu`` since :meth:`reset`.

    CPU is summed over the processes seen (this one, the redaction workers and their forkserver); a
    process's last 0.2 s before it exits may be missed.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self.overall = 0
        self._cpu_seen: dict[int, float] = {}
        self._cpu_base: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        rss, cpu = _tree_stats(os.getpid())
        with self._lock:
            self.peak = max(self.peak, rss)
            self.overall = max(self.overall, rss)
            for pid, seconds in cpu.items():
                self._cpu_seen[pid] = max(self._cpu_seen.get(pid, 0.0), seconds)

    @property
    def cpu(self) -> float:
        """CPU seconds of the tree since the last reset."""
        with self._lock:
            return sum(v - self._cpu_base.get(pid, 0.0) for pid, v in self._cpu_seen.items())

    def reset(self) -> None:
        self.peak = 0
        self.sample()
        with self._lock:
            self._cpu_base = dict(self._cpu_seen)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Stage:
    name: str
    seconds: float
    peak_bytes: int
    note: str = ""
    cpu_seconds: float = 0.0
    load_average: float = 0.0


@dataclass
class Run:
    database: str
    scale: float
    sizes: dict[str, int]
    stages: list[Stage] = field(default_factory=list)
    inputs: dict[str, float] = field(default_factory=dict)
    peak_bytes: int = 0

    @property
    def total(self) -> float:
        return sum(s.seconds for s in self.stages)


def sizes_for(scale: float) -> dict[str, int]:
    """Population sizes at ``scale`` (a fraction of the national year)."""
    if not 0 < scale <= 1:
        raise SystemExit(f"--scale must be in (0, 1], got {scale}")
    minimum = {"cases": 2000, "agencies": 12, "cities": 4, "lawyers": 60, "reviewers": 40}
    sizes = {k: max(minimum[k], round(v * scale)) for k, v in FULL.items()}
    # bench_import.generate gives row i agency i % agencies and type i % 4: an odd number of agencies gives
    # every agency cases of every type (an even one would give each agency a single type).
    sizes["agencies"] |= 1
    return sizes


# --- the world: places, agencies, lawyers, reviewers (not timed as a stage) --------------------------------
def build_world(session: Any, sizes: dict[str, int]) -> int:
    """Regions, agencies (codes A0000… as the CSV generator writes them), firms, lawyers, reviewers, organiser.

    Returns the organiser's user id.
    """
    from evalplat.accounts.models import Role, User, UserRole
    from evalplat.campaigns.operations import ensure_rubric_versions
    from evalplat.organisations.jurisdiction import national_region
    from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile

    def insert(model: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), CHUNK):
            session.execute(sa.insert(model), rows[start:start + CHUNK])

    n_cities, n_agencies = sizes["cities"], sizes["agencies"]
    # one province under the nation the migrations created; it owns the campaign and the reviewer pool
    nation = national_region(session)
    province = (session.scalar(sa.select(sa.func.max(Region.id))) or 0) + 1
    insert(Region, [{"id": province, "code": "100000", "name": "一省", "level": "province", "parent_id": nation.id}]
           + [{"id": province + 1 + c, "code": f"C{c:05d}", "name": f"第{c}市", "level": "city",
               "parent_id": province} for c in range(n_cities)])

    def city(i: int) -> int:
        return province + 1 + i % n_cities

    insert(Agency, [{"id": a + 1, "code": f"A{a:04d}", "name": f"第{a}法律援助中心", "region_id": city(a),
                     "city_id": city(a)} for a in range(n_agencies)])
    n_firms = max(n_cities, sizes["lawyers"] // 10)
    insert(Firm, [{"id": f + 1, "name": f"第{f}律师事务所", "region_id": city(f), "city_id": city(f)}
                  for f in range(n_firms)])
    insert(Lawyer, [{"id": i + 1, "name": f"律师{i}", "licence_no": f"L{i:08d}", "firm_id": i % n_firms + 1,
                     "years_of_practice": 3 + i % 20, "case_types": []} for i in range(sizes["lawyers"])])
    n = sizes["reviewers"]
    users = [{"id": i + 1, "username": f"rev{i:05d}", "display_name": f"评估人{i:05d}", "password_hash": "!bench",
              "session_token": f"t{i}", "active": True, "must_change_password": False, "created_at": NOW}
             for i in range(n)]
    users.append({"id": n + 1, "username": "organiser", "display_name": "组织者", "password_hash": "!bench",
                  "session_token": "t-org", "active": True, "must_change_password": False, "created_at": NOW,
                  "jurisdiction_id": province})
    insert(User, users)
    insert(UserRole, [{"user_id": i + 1, "role": Role.EVALUATOR if i % 3 == 0 else Role.PEER_REVIEWER}
                      for i in range(n)]
           + [{"user_id": i + 1, "role": Role.ADJUDICATOR} for i in range(0, n, 10)]
           + [{"user_id": n + 1, "role": Role.ORGANISER}])
    insert(ReviewerProfile, [
        {"id": i + 1, "user_id": i + 1, "kind": "evaluator" if i % 3 == 0 else "peer", "region_id": city(i),
         "city_id": city(i), "jurisdiction_id": province, "firm_id": None if i % 3 == 0 else (i % n_firms) + 1,
         "case_types": ["criminal", "civil", "administrative", "non_litigation"], "capacity": 60, "active": True,
         "years_of_practice": 5, "specialties": "", "created_at": NOW} for i in range(n)])
    ensure_rubric_versions(session, actor=None)
    session.commit()
    return n + 1


# --- inputs ------------------------------------------------------------------------------------------------
def case_documents(rng: random.Random, case_type: str, parts: int = 4) -> list[tuple[str, str]]:
    """(file name, text) of one case's six documents: ``parts`` generated files joined per document kind."""
    from evalplat.demo.textgen import generate_case, random_facts

    texts: dict[str, list[str]] = {}
    facts = random_facts(rng, case_type=case_type if case_type != "non_litigation" else "civil")
    for _ in range(parts):
        for document in generate_case(rng, facts).documents:
            texts.setdefault(document.kind, []).append(document.text)
    return [(f"{KIND_TITLES.get(kind, kind)}.txt", "\n\n".join(parts_)) for kind, parts_ in texts.items()]


def write_files(session: Any, campaign_id: int, source_csv: Path, folder: Path, seed: int
                ) -> tuple[list[tuple[Path, Path]], int]:
    """The sampled cases' CSV rows and zips of their files (one folder per case number), in batches.

    A zip holds at most 10,000 entries (the importer's limit), so the files go in batches of
    :data:`FILE_BATCH` cases, each with the CSV rows of its cases. Returns the batches and the text bytes.
    """
    from evalplat.campaigns.models import Sample
    from evalplat.cases.models import Case

    wanted = dict(session.execute(sa.select(Case.case_number, sa.type_coerce(Case.case_type, sa.String))
                                  .join(Sample, Sample.case_id == Case.id)
                                  .where(Sample.campaign_id == campaign_id)).all())
    numbers = sorted(wanted)
    batch_of = {number: i // FILE_BATCH for i, number in enumerate(numbers)}
    batches = [(folder / f"sampled-{b:03d}.csv", folder / f"files-{b:03d}.zip")
               for b in range((len(numbers) + FILE_BATCH - 1) // FILE_BATCH)]
    with source_csv.open(encoding="utf-8", newline="") as src:
        reader = csv.reader(src)
        header = next(reader)
        handles = [path.open("w", encoding="utf-8", newline="") for path, _zip in batches]
        writers = [csv.writer(h) for h in handles]
        for w in writers:
            w.writerow(header)
        for row in reader:
            if row[1] in batch_of:
                writers[batch_of[row[1]]].writerow(row)
        for h in handles:
            h.close()
    size = 0
    for b, (_csv, archive) in enumerate(batches):
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for n, number in enumerate(numbers[b * FILE_BATCH:(b + 1) * FILE_BATCH], start=b * FILE_BATCH):
                for name, text in case_documents(random.Random(seed * 1_000_003 + n), wanted[number]):
                    data = text.encode("utf-8")
                    size += len(data)
                    zf.writestr(f"{number}/{name}", data)
    return batches, size


# --- app and databases ----------------------------------------------------------------------------------
def app_config(url: str, folder: Path, key: str) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_ENV": "testing", "SECRET_KEY": "bench-pipeline-" + "k" * 32,
            "EVALPLAT_STORAGE_URL": f"file://{folder / 'files'}", "EVALPLAT_DATA_KEYS": f"b1:{key}"}


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh empty database: a SQLite file in ``folder`` or a throw-away PostgreSQL database."""
    if kind == "sqlite":
        for leftover in folder.glob("pipeline.db*"):  # a fresh file, also when --out is reused
            leftover.unlink()
        yield f"sqlite:///{folder / 'pipeline.db'}"
        return
    server = os.environ.get("EVALPLAT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
    name = f"ep_pipeline_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- simulated reviews (bulk) -------------------------------------------------------------------------------
def bulk_reviews(session: Any, campaign: Any, seed: int) -> dict[str, int]:
    """A submitted review for every open initial assignment, written in bulk (see the module docstring)."""
    from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
    from evalplat.audit.operations import record
    from evalplat.campaigns.models import CampaignRubric, Sample
    from evalplat.cases.models import Case
    from evalplat.demo.campaigns import review_scores
    from evalplat.reviews.models import Review, ReviewItem, ReviewState, RubricVersion
    from evalplat.reviews.rubrics import rubric_of

    rng = random.Random(seed)
    pinned = dict(session.execute(sa.select(sa.type_coerce(CampaignRubric.case_type, sa.String),
                                            CampaignRubric.rubric_version_id)
                                  .where(CampaignRubric.campaign_id == campaign.id)).all())
    rubrics = {rid: rubric_of(session.get(RubricVersion, rid)) for rid in set(pinned.values())}
    for rid in rubrics:
        session.get(RubricVersion, rid).frozen = True
    bands = campaign.grade_bands or None
    rows = session.execute(
        sa.select(Assignment.id, Assignment.sample_id, Assignment.reviewer_id,
                  sa.type_coerce(Case.case_type, sa.String))
        .join(Sample, Sample.id == Assignment.sample_id).join(Case, Case.id == Sample.case_id)
        .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.INITIAL,
               Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
        .order_by(Assignment.id)).all()
    next_id = (session.scalar(sa.select(sa.func.max(Review.id))) or 0) + 1
    quality: dict[int, float] = {}
    leniency: dict[int, float] = {}
    written = items_written = 0
    for start in range(0, len(rows), CHUNK):
        reviews, items, ids = [], [], []
        for assignment_id, sample_id, reviewer_id, case_type in rows[start:start + CHUNK]:
            rid = pinned.get(case_type) or pinned.get("civil")
            rubric = rubrics[rid]
            q = quality.setdefault(sample_id, min(0.98, max(0.35, rng.gauss(0.8, 0.1))))
            lean = leniency.setdefault(reviewer_id, rng.gauss(0.0, 0.04))
            veto = rubric.veto_items[0].code if q < 0.45 and rubric.veto_items and rng.random() < 0.5 else None
            scores = review_scores(rubric, q + lean, veto=veto, comment="会见笔录不够完整。", rng=rng, noise=0.05)
            evaluation = rubric.evaluate(scores.points, scores.vetoes, bands=bands)
            reviews.append({"id": next_id, "assignment_id": assignment_id, "rubric_version_id": rid,
                            "state": ReviewState.SUBMITTED, "total": evaluation.total, "grade": evaluation.grade,
                            "vetoes": list(evaluation.vetoes), "summary_comment": "", "started_at": NOW,
                            "updated_at": NOW, "submitted_at": NOW, "version": 1})
            for entry in scores.entries.values():
                items.append({"review_id": next_id, "item_code": entry.code, "level": entry.level,
                              "points": None if entry.points is None else float(entry.points),
                              "not_applicable": entry.not_applicable, "veto": entry.veto, "comment": entry.comment})
            ids.append(assignment_id)
            next_id += 1
        session.execute(sa.insert(Review), reviews)
        session.execute(sa.insert(ReviewItem), items)
        session.execute(sa.update(Assignment).where(Assignment.id.in_(ids))
                        .values(state=AssignmentState.SUBMITTED, updated_at=NOW, version=Assignment.version + 1))
        record(session, actor_id=None, action="review.submitted", object_type="campaign", object_id=campaign.id,
               after={"bulk": True, "reviews": [[r["assignment_id"], r["total"], r["grade"]] for r in reviews]},
               at=NOW)
        session.commit()
        written += len(reviews)
        items_written += len(items)
    return {"reviews": written, "items": items_written}


# --- the pipeline ---------------------------------------------------------------------------------------
def run_pipeline(kind: str, sizes: dict[str, int], workers: int, folder: Path, source_csv: Path,
                 say: Callable[[str], None], scale: float = 0.0) -> Run:
    """Run every stage on a fresh ``kind`` database (SQLite file left in ``folder``; PostgreSQL dropped).

    ``source_csv`` must hold ``sizes["cases"]`` rows from bench_import.generate with the same agencies and
    lawyers. The reports are written to ``folder``.
    """
    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.accounts.models import User
    from evalplat.assignments import operations as assigning
    from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
    from evalplat.campaigns import operations as ops
    from evalplat.campaigns.models import CampaignState, Sample
    from evalplat.cases import importer
    from evalplat.cases.batch_redaction import redact_cases
    from evalplat.cases.operations import approve_redactions, campaign_case_ids
    from evalplat.extensions import db
    from evalplat.files import generate_key
    from evalplat.rankings.queries import rankings_for
    from evalplat.rankings.report_data import build_report_data
    from evalplat.results.operations import consolidate, decide, set_official_scores
    from evalplat.services import get_storage
    from reports.html import render_html
    from reports.pdf import render_pdf
    from reports.xlsx import render_xlsx

    result = Run(kind, scale, sizes)
    with database(kind, folder) as url, MemorySampler() as memory:
        config = app_config(url, folder, generate_key())
        app = create_app(config)
        with app.app_context():
            import logging

            logging.getLogger("alembic").setLevel(logging.WARNING)
            upgrade(directory=str(ROOT / "migrations"))
            session = db.session
            t = time.perf_counter()
            organiser_id = build_world(session, sizes)
            result.inputs["world (bulk insert, not a stage)"] = time.perf_counter() - t
            organiser = session.get(User, organiser_id)

            def stage(name: str, work: Callable[[], str]) -> None:
                memory.reset()
                begin = time.perf_counter()
                note = work()
                seconds = time.perf_counter() - begin
                memory.sample()
                load = os.getloadavg()[0]
                result.stages.append(Stage(name, seconds, memory.peak, note, memory.cpu, load))
                say(f"  {kind:<10} {name:<28} {seconds:8.1f} s  cpu {memory.cpu:7.1f} s  peak "
                    f"{memory.peak / 2**20:6.0f} MiB  load {load:4.1f}  {note}")

            def import_all() -> str:
                report = importer.import_cases(session, actor=None, source=source_csv)
                if not report.ok:
                    raise SystemExit(f"import failed: {[e.as_dict() for e in report.errors[:5]]}")
                session.commit()
                return f"{report.created:,} cases"

            stage("import cases", import_all)
            campaign = ops.create_campaign(session, actor=organiser, name="全国年度评估（基准）", year=2024,
                                           code_prefix="CN2024", reviewers_per_case=PER_CASE, min_evaluators=1)
            session.commit()

            def sample() -> str:
                ops.set_plan(session, actor=organiser, campaign=campaign,
                             plan={"mode": "proportion", "rate": f"{RATE:.0%}", "minimum": 1,
                                   "fold_administrative": True})
                ops.fix_seed(session, actor=organiser, campaign=campaign, seed="pipeline-2024", source="bench",
                             now=NOW)
                frozen = ops.freeze_population(session, actor=organiser, campaign=campaign, now=NOW)
                drawn = ops.draw_sample(session, actor=organiser, campaign=campaign, now=NOW)
                session.commit()
                return f"{len(drawn.selected):,} of {frozen.size:,} in {len(drawn.strata):,} strata"

            stage("sample (5 %, stratified)", sample)
            t = time.perf_counter()
            batches, text_bytes = write_files(session, campaign.id, source_csv, folder, seed=11)
            result.inputs["generate case files (input)"] = time.perf_counter() - t
            n_samples = session.scalar(sa.select(sa.func.count()).select_from(Sample)
                                       .where(Sample.campaign_id == campaign.id)) or 1
            say(f"  {kind:<10} (input: {text_bytes / 2**20:,.0f} MiB of text, {text_bytes / n_samples / 1024:.1f} KB "
                f"per case, {len(batches)} zips of {sum(z.stat().st_size for _c, z in batches) / 2**20:,.0f} MiB, "
                f"{result.inputs['generate case files (input)']:.0f} s)")

            def import_files() -> str:
                added = 0
                for subset, archive in batches:
                    report = importer.import_cases(session, actor=organiser, source=subset, files_zip=archive,
                                                   storage=get_storage())
                    if not report.ok or report.file_problems or report.created:
                        raise SystemExit(f"file import failed: {report.file_problems[:3]} {report.errors[:3]}")
                    session.commit()
                    added += report.documents_added
                return f"{added:,} documents, {text_bytes / 2**20:,.0f} MiB in {len(batches)} uploads"

            stage("import files", import_files)
            case_ids = campaign_case_ids(session, campaign.id)

            def anonymise_all() -> str:
                approved = 0

                def approve(batch_session: Any, cases: list[Any]) -> None:  # the organiser, per batch of cases
                    nonlocal approved
                    approved += approve_redactions(batch_session, actor=batch_session.get(User, organiser_id),
                                                   cases=cases)

                counts = redact_cases(session, case_ids, workers=workers, batch_size=ANONYMISE_BATCH,
                                      after_batch=approve)
                mb = text_bytes / 2**20
                return (f"{counts['extracted']:,} extracted, {counts['failed']} failed, {approved:,} approved; "
                        f"{mb / (time.perf_counter() - begun):.2f} MiB/s; "
                        f"{1000 * memory.cpu / max(len(case_ids), 1):.1f} ms CPU per case")

            begun = time.perf_counter()
            stage(f"anonymise ({workers} processes)", anonymise_all)
            campaign = session.merge(campaign)
            organiser = session.get(User, organiser_id)

            def assign() -> str:
                ops.pin_rubrics(session, actor=organiser, campaign=campaign)
                run = assigning.preview_run(session, campaign=campaign, actor=organiser, now=NOW)
                if not run.proposed:
                    raise SystemExit(f"assignment infeasible: {run.summary.get('problems')}")
                count = assigning.commit_run(session, run=run, actor=organiser, now=NOW)
                ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.SCORING, now=NOW)
                session.commit()
                seconds = run.summary.get("seconds", {})
                return (f"{count:,} assignments; engine build {seconds.get('build')} s, solve {seconds.get('solve')} s,"
                        f" gap {run.summary.get('gap', 0):.1e}")

            stage("assign (3 per case)", assign)
            stage("reviews (bulk, simulated)", lambda: "{reviews:,} reviews, {items:,} items".format(
                **bulk_reviews(session, campaign, seed=5)))

            def consolidate_and_decide() -> str:
                out = consolidate(session, campaign=campaign, actor=organiser, now=NOW + timedelta(days=20))
                session.commit()
                rng = random.Random(3)
                pending = session.scalars(
                    sa.select(Assignment).join(Sample, Sample.id == Assignment.sample_id)
                    .where(Sample.campaign_id == campaign.id, Assignment.round == AssignmentRound.ADJUDICATION,
                           Assignment.state.in_([AssignmentState.OFFERED, AssignmentState.ACCEPTED]))
                    .order_by(Assignment.id)).all()
                for assignment in pending:
                    decide(session, assignment=assignment, actor=assignment.reviewer.user,
                           total=round(rng.uniform(55, 95), 1), vetoes=[],
                           reasons="复评专家审阅全部卷宗与评估意见后认定。", now=NOW + timedelta(days=25))
                session.commit()
                return (f"{len(out.consensus):,} consensus, {len(pending):,} adjudicated, "
                        f"{len(out.unassigned)} without adjudicator")

            stage("consolidate + adjudicate", consolidate_and_decide)

            def reliability() -> str:
                from evalplat.results.snapshots import compute as compute_reliability

                figures = compute_reliability(session, campaign, actor_id=organiser.id).figures
                session.commit()
                alpha = "—" if figures["alpha"] is None else f"{figures['alpha']:.3f}"
                flagged = sum(1 for e in figures["effects"] if e["flags"])
                return (f"alpha {alpha} on {figures['reviews']:,} reviews, {len(figures['items'])} items, "
                        f"{flagged} of {figures['reviewers']:,} reviewers flagged")

            stage("reliability panel (snapshot)", reliability)

            def calibrate() -> str:
                updated = set_official_scores(session, campaign=campaign, actor=organiser, choice="calibrated",
                                              now=NOW + timedelta(days=26))
                ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.CONSOLIDATING,
                               now=NOW + timedelta(days=26))
                ops.update_settings(session, actor=organiser, campaign=campaign,
                                    appeal_opens_at=NOW + timedelta(days=27), appeal_closes_at=NOW + timedelta(days=41))
                ops.transition(session, actor=organiser, campaign=campaign, to_state=CampaignState.PUBLISHED,
                               now=NOW + timedelta(days=27))
                session.commit()
                return f"{updated:,} results calibrated; published"

            stage("calibrate + publish", calibrate)

            def rankings() -> str:
                ranked = rankings_for(session, [campaign])
                return f"{len(ranked.lawyers.rows):,} lawyers, {len(ranked.agencies.rows):,} agencies ranked"

            stage("rankings", rankings)

            def report() -> str:
                data = build_report_data(session, campaign, now=NOW + timedelta(days=28))
                sizes_out = []
                for name, render in (("pdf", render_pdf), ("xlsx", render_xlsx), ("html", render_html)):
                    blob = render(data)
                    blob = blob.encode() if isinstance(blob, str) else blob
                    (folder / f"report.{name}").write_bytes(blob)
                    sizes_out.append(f"{name} {len(blob) / 2**20:.1f} MiB")
                return ", ".join(sizes_out)

            stage("annual report", report)
            session.remove()
            db.engine.dispose()
        result.peak_bytes = memory.overall
    return result


def table(runs: Sequence[Run]) -> list[str]:
    """A Markdown table: one row per stage, columns (time, CPU, peak) per database."""
    head = "| stage | " + " | ".join(f"{r.database} time | CPU | peak RSS" for r in runs) + " |"
    lines = [head, "|---|" + "---:|---:|---:|" * len(runs)]
    for i, stage in enumerate(runs[0].stages):
        cells = []
        for r in runs:
            s = r.stages[i] if i < len(r.stages) else None
            cells.append(f"{s.seconds:,.1f} s | {s.cpu_seconds:,.1f} s | {s.peak_bytes / 2**20:,.0f} MiB"
                         if s else "– | – | –")
        lines.append(f"| {stage.name} | " + " | ".join(cells) + " |")
    lines.append("| **pipeline total** | " + " | ".join(
        f"**{r.total / 60:,.1f} min** | {sum(s.cpu_seconds for s in r.stages) / 60:,.1f} min | "
        f"**{r.peak_bytes / 2**20:,.0f} MiB**" for r in runs) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the national year (e.g. 0.01)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2, help="anonymisation processes")
    parser.add_argument("--out", type=Path, default=None, help="keep the reports and inputs here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    sizes = sizes_for(args.scale)
    print("machine:", machine())
    print("sizes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
          + f", sample {RATE:.0%}, {PER_CASE} reviewers per case")
    base = args.out or Path(tempfile.mkdtemp(prefix="evalplat-pipeline-"))
    base.mkdir(parents=True, exist_ok=True)
    source = base / "cases.csv"
    t = time.perf_counter()
    _bench_import().generate(source, sizes["cases"], sizes["agencies"], sizes["lawyers"])
    print(f"input: {sizes['cases']:,} case rows, {source.stat().st_size / 2**20:,.0f} MiB CSV in "
          f"{time.perf_counter() - t:.1f} s (bench_import.generate)")
    runs = []
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        if kind not in {"sqlite", "postgresql"}:
            raise SystemExit(f"unknown database {kind!r}; use sqlite and/or postgresql")
        folder = base / kind
        folder.mkdir(exist_ok=True)
        runs.append(run_pipeline(kind, sizes, args.workers, folder, source, lambda line: print(line, flush=True),
                                 scale=args.scale))
        for name, seconds in runs[-1].inputs.items():
            print(f"  {kind:<10} {name}: {seconds:.1f} s")
    print()
    print("\n".join(table(runs)))
    for r in runs:
        slowest = max(r.stages, key=lambda s: s.seconds)
        print(f"{r.database}: total {r.total / 60:.1f} min, peak RSS {r.peak_bytes / 2**30:.2f} GiB; slowest stage: "
              f"{slowest.name} ({slowest.seconds:.0f} s, {100 * slowest.seconds / r.total:.0f} %)")
    if args.json:
        args.json.write_text(json.dumps([{"database": r.database, "scale": r.scale, "sizes": r.sizes,
                                          "total_seconds": r.total, "peak_bytes": r.peak_bytes, "inputs": r.inputs,
                                          "stages": [s.__dict__ for s in r.stages]} for r in runs], indent=1))
    print(f"output: {base}")


if __name__ == "__main__":
    main()
