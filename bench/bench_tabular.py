"""The tabular reader: rows per second against the bare readers, and how fast the issue's bombs are refused.

Usage: .venv/bin/python bench/bench_tabular.py [ROWS]

* CSV: ``evalplat.tabular.read_rows`` (encoding detection, stripping, cell/row/column limits, blank runs)
  against ``csv.reader`` with ``str.strip`` over the same file.
* XLSX (at most 10,000 rows): ``read_rows`` against openpyxl's read-only ``iter_rows(values_only=True)`` over the same workbook.
* Bombs: a 6 KB workbook declaring 4 GB unpacked; a sheet declaring A1:XFD2000000 with a cell in row
  2,000,000 (openpyxl alone would pad 2,000,000 rows to 16,384 columns; it is not run).
"""

from __future__ import annotations

import csv
import io
import struct
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_env import machine  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402

from evalplat.tabular import Limits, TabularError, read_rows  # noqa: E402

ROW = ["江海区法律援助处", "江法援〔2024〕第{i:07d}号", "2024", "{i}", "刑事", "盗窃罪", "2024-02-20", "2024-02-22",
       "2024-09-30", "14407201010123456", " 陈志强 "]


def _rows(n: int) -> list[list[str]]:
    return [[c.format(i=i) for c in ROW] for i in range(n)]


def _time(label: str, fn, n: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    count = fn()
    elapsed = time.perf_counter() - started
    assert count == n, (label, count, n)
    print(f"  {label:<44} {elapsed:7.2f} s  ({n / elapsed:,.0f} rows/s)")
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(machine())
    limits = Limits()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(_rows(n))

        def bare_csv() -> int:
            with path.open(encoding="utf-8", newline="") as fh:
                return sum(1 for r in csv.reader(fh) if list(map(str.strip, r)))

        print(f"CSV, {n:,} rows:")
        bare = _time("csv.reader + strip", bare_csv, n)
        ours = _time("evalplat.tabular.read_rows", lambda: sum(1 for _ in read_rows(path, "c.csv", limits)), n)
        print(f"  ratio {ours / bare:.2f}x")

        m = min(n, 10_000)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("cases")
        for r in _rows(m):
            sheet.append(r)
        xlsx = Path(tmp) / "cases.xlsx"
        book.save(xlsx)

        def bare_xlsx() -> int:
            wb = load_workbook(xlsx, read_only=True, data_only=True)
            try:
                return sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
            finally:
                wb.close()

        print(f"XLSX, {m:,} rows:")
        bare = _time("openpyxl read-only iter_rows", bare_xlsx, m)
        ours = _time("evalplat.tabular.read_rows", lambda: sum(1 for _ in read_rows(xlsx, "c.xlsx", limits)), m)
        print(f"  ratio {ours / bare:.2f}x")

    print("Bombs:")
    small = io.BytesIO()
    wb = Workbook()
    wb.active.append(["a"])
    wb.save(small)
    data = bytearray(small.getvalue())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + length]) == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, at + 24, 0xFFFF0000)
        at = data.find(b"PK\x01\x02", at + 4)
    started = time.perf_counter()
    try:
        list(read_rows(bytes(data), "bomb.xlsx", limits))
    except TabularError as exc:
        print(f"  {len(data):,}-byte workbook declaring 4 GB: refused ({exc.code}) in "
              f"{(time.perf_counter() - started) * 1000:.1f} ms")
    sheet_xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                 'spreadsheetml/2006/main"><dimension ref="A1:XFD2000000"/><sheetData>'
                 '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
                 '<row r="2000000"><c r="XFD2000000" t="inlineStr"><is><t>x</t></is></c></row>'
                 "</sheetData></worksheet>")
    out = io.BytesIO()
    base = zipfile.ZipFile(small)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in base.infolist():
            archive.writestr(info.filename, sheet_xml.encode() if info.filename.endswith("sheet1.xml")
                             else base.read(info))
    started = time.perf_counter()
    rows = sum(1 for r in read_rows(out.getvalue(), "blank.xlsx", limits) if any(r))
    print(f"  sheet declaring A1:XFD2000000, a cell in row 2,000,000: {rows} data row read, stopped after "
          f"{limits.max_blank_rows} blank rows in {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
