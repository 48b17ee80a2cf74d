"""Write the demo provinces into the database: bulk inserts in one transaction.

:func:`generate` is what ``flask --app wsgi demo`` runs; :func:`case_digest` fingerprints the cases of a
database (used by the tests and the bench to show that a seed reproduces the same province).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts import passwords
from evalplat.accounts.models import User, UserRole
from evalplat.audit.operations import record
from evalplat.cases.models import (
    DOCUMENT_TEXT_CONTEXT,
    PARTY_NAME_CONTEXT,
    Case,
    CaseParty,
    Document,
    decrypt_column,
    encrypt_column,
)
from evalplat.db import DbSession
from evalplat.organisations.jurisdiction import national_region
from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile

from . import geography
from .cases import CasePlan, generate_batches, plan_cases
from .province import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, Province, build_province, national_user
from .rubrics import ensure_rubric_versions

DEFAULT_CASES = 20_000
MAX_CASES = 1_500_000
DEFAULT_SEED = 2024
DEFAULT_YEAR = 2024
#: With ``documents="auto"``: every case gets its file up to this many cases, above it the sampled subset.
ALL_DOCUMENTS_UP_TO = 100_000
CHUNK = 10_000
#: Share of the demo's cases that are the second province's (Guangxi: three cities beside Guangdong's 21).
SECOND_PROVINCE_SHARE = 0.1

_ID_TABLES = (Region, Agency, Firm, Lawyer, User, ReviewerProfile, Case)


class DemoError(RuntimeError):
    """The demo province cannot be generated into this database (the message says why)."""


@dataclass(slots=True)
class FileCollector:
    """The files of cases the demo stored without them, written when a draw picks those cases — as a bureau
    collects the drawn cases' files after the draw. Each province's plan is kept; a collected file is the one
    ``--documents all`` would have stored for that case (same record, same parties, plus the parties the file
    names)."""

    segments: list[tuple[Province, CasePlan, int]]  # (province, its plan, its first case id)
    seed: int
    now: datetime

    def __call__(self, session: DbSession, case_ids: Iterable[int]) -> int:
        """Store the files of ``case_ids`` that have none; returns how many cases got their file."""
        wanted = set(case_ids)
        have = set(session.scalars(sa.select(Document.case_id).where(Document.case_id.in_(sorted(wanted)))))
        wanted -= have
        done = 0
        for province, plan, first in self.segments:
            indices = sorted(i - first for i in wanted if first <= i < first + len(plan))
            if not indices:
                continue
            stored = dict(session.execute(sa.select(CaseParty.case_id, sa.func.count()).where(
                CaseParty.case_id.in_([first + i for i in indices])).group_by(CaseParty.case_id)).all())
            with_files = replace(plan, with_documents=plan.with_documents.copy())
            with_files.with_documents[indices] = True
            for batch in generate_batches(province, with_files, self.seed, first, now=self.now, only=indices):
                # the parties a file names follow the two the record always has (client, opponent)
                seen: dict[int, int] = {}
                extra = []
                for party in batch.parties:
                    n = seen[party["case_id"]] = seen.get(party["case_id"], 0) + 1
                    if n > stored.get(party["case_id"], 0):
                        extra.append(party)
                _insert(session, CaseParty, _encrypted(extra, "name", PARTY_NAME_CONTEXT))
                _insert(session, Document, _encrypted(batch.documents, "extracted_text", DOCUMENT_TEXT_CONTEXT))
                done += len(batch.cases)
        session.flush()
        return done


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What a run wrote and how long it took; ``collect_files`` writes, later, the files it left out."""

    counts: dict[str, int]
    documents_policy: str
    seconds: float
    collect_files: FileCollector | None = None

    @property
    def cases_per_second(self) -> float:
        return self.counts["cases"] / self.seconds if self.seconds else 0.0


def documents_policy(cases: int, documents: str) -> str:
    """Resolve ``auto``: all documents up to :data:`ALL_DOCUMENTS_UP_TO` cases, the sampled subset above."""
    if documents == "auto":
        return "all" if cases <= ALL_DOCUMENTS_UP_TO else "sampled"
    return documents


def has_agencies(session: DbSession) -> int:
    """Number of agencies in the database (the demo runs only into a database without any)."""
    return session.scalar(sa.select(sa.func.count()).select_from(Agency)) or 0


def not_empty_message(agencies: int) -> str:
    """Why the demo refuses a database that already has agencies."""
    return (f"the database already holds {agencies} agencies; the demo province needs an empty database "
            "(use --if-empty to skip quietly)")


def _offsets(session: DbSession) -> dict[str, int]:
    return {model.__tablename__: session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))) or 0
            for model in _ID_TABLES}


