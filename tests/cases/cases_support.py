"""Builders for case-intake tests: CSV rows in the template's layout, zips, Word and PDF files."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from evalplat.files import generate_key

# One key ring for the test session (the RQ worker process is given the same through EVALPLAT_DATA_KEYS).
DATA_KEYS = "t1:" + generate_key()

HEADER_ZH = ["法律援助机构", "案号", "年度", "序号", "案件类型", "案由", "办理阶段", "申请日期", "指派日期",
             "首次会见日期", "结案日期", "办理结果", "承办律师执业证号", "受援人", "对方当事人", "审理法院"]


def row(province: dict[str, Any], number: str, **overrides: str) -> list[str]:
    values = {"法律援助机构": province["agency"].name, "案号": number, "年度": "2024", "序号": "",
              "案件类型": "刑事", "案由": "盗窃罪", "办理阶段": "一审", "申请日期": "2024-02-20",
              "指派日期": "2024-02-22", "首次会见日期": "2024-02-26", "结案日期": "2024-09-30",
              "办理结果": "判处有期徒刑一年", "承办律师执业证号": province["lawyer"].licence_no,
              "受援人": "陈志强", "对方当事人": "", "审理法院": "江海区人民法院"}
    values.update(overrides)
    return [values[h] for h in HEADER_ZH]


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None,
              encoding: str = "utf-8-sig") -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or HEADER_ZH)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def encrypted_pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


OLE2_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
CORRUPT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref or pages\n"
