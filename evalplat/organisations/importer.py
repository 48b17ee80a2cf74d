"""Import the reviewer pool from CSV or XLSX: every row checked first, then all rows written or none.

Columns (header row; English or Chinese names, any order; * required):

    username*  用户名      account name (an existing account is updated)
    name*      姓名
    kind*      类型        peer / evaluator (律师 / 第三方)
    city*      所在市      city name or region code
    firm       律所        peers*: the law firm (created in the reviewer's city when new)
    licence    执业证号    peers*: the lawyer's licence number
    organisation 单位      evaluators: their institution
    years      执业年限    whole number ≥ 0
    case_types* 案件类型   criminal; civil; administrative; non_litigation (or 刑事、民事、行政、非诉)
    capacity*  承担量      most cases per campaign, ≥ 1
    available_from / available_until  可评估起 / 可评估止   dates (YYYY-MM-DD), optional
    email      邮箱
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import Role, User
from evalplat.audit.operations import record
from evalplat.db import DbSession
from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import (
    CaseType,
    Firm,
    Lawyer,
    Region,
    RegionLevel,
    ReviewerKind,
    ReviewerProfile,
)
from evalplat.tabular import Limits, TabularError, parse_date, read_rows

log = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "用户名", "账号"),
    "name": ("name", "姓名"),
    "kind": ("kind", "类型", "类别"),
    "city": ("city", "所在市", "城市", "地区"),
    "firm": ("firm", "律所", "律师事务所"),
    "licence": ("licence", "license", "执业证号"),
    "organisation": ("organisation", "organization", "单位"),
    "years": ("years", "执业年限"),
    "case_types": ("case_types", "案件类型"),
    "capacity": ("capacity", "承担量", "容量"),
    "available_from": ("available_from", "可评估起"),
    "available_until": ("available_until", "可评估止"),
    "email": ("email", "邮箱"),
}
REQUIRED = ("username", "name", "kind", "city", "case_types", "capacity")
KIND_WORDS = {"peer": ReviewerKind.PEER, "律师": ReviewerKind.PEER, "同行": ReviewerKind.PEER,
              "同行律师": ReviewerKind.PEER, "evaluator": ReviewerKind.EVALUATOR,
              "第三方": ReviewerKind.EVALUATOR, "第三方评估": ReviewerKind.EVALUATOR,
              "第三方评估人员": ReviewerKind.EVALUATOR}
TYPE_WORDS = {t.value: t.value for t in CaseType} | {"刑事": "criminal", "民事": "civil", "行政": "administrative",
                                                      "非诉": "non_litigation", "非诉讼": "non_litigation"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
MAX_ROWS = 20_000  # data rows (the tabular limit counts the header too)
UNUSABLE_PASSWORD = "!import"  # noqa: S105 - no password hash: the organiser sets a password before first sign-in


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the file, the header being line 1
    column: str
    message: str


class ReviewerImportError(DomainError):
    """The file was refused; nothing was written. ``errors`` names every problem found."""

    code = "reviewer_import"
    status = 400

    def __init__(self, errors: list[RowError], filename: str = "") -> None:
        self.errors = errors
        self.filename = filename
        first = errors[0]
        super().__init__(_l("%(file)s: %(n)d problems, nothing was imported (first: row %(row)d, column "
                            "%(col)s: %(msg)s).", file=filename or "—", n=len(errors), row=first.row,
                            col=first.column, msg=first.message))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    firms_created: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    username: str
    name: str
    kind: ReviewerKind
    city: Region
    firm: str | None
    licence: str | None
    organisation: str | None
    years: int
    case_types: list[str]
    capacity: int
    available_from: datetime | None
    available_until: datetime | None
    email: str | None


def read_table(data: bytes, filename: str) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030) or XLSX file as header → text mappings."""
    try:
        return _as_dicts(read_rows(data, filename, Limits.from_config(max_rows=MAX_ROWS + 1)), filename)
    except TabularError as exc:
        raise ReviewerImportError([RowError(exc.row, exc.column or "file", str(exc.message))], filename) from None


