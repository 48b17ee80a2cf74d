from __future__ import annotations

import io

import docx
import pytest
from samplefiles import (
    docx_bytes,
    encrypted_pdf_bytes,
    image_bytes,
    merge_pdfs,
    require_cjk_font,
    require_ocr,
    scan_image,
    text_pdf_bytes,
)

from evalplat.extract import (
    ExtractResult,
    OcrConfig,
    OcrUnavailable,
    extract_text,
    join_cjk_spaces,
    ocr_available,
)
from evalplat.extract.core import tiff_page_count
from evalplat.extract.ocr import tesseract_status
from evalplat.files.errors import FileRejected

MISSING_TOOLS = OcrConfig(engine="tesseract", tesseract="/nonexistent/tesseract", pdftoppm="/nonexistent/pdftoppm")


# --- docx ----------------------------------------------------------------------------------------
def test_docx_paragraphs_and_tables_in_reading_order() -> None:
    data = docx_bytes(["辩护意见书", "一、案件事实"], table=[["姓名", "张三"], ["罪名", "盗窃罪"]])
    result = extract_text(data, "辩护意见.docx")
    assert result.kind == "docx"
    assert result.text == "辩护意见书\n一、案件事实\n姓名\t张三\n罪名\t盗窃罪\n表格之后"
    assert (result.page_count, result.ocr_used, result.pages) == (None, False, ())


def test_docx_merged_cells_appear_once_and_nested_tables_are_read() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "案件基本情况"
    table.cell(1, 0).text = "承办律师"
    nested = table.cell(1, 1).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "李四"
    nested.cell(0, 1).text = "某律师事务所"
    out = io.BytesIO()
    document.save(out)
    text = extract_text(out.getvalue(), "表.docx").text
    assert text.count("案件基本情况") == 1
    assert "承办律师\t" in text
    assert "李四\t某律师事务所" in text


def test_corrupt_docx_is_a_named_error() -> None:
    data = docx_bytes(["x"]).replace(b"word/document.xml", b"word/documenX.xml")
    with pytest.raises(FileRejected) as err:
        extract_text(data, "坏.docx", kind="docx")
    assert (err.value.code, err.value.filename) == ("corrupt_docx", "坏.docx")


# --- text ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("第一行\r\n第二行\r\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "第一行\n第二行\n".encode(), "utf-8-sig"),
        ("第一行\r\n第二行\r\n".encode("gb18030"), "gb18030"),
    ],
)
def test_text_files_in_utf8_with_or_without_bom_or_gb18030(data: bytes, encoding: str) -> None:
    result = extract_text(data, "笔录.txt")
    assert result.text == "第一行\n第二行\n"
    assert result.encoding == encoding
    assert [w.code for w in result.warnings] == (["text_decoded_gb18030"] if encoding == "gb18030" else [])


def test_undecodable_text_is_a_named_error() -> None:
    with pytest.raises(FileRejected) as err:
        extract_text(bytes([0x81, 0x20]) * 10, "乱码.txt", kind="text")
    assert err.value.code == "text_encoding"


# --- PDF with a text layer -------------------------------------------------------------------------
def test_text_layer_pdf_is_read_page_by_page_without_ocr() -> None:
    require_cjk_font()
    data = text_pdf_bytes([["被告人张三犯盗窃罪", "判处有期徒刑一年"], ["第二页：法律援助结案报告"]])
    result = extract_text(data, "判决书.pdf", config=MISSING_TOOLS)  # OCR tools not needed
    assert result.page_count == 2
    assert result.ocr_used is False
    assert [p.method for p in result.pages] == ["text", "text"]
    assert "被告人张三犯盗窃罪" in result.text
    assert "判处有期徒刑一年" in result.text
    second = result.pages[1]
    assert result.text[second.start : second.end] == "第二页：法律援助结案报告"


def test_pdf_with_only_a_permissions_password_is_read_with_a_notice() -> None:
    require_cjk_font()
    data = encrypted_pdf_bytes(text_pdf_bytes([["辩护词全文内容"]]), user_password="")
    result = extract_text(data, "权限.pdf", config=MISSING_TOOLS)
    assert "辩护词全文内容" in result.text
    assert [w.code for w in result.warnings] == ["pdf_owner_password"]


def test_encrypted_pdf_is_a_named_error() -> None:
    require_cjk_font()
    data = encrypted_pdf_bytes(text_pdf_bytes([["机密"]]), user_password="1234")
    with pytest.raises(FileRejected) as err:
        extract_text(data, "加密.pdf")
    assert (err.value.code, err.value.filename) == ("encrypted_pdf", "加密.pdf")


def test_corrupt_pdf_is_a_named_error() -> None:
    with pytest.raises(FileRejected) as err:
        extract_text(b"%PDF-1.4\n1 0 obj <<>> endobj\n" + b"\x00\xff" * 100, "坏.pdf", kind="pdf")
    assert (err.value.code, err.value.filename) == ("corrupt_pdf", "坏.pdf")


