"""Builders for real test documents, generated in the tests (shared by tests/files and tests/extract)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Iterable, Sequence

import matplotlib
import pytest

matplotlib.use("Agg")

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def docx_bytes(
    paragraphs: Sequence[str] = ("法律援助案件",), table: Sequence[Sequence[str]] | None = None
) -> bytes:
    """A .docx with ``paragraphs``, then ``table`` (rows of cells), then a closing paragraph."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
        document.add_paragraph("表格之后")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def text_pdf_bytes(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF with a real text layer (matplotlib, TrueType font embedded): one list of lines per page."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=CJK_FONT)
    out = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(out) as pdf:
        for lines in pages:
            figure = Figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                figure.text(0.08, 0.92 - i * 0.05, line, fontproperties=font, fontsize=14)
            pdf.savefig(figure)
    return out.getvalue()


def scan_image(lines: Sequence[str], *, size: int = 48):
    """A greyscale PIL image of ``lines`` of Chinese text, like a clean 300-dpi scan."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(CJK_FONT, size)
    image = Image.new("L", (1500, 80 + int(size * 2.2) * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((50, 40 + i * int(size * 2.2)), line, font=font, fill=0)
    return image


def image_bytes(lines: Sequence[str], fmt: str) -> bytes:
    """``lines`` rendered as an image file in ``fmt`` (PNG, JPEG, TIFF, PDF)."""
    out = io.BytesIO()
    scan_image(lines).save(out, format=fmt, resolution=300)
    return out.getvalue()


def merge_pdfs(parts: Iterable[bytes]) -> bytes:
    """Concatenate PDFs page by page (pypdf)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf_bytes(source: bytes, *, user_password: str, owner_password: str = "owner") -> bytes:
    """``source`` encrypted with pypdf (AES-256); an empty user password leaves it openable."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bytes(entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    """A deflated zip of ``(name or ZipInfo, data)`` pairs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out.getvalue()


def zip_with_raw_names(names: dict[str, bytes], data: bytes = b"content") -> bytes:
    """A zip whose entry names are raw bytes (e.g. GBK) written without the UTF-8 flag.

    Python always writes non-ASCII names as UTF-8 with flag bit 11, as Chinese Windows tools do
    not; so entries are written under ASCII placeholders of the same byte length and patched.
    """
    placeholders = {}
    for i, (key, raw) in enumerate(names.items()):
        stem = f"P{i:03d}"
        placeholders[key] = (stem + "x" * (len(raw) - len(stem))).encode("ascii")
        assert len(placeholders[key]) == len(raw), "names need at least 4 bytes"
    blob = zip_bytes((p.decode("ascii"), data) for p in placeholders.values())
    for key, raw in names.items():
        blob = blob.replace(placeholders[key], raw)
    return blob


def unicode_path_extra(utf8_name: str, raw_name: bytes) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) for ``raw_name``."""
    import zlib

    body = b"\x01" + struct.pack("<I", zlib.crc32(raw_name)) + utf8_name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


def require_ocr() -> None:
    """Skip the calling test, in one clear line, when OCR tools are missing."""
    from evalplat.extract import ocr_available

    status = ocr_available(refresh=True)
    if not status.available:
        pytest.skip("OCR tests skipped: " + status.message("en"))


def require_cjk_font() -> None:
    """Skip when the WenQuanYi font (fonts-wqy-microhei) is not installed."""
    if not os.path.exists(CJK_FONT):
        pytest.skip(f"font {CJK_FONT} missing (apt-get install fonts-wqy-microhei)")


def pdf_with_open_action_javascript(code: str = "app.alert('x');") -> bytes:
    """A one-page PDF (pypdf) that runs ``code`` when opened (/OpenAction of a JavaScript action)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