def _as_dicts(rows: Iterable[list[str]], filename: str) -> list[dict[str, str]]:
    iterator = iter(rows)
    header = next(iterator, None)
    if not header:
        raise ReviewerImportError([RowError(1, "header", str(_l("The file is empty.")))], filename)
    names: list[str | None] = []
    for cell in header:
        text = cell.lower()
        names.append(next((key for key, aliases in COLUMNS.items() if text in aliases), None))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ReviewerImportError([RowError(1, c, str(_l("Required column is missing."))) for c in missing], filename)
    out: list[dict[str, str]] = []
    for values in iterator:
        if not any(values):
            continue
        out.append({name: value for name, value in zip(names, values, strict=False) if name})
    return out


def _date(text: str) -> datetime | None:
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        raise ValueError(text)
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _cities(session: DbSession) -> dict[str, Region]:
    rows = session.scalars(sa.select(Region).where(Region.level == RegionLevel.CITY))
    out: dict[str, Region] = {}
    for region in rows:
        out[region.code] = region
        out[region.name] = region
    return out


def check_rows(session: DbSession, rows: list[dict[str, str]]) -> tuple[list[_Row], list[RowError]]:
    """Validate every row; returns the parsed rows and every error (row numbers count the header as 1)."""
    cities = _cities(session)
    parsed: list[_Row] = []
    errors: list[RowError] = []
    seen_users: dict[str, int] = {}
    seen_licences: dict[str, int] = {}
    for index, row in enumerate(rows, start=2):
        def bad(column: str, message: Any, line: int = index) -> None:
            errors.append(RowError(line, column, str(message)))

        for column in REQUIRED:
            if not row.get(column):
                bad(column, _l("A value is required."))
        username = row.get("username", "")
        if username and not USERNAME_RE.match(username):
            bad("username", _l("Use 2–64 letters, digits, dot, dash or underscore."))
        if username in seen_users:
            bad("username", _l("Repeats row %(r)d.", r=seen_users[username]))
        seen_users.setdefault(username, index)
        kind = KIND_WORDS.get(row.get("kind", "").lower())
        if row.get("kind") and kind is None:
            bad("kind", _l("Unknown kind %(k)s; use peer or evaluator.", k=row["kind"]))
        city = cities.get(row.get("city", ""))
        if row.get("city") and city is None:
            bad("city", _l("Unknown city %(c)s.", c=row["city"]))
        firm = row.get("firm") or None
        licence = row.get("licence") or None
        if kind == ReviewerKind.PEER:
            if not firm:
                bad("firm", _l("A peer lawyer needs a firm."))
            if not licence:
                bad("licence", _l("A peer lawyer needs a licence number."))
        elif kind == ReviewerKind.EVALUATOR and firm:
            bad("firm", _l("A third-party evaluator has no firm; use the organisation column."))
        if licence:
            if licence in seen_licences:
                bad("licence", _l("Repeats row %(r)d.", r=seen_licences[licence]))
            seen_licences.setdefault(licence, index)
        years = 0
        if row.get("years"):
            try:
                years = int(row["years"])
                if years < 0:
                    raise ValueError
            except ValueError:
                bad("years", _l("Not a whole number of years: %(v)s.", v=row["years"]))
        types: list[str] = []
        for word in re.split(r"[;,；，、/\s]+", row.get("case_types", "")):
            if not word:
                continue
            value = TYPE_WORDS.get(word.lower())
            if value is None:
                bad("case_types", _l("Unknown case type %(t)s.", t=word))
            elif value not in types:
                types.append(value)
        capacity = 0
        if row.get("capacity"):
            try:
                capacity = int(row["capacity"])
            except ValueError:
                capacity = 0
            if capacity < 1:
                bad("capacity", _l("Capacity must be a whole number of at least 1, got %(v)s.", v=row["capacity"]))
        dates: dict[str, datetime | None] = {}
        for column in ("available_from", "available_until"):
            try:
                dates[column] = _date(row.get(column, ""))
            except ValueError:
                bad(column, _l("Not a date (YYYY-MM-DD): %(v)s.", v=row.get(column)))
                dates[column] = None
        if dates["available_from"] and dates["available_until"] and dates["available_until"] < dates["available_from"]:
            bad("available_until", _l("Availability ends before it starts."))
        if errors and errors[-1].row == index:
            continue
        assert kind is not None
        assert city is not None
        parsed.append(_Row(index, username, row["name"], kind, city, firm if kind == ReviewerKind.PEER else None,
                           licence, row.get("organisation") or None, years, types, capacity,
                           dates["available_from"], dates["available_until"], row.get("email") or None))
    errors.extend(_check_against_database(session, parsed))
    return parsed, errors


