"""Streaming import of closed cases from CSV or XLSX, with their files from a zip.

Two passes, so that a file of any size is never held in memory and a file with errors writes nothing:

1. **Validate.** Rows are read one at a time (``csv`` or openpyxl's read-only mode), checked, converted
   and spooled to a temporary file as compact marshalled chunks. In memory stay only the lookup tables
   (agencies, lawyers) and one 64-bit hash per case key for duplicate detection; a hash collision is
   confirmed by a rescan of the file for the few suspect keys, so duplicates are reported exactly, with
   the row of the first occurrence. Rows whose case already exists are compared by a content digest:
   the same content is left alone (re-importing a file is a no-op), different content is an error.
   The zip of files is checked entry by entry (paths, sizes, content type by magic bytes).
2. **Write.** Only when pass 1 found no error: the spooled rows go in chunks into the caller's
   transaction (``executemany`` on SQLite, ``COPY`` on PostgreSQL), then the parties (names encrypted)
   and the documents (originals encrypted in the content-addressed storage).

Errors carry a row number (1 is the header row), a column key and a code with parameters; they are
rendered in the user's language by :meth:`RowError.message`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import marshal
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from flask_babel import gettext as _

from evalplat.accounts.models import Role, User
from evalplat.cases.models import (
    PARTY_NAME_CONTEXT,
    Case,
    CaseParty,
    Document,
    DocumentKind,
    DocumentStatus,
    PartyRole,
)
from evalplat.db import DbSession, utcnow
from evalplat.files import FileRejected, Storage, open_zip, sniff
from evalplat.files.archive import SafeZip, ZipEntry
from evalplat.files.encrypted_type import current_keyring
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, CaseType, Lawyer
from evalplat.tabular import MESSAGES as TABULAR_MESSAGES
from evalplat.tabular import TabularError, parse_date, read_rows
from reports.spreadsheet import XlsxWriter, csv_bytes

log = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "Column",
    "DocumentWriter",
    "ImportOptions",
    "ImportReport",
    "RowError",
    "import_cases",
    "template_csv",
    "template_xlsx",
]

CHUNK = 5000
LOOKUP_CHUNK = 400
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Column:
    """One column of the import file: its key, Chinese header, English header and other accepted names."""

    key: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("agency", "法律援助机构", "agency", aliases=("机构", "援助机构", "agency_code", "机构代码"),
           example="江海区法律援助处"),
    Column("case_number", "案号", "case_number", True, ("案件编号", "case_no"), "江法援〔2024〕第0178号"),
    Column("year", "年度", "year", aliases=("年份",), example="2024"),
    Column("sequence_no", "序号", "sequence_no", aliases=("顺序号", "sequence"), example="178"),
    Column("case_type", "案件类型", "case_type", True, ("类型", "type"), "刑事"),
    Column("cause", "案由", "cause", aliases=("罪名",), example="盗窃罪"),
    Column("stage_reached", "办理阶段", "stage", aliases=("诉讼阶段", "stage_reached"), example="一审"),
    Column("applied_on", "申请日期", "applied_on", aliases=("申请时间",), example="2024-02-20"),
    Column("assigned_on", "指派日期", "assigned_on", aliases=("指派时间",), example="2024-02-22"),
    Column("first_meeting_on", "首次会见日期", "first_meeting_on", aliases=("会见日期",), example="2024-02-26"),
    Column("closed_on", "结案日期", "closed_on", True, ("结案时间",), "2024-09-30"),
    Column("result", "办理结果", "result", aliases=("结果", "结案结果"), example="判处有期徒刑一年"),
    Column("lawyer_licence", "承办律师执业证号", "lawyer_licence_no",
           aliases=("律师执业证号", "执业证号", "lawyer_licence"), example="14407201010123456"),
    Column("client", "受援人", "client", aliases=("当事人", "受援人姓名"), example="陈志强"),
    Column("opponent", "对方当事人", "opponent", aliases=("对方",), example=""),
    Column("court", "审理法院", "court", aliases=("法院",), example="江海区人民法院"),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
PARTY_COLUMNS = {"client": PartyRole.CLIENT, "opponent": PartyRole.OPPONENT, "court": PartyRole.COURT}
MAX_LENGTH = {"case_number": 64, "cause": 128, "stage_reached": 64, "result": 128}

CASE_TYPES: dict[str, CaseType] = {
    "刑事": CaseType.CRIMINAL, "刑事案件": CaseType.CRIMINAL, "criminal": CaseType.CRIMINAL,
    "民事": CaseType.CIVIL, "民事案件": CaseType.CIVIL, "civil": CaseType.CIVIL,
    "行政": CaseType.ADMINISTRATIVE, "行政案件": CaseType.ADMINISTRATIVE,
    "administrative": CaseType.ADMINISTRATIVE,
    "非诉讼": CaseType.NON_LITIGATION, "非诉": CaseType.NON_LITIGATION, "非诉讼案件": CaseType.NON_LITIGATION,
    "non_litigation": CaseType.NON_LITIGATION, "non-litigation": CaseType.NON_LITIGATION,
}
_PARTY_SPLIT = re.compile(r"[;；、,，/]+")

# error code → message (parameters in %(name)s form); rendered in the user's language.
MESSAGES: dict[str, Any] = {
    "missing_value": _l("%(column)s is required."),
    "unknown_agency": _l("Unknown agency “%(value)s” (use the agency's name or code)."),
    "other_agency": _l("“%(value)s” is not your agency; you may import only your own agency's cases."),
    "unknown_case_type": _l("Unknown case type “%(value)s” (use 刑事, 民事, 行政 or 非诉讼)."),
    "bad_date": _l("“%(value)s” is not a date (use YYYY-MM-DD)."),
    "bad_integer": _l("“%(value)s” is not a whole number."),
    "bad_year": _l("Year %(value)s is out of range (1990–2100)."),
    "not_positive": _l("%(column)s must be a positive number, not %(value)s."),
    "closed_before_assigned": _l("Closing date %(closed)s is before the assignment date %(assigned)s."),
    "assigned_before_applied": _l("Assignment date %(assigned)s is before the application date %(applied)s."),
    "too_long": _l("%(column)s is longer than %(limit)d characters."),
    "unknown_lawyer": _l("No lawyer has licence number “%(value)s”."),
    "duplicate_in_file": _l("Case number “%(value)s” of this agency appears again (first at row %(first)d)."),
    "exists_different": _l("Case number “%(value)s” already exists for this agency with different content."),
    "unknown_column": _l("Unknown column “%(value)s”."),
    "duplicate_column": _l("Column “%(value)s” appears twice."),
    "missing_column": _l("The required column %(column)s is missing."),
    "empty_file": _l("The file has no header row."),
    "too_many_columns": _l("The row has more cells than the header has columns."),
    "zip_unknown_case": _l("No case numbered “%(value)s” is in this import or among your cases."),
    "zip_ambiguous_case": _l("Case number “%(value)s” belongs to several agencies; import their files "
                             "on each case's page."),
}


@dataclass(frozen=True)
class RowError:
    """One problem in the import file.

    Attributes
    ----------
    row : int
        1-based row number in the file (1 is the header row).
    column : str or None
        Column key (see :data:`COLUMNS`), None for a problem with the whole row.
    code : str
        Key of :data:`MESSAGES`.
    params : dict
        Values for the message.
    """

    row: int
    column: str | None
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_tabular(cls, exc: TabularError) -> RowError:
        """The error of the tabular reader (a limit reached, a file that is not a table) as a row error."""
        return cls(exc.row or 1, None, exc.code, exc.params)

    def column_label(self) -> str:
        """The column's header in the user's language."""
        col = COLUMN_BY_KEY.get(self.column or "")
        if col is None:
            return self.column or ""
        from flask_babel import get_locale

        return col.zh if str(get_locale() or "zh").startswith("zh") else col.en

    def message(self) -> str:
        """The reason, in the user's language (needs an app context)."""
        params = dict(self.params)
        params.setdefault("column", self.column_label())
        return str(MESSAGES.get(self.code) or TABULAR_MESSAGES[self.code]) % params

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "params": dict(self.params)}


