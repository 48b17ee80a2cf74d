"""A file that cannot be read is reported by name, with the reason in the reader's language; what the library
said (pypdf's, python-docx's or zipfile's English text) goes to the log only (issue 13)."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from evalplat.accounts.models import Role
from evalplat.files import FileRejected, sniff
from evalplat.files.errors import REASONS

CORRUPT_PDF = b"%PDF-1.7\n" + b"garbage " * 200
CORRUPT_DOCX = b"PK\x03\x04" + b"\x00broken word package" * 20


def _library_detail(data: bytes, name: str) -> str:
    with pytest.raises(FileRejected) as refused:
        sniff(data, name)
    assert refused.value.detail, "the library said something, kept for the log"
    return refused.value.detail.split(": ", 1)[-1]


@pytest.mark.parametrize(("lang", "pdf_text", "docx_text"), [
    ("zh", "PDF 文件“坏的判决书.pdf”已损坏或无法读取：文件结构不完整或已损坏，无法解析",
     "Word 文件“坏的笔录.docx”已损坏或无法读取：不是有效的 Word（.docx）文件包"),
    ("en", "PDF file &#39;坏的判决书.pdf&#39; is corrupt or unreadable: its structure is incomplete or damaged",
     "Word file &#39;坏的笔录.docx&#39; is corrupt or unreadable: it is not a valid Word (.docx) package"),
])
def test_corrupt_pdf_and_docx_are_named_with_a_reason_in_the_users_language(
        db: Any, province: Any, client: Any, make_user: Any, login: Any, make_case: Any, caplog: Any,
        lang: str, pdf_text: str, docx_text: str) -> None:
    pdf_detail = _library_detail(CORRUPT_PDF, "坏的判决书.pdf")
    docx_detail = _library_detail(CORRUPT_DOCX, "坏的笔录.docx")
    case = make_case(agency=province["agency"])
    login(client, make_user(Role.AGENCY_STAFF, agency=province["agency"]))
    client.post(f"/language/{lang}")
    with caplog.at_level(logging.WARNING, logger="evalplat.files.errors"):
        page = client.post(f"/cases/{case.id}/documents", data={
            "files": [(io.BytesIO(CORRUPT_PDF), "坏的判决书.pdf"), (io.BytesIO(CORRUPT_DOCX), "坏的笔录.docx")],
            "kind": "", "on_bad_file": "skip"}, content_type="multipart/form-data",
            follow_redirects=True).get_data(as_text=True)
    assert pdf_text in page
    assert docx_text in page
    assert pdf_detail not in page
    assert docx_detail not in page
    logged = caplog.text
    assert pdf_detail in logged
    assert docx_detail in logged


def test_a_library_text_given_as_reason_never_reaches_the_message(caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="evalplat.files.errors"):
        error = FileRejected("corrupt_pdf", "案卷.pdf", reason="Stream has ended unexpectedly")
    assert error.message("zh") == "PDF 文件“案卷.pdf”已损坏或无法读取：文件无法读取"
    assert error.message("en") == "PDF file '案卷.pdf' is corrupt or unreadable: the file cannot be read"
    assert "Stream has ended unexpectedly" in caplog.text


def test_every_reason_code_reads_in_both_languages() -> None:
    for code, (zh, en) in REASONS.items():
        assert zh, code
        assert en != zh, code
        assert not any("a" <= ch.lower() <= "z" for ch in zh.replace("Word", "").replace("docx", "")), code