def _check_against_database(session: DbSession, rows: list[_Row]) -> list[RowError]:
    errors: list[RowError] = []
    licences = [r.licence for r in rows if r.licence and r.kind == ReviewerKind.PEER]
    lawyers = {lw.licence_no: lw for lw in session.scalars(sa.select(Lawyer).where(Lawyer.licence_no.in_(licences)))}
    firm_names = {f.id: f.name for f in session.scalars(sa.select(Firm).where(
        Firm.id.in_([lw.firm_id for lw in lawyers.values() if lw.firm_id])))}
    users = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_([r.username for r in rows])))}
    profile_of_lawyer = dict(session.execute(sa.select(ReviewerProfile.lawyer_id, ReviewerProfile.user_id).where(
        ReviewerProfile.lawyer_id.in_([lw.id for lw in lawyers.values()]))).all())
    for row in rows:
        lawyer = lawyers.get(row.licence or "")
        if row.kind == ReviewerKind.PEER and lawyer is not None:
            if lawyer.firm_id and firm_names.get(lawyer.firm_id) != row.firm:
                errors.append(RowError(row.line, "firm", str(_l(
                    "Licence %(l)s belongs to a lawyer of %(f)s.", l=row.licence, f=firm_names.get(lawyer.firm_id)))))
            owner = profile_of_lawyer.get(lawyer.id)
            user = users.get(row.username)
            if owner is not None and (user is None or owner != user.id):
                errors.append(RowError(row.line, "licence", str(_l(
                    "Licence %(l)s is already used by another reviewer.", l=row.licence))))
    return errors


def _check_outside_jurisdiction(session: DbSession, actor: User | None, rows: list[_Row]) -> list[RowError]:
    """An organiser's import creates reviewers or updates its own: a username of an account outside its subtree
    is refused as taken (as if unknown: nothing about the account is told)."""
    if actor is None:
        return []
    from evalplat.organisations.jurisdiction import users_within

    names = [r.username for r in rows]
    taken = set(session.scalars(sa.select(User.username).where(User.username.in_(names))))
    mine = set(session.scalars(sa.select(User.username).where(User.username.in_(names), users_within(actor))))
    return [RowError(r.line, "username", str(_l("The username %(u)s is already taken.", u=r.username)))
            for r in rows if r.username in taken - mine]


def _check_cities(session: DbSession, actor: User | None, rows: list[_Row]) -> list[RowError]:
    """An organiser's pools hold reviewers of the cities of its province (:func:`pool_cities`): a row naming a
    city outside it is refused, naming the row and the city."""
    if actor is None:
        return []
    from evalplat.organisations.jurisdiction import pool_cities

    allowed = set(session.scalars(sa.select(Region.id).where(pool_cities(actor))))
    return [RowError(r.line, "city", str(_l("The city %(city)s lies outside the province of your jurisdiction: a "
                                            "reviewer of your pools comes from one of its cities.", city=r.city.name)))
            for r in rows if r.city.id not in allowed]


def _pool_for(session: DbSession, actor: User | None, city: Region) -> int:
    """The pool a new reviewer joins: the importing organiser's jurisdiction; from the command line, the
    province of the reviewer's city (else the nation)."""
    from evalplat.organisations.jurisdiction import national_region, province_of

    if actor is not None and actor.jurisdiction_id is not None:
        return actor.jurisdiction_id
    return province_of(city.id, session) or national_region(session).id