def _place_in_jurisdictions(province: Province, nation_id: int) -> None:
    """Hang the province under the nation; its organisers and its reviewer pool belong to the province, except
    those the province names for a city (organiser.jiangmen and Jiangmen's own pool)."""
    top = next(r for r in province.regions if str(r["level"]) == "province")
    top["parent_id"] = nation_id
    region_ids = {r["code"]: r["id"] for r in province.regions}
    organisers = {r["user_id"] for r in province.user_roles if str(r["role"]) == "organiser"}
    for user in province.users:
        below = province.user_jurisdictions.get(user["id"])
        user["jurisdiction_id"] = (region_ids[below] if below else top["id"]) if user["id"] in organisers else None
    for profile in province.reviewers:
        pool = province.reviewer_pools.get(profile["id"])
        profile["jurisdiction_id"] = region_ids[pool] if pool else top["id"]


def _insert(session: DbSession, model: type[Any], rows: Sequence[dict[str, Any]], chunk: int = CHUNK) -> None:
    """Bulk-insert rows keyed by column name (a Core executemany: no ORM bookkeeping per row)."""
    statement = sa.insert(model.__table__)
    for start in range(0, len(rows), chunk):
        session.execute(statement, rows[start:start + chunk])


def _encrypted(rows: list[dict[str, Any]], column: str, context: str) -> list[dict[str, Any]]:
    """The rows with ``column`` encrypted at rest (in place), as the models store names and texts."""
    for row in rows:
        row[column] = encrypt_column(row[column], context)
    return rows


def _advance_sequences(session: DbSession) -> None:
    """After explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in _ID_TABLES:
        table = model.__tablename__
        session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed table names
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"))


def _check_usernames(session: DbSession, provinces: Sequence[Province]) -> None:
    names = [u["username"] for province in provinces for u in province.users]
    taken = session.scalars(sa.select(User.username).where(User.username.in_(names))).all()
    if taken:
        raise DemoError(f"demo usernames already exist: {', '.join(sorted(taken)[:5])}"
                        f"{' …' if len(taken) > 5 else ''}")


def case_split(cases: int) -> list[int]:
    """Cases per demo province (main province first): :data:`SECOND_PROVINCE_SHARE` of them are Guangxi's."""
    second = round(cases * SECOND_PROVINCE_SHARE)
    return [cases - second, second]


def _province_rows(session: DbSession, province: Province) -> None:
    _insert(session, Region, province.regions)
    _insert(session, Agency, province.agencies)
    _insert(session, Firm, province.firms)
    _insert(session, Lawyer, province.lawyers)
    _insert(session, User, province.users)
    _insert(session, UserRole, province.user_roles)
    _insert(session, ReviewerProfile, province.reviewers)


