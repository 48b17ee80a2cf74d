"""Text extraction from case files: .docx, text-layer PDFs, scanned PDFs and images (OCR), .txt.

Pure library code: bytes in, :class:`ExtractResult` out; no Flask and no database.

Examples
--------
>>> result = extract_text("判决书全文".encode("gb18030"), "判决.txt")
>>> result.text, result.encoding
('判决书全文', 'gb18030')
"""

from evalplat.files.errors import FileRejected, Notice, OcrUnavailable

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
    "ocr_available",
]
