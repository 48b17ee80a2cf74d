"""The one writer of CSV and XLSX downloads: values never become formulas.

A name such as ``=HYPERLINK("http://…","x")`` or ``=cmd|' /C calc'!A0`` written as it is becomes a live
formula when a spreadsheet program opens the file (CSV injection, OWASP). Every export goes through here:

* **XLSX** (openpyxl write-only mode, constant memory): every string is a text cell; one that starts like a
  formula (``= + - @``, tab or carriage return) is written with ``data_type 's'`` (openpyxl would make a
  formula of it) and Excel's ``quotePrefix`` style, so that editing the cell keeps it text.
* **CSV**: such a string is prefixed with a single quote, as OWASP's CSV-injection advice says; numbers are
  written as numbers (a negative number is not a formula). UTF-8 with a BOM, so that Excel reads Chinese.

>>> csv_value('=HYPERLINK("http://x","y")')
'\\'=HYPERLINK("http://x","y")'
>>> csv_value(-3.5), csv_value("江海区")
(-3.5, '江海区')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

__all__ = ["FORMULA_START", "XlsxWriter", "csv_bytes", "csv_value", "looks_like_formula"]

#: first characters that make a spreadsheet program read a cell as a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Whether ``value`` is text that a spreadsheet program would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_value(value: Any) -> Any:
    """``value`` for a CSV cell: text that starts like a formula gets a leading single quote."""
    return "'" + value if looks_like_formula(value) else value


def csv_bytes(rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """Rows as CSV (CRLF line ends, UTF-8, with a BOM unless ``bom`` is false), formulas neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


class XlsxWriter:
    """A write-only workbook whose text cells are always text.

    >>> book = XlsxWriter()
    >>> sheet = book.sheet("名单")
    >>> book.append(sheet, ["=1+1", 2])
    >>> book.to_bytes()[:2]
    b'PK'
    """

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)

    def sheet(self, title: str) -> Any:
        """A new sheet (the title cut to Excel's 31 characters)."""
        return self.workbook.create_sheet(title=title[:31])

    def append(self, sheet: Any, row: Sequence[Any]) -> None:
        """Append one row; strings stay text (openpyxl would take those starting with ``=`` for formulas)."""
        sheet.append([self._text(sheet, v) if looks_like_formula(v) else v for v in row])

    @staticmethod
    def _text(sheet: Any, value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl made it "f"
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.workbook.save(buf)
        return buf.getvalue()