@dataclass
class FileProblem:
    """A file (or zip entry) that was refused, with its named error."""

    filename: str
    code: str
    message_zh: str
    message_en: str

    @classmethod
    def from_rejection(cls, exc: FileRejected) -> FileProblem:
        return cls(exc.filename or "", exc.code, exc.message("zh"), exc.message("en"))

    def message(self) -> str:
        from flask_babel import get_locale

        return self.message_zh if str(get_locale() or "zh").startswith("zh") else self.message_en


@dataclass(frozen=True)
class ImportOptions:
    """How an import behaves.

    Attributes
    ----------
    on_bad_file : {"skip", "stop"}
        ``skip``: bad files are reported and the rest is imported; ``stop``: the first bad file stops
        the import and nothing is written.
    max_errors : int
        Row errors kept in the report (all are counted).
    """

    on_bad_file: Literal["skip", "stop"] = "skip"
    max_errors: int = 1000


@dataclass
class ImportReport:
    """The outcome of an import."""

    filename: str
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    file_problems: list[FileProblem] = field(default_factory=list)
    documents_added: int = 0
    documents_unchanged: int = 0
    document_ids: list[int] = field(default_factory=list)
    stopped_on_file: bool = False

    @property
    def ok(self) -> bool:
        """Whether the import was written (no row error, and not stopped on a bad file)."""
        return self.error_count == 0 and not self.stopped_on_file

    def add_error(self, error: RowError, limit: int) -> None:
        self.error_count += 1
        if len(self.errors) < limit:
            self.errors.append(error)


# --- reading -----------------------------------------------------------------------------------------
def iter_rows(path: Path, filename: str = "") -> Iterator[list[str]]:
    """Rows of a CSV or XLSX file as lists of stripped strings, one at a time (:func:`evalplat.tabular.read_rows`)."""
    return read_rows(path, filename or path.name)


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-（）()*]+", "", text).lower()


_HEADER_NAMES: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.key, _col.zh, _col.en, *_col.aliases):
        _HEADER_NAMES[_norm_header(_name)] = _col.key


# --- lookups -----------------------------------------------------------------------------------------
@dataclass
class _Lookups:
    agencies: dict[str, int]
    agency_names: dict[int, str]
    lawyers: dict[str, tuple[int, int | None]]
    agencies_with_cases: set[int]
    own_agency: int | None
    # an organiser's agencies (its jurisdiction's); None: every agency (the command line)
    scope: Any = None

    @classmethod
    def load(cls, session: DbSession, actor: User | None) -> _Lookups:
        agencies: dict[str, int] = {}
        names: dict[int, str] = {}
        scope = None
        if actor is not None and Role.ORGANISER in actor.roles:
            from evalplat.organisations.jurisdiction import agencies_within

            scope = agencies_within(actor)  # an agency outside the jurisdiction is as unknown as a missing one
        listed = sa.select(Agency.id, Agency.code, Agency.name)
        for ident, code, name in session.execute(listed if scope is None else listed.where(Agency.id.in_(scope))):
            agencies[code.strip()] = ident
            agencies[name.strip()] = ident
            names[ident] = name
        lawyers = {lic.strip(): (ident, firm) for ident, lic, firm in
                   session.execute(sa.select(Lawyer.id, Lawyer.licence_no, Lawyer.firm_id))}
        with_cases = set(session.execute(sa.select(Case.agency_id).distinct()).scalars())
        own = None
        if actor is not None and Role.ORGANISER not in actor.roles:
            own = (actor.agency_id or -1) if Role.AGENCY_STAFF in actor.roles else -1
        return cls(agencies, names, lawyers, with_cases, own, scope)