def import_reviewers(session: DbSession, *, actor: User | None, data: bytes, filename: str) -> ImportSummary:
    """Import (create or update) reviewers from a CSV/XLSX file; all rows or none.

    Parameters
    ----------
    session : Session
    actor : User or None
    data : bytes
        The file's content.
    filename : str
        Its name (the extension selects CSV or XLSX; named in errors).

    Returns
    -------
    ImportSummary
        Counts of created and updated reviewers and the names of firms created.

    Raises
    ------
    ReviewerImportError
        With every problem (row, column, reason); nothing is written.
    """
    table = read_table(data, filename)
    if not table:
        raise ReviewerImportError([RowError(2, "file", str(_l("The file has a header but no rows.")))], filename)
    rows, errors = check_rows(session, table)
    errors += _check_outside_jurisdiction(session, actor, rows) + _check_cities(session, actor, rows)
    if errors:
        log.info("reviewer import %r: %d rows refused, %d errors", filename, len(table), len(errors))
        raise ReviewerImportError(errors, filename)
    summary = ImportSummary()
    firms = {f.name: f for f in session.scalars(sa.select(Firm).where(Firm.name.in_({r.firm for r in rows if r.firm})))}
    users = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_([r.username for r in rows])))}
    lawyers = {lw.licence_no: lw for lw in session.scalars(
        sa.select(Lawyer).where(Lawyer.licence_no.in_([r.licence for r in rows if r.licence])))}
    profiles = {p.user_id: p for p in session.scalars(
        sa.select(ReviewerProfile).where(ReviewerProfile.user_id.in_([u.id for u in users.values()])))}
    for row in rows:
        firm = None
        if row.firm:
            firm = firms.get(row.firm)
            if firm is None:
                firm = Firm(name=row.firm, region=row.city, city=row.city)
                session.add(firm)
                firms[row.firm] = firm
                summary.firms_created.append(row.firm)
        lawyer = None
        if row.kind == ReviewerKind.PEER and row.licence:
            lawyer = lawyers.get(row.licence)
            if lawyer is None:
                lawyer = Lawyer(name=row.name, licence_no=row.licence, firm=firm, years_of_practice=row.years,
                                case_types=row.case_types)
                session.add(lawyer)
                lawyers[row.licence] = lawyer
        role = Role.PEER_REVIEWER if row.kind == ReviewerKind.PEER else Role.EVALUATOR
        user = users.get(row.username)
        if user is None:
            user = User(username=row.username, display_name=row.name, email=row.email,
                        password_hash=UNUSABLE_PASSWORD, must_change_password=True)
            session.add(user)
        user.set_roles(set(user.roles) | {role})
        session.flush()
        profile = profiles.get(user.id)
        values = {"kind": row.kind, "region_id": row.city.id, "city_id": row.city.id,
                  "firm_id": firm.id if firm else None, "lawyer_id": lawyer.id if lawyer else None,
                  "organisation": row.organisation or (row.firm if row.firm else None), "licence_no": row.licence,
                  "years_of_practice": row.years, "case_types": row.case_types, "capacity": row.capacity,
                  "available_from": row.available_from, "available_until": row.available_until}
        if profile is None:
            profile = ReviewerProfile(user_id=user.id, jurisdiction_id=_pool_for(session, actor, row.city), **values)
            session.add(profile)
            summary.created += 1
        else:
            for key, value in values.items():
                setattr(profile, key, value)
            summary.updated += 1
        summary.usernames.append(row.username)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="reviewers.imported", object_type="reviewer_pool",
           after={"file": filename, "created": summary.created, "updated": summary.updated,
                  "firms_created": summary.firms_created, "usernames": summary.usernames[:500]})
    log.info("reviewer import %r: %d rows, %d created, %d updated", filename, len(rows), summary.created,
             summary.updated)
    return summary
