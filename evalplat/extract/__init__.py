"""Text extraction from case files: .docx, text-layer PDFs, scanned PDFs and images (OCR), .txt.

OCR engines: :mod:`evalplat.extract.engines` (RapidOCR by default, Tesseract as the fallback). For matching
OCR'd text: :func:`normalise_for_matching` and :func:`original_span` (:mod:`evalplat.ocr_text`, shared with the anonymiser).

Pure library code: bytes in, :class:`ExtractResult` out; no Flask and no database.

Examples
--------
>>> result = extract_text("判决书全文".encode("gb18030"), "判决.txt")
>>> result.text, result.encoding
('判决书全文', 'gb18030')
"""

from evalplat.files.errors import FileRejected, Notice, OcrUnavailable
from evalplat.ocr_text import normalise_for_matching, original_span

from .core import ExtractResult, PageInfo, ProgressCallback, extract_text
from .ocr import OcrConfig, OcrStatus, join_cjk_spaces, ocr_available

__all__ = [
    "ExtractResult",
    "FileRejected",
    "Notice",
    "OcrConfig",
    "OcrStatus",
    "OcrUnavailable",
    "PageInfo",
    "ProgressCallback",
    "extract_text",
    "join_cjk_spaces",
    "normalise_for_matching",
    "ocr_available",
    "original_span",
]