# --- validation --------------------------------------------------------------------------------------
# A validated row, as spooled: the case's column values (dates as ISO text), then the parties.
_CASE_FIELDS = ("agency_id", "case_number", "year", "sequence_no", "case_type", "cause", "stage_reached",
                "applied_on", "assigned_on", "first_meeting_on", "closed_on", "result", "lawyer_id", "firm_id",
                "import_digest")
_DATE_FIELDS = ("applied_on", "assigned_on", "first_meeting_on", "closed_on")


Checked = tuple[tuple[Any, ...], list[tuple[str, str]]]
Fail = Callable[..., None]


class _RowRefused(Exception):
    """Raised by the quick pass at a row's first problem; the collecting pass then names all of them."""


def _refuse(column: str | None, code: str, **params: Any) -> None:
    raise _RowRefused


class _Validator:
    """The one set of row rules of the case import, compiled once per file.

    :meth:`validate` runs the rules on a row with a ``fail`` that stops at the first problem: a clean row
    (nearly every row of a real file) costs one pass that only converts. A row with a problem is run again
    through the same rules with a ``fail`` that collects, so its errors are reported all at once, in column
    order, with the same codes and parameters whichever rule found the first one.
    """

    def __init__(self, lookups: _Lookups, positions: dict[str, int], report: ImportReport, limit: int,
                 width: int | None = None) -> None:
        self.lookups = lookups
        self.positions = positions
        self.report = report
        self.limit = limit
        # cells in the header row (a blank header cell names no column)
        self.width = max(len(positions), max(positions.values(), default=-1) + 1) if width is None else width
        self.check = self._compile()

    def error(self, row: int, column: str | None, code: str, **params: Any) -> None:
        self.report.add_error(RowError(row, column, code, params), self.limit)

    def validate(self, number: int, cells: list[str]) -> Checked | None:
        """Check one data row; return (case values, parties), or None after reporting all of its errors."""
        try:
            return self.check(cells, _refuse)
        except _RowRefused:
            return self._report(number, cells)

    def _report(self, number: int, cells: list[str]) -> Checked | None:
        """Run the rules again on a refused row, collecting every problem."""
        errors: list[RowError] = []

        def collect(column: str | None, code: str, **params: Any) -> None:
            errors.append(RowError(number, column, code, params))

        checked = self.check(cells, collect)
        for error in errors:
            self.report.add_error(error, self.limit)
        return None if errors else checked

    def _compile(self) -> Callable[[list[str], Fail], Checked]:
        """The row rules, with column indexes resolved, lookups as plain dicts and the few distinct date, year
        and case-type texts of a file converted once each (only values that pass are cached).

        The returned ``check(cells, fail)`` calls ``fail(column, code, **params)`` for each problem, in the
        order the errors are reported, and goes on with the value left empty; it returns the converted row,
        which means something only when ``fail`` was never called.
        """
        positions = self.positions
        lk = self.lookups
        width = self.width
        used = set(positions.values())
        unnamed = [index for index in range(width) if index not in used]  # cells under a blank header
        blank = [""] * width
        agencies = lk.agencies
        own = lk.own_agency
        own_default = own if own is not None and own > 0 else None  # agency staff may leave the agency out
        lawyers = lk.lawyers
        i_agency = positions.get("agency")
        i_number = positions.get("case_number")
        i_type = positions.get("case_type")
        i_closed = positions.get("closed_on")
        i_year = positions.get("year")
        i_sequence = positions.get("sequence_no")
        i_cause = positions.get("cause")
        i_stage = positions.get("stage_reached")
        i_result = positions.get("result")
        i_licence = positions.get("lawyer_licence")
        i_applied, i_assigned, i_meeting = (positions.get(key) for key in _DATE_FIELDS[:3])
        parties_at = [(positions[key], role.value) for key, role in PARTY_COLUMNS.items() if key in positions]
        types: dict[str, str] = {}
        dates: dict[str, str] = {}
        years: dict[str, int] = {}
        max_number, max_cause, max_stage, max_result = (MAX_LENGTH["case_number"], MAX_LENGTH["cause"],
                                                        MAX_LENGTH["stage_reached"], MAX_LENGTH["result"])
        split = _PARTY_SPLIT.split
        sha256 = hashlib.sha256

        def iso(key: str, index: int | None, cells: list[str], fail: Fail) -> str | None:
            """ISO text of a date cell; None when the cell is empty or not a date (reported)."""
            if index is None or not (text := cells[index]):
                return None
            found = dates.get(text)
            if found is None:
                parsed = parse_date(text)
                if parsed is None:
                    fail(key, "bad_date", value=text)
                    return None
                if len(dates) > 100_000:
                    dates.clear()
                found = dates[text] = parsed.isoformat()
            return found

        def check(cells: list[str], fail: Fail) -> Checked:
            size = len(cells)
            if size != width or unnamed:
                if size < width:
                    cells = cells + blank[size:]
                if (size > width and any(cells[width:])) or any(cells[i] for i in unnamed):
                    fail(None, "too_many_columns")

            agency_text = "" if i_agency is None else cells[i_agency]
            agency_id: int | None = None
            if agency_text:
                agency_id = agencies.get(agency_text)
                if agency_id is None:
                    fail("agency", "unknown_agency", value=agency_text)
                elif own is not None and agency_id != own:
                    fail("agency", "other_agency", value=agency_text)
            elif own_default is not None:
                agency_id = own_default
            else:
                fail("agency", "missing_value")

            case_number = "" if i_number is None else cells[i_number]
            if not case_number:
                fail("case_number", "missing_value")

            type_text = "" if i_type is None else cells[i_type]
            case_type = types.get(type_text)
            if case_type is None:
                found = CASE_TYPES.get(type_text) or CASE_TYPES.get(type_text.lower())
                if not type_text:
                    fail("case_type", "missing_value")
                elif found is None:
                    fail("case_type", "unknown_case_type", value=type_text)
                else:
                    case_type = types[type_text] = found.value

            applied = iso("applied_on", i_applied, cells, fail)
            assigned = iso("assigned_on", i_assigned, cells, fail)
            meeting = iso("first_meeting_on", i_meeting, cells, fail)
            closed = iso("closed_on", i_closed, cells, fail)
            if i_closed is None or not cells[i_closed]:
                fail("closed_on", "missing_value")
            if closed and assigned and closed < assigned:  # ISO text orders as the dates do
                fail("closed_on", "closed_before_assigned", closed=closed, assigned=assigned)
            if assigned and applied and assigned < applied:
                fail("assigned_on", "assigned_before_applied", assigned=assigned, applied=applied)

            year_text = "" if i_year is None else cells[i_year]
            year: int | None = None
            if year_text:
                year = years.get(year_text)
                if year is None:
                    try:
                        year = int(year_text)
                    except ValueError:
                        fail("year", "bad_integer", value=year_text)
                    else:
                        if 1990 <= year <= 2100:
                            years[year_text] = year
                        else:
                            fail("year", "bad_year", value=year)
            elif closed:
                year = int(closed[:4])
                if not 1990 <= year <= 2100:
                    fail("year", "bad_year", value=year)

            sequence: int | None = None
            sequence_text = "" if i_sequence is None else cells[i_sequence]
            if sequence_text:
                try:
                    sequence = int(sequence_text)
                except ValueError:
                    fail("sequence_no", "bad_integer", value=sequence_text)
                else:
                    if sequence <= 0:
                        fail("sequence_no", "not_positive", value=sequence)

            cause = "" if i_cause is None else cells[i_cause]
            stage = "" if i_stage is None else cells[i_stage]
            result = "" if i_result is None else cells[i_result]
            if len(case_number) > max_number:
                fail("case_number", "too_long", limit=max_number)
            if len(cause) > max_cause:
                fail("cause", "too_long", limit=max_cause)
            if len(stage) > max_stage:
                fail("stage_reached", "too_long", limit=max_stage)
            if len(result) > max_result:
                fail("result", "too_long", limit=max_result)

            lawyer_id = firm_id = None
            licence = "" if i_licence is None else cells[i_licence]
            if licence:
                found_lawyer = lawyers.get(licence)
                if found_lawyer is None:
                    fail("lawyer_licence", "unknown_lawyer", value=licence)
                else:
                    lawyer_id, firm_id = found_lawyer

            parties: list[tuple[str, str]] = []
            for index, role in parties_at:
                if cells[index]:
                    parties.extend((role, name.strip()) for name in split(cells[index]) if name.strip())
            values = [agency_id, case_number, year, sequence, case_type, cause, stage, applied, assigned, meeting,
                      closed, result, lawyer_id, firm_id]
            values.append(sha256(repr((values, sorted(parties))).encode("utf-8")).hexdigest())
            return tuple(values), parties

        return check


