from __future__ import annotations

import pytest
from samplefiles import (
    OLE2_MAGIC,
    docx_bytes,
    encrypted_pdf_bytes,
    image_bytes,
    text_pdf_bytes,
    zip_bytes,
)

from evalplat.files.errors import FileRejected
from evalplat.files.sniff import sniff


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return text_pdf_bytes([["法律援助结案报告", "Closing report"]])


@pytest.mark.parametrize(
    ("build", "kind", "mime"),
    [
        (
            lambda: docx_bytes(["辩护意见"]),
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (lambda: image_bytes(["扫描件"], "PNG"), "png", "image/png"),
        (lambda: image_bytes(["扫描件"], "JPEG"), "jpeg", "image/jpeg"),
        (lambda: image_bytes(["扫描件"], "TIFF"), "tiff", "image/tiff"),
    ],
)
def test_allowed_kinds_are_recognised_by_content(build, kind: str, mime: str) -> None:
    result = sniff(build(), "名称无关.bin")
    assert (result.kind, result.mime) == (kind, mime)


def test_pdf_is_recognised_whatever_its_name(pdf: bytes) -> None:
    result = sniff(pdf, "伪装成文本.txt")
    assert result.kind == "pdf"
    assert result.size == len(pdf)
    assert result.pdf_owner_password is False


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("判决书：被告人犯盗窃罪。\r\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "判决书".encode(), "utf-8-sig"),
        ("判决书：被告人犯盗窃罪，罚金人民币五千元。".encode("gb18030"), "gb18030"),
    ],
)
def test_plain_text_in_utf8_or_gb18030(data: bytes, encoding: str) -> None:
    result = sniff(data, "判决书.txt")
    assert (result.kind, result.encoding) == ("text", encoding)


def _reject(data: bytes, filename: str = "文件.bin", **kwargs) -> FileRejected:
    with pytest.raises(FileRejected) as err:
        sniff(data, filename, **kwargs)
    assert err.value.filename == filename
    return err.value


def test_empty_file_is_rejected() -> None:
    assert _reject(b"", "空白.pdf").code == "empty_file"


def test_size_limit(pdf: bytes) -> None:
    error = _reject(pdf, "大文件.pdf", max_bytes=len(pdf) - 1)
    assert error.code == "too_large"
    assert "大文件.pdf" in error.message("zh")


def test_old_word_file_is_rejected_with_advice_to_save_as_docx() -> None:
    error = _reject(OLE2_MAGIC + b"\x00" * 4096, "代理词.doc")
    assert error.code == "old_word_format"
    assert ".docx" in error.message("zh")
    assert "代理词.doc" in error.message("zh")
    assert "save it as .docx" in error.message("en")


def test_password_protected_office_file_is_named_as_such() -> None:
    data = OLE2_MAGIC + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512
    assert _reject(data, "加密.docx").code == "encrypted_office"


def test_encrypted_pdf_is_rejected(pdf: bytes) -> None:
    error = _reject(encrypted_pdf_bytes(pdf, user_password="secret"), "加密判决.pdf")
    assert error.code == "encrypted_pdf"
    assert "加密判决.pdf" in error.message("en")


def test_pdf_with_only_a_permissions_password_is_accepted(pdf: bytes) -> None:
    result = sniff(encrypted_pdf_bytes(pdf, user_password=""), "权限.pdf")
    assert result.kind == "pdf"
    assert result.pdf_owner_password is True


def test_corrupt_pdf_is_rejected(pdf: bytes) -> None:
    assert _reject(b"%PDF-1.7\n" + b"garbage " * 200, "坏.pdf").code == "corrupt_pdf"
    assert _reject(pdf[: len(pdf) // 3], "截断.pdf").code == "corrupt_pdf"


@pytest.mark.parametrize(
    "data",
    [b"MZ\x90\x00" + b"\x00" * 100, b"\x7fELF\x02\x01\x01" + b"\x00" * 100, b"#!/bin/sh\nrm -rf /\n"],
)
def test_executables_are_rejected(data: bytes) -> None:
    assert _reject(data, "setup.pdf").code == "executable"


def test_archives_and_other_office_files_are_not_documents() -> None:
    assert _reject(zip_bytes([("a.txt", b"x")]), "案件.zip").code == "archive_not_allowed"
    assert _reject(b"\x1f\x8b\x08\x00" + b"\x00" * 50, "a.gz").code == "archive_not_allowed"
    xlsx = zip_bytes([("[Content_Types].xml", b"<x/>"), ("xl/workbook.xml", b"<x/>")])
    error = _reject(xlsx, "名册.xlsx")
    assert (error.code, error.params["detected"]) == ("unsupported_type", "xlsx")


def test_binary_data_and_undecodable_text_are_rejected() -> None:
    assert _reject(b"\x00\x01\x02\x03" * 50, "blob.txt").code == "unsupported_type"
    assert _reject(bytes([0x81, 0x20]) * 20, "乱码.txt").code == "text_encoding"


def test_allow_list_can_be_narrowed() -> None:
    error = _reject(image_bytes(["x"], "PNG"), "照片.png", allowed={"pdf", "docx"})
    assert (error.code, error.params["detected"]) == ("type_not_allowed", "png")


def test_messages_are_bilingual_and_name_the_file() -> None:
    error = _reject(b"", "结案报告.pdf")
    assert error.message() == error.message("zh") == "文件“结案报告.pdf”是空文件。"
    assert error.message("en-GB") == "File '结案报告.pdf' is empty."
    assert error.to_dict()["code"] == "empty_file"