# --- OCR availability ------------------------------------------------------------------------------
def test_missing_ocr_tools_are_reported_clearly() -> None:
    status = ocr_available(MISSING_TOOLS)
    assert status.available is False
    assert status.missing == ("tesseract", "pdftoppm (poppler-utils)")
    assert "tesseract-ocr-chi-sim" in status.message("en")
    assert "tesseract-ocr-chi-sim" in status.message("zh")


def test_missing_language_model_is_named() -> None:
    if tesseract_status().tesseract_version is None:
        pytest.skip("tesseract is not installed, so its language models cannot be listed")
    status = ocr_available(OcrConfig(engine="tesseract", languages="chi_sim+zzz_none"))
    assert "tesseract language model zzz_none" in status.missing


def test_scanned_pdf_without_ocr_tools_raises_ocr_unavailable_naming_the_file() -> None:
    data = image_bytes(["扫描件"], "PDF")
    with pytest.raises(OcrUnavailable) as err:
        extract_text(data, "扫描判决.pdf", config=MISSING_TOOLS)
    assert err.value.code == "ocr_unavailable"
    assert err.value.missing == ("tesseract", "pdftoppm (poppler-utils)")
    message = err.value.message("en")
    assert "扫描判决.pdf" in message
    assert "apt-get install tesseract-ocr tesseract-ocr-chi-sim poppler-utils" in message


def test_ocr_switched_off_reads_text_layers_and_lists_skipped_pages() -> None:
    require_cjk_font()
    data = merge_pdfs([text_pdf_bytes([["第一页有文字层内容"]]), image_bytes(["扫描页"], "PDF")])
    result = extract_text(data, "混合.pdf", ocr="never", config=MISSING_TOOLS)
    assert [p.method for p in result.pages] == ["text", "skipped"]
    skipped = [w for w in result.warnings if w.code == "pages_need_ocr_skipped"]
    assert skipped
    assert skipped[0].params["pages"] == "2"
    assert "第 2 页" in skipped[0].message("zh")


def test_bad_ocr_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="ocr must be"):
        extract_text(b"text", "a.txt", ocr="sometimes")  # type: ignore[arg-type]


# --- OCR (needs tesseract + chi_sim + pdftoppm) ------------------------------------------------------
def test_mixed_pdf_ocrs_only_the_page_without_a_text_layer() -> None:
    require_ocr()
    require_cjk_font()
    data = merge_pdfs(
        [
            text_pdf_bytes([["第一页：辩护意见正文"]]),
            image_bytes(["法律援助案件质量评估", "被告人张三于2023年5月"], "PDF"),
        ]
    )
    calls: list[tuple[float, str]] = []
    result = extract_text(data, "混合.pdf", progress=lambda f, m: calls.append((f, m)))
    assert [p.method for p in result.pages] == ["text", "ocr"]
    assert result.ocr_used is True
    page2 = result.text[result.pages[1].start : result.pages[1].end]
    assert "法律援助案件质量评估" in page2
    assert "被告人张三于2023年5月" in page2  # no spaces between the characters
    assert calls[0] == (0.0, "OCR 0/1")
    assert calls[-1] == (1.0, "OCR 1/1")


@pytest.mark.parametrize("page_workers", [1, 2])
def test_scanned_multi_page_pdf_reports_progress_per_page(page_workers: int) -> None:
    require_ocr()
    require_cjk_font()
    pages = [scan_image([f"第{n}页 盗窃罪"]) for n in "一二三"]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    calls: list[float] = []
    config = OcrConfig(page_workers=page_workers)
    result = extract_text(out.getvalue(), "扫描.pdf", config=config, progress=lambda f, m: calls.append(f))
    assert result.page_count == 3
    assert [p.method for p in result.pages] == ["ocr"] * 3
    assert calls == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    for page, numeral in zip(result.pages, "一二三", strict=True):
        assert f"第{numeral}页" in result.text[page.start : page.end]  # each page's text in its place
    assert "盗窃罪" in result.text[result.pages[2].start : result.pages[2].end]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_images_are_read_by_ocr(fmt: str) -> None:
    require_ocr()
    require_cjk_font()
    result = extract_text(image_bytes(["判处有期徒刑一年"], fmt), f"照片.{fmt.lower()}")
    assert isinstance(result, ExtractResult)
    assert result.kind == fmt.lower()
    assert result.ocr_used is True
    assert "有期徒刑" in result.text


def test_multi_page_tiff_counts_pages() -> None:
    frames = [scan_image(["第一页"]), scan_image(["第二页"])]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    assert tiff_page_count(out.getvalue()) == 2
    assert tiff_page_count(image_bytes(["一页"], "TIFF")) == 1


def test_join_cjk_spaces_keeps_spaces_between_latin_words() -> None:
    assert join_cjk_spaces("被 告 人 张 三 于 2023 年 5 月") == "被告人张三于2023年5月"
    assert join_cjk_spaces("Legal aid 案 件") == "Legal aid 案件"