def _read_header(row: list[str], report: ImportReport, limit: int) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(row):
        if not name:
            continue
        key = _HEADER_NAMES.get(_norm_header(name))
        if key is None:
            report.add_error(RowError(1, None, "unknown_column", {"value": name}), limit)
        elif key in positions:
            report.add_error(RowError(1, key, "duplicate_column", {"value": name}), limit)
        else:
            positions[key] = index
    return positions


def case_digest(case: Case) -> str:
    """The import digest of a case as it stands (what :meth:`_Validator.validate` computes for the row that would
    import it), so that a re-import of a corrected case's row is a no-op and the old row is refused."""
    iso = [d.isoformat() if d else None for d in (case.applied_on, case.assigned_on, case.first_meeting_on,
                                                    case.closed_on)]
    values = [case.agency_id, case.case_number, case.year, case.sequence_no, CaseType(case.case_type).value,
              case.cause or "", case.stage_reached or "", *iso, case.result or "", case.lawyer_id, case.firm_id]
    roles = {role.value for role in PARTY_COLUMNS.values()}
    parties = [(PartyRole(p.role).value, p.name) for p in case.parties if PartyRole(p.role).value in roles]
    return hashlib.sha256(repr((values, sorted(parties))).encode("utf-8")).hexdigest()


def _key_hash(agency_id: int, case_number: str) -> int:
    return hash((agency_id, case_number))


# --- files (zip) -------------------------------------------------------------------------------------
_KIND_WORDS: tuple[tuple[tuple[str, ...], DocumentKind], ...] = (
    (("判决", "裁定", "调解书", "决定书"), DocumentKind.JUDGMENT),
    (("结案",), DocumentKind.CLOSING_REPORT),
    (("会见",), DocumentKind.MEETING_NOTES),
    (("阅卷",), DocumentKind.FILE_READING_NOTES),
    (("辩护", "代理词", "意见"), DocumentKind.OPINION),
    (("申请",), DocumentKind.APPLICATION),
    (("指派", "公函"), DocumentKind.ASSIGNMENT_LETTER),
    (("协议", "委托"), DocumentKind.AGREEMENT),
)


