"""One reader for every tabular upload: CSV and XLSX, one row at a time, with limits against bombs.

* **CSV** in UTF-8 (with or without BOM) or GB18030 (what Excel writes for Chinese), chosen from the first
  64 KB; a file with NUL bytes or undecodable bytes (an executable renamed ``.csv``) is refused by name.
* **XLSX** through openpyxl's read-only mode, opened from a file object (so the temporary file of an upload
  needs no ``.xlsx`` suffix). Before openpyxl sees it, the zip members' declared sizes are summed and a
  workbook that would unpack to more than ``max_uncompressed_mb`` is refused (a member larger than it
  declares fails zipfile's own check). The sheet's declared dimensions are ignored (a sheet claiming
  ``A1:XFD1048576`` would otherwise be padded to 16,384 columns per row).

While reading, every cell is bounded (``max_cell`` characters), every row (``max_columns``), and the
table (``max_rows``); a run of more than ``max_blank_rows`` blank rows ends the table (trailing blank rows of
a sheet, however many, cost nothing). A limit reached raises :class:`TabularError` naming the file, the row,
the column and the limit, in the user's language.

Cells come out as stripped text: dates as ISO ``YYYY-MM-DD`` (a time of day only when it is not midnight),
whole floats without ``.0``; :func:`parse_date` reads the dates people type.

>>> rows = read_rows("案号,结案日期\\n 001 ,2024/3/1\\n".encode("gb18030"), "cases.csv")
>>> [r for r in rows]
[['案号', '结案日期'], ['001', '2024/3/1']]
>>> parse_date("2024年3月1日")
datetime.date(2024, 3, 1)
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l

__all__ = ["Limits", "TabularError", "cell_text", "column_letter", "estimate_rows", "parse_date", "read_rows"]

#: config key → Limits field (set them in the app config or as EVALPLAT_TABULAR_* environment variables)
CONFIG_KEYS = {
    "EVALPLAT_TABULAR_MAX_UNCOMPRESSED_MB": "max_uncompressed_mb",
    "EVALPLAT_TABULAR_MAX_CELL": "max_cell",
    "EVALPLAT_TABULAR_MAX_ROWS": "max_rows",
    "EVALPLAT_TABULAR_MAX_COLUMNS": "max_columns",
    "EVALPLAT_TABULAR_MAX_BLANK_ROWS": "max_blank_rows",
}


@dataclass(frozen=True)
class Limits:
    """What a tabular file may hold.

    Attributes
    ----------
    max_uncompressed_mb : int
        Sum of an XLSX's members once unpacked.
    max_cell : int
        Characters in one cell (Excel's own limit is 32,767).
    max_rows : int
        Rows, the header included: 2,000,000, so that a country's year of closed cases (1.4 million) fits in
        one CSV. An XLSX sheet cannot hold more than Excel's own 1,048,576 anyway.
    max_columns : int
        Cells in one row, counted to the last non-empty one.
    max_blank_rows : int
        A longer run of blank rows ends the table.
    """

    max_uncompressed_mb: int = 200
    max_cell: int = 32_767
    max_rows: int = 2_000_000
    max_columns: int = 200
    max_blank_rows: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None, **overrides: int) -> Limits:
        """The limits of the current app's config (defaults outside an app), then ``overrides``.

        An override never raises a configured limit above the configuration: ``max_rows=20_000`` for the
        reviewer pool keeps a lower ``EVALPLAT_TABULAR_MAX_ROWS``.
        """
        if config is None:
            from flask import current_app, has_app_context

            config = current_app.config if has_app_context() else {}
        values = {name: int(config[key]) for key, name in CONFIG_KEYS.items() if config.get(key) is not None}
        limits = cls(**values)
        lowered = {k: min(v, getattr(limits, k)) for k, v in overrides.items()}
        return replace(limits, **lowered)


MESSAGES: dict[str, Any] = {
    "not_tabular": _l("%(file)s is not a CSV or Excel (.xlsx) file."),
    "old_excel": _l("%(file)s is an old Excel (.xls) workbook; save it as .xlsx or CSV and upload it again."),
    "bad_workbook": _l("%(file)s cannot be opened as an Excel workbook; open it in Excel, save it again as "
                       ".xlsx and upload it again."),
    "no_sheet": _l("%(file)s has no worksheet."),
    "uncompressed_too_large": _l("%(file)s unpacks to %(size)d MB, more than the limit of %(limit)d MB."),
    "cell_too_long": _l("%(file)s, row %(row)d, column %(column)s: the cell holds more than %(limit)d characters."),
    "too_many_rows": _l("%(file)s has more than %(limit)d rows (the limit was reached at row %(row)d)."),
    "too_many_columns": _l("%(file)s, row %(row)d: more than %(limit)d columns."),
    "bad_encoding": _l("%(file)s, row %(row)d: the text is neither UTF-8 nor GB18030; save the file as "
                       "“CSV UTF-8” and upload it again."),
    "bad_csv": _l("%(file)s, row %(row)d: the CSV is malformed (an unclosed quotation mark or a stray line "
                  "break)."),
}


class TabularError(DomainError):
    """A tabular file refused while reading: ``code`` names the problem; ``row`` and ``column`` where."""

    status = 400

    def __init__(self, code: str, filename: str, *, row: int = 0, column: str = "", **params: Any) -> None:
        self.code = code
        self.filename = filename
        self.row = row
        self.column = column
        self.params = {"file": filename or "—", "row": row, "column": column, **params}
        super().__init__(MESSAGES[code].bind(**self.params), code=code)


# --- cells ----------------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as stripped text: dates as ISO (time only when not midnight), whole floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:[ T]00:00(?::00)?)?\s*$",
                      re.ASCII)


def parse_date(text: str) -> date | None:
    """Parse 2024-03-01, 2024/3/1, 2024.3.1 or 2024年3月1日; None if it is not a date."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isascii() and text[:4].isdigit():
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def column_letter(index: int) -> str:
    """Excel's name of the 1-based column ``index`` (1 → A, 27 → AA)."""
    name = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


# --- reading --------------------------------------------------------------------------------------------
Source = bytes | str | Path


def _head(source: Source, size: int = 1 << 16) -> bytes:
    if isinstance(source, bytes):
        return source[:size]
    with Path(source).open("rb") as fh:
        return fh.read(size)


def _open_binary(source: Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb")


def read_rows(source: Source, filename: str = "", limits: Limits | None = None) -> Iterator[list[str]]:
    """Yield the rows of a CSV or XLSX file as lists of stripped strings, one at a time.

    Parameters
    ----------
    source : bytes or path
        The file's content, or where it is.
    filename : str
        Its original name, for messages.
    limits : Limits, optional
        Defaults to :meth:`Limits.from_config`.

    Yields
    ------
    list of str
        Row 1 is the first row of the file; blank rows are yielded (as empty lists or lists of empty
        strings) so that row numbers stay those of the file, until a run longer than
        ``limits.max_blank_rows`` ends the table.

    Raises
    ------
    TabularError
        The file is neither CSV nor XLSX, or a limit was reached (the error names it).
    """
    limits = limits or Limits.from_config()
    filename = filename or (Path(source).name if not isinstance(source, bytes) else "")
    head = _head(source)
    if head.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(source, filename, limits)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TabularError("old_excel", filename)
    else:
        rows = _csv_rows(source, head, filename, limits)
    return _bounded(rows, filename, limits)


def _bounded(rows: Iterator[list[str]], filename: str, limits: Limits) -> Iterator[list[str]]:
    max_cell, max_columns, max_rows, max_blank = (limits.max_cell, limits.max_columns, limits.max_rows,
                                                   limits.max_blank_rows)
    blank = 0
    for number, cells in enumerate(rows, start=1):
        if number > max_rows:
            raise TabularError("too_many_rows", filename, row=number, limit=max_rows)
        if not any(cells):
            blank += 1
            if blank > max_blank:
                return
            yield cells
            continue
        blank = 0
        if len(cells) > max_columns:
            raise TabularError("too_many_columns", filename, row=number, limit=max_columns)
        if max(map(len, cells)) > max_cell:
            index = next(i for i, c in enumerate(cells) if len(c) > max_cell)
            raise TabularError("cell_too_long", filename, row=number, column=column_letter(index + 1),
                               limit=max_cell)
        yield cells


def _encoding(head: bytes, filename: str) -> str:
    if b"\x00" in head:
        raise TabularError("not_tabular", filename)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise TabularError("not_tabular", filename)


def _csv_rows(source: Source, head: bytes, filename: str, limits: Limits) -> Iterator[list[str]]:
    encoding = _encoding(head, filename)
    binary = _open_binary(source)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    number = 0  # rows read; an error stops the reader on the next one
    strip = str.strip
    try:
        for number, values in enumerate(csv.reader(text), start=1):  # noqa: B007 - number is read in except
            yield list(map(strip, values))
    except UnicodeDecodeError:
        raise TabularError("bad_encoding", filename, row=number + 1) from None
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            raise TabularError("cell_too_long", filename, row=number + 1, limit=limits.max_cell) from None
        if "NUL" in reason:
            raise TabularError("not_tabular", filename) from None
        raise TabularError("bad_csv", filename, row=number + 1) from None
    finally:
        text.close()


def _open_workbook(source: Source, filename: str, limits: Limits) -> tuple[Any, IO[bytes]]:
    """openpyxl's read-only workbook and the file under it, after the unpacked-size check."""
    from openpyxl import load_workbook

    binary = _open_binary(source)
    try:
        try:
            with zipfile.ZipFile(binary) as archive:
                size = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise TabularError("bad_workbook", filename) from None
        if size > limits.max_uncompressed_mb << 20:
            raise TabularError("uncompressed_too_large", filename, size=size >> 20, limit=limits.max_uncompressed_mb)
        binary.seek(0)
        try:
            workbook = load_workbook(binary, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds (KeyError, ValueError, lxml errors …) for damaged files
            raise TabularError("bad_workbook", filename) from None
    except BaseException:
        binary.close()
        raise
    if not workbook.worksheets:
        workbook.close()
        binary.close()
        raise TabularError("no_sheet", filename)
    return workbook, binary


def _xlsx_rows(source: Source, filename: str, limits: Limits) -> Iterator[list[str]]:
    workbook, binary = _open_workbook(source, filename, limits)
    return _sheet_rows(workbook, binary, filename)


def _sheet_rows(workbook: Any, binary: IO[bytes], filename: str) -> Iterator[list[str]]:
    number = 0
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared size is the sheet's claim, not its content
        rows = sheet.iter_rows(values_only=True)
        while True:
            number += 1
            try:
                values = next(rows)
            except StopIteration:
                return
            except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError):
                # e.g. a member longer than it declares (zipfile refuses to read past the declared size)
                raise TabularError("bad_workbook", filename, row=number) from None
            end = len(values)
            while end and values[end - 1] is None:
                end -= 1
            yield [cell_text(v) for v in values[:end]]
    finally:
        workbook.close()
        binary.close()


def estimate_rows(path: str | Path, limits: Limits | None = None) -> int:
    """Roughly how many data rows a file has (for a progress bar), without parsing its cells.

    CSV: its line breaks, counted in blocks. XLSX: the size the sheet declares (after the unpacked-size
    check), at most ``limits.max_rows``; 0 when the file is not readable (reading it reports why).
    """
    limits = limits or Limits.from_config()
    path = Path(path)
    if not _head(path, 4).startswith(b"PK\x03\x04"):
        lines = 0
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)
    try:
        workbook, binary = _open_workbook(path, path.name, limits)
    except TabularError:
        return 0
    try:
        declared = workbook.worksheets[0].max_row or 1
    finally:
        workbook.close()
        binary.close()
    return max(min(declared, limits.max_rows) - 1, 0)