def generate(session: DbSession, *, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED, year: int = DEFAULT_YEAR,
             documents: str = "auto", progress: Callable[[int], None] | None = None) -> DemoSummary:
    """Generate the demo provinces into an empty database, in the caller's transaction (not committed).

    Guangdong (the main province) and a smaller second one, Guangxi (:func:`geography.guangxi`), come from the
    same generator; ``cases`` are split between them by :func:`case_split`.

    Parameters
    ----------
    session : Session
        Target session; the caller commits (all or nothing).
    cases : int
        Number of closed cases, 1 … :data:`MAX_CASES`.
    seed : int
        Non-negative seed; the same seed and options give the same province.
    year : int
        Year of the closing dates.
    documents : {"auto", "all", "sampled", "none"}
        Which cases get their file (see :data:`evalplat.demo.cases.SAMPLED_FIRST`).
    progress : callable, optional
        Called with the number of cases written after every chunk.

    Returns
    -------
    DemoSummary

    Raises
    ------
    DemoError
        When the database already holds agencies or demo usernames, or an argument is out of range.
    """
    if not 1 <= cases <= MAX_CASES:
        raise DemoError(f"--cases must be between 1 and {MAX_CASES:,}, got {cases:,}")
    if seed < 0:
        raise DemoError(f"--seed must be a non-negative integer, got {seed}")
    existing = has_agencies(session)
    if existing:
        raise DemoError(not_empty_message(existing))
    started = time.perf_counter()
    policy = documents_policy(cases, documents)
    now = datetime.now(UTC)
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    provinces: list[Province] = []
    nation = national_region(session)  # before the offsets: the migration's nation row, or a new one
    offsets = _offsets(session)
    first_offsets = dict(offsets)
    for geo in geography.demo_provinces():
        province = build_province(seed, year, offsets, password_hash, now, geo=geo)
        provinces.append(province)
        offsets = {**offsets, "regions": offsets["regions"] + len(province.regions),
                   "agencies": offsets["agencies"] + len(province.agencies),
                   "firms": offsets["firms"] + len(province.firms),
                   "lawyers": offsets["lawyers"] + len(province.lawyers),
                   "users": offsets["users"] + len(province.users),
                   "reviewer_profiles": offsets["reviewer_profiles"] + len(province.reviewers)}
    national = national_user(offsets, password_hash, now)
    for user in national.users:
        user["jurisdiction_id"] = nation.id
    _check_usernames(session, [*provinces, national])
    for province in provinces:
        _place_in_jurisdictions(province, nation.id)
        _province_rows(session, province)
    _insert(session, User, national.users)
    _insert(session, UserRole, national.user_roles)
    rubrics = ensure_rubric_versions(session)

    totals = {"cases": 0, "parties": 0, "documents": 0}
    next_case_id = first_offsets["cases"] + 1
    collector = FileCollector([], seed, now)
    for province, n in zip(provinces, case_split(cases), strict=True):
        if not n:
            continue
        plan = plan_cases(province, n, seed, year, policy)
        collector.segments.append((province, plan, next_case_id))
        for batch in generate_batches(province, plan, seed, next_case_id, chunk=CHUNK, now=now):
            _insert(session, Case, batch.cases)
            _insert(session, CaseParty, _encrypted(batch.parties, "name", PARTY_NAME_CONTEXT))
            _insert(session, Document, _encrypted(batch.documents, "extracted_text", DOCUMENT_TEXT_CONTEXT),
                    chunk=CHUNK // 2)
            totals["cases"] += len(batch.cases)
            totals["parties"] += len(batch.parties)
            totals["documents"] += len(batch.documents)
            if progress:
                progress(len(batch.cases))
        next_case_id += n
    _advance_sequences(session)
    counts = {key: sum(p.counts()[key] for p in provinces) for key in provinces[0].counts()}
    counts = {**counts, "users": counts["users"] + len(national.users), **totals, "provinces": len(provinces),
              "rubric_versions": len(rubrics)}
    record(session, actor_id=None, action="demo.generated", object_type="demo", object_id=str(seed),
           after={"seed": seed, "year": year, "documents": policy, **counts})
    session.flush()
    return DemoSummary(counts, policy, time.perf_counter() - started, None if policy == "all" else collector)


def demo_users(session: DbSession) -> list[User]:
    """Users created by the demo generator (their e-mail is in the reserved demo domain)."""
    return list(session.scalars(sa.select(User).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
                                .order_by(User.id)))


def _digest_lines(rows: Iterable[Sequence[Any]]) -> Iterable[bytes]:
    for row in rows:
        yield ("\t".join("" if v is None else str(v) for v in row) + "\n").encode("utf-8")


def case_digest(session: DbSession) -> str:
    """SHA-256 over every case with its agency code, lawyer licence, parties and document texts.

    Ids are left out, so two databases with the same province give the same digest.
    """
    h = hashlib.sha256()
    case_key = (Agency.code, Case.year, Case.sequence_no)
    cases = sa.select(Agency.code, Case.case_number, Case.year, Case.sequence_no, Case.case_type, Case.cause,
                      Case.stage_reached, Case.applied_on, Case.assigned_on, Case.first_meeting_on, Case.closed_on,
                      Case.result, Lawyer.licence_no, Firm.name).join(Agency, Case.agency_id == Agency.id) \
        .outerjoin(Lawyer, Case.lawyer_id == Lawyer.id).outerjoin(Firm, Case.firm_id == Firm.id) \
        .order_by(*case_key)
    parties = sa.select(Agency.code, Case.year, Case.sequence_no, CaseParty.role, CaseParty.name_ciphertext) \
        .join(Case, CaseParty.case_id == Case.id).join(Agency, Case.agency_id == Agency.id) \
        .order_by(*case_key, CaseParty.id)
    documents = sa.select(Agency.code, Case.year, Case.sequence_no, Document.position, Document.kind,
                          Document.extracted_ciphertext).join(Case, Document.case_id == Case.id) \
        .join(Agency, Case.agency_id == Agency.id).order_by(*case_key, Document.position)
    for line in _digest_lines(session.execute(cases.execution_options(yield_per=5000))):
        h.update(line)
    # Names and texts are encrypted with a fresh nonce on every write: digest the plaintext.
    for query, context in ((parties, PARTY_NAME_CONTEXT), (documents, DOCUMENT_TEXT_CONTEXT)):
        rows = session.execute(query.execution_options(yield_per=5000))
        for line in _digest_lines((*row[:-1], decrypt_column(row[-1], context)) for row in rows):
            h.update(line)
    return h.hexdigest()