def guess_kind(filename: str) -> DocumentKind:
    """The document kind suggested by a (Chinese) file name; ``other`` when nothing matches."""
    for words, kind in _KIND_WORDS:
        if any(w in filename for w in words):
            return kind
    return DocumentKind.OTHER


@dataclass
class _FilePlan:
    """Zip entries accepted in pass 1, by case folder; resolved to case keys."""

    archive: SafeZip
    folders: dict[str, list[ZipEntry]]
    in_file: dict[str, set[int]] = field(default_factory=dict)  # folder → agency ids in the import file


def _plan_zip(zip_path: Path, report: ImportReport, options: ImportOptions) -> _FilePlan | None:
    try:
        archive = open_zip(zip_path, archive_name=zip_path.name)
    except FileRejected as exc:
        report.file_problems.append(FileProblem.from_rejection(exc))
        report.stopped_on_file = options.on_bad_file == "stop"
        return None
    for rejected in archive.listing.rejected:
        report.file_problems.append(FileProblem.from_rejection(rejected))
    folders = archive.listing.by_case()
    for entries in folders.values():
        for entry in entries:
            try:
                sniff(archive.read(entry), entry.display_name)
            except FileRejected as exc:
                report.file_problems.append(FileProblem.from_rejection(
                    FileRejected(exc.code, entry.path, **exc.params)))
    return _FilePlan(archive, folders)


def _resolve_folders(session: DbSession, plan: _FilePlan, lookups: _Lookups,
                     report: ImportReport) -> dict[str, int | tuple[int, str]]:
    """Map each case folder to an existing case id or to an (agency id, case number) being imported."""
    resolved: dict[str, int | tuple[int, str]] = {}
    names = [n for n in plan.folders if n]
    existing: dict[str, list[tuple[int, int]]] = {}
    for start in range(0, len(names), LOOKUP_CHUNK):
        query = sa.select(Case.case_number, Case.agency_id, Case.id).where(
            Case.case_number.in_(names[start:start + LOOKUP_CHUNK]))
        if lookups.own_agency is not None:
            query = query.where(Case.agency_id == lookups.own_agency)
        elif lookups.scope is not None:
            query = query.where(Case.agency_id.in_(lookups.scope))
        for number, agency_id, ident in session.execute(query):
            existing.setdefault(number, []).append((agency_id, ident))
    for folder, entries in plan.folders.items():
        candidates: dict[int, int | tuple[int, str]] = {a: (a, folder) for a in plan.in_file.get(folder, ())}
        for agency_id, ident in existing.get(folder, ()):
            candidates[agency_id] = ident
        if len(candidates) == 1:
            resolved[folder] = next(iter(candidates.values()))
            continue
        code = "zip_unknown_case" if not candidates else "zip_ambiguous_case"
        _folder_problem(report, entries, code, folder)
    frozen = _frozen_case_ids(session, [c for c in resolved.values() if isinstance(c, int)],
                              collecting=lookups.own_agency is None)
    for folder in [f for f, c in resolved.items() if c in frozen]:
        del resolved[folder]  # a frozen case's file changes only on its page, by the organiser, with a reason
        _folder_problem(report, plan.folders[folder], "zip_frozen_case", folder)
    return resolved


def _folder_problem(report: ImportReport, entries: Iterable[Any], code: str, folder: str) -> None:
    for entry in entries:
        report.file_problems.append(FileProblem(entry.path, code, _zip_message(code, "zh", folder),
                                                _zip_message(code, "en", folder)))


def _frozen_case_ids(session: DbSession, case_ids: Sequence[int], *, collecting: bool) -> set[int]:
    """The cases among ``case_ids`` whose files this import may not touch.

    A case sampled by a campaign whose population is frozen keeps its file. One exception: the
    organiser's import (``collecting``) may add the files of sampled cases while their campaign has
    offered nothing to any reviewer yet (draft or sampled) — the bureau collects the sampled cases'
    files after the draw, before anyone has read them. Files are only ever added by an import (a file
    already there is recognised by its content), never removed or replaced.
    """
    from evalplat.campaigns.models import Campaign, CampaignState, Sample

    frozen_campaign: sa.ColumnElement[bool] = Campaign.population_frozen_at.is_not(None)
    if collecting:
        frozen_campaign = frozen_campaign & Campaign.state.not_in((CampaignState.DRAFT, CampaignState.SAMPLED))
    frozen: set[int] = set()
    for start in range(0, len(case_ids), LOOKUP_CHUNK):
        frozen.update(session.scalars(sa.select(Sample.case_id).join(Campaign, Campaign.id == Sample.campaign_id)
                                      .where(Sample.case_id.in_(case_ids[start:start + LOOKUP_CHUNK]),
                                             frozen_campaign)))
    return frozen


_ZIP_MESSAGES = {
    "zip_unknown_case": ("本次导入和您的案件中都没有案号为“{v}”的案件。",
                         "No case numbered '{v}' is in this import or among your cases."),
    "zip_ambiguous_case": ("案号“{v}”属于多个机构，请在各案件页面上传其文件。",
                           "Case number '{v}' belongs to several agencies; upload its files on each case's page."),
    "zip_frozen_case": ("案号“{v}”的案件已被抽入评估且案卷已冻结，不能再导入文件；如需更正，请联系组织方在案件页面修改并说明理由。",
                        "Case '{v}' is sampled for peer review and its file is frozen: no files can be imported "
                        "for it; ask the organiser to correct it on the case's page, with a reason."),
}


def _zip_message(code: str, lang: str, value: str) -> str:
    return _ZIP_MESSAGES[code][0 if lang == "zh" else 1].format(v=value)


def _case_keys_in(keys: Iterable[tuple[int, str]]) -> sa.ColumnElement[bool]:
    """``(agency_id, case_number) IN keys`` in a form every database answers from the unique index.

    SQLite scans the whole table for a row-value ``IN (VALUES …)``, which made each batch of a large
    re-import read every case; one ``agency_id = ? AND case_number IN (…)`` per agency is an index search.
    """
    by_agency: dict[int, list[str]] = {}
    for agency_id, number in keys:
        by_agency.setdefault(agency_id, []).append(number)
    return sa.or_(*(sa.and_(Case.agency_id == agency_id, Case.case_number.in_(numbers))
                    for agency_id, numbers in by_agency.items()))


# --- writing -----------------------------------------------------------------------------------------
def _write_cases(session: DbSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert validated case rows in the caller's transaction, with the fastest path of the database."""
    connection = session.connection()
    dialect = connection.dialect.name
    now = utcnow()
    columns = (*_CASE_FIELDS, "created_at")
    if dialect == "sqlite":
        stamp = now.replace(tzinfo=None).isoformat(" ", "microseconds")
        params = [(*r, stamp) for r in rows]
        # Column names are this module's constants, never input.
        sql = f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()
    elif dialect == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None  # an open connection has its psycopg connection
        with raw.cursor() as cursor, cursor.copy(f"COPY cases ({', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((*r, now))
    else:  # pragma: no cover - evalplat supports SQLite and PostgreSQL
        records = [dict(zip(columns, (*r, now), strict=True)) for r in rows]
        for record in records:
            for key in _DATE_FIELDS:
                record[key] = date.fromisoformat(record[key]) if record[key] else None
        connection.execute(sa.insert(Case), records)


BULK_CACHE_KIB = 128 * 1024


@contextlib.contextmanager
def _bulk_page_cache(session: DbSession) -> Iterator[None]:
    """On SQLite, a larger page cache for the write pass, then the connection's own size again.

    A large import touches pages of every index of ``cases`` (agency and number, lawyer, firm, closing
    date …) all over the file; with SQLite's default 2 MiB cache those pages are written out and read
    back many times inside the one transaction. 128 MiB, for the duration of the write only, keeps them
    in memory; PostgreSQL needs nothing (COPY).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    previous = int(raw.execute("PRAGMA cache_size").fetchone()[0])  # type: ignore[union-attr]
    raw.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")  # type: ignore[union-attr]
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={previous}")  # type: ignore[union-attr]


def _write_parties(session: DbSession, rows: Sequence[tuple[tuple[Any, ...], list[tuple[str, str]]]]) -> None:
    wanted = [(values[0], values[1]) for values, parties in rows if parties]
    if not wanted:
        return
    ids: dict[tuple[int, str], int] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start:start + LOOKUP_CHUNK]
        query = sa.select(Case.agency_id, Case.case_number, Case.id).where(
            _case_keys_in(chunk))
        ids.update({(a, n): i for a, n, i in session.execute(query)})
    keyring = current_keyring()
    aad = PARTY_NAME_CONTEXT.encode()
    records = [{"case_id": ids[(values[0], values[1])], "role": role,
                "name": keyring.encrypt_text(name, aad=aad)}
               for values, parties in rows for role, name in parties]
    session.execute(sa.insert(CaseParty.__table__), records)


def _write_documents(session: DbSession, plan: _FilePlan, resolved: Mapping[str, int | tuple[int, str]],
                     storage: Storage, report: ImportReport, bad_paths: set[str]) -> None:
    keys = [v for v in resolved.values() if isinstance(v, tuple)]
    ids: dict[tuple[int, str], int] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        query = sa.select(Case.agency_id, Case.case_number, Case.id).where(
            _case_keys_in(keys[start:start + LOOKUP_CHUNK]))
        ids.update({(a, n): i for a, n, i in session.execute(query)})
    targets = {folder: target if isinstance(target, int) else ids[target] for folder, target in resolved.items()}
    writer = DocumentWriter(session, storage, targets.values())
    added: list[Document] = []
    with storage.batch():  # one sync for all the files, before the caller commits the rows
        for folder, case_id in targets.items():
            entries = [e for e in plan.folders[folder] if e.path not in bad_paths]
            for entry in sorted(entries, key=lambda e: e.relative_path):
                data = plan.archive.read(entry)
                result = writer.add(case_id, data, entry.relative_path)
                if result is None:
                    report.documents_unchanged += 1
                else:
                    added.append(result)
        session.flush()
    report.documents_added += len(added)
    report.document_ids.extend(d.id for d in added)


class DocumentWriter:
    """Adds checked files to cases, with what the cases already hold loaded once up front.

    Parameters
    ----------
    session : Session
    storage : Storage
        Where originals go; wrap a series of :meth:`add` calls in ``storage.batch()`` and commit after it.
    case_ids : iterable of int
        The cases files will be added to: their stored files (for idempotence) and last positions are
        read with one query per few hundred cases, instead of two lookups and a flush per document.
    """

    def __init__(self, session: DbSession, storage: Storage, case_ids: Iterable[int]) -> None:
        self.session = session
        self.storage = storage
        self.stored: set[tuple[int, str | None]] = set()
        self.last_position: dict[int, int] = {}
        wanted = sorted(set(case_ids))
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            query = sa.select(Document.case_id, Document.storage_key, Document.position).where(
                Document.case_id.in_(wanted[start:start + LOOKUP_CHUNK]))
            for case_id, key, position in session.execute(query):
                self.stored.add((case_id, key))
                self.last_position[case_id] = max(self.last_position.get(case_id, 0), position or 0)

    def add(self, case_id: int, data: bytes, filename: str, kind: DocumentKind | None = None) -> Document | None:
        """Store one file for a case (added to the session, not flushed); None when the case already has it.

        Raises
        ------
        FileRejected
            The content is not an allowed type (checked by magic bytes), empty, too large, encrypted …
        """
        sniffed = sniff(data, filename)
        key = self.storage.put(data)
        if (case_id, key) in self.stored:
            return None
        self.stored.add((case_id, key))
        position = self.last_position.get(case_id, 0) + 1
        self.last_position[case_id] = position
        name = os.path.basename(filename) or filename
        document = Document(case_id=case_id, kind=kind or guess_kind(name), title=os.path.splitext(name)[0][:256],
                            position=position, original_filename=filename[:256], storage_key=key,
                            content_type=sniffed.mime, size=sniffed.size, status=DocumentStatus.UPLOADED)
        self.session.add(document)
        return document


def add_document(session: DbSession, *, case_id: int, data: bytes, filename: str, storage: Storage,
                 kind: DocumentKind | None = None) -> Document | None:
    """Store one checked file for a case; None when the case already has this exact file.

    For many files use :class:`DocumentWriter` inside ``storage.batch()``.

    Raises
    ------
    FileRejected
        The content is not an allowed type (checked by magic bytes), empty, too large, encrypted …
    """
    with storage.batch():
        document = DocumentWriter(session, storage, [case_id]).add(case_id, data, filename, kind)
        session.flush()
    return document


# --- the import ----------------------------------------------------------------------------------------
class _Spool:
    """Validated rows in a temporary file, as marshalled chunks."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.buffer: list[tuple[tuple[Any, ...], list[tuple[str, str]]]] = []
        self.count = 0

    def add(self, item: tuple[tuple[Any, ...], list[tuple[str, str]]]) -> None:
        self.buffer.append(item)
        self.count += 1
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            blob = marshal.dumps(self.buffer)
            self.file.write(len(blob).to_bytes(8, "little"))
            self.file.write(blob)
            self.buffer = []

    def chunks(self) -> Iterator[list[tuple[tuple[Any, ...], list[tuple[str, str]]]]]:
        self.flush()
        self.file.seek(0)
        while size := int.from_bytes(self.file.read(8), "little"):
            yield marshal.loads(self.file.read(size))  # noqa: S302 - our own temporary file, written above

    def close(self) -> None:
        self.file.close()


class _Pending:
    """Rows waiting for the check against cases already in the database (one query per batch)."""

    def __init__(self, session: DbSession, lookups: _Lookups, spool: _Spool, validator: _Validator,
                 report: ImportReport) -> None:
        self.session, self.lookups, self.spool, self.validator, self.report = (
            session, lookups, spool, validator, report)
        self.items: list[tuple[int, tuple[Any, ...], list[tuple[str, str]]]] = []

    def add(self, number: int, values: tuple[Any, ...], parties: list[tuple[str, str]]) -> None:
        if values[0] not in self.lookups.agencies_with_cases:
            self.spool.add((values, parties))
            return
        self.items.append((number, values, parties))
        if len(self.items) >= LOOKUP_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.items:
            return
        keys = [(v[0], v[1]) for _, v, _ in self.items]
        query = sa.select(Case.agency_id, Case.case_number, Case.import_digest).where(
            _case_keys_in(keys))
        digests = {(a, n): d for a, n, d in self.session.execute(query)}
        for number, values, parties in self.items:
            key = (values[0], values[1])
            if key not in digests:
                self.spool.add((values, parties))
            elif digests[key] == values[-1]:
                self.report.unchanged += 1
            else:
                self.validator.error(number, "case_number", "exists_different", value=values[1])
        self.items = []


def _confirm_duplicates(path: Path, positions: dict[str, int], lookups: _Lookups,
                        suspects: Mapping[tuple[int, str], list[int]], report: ImportReport, limit: int) -> None:
    """Rescan the file for the suspect keys and report real duplicates with the row of the first."""
    wanted = {k[1] for k in suspects}
    index_number = positions.get("case_number")
    index_agency = positions.get("agency")
    seen: dict[tuple[int, str], int] = {}
    for number, cells in enumerate(iter_rows(path, report.filename), start=1):
        if number == 1 or index_number is None or index_number >= len(cells):
            continue
        case_number = cells[index_number]
        if case_number not in wanted:
            continue
        agency_text = cells[index_agency] if index_agency is not None and index_agency < len(cells) else ""
        agency_id = lookups.agencies.get(agency_text) if agency_text else lookups.own_agency
        key = (agency_id or 0, case_number)
        if key not in suspects:
            continue
        if key in seen:
            report.add_error(RowError(number, "case_number", "duplicate_in_file",
                                      {"value": case_number, "first": seen[key]}), limit)
        else:
            seen[key] = number


def import_cases(
    session: DbSession,
    *,
    actor: User | None,
    source: str | os.PathLike[str],
    filename: str | None = None,
    files_zip: str | os.PathLike[str] | None = None,
    storage: Storage | None = None,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate and import a CSV or XLSX file of closed cases, and optionally a zip of their files.

    Parameters
    ----------
    session : Session
        The database session; rows are added to its transaction, which the caller commits (nothing is
        added when the report is not ``ok``).
    actor : User or None
        Who imports: agency staff may import only their own agency's cases (the agency column may
        then be left empty), organisers any; None (command line without ``--as``) acts as organiser.
    source : path
        The CSV (UTF-8 or GB18030) or XLSX file.
    filename : str, optional
        Its original name, for the report.
    files_zip : path, optional
        A zip with one folder per case number.
    storage : Storage, optional
        Where originals go; required with ``files_zip``.
    options : ImportOptions, optional
    progress : callable, optional
        ``progress(rows_done, phase)`` every few thousand rows (``phase`` is "validate" or "write").

    Returns
    -------
    ImportReport
    """
    from evalplat.audit.operations import record

    options = options or ImportOptions()
    path = Path(source)
    report = ImportReport(filename=filename or path.name)
    limit = options.max_errors
    tick = progress or (lambda done, phase: None)
    lookups = _Lookups.load(session, actor)
    plan = _plan_zip(Path(files_zip), report, options) if files_zip is not None else None
    if plan is not None and report.file_problems and options.on_bad_file == "stop":
        report.stopped_on_file = True
    spool = _Spool()
    # Everything alive before the import (the app, its models, SQLAlchemy's registries) is set aside from
    # the cyclic garbage collector meanwhile: the import allocates millions of short-lived tuples, and
    # each full collection would otherwise walk the whole heap again (a fifth of the import's time).
    # Nothing is leaked: unfreeze() hands those objects back to the collector at the end.
    gc.freeze()
    try:
        rows = iter_rows(path, report.filename)
        try:
            header = next(rows, None)
        except TabularError as exc:
            report.add_error(RowError.from_tabular(exc), limit)
            return report
        if header is None:
            report.add_error(RowError(1, None, "empty_file"), limit)
            return report
        positions = _read_header(header, report, limit)
        missing = [c.key for c in COLUMNS if c.required and c.key not in positions]
        if lookups.own_agency is None and "agency" not in positions:
            missing.insert(0, "agency")
        for key in missing:
            report.add_error(RowError(1, key, "missing_column"), limit)
        if report.error_count:
            return report
        validator = _Validator(lookups, positions, report, limit, len(header))
        pending = _Pending(session, lookups, spool, validator, report)
        seen: set[int] = set()
        suspects: dict[tuple[int, str], list[int]] = {}
        folder_names = set(plan.folders) if plan is not None else set()
        # The per-row loop: locals only.
        validate = validator.validate
        with_cases, spool_add, pending_add, seen_add = (lookups.agencies_with_cases, spool.add, pending.add,
                                                        seen.add)
        number = 1
        count = 0
        try:
            for number, cells in enumerate(rows, start=2):
                if not any(cells):
                    continue
                count += 1
                if not count % CHUNK:
                    tick(count, "validate")
                checked = validate(number, cells)
                if checked is None:
                    continue
                values = checked[0]
                h = _key_hash(values[0], values[1])
                if h in seen:  # a duplicate, or (rarely) a hash collision: confirmed by a rescan below
                    suspects.setdefault((values[0], values[1]), []).append(number)
                seen_add(h)
                if plan is not None and values[1] in folder_names:
                    plan.in_file.setdefault(values[1], set()).add(values[0])
                if values[0] in with_cases:  # compared with the stored case in batches
                    pending_add(number, values, checked[1])
                else:
                    spool_add(checked)
        except TabularError as exc:
            report.add_error(RowError.from_tabular(exc), limit)
        report.rows = count
        pending.flush()
        del seen
        if suspects:
            _confirm_duplicates(path, positions, lookups, suspects, report, limit)
        tick(report.rows, "validate")
        resolved: dict[str, int | tuple[int, str]] = {}
        if plan is not None:
            resolved = _resolve_folders(session, plan, lookups, report)
            if report.file_problems and options.on_bad_file == "stop":
                report.stopped_on_file = True
        if not report.ok:
            return report
        # Pass 2: write.
        written = 0
        with _bulk_page_cache(session):
            for chunk in spool.chunks():
                _write_cases(session, [values for values, _ in chunk])
                _write_parties(session, chunk)
                written += len(chunk)
                tick(written, "write")
        report.created = written
        if plan is not None:
            if storage is None:
                raise ValueError("a storage is needed to import files")
            bad = {p.filename for p in report.file_problems}
            _write_documents(session, plan, resolved, storage, report, bad)
        record(session, actor_id=actor.id if actor else None, action="cases.import", object_type="import",
               object_id=None, after={"file": report.filename, "rows": report.rows, "created": report.created,
                                      "unchanged": report.unchanged, "documents": report.documents_added,
                                      "bad_files": [p.code for p in report.file_problems]})
        return report
    finally:
        gc.unfreeze()
        spool.close()
        log.info("case import %r: %d rows, %s, %d created, %d unchanged, %d documents, %d errors", report.filename,
                 report.rows, "accepted" if report.ok else "refused", report.created, report.unchanged,
                 report.documents_added, report.error_count)
        if plan is not None:
            plan.archive.close()


# --- template ------------------------------------------------------------------------------------------
def template_rows() -> list[list[str]]:
    """The template: Chinese headers, then an example row."""
    return [[c.zh for c in COLUMNS], [c.example for c in COLUMNS]]


def template_csv() -> bytes:
    """The import template as UTF-8 CSV with a BOM (so Excel opens it as UTF-8)."""
    return csv_bytes(template_rows())


def template_xlsx() -> bytes:
    """The import template as an XLSX workbook, with a second sheet explaining each column."""
    book = XlsxWriter()
    sheet = book.sheet("cases")
    for row in template_rows():
        book.append(sheet, row)
    notes = book.sheet("说明 notes")
    book.append(notes, ["列 column", "English header", "必填 required", "示例 example"])
    for c in COLUMNS:
        book.append(notes, [c.zh, c.en, "是 yes" if c.required else "", c.example])
    return book.to_bytes()


def describe_columns() -> Iterable[tuple[str, str, bool]]:
    """(Chinese header, English header, required) for the import page."""
    return [(c.zh, c.en, c.required) for c in COLUMNS]


def translate_phase(phase: str) -> str:
    return _("Validating") if phase == "validate" else _("Writing")
