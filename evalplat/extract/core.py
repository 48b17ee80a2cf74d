"""Text extraction from the allowed kinds of case files."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evalplat.files.errors import FileRejected, Notice, OcrUnavailable
from evalplat.files.sniff import IMAGE_KINDS, decode_text, open_pdf, sniff

from .engines import OcrEngine, get_engine
from .ocr import OcrConfig, rasterise_pdf_page, scratch_dir

__all__ = [
    "ExtractResult",
    "PageInfo",
    "PagePlan",
    "ProgressCallback",
    "extract_text",
    "finish_pdf",
    "ocr_pdf_page",
    "ocr_scanned_page",
    "plan_image",
    "plan_pdf",
    "ready_engine",
]

ProgressCallback = Callable[[float, str], None]
OcrMode = Literal["auto", "always", "never"]

PAGE_SEPARATOR = "\n\n"
_MIN_PAGE_CHARS = 5
_GARBLED_SHARE = 0.3


@dataclass(frozen=True)
class PageInfo:
    """One page of the result.

    Attributes
    ----------
    number : int
        1-based page number.
    method : str
        ``"text"`` (text layer), ``"ocr"``, ``"empty"`` (nothing found) or ``"skipped"`` (needed
        OCR, which was switched off).
    chars : int
        Characters of text from this page.
    start, end : int
        Offsets of the page's text in :attr:`ExtractResult.text`.
    seconds : float
        Time spent on the page.
    """

    number: int
    method: str
    chars: int
    start: int
    end: int
    seconds: float


@dataclass(frozen=True)
class ExtractResult:
    """Extracted text and how it was obtained.

    Attributes
    ----------
    text : str
        The document's text; pages are separated by a blank line.
    kind : str
        ``pdf``, ``docx``, ``text``, ``png``, ``jpeg`` or ``tiff``.
    page_count : int or None
        Pages (None for .docx and .txt, which have no fixed pages).
    ocr_used : bool
        Whether any page was read by OCR.
    pages : tuple of PageInfo
        Per page (empty for .docx and .txt).
    warnings : tuple of Notice
        Things a person should know (pages without text, weak OCR, GB18030 decoding …).
    encoding : str or None
        For text files, the encoding used.
    ocr_engine, ocr_model : str or None
        When a page was OCR'd: the engine and its model (e.g. ``"rapidocr 3.10.0"`` and
        ``"PP-OCRv6_det_small+PP-OCRv6_rec_small (onnxruntime 1.32.0)"``).
    """

    text: str
    kind: str
    page_count: int | None
    ocr_used: bool
    pages: tuple[PageInfo, ...] = ()
    warnings: tuple[Notice, ...] = ()
    encoding: str | None = None
    ocr_engine: str | None = None
    ocr_model: str | None = None


def _no_progress(fraction: float, message: str) -> None:
    return None


def _assemble(
    kind: str,
    texts: list[tuple[str, str, float]],
    warnings: list[Notice],
    *,
    page_count: int,
    engine: tuple[str | None, str | None] = (None, None),
) -> ExtractResult:
    """Join per-page ``(text, method, seconds)`` into a result with page offsets.

    ``engine`` is ``(engine, model)`` of what read the ``ocr`` pages (recorded on the result when any was).
    """
    parts: list[str] = []
    pages: list[PageInfo] = []
    offset = 0
    for number, (text, method, seconds) in enumerate(texts, start=1):
        if parts:
            offset += len(PAGE_SEPARATOR)
        pages.append(PageInfo(number, method, len(text), offset, offset + len(text), round(seconds, 3)))
        parts.append(text)
        offset += len(text)
    ocr_used = any(p.method == "ocr" for p in pages)
    described = engine if ocr_used else (None, None)
    return ExtractResult(
        text=PAGE_SEPARATOR.join(parts),
        kind=kind,
        page_count=page_count,
        ocr_used=ocr_used,
        pages=tuple(pages),
        warnings=tuple(warnings),
        ocr_engine=described[0],
        ocr_model=described[1],
    )


def ready_engine(filename: str, config: OcrConfig) -> OcrEngine:
    """The OCR engine ``config`` selects; :class:`OcrUnavailable` naming the file if it cannot run."""
    engine = get_engine(config)
    status = engine.status()
    if not status.available:
        raise OcrUnavailable(filename, missing=status.missing)
    return engine



def _needs_ocr(text: str) -> bool:
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < _MIN_PAGE_CHARS:
        return True
    garbled = sum(1 for ch in visible if ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or ch < " ")
    return garbled / len(visible) > _GARBLED_SHARE


# --- text ----------------------------------------------------------------------------------------
def _extract_plain(data: bytes, filename: str) -> ExtractResult:
    decoded = decode_text(data)
    if decoded is None:
        raise FileRejected("text_encoding", filename)
    text, encoding = decoded
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings = [Notice("text_decoded_gb18030")] if encoding == "gb18030" else []
    return ExtractResult(
        text=text, kind="text", page_count=None, ocr_used=False, warnings=tuple(warnings), encoding=encoding
    )


# --- docx ----------------------------------------------------------------------------------------
def _block_text(block: Any) -> str:
    from docx.table import Table

    if isinstance(block, Table):
        rows: list[str] = []
        for row in block.rows:
            seen: set[int] = set()
            cells: list[str] = []
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                    continue
                seen.add(id(cell._tc))
                cells.append("\n".join(_block_text(inner) for inner in cell.iter_inner_content()).strip())
            rows.append("\t".join(cells))
        return "\n".join(rows)
    return str(block.text)


def _extract_docx(data: bytes, filename: str) -> ExtractResult:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(data))
        blocks = [_block_text(block) for block in document.iter_inner_content()]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FileRejected("corrupt_docx", filename,
                           reason="not_a_package" if isinstance(exc, (PackageNotFoundError, zipfile.BadZipFile))
                           else "damaged_content", detail=f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # lxml.etree.XMLSyntaxError and other parser failures
        if type(exc).__module__.startswith(("lxml", "docx")):
            raise FileRejected("corrupt_docx", filename, reason="damaged_content",
                               detail=f"{type(exc).__name__}: {exc}") from None
        raise
    return ExtractResult(text="\n".join(blocks), kind="docx", page_count=None, ocr_used=False)


# --- pdf -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PagePlan:
    """A scanned file's pages before any OCR runs: a PDF's text layers and the pages that need OCR
    (:func:`plan_pdf`), or an image's pages, every one to OCR (:func:`plan_image`).

    Attributes
    ----------
    texts : list of (text, method, seconds)
        Per page: its text layer, ``"text"`` (or ``"skipped"`` when OCR is off), seconds spent; an image's
        pages have none (``""``).
    todo : list of int
        0-based indices of the pages to OCR (no usable text layer, or ``ocr="always"``; every page of an image).
    warnings : list of Notice
    kind : str
        ``pdf``, or the image's kind (``png``, ``jpeg``, ``tiff``).
    """

    texts: list[tuple[str, str, float]]
    todo: list[int]
    warnings: list[Notice]
    kind: str = "pdf"

    @property
    def page_count(self) -> int:
        return len(self.texts)


def plan_pdf(data: bytes, filename: str, ocr: OcrMode = "auto") -> PagePlan:
    """Read a PDF's text layers and decide which pages need OCR; no page is OCR'd here.

    Raises
    ------
    FileRejected
        ``encrypted_pdf`` or ``corrupt_pdf``.
    """
    reader, owner_only = open_pdf(data, filename)
    warnings: list[Notice] = [Notice("pdf_owner_password")] if owner_only else []
    texts: list[tuple[str, str, float]] = []
    for page in reader.pages:
        started = time.perf_counter()
        try:
            text = (page.extract_text() or "").strip()
        except Exception:  # a damaged content stream: treat as having no text layer
            text = ""
        texts.append((text, "text", time.perf_counter() - started))
    todo = [i for i, (text, _, _) in enumerate(texts) if ocr == "always" or _needs_ocr(text)]
    if todo and ocr == "never":
        for i in todo:
            texts[i] = (texts[i][0], "skipped", texts[i][2])
        warnings.append(Notice("pages_need_ocr_skipped", {"pages": ", ".join(str(i + 1) for i in todo)}))
        todo = []
    return PagePlan(texts, todo, warnings)


def _ocr_pdf_page(pdf_path: Path, index: int, engine: OcrEngine, config: OcrConfig, filename: str) -> tuple[str, float]:
    """OCR the page at 0-based ``index`` of the PDF at ``pdf_path``; its text and the seconds it took."""
    started = time.perf_counter()
    image = rasterise_pdf_page(pdf_path, index + 1, pdf_path.parent, config, filename=filename)
    try:
        text = "\n".join(engine.read(image, filename=filename, page=index + 1))
    finally:
        image.unlink()
    return text, time.perf_counter() - started


def ocr_pdf_page(data: bytes, filename: str, number: int, config: OcrConfig | None = None) -> tuple[str, float, OcrEngine]:
    """OCR one page (1-based ``number``) of a PDF: its text, the seconds it took and the engine that read it.

    One page job of :mod:`evalplat.cases.page_ocr` calls this; a page that fails raises its named error
    (``ocr_failed``, ``ocr_timeout``, ``ocr_unavailable``) and can be retried alone.
    """
    config = config or OcrConfig.from_env()
    engine = ready_engine(filename, config)
    with scratch_dir() as tmp:
        pdf_path = Path(tmp) / "source.pdf"
        pdf_path.write_bytes(data)
        text, seconds = _ocr_pdf_page(pdf_path, number - 1, engine, config, filename)
    return text, seconds, engine


def finish_pdf(
    texts: list[tuple[str, str, float]], todo: list[int], warnings: list[Notice], engine: tuple[str | None, str | None],
    *, kind: str = "pdf",
) -> ExtractResult:
    """Assemble a PDF's pages (text layers and OCR'd pages), or an image's pages, into its result, with the
    notices a person needs.

    ``engine`` is ``(engine, model)`` of whatever read the OCR'd pages (``(None, None)`` when none was).
    """
    warnings = list(warnings)
    warnings.extend(Notice("ocr_low_text", {"page": i + 1}) for i in todo if _needs_ocr(texts[i][0]))
    final = []
    for number, (text, method, seconds) in enumerate(texts, start=1):
        if method == "text" and not text:
            method = "empty"
            warnings.append(Notice("page_without_text", {"page": number}))
        final.append((text, method, seconds))
    return _assemble(kind, final, warnings, page_count=len(texts), engine=engine)


def _extract_pdf(
    data: bytes, filename: str, ocr: OcrMode, config: OcrConfig, progress: ProgressCallback
) -> ExtractResult:
    plan = plan_pdf(data, filename, ocr)
    texts, todo = plan.texts, plan.todo
    described: tuple[str | None, str | None] = (None, None)
    if todo:
        engine = ready_engine(filename, config)
        described = engine.describe()
        progress(0.0, f"OCR 0/{len(todo)}")
        with scratch_dir() as tmp:
            pdf_path = Path(tmp) / "source.pdf"
            pdf_path.write_bytes(data)

            def ocr_page(i: int) -> tuple[int, str, float]:
                return i, *_ocr_pdf_page(pdf_path, i, engine, config, filename)

            workers = max(1, min(config.page_workers, len(todo)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evalplat-ocr") as pool:
                futures = [pool.submit(ocr_page, i) for i in todo]
                try:
                    for done, future in enumerate(as_completed(futures), start=1):
                        i, text, seconds = future.result()
                        texts[i] = (text, "ocr", seconds)
                        progress(done / len(todo), f"OCR {done}/{len(todo)}")
                except BaseException:
                    for pending in futures:
                        pending.cancel()
                    raise
    return finish_pdf(texts, todo, plan.warnings, described)


# --- images --------------------------------------------------------------------------------------
def tiff_page_count(data: bytes) -> int:
    """Count the pages (image file directories) of a TIFF; at least 1."""
    order = "<" if data[:2] == b"II" else ">"
    count = 0
    seen: set[int] = set()
    try:
        (offset,) = struct.unpack_from(order + "I", data, 4)
        while offset and offset not in seen and offset + 2 <= len(data) and count < 10_000:
            seen.add(offset)
            count += 1
            (entries,) = struct.unpack_from(order + "H", data, offset)
            (offset,) = struct.unpack_from(order + "I", data, offset + 2 + entries * 12)
    except struct.error:
        pass
    return max(count, 1)


def _open_image(data: bytes, filename: str, page: int = 1) -> Any:
    """The image file opened with Pillow; ``ocr_failed`` (image_unreadable) naming the file when it cannot be."""
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(io.BytesIO(data))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise FileRejected("ocr_failed", filename, page=page, reason="image_unreadable",
                           detail=f"{type(exc).__name__}: {exc}") from None


def plan_image(data: bytes, filename: str, kind: str) -> PagePlan:
    """An image file's pages, each to OCR: one, or one per frame of a multi-page TIFF (no page is OCR'd here).

    Raises
    ------
    FileRejected
        ``ocr_failed`` (image_unreadable) when Pillow cannot open the image.
    """
    with _open_image(data, filename) as image:
        pages = max(int(getattr(image, "n_frames", 1) or 1), 1)
    return PagePlan([("", "text", 0.0)] * pages, list(range(pages)), [], kind=kind)


def _image_page(data: bytes, kind: str, filename: str, number: int, out_dir: Path) -> Path:
    """The file the engine reads for page ``number`` (1-based) of an image: the image itself when it has one
    page, else that frame of the TIFF saved alone (lossless PNG)."""
    if kind != "tiff":
        path = out_dir / f"page.{'jpg' if kind == 'jpeg' else kind}"
        path.write_bytes(data)
        return path
    with _open_image(data, filename, number) as image:
        frames = max(int(getattr(image, "n_frames", 1) or 1), 1)
        if not 1 <= number <= frames:
            raise FileRejected("ocr_failed", filename, page=number, reason="image_unreadable",
                               detail=f"the TIFF has {frames} page(s), not {number}")
        try:
            image.seek(number - 1)
            frame = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGB")
            path = out_dir / f"page-{number}.png"
            frame.save(path, format="PNG")
        except (OSError, ValueError, EOFError) as exc:
            raise FileRejected("ocr_failed", filename, page=number, reason="image_unreadable",
                               detail=f"{type(exc).__name__}: {exc}") from None
    return path


def ocr_scanned_page(data: bytes, filename: str, number: int, config: OcrConfig | None = None,
                     ) -> tuple[str, float, OcrEngine]:
    """OCR one page (1-based ``number``) of a scanned file — a PDF page, an image, or a frame of a multi-page
    TIFF: its text, the seconds it took and the engine that read it.

    One page job of :mod:`evalplat.cases.page_ocr` calls this; a page that fails raises its named error
    (``ocr_failed``, ``ocr_timeout``, ``ocr_unavailable``) and can be retried alone.
    """
    kind = sniff(data, filename, check_pdf=False).kind
    if kind == "pdf":
        return ocr_pdf_page(data, filename, number, config)
    if kind not in IMAGE_KINDS:
        raise FileRejected("unsupported_type", filename, detected=kind)
    config = config or OcrConfig.from_env()
    engine = ready_engine(filename, config)
    started = time.perf_counter()
    with scratch_dir() as tmp:
        texts = engine.read(_image_page(data, kind, filename, number, Path(tmp)), filename=filename, page=number)
    return "\n".join(texts), time.perf_counter() - started, engine


def _extract_image(
    data: bytes, kind: str, filename: str, ocr: OcrMode, config: OcrConfig, progress: ProgressCallback
) -> ExtractResult:
    if ocr == "never":
        warnings = [Notice("pages_need_ocr_skipped", {"pages": "1"})]
        return _assemble(kind, [("", "skipped", 0.0)], warnings, page_count=1)
    engine = ready_engine(filename, config)
    expected = tiff_page_count(data) if kind == "tiff" else 1
    progress(0.0, f"OCR 0/{expected}")
    started = time.perf_counter()
    with scratch_dir() as tmp:
        image = Path(tmp) / f"image.{'jpg' if kind == 'jpeg' else kind}"
        image.write_bytes(data)
        page_texts = engine.read(image, filename=filename)
    seconds = (time.perf_counter() - started) / max(len(page_texts), 1)
    warnings = [Notice("ocr_low_text", {"page": n}) for n, t in enumerate(page_texts, 1) if _needs_ocr(t)]
    progress(1.0, f"OCR {len(page_texts)}/{len(page_texts)}")
    return _assemble(
        kind, [(t, "ocr", seconds) for t in page_texts], warnings, page_count=len(page_texts),
        engine=engine.describe(),
    )


# --- entry point ---------------------------------------------------------------------------------
def extract_text(
    data: bytes,
    filename: str = "",
    *,
    kind: str | None = None,
    ocr: OcrMode = "auto",
    config: OcrConfig | None = None,
    progress: ProgressCallback | None = None,
) -> ExtractResult:
    """Extract the text of a case file.

    Parameters
    ----------
    data : bytes
        The whole file.
    filename : str
        Its original name, used in errors and warnings.
    kind : str, optional
        The kind from an earlier :func:`evalplat.files.sniff.sniff`; sniffed here (with all its
        checks) when omitted.
    ocr : {"auto", "always", "never"}
        ``auto`` (default) OCRs PDF pages without a usable text layer and all images; ``always``
        OCRs every PDF page; ``never`` reads text layers only and warns about what it skipped.
    config : OcrConfig, optional
        Defaults to :meth:`OcrConfig.from_env`.
    progress : callable, optional
        ``progress(fraction, message)`` called as OCR pages complete — e.g.
        :func:`evalplat.jobs.report_progress`.

    Returns
    -------
    ExtractResult

    Raises
    ------
    FileRejected
        ``encrypted_pdf``, ``corrupt_pdf``, ``corrupt_docx``, ``text_encoding``, ``ocr_failed``,
        ``ocr_timeout`` or any rejection from sniffing.
    OcrUnavailable
        A page or image needs OCR and no engine can run (neither RapidOCR nor Tesseract with its
        ``chi_sim`` model is installed, or pdftoppm is missing).
    """
    if ocr not in ("auto", "always", "never"):
        raise ValueError(f"ocr must be 'auto', 'always' or 'never', not {ocr!r}")
    if kind is None:
        kind = sniff(data, filename, check_pdf=False).kind
    config = config or OcrConfig.from_env()
    report = progress or _no_progress
    if kind == "text":
        result = _extract_plain(data, filename)
    elif kind == "docx":
        result = _extract_docx(data, filename)
    elif kind == "pdf":
        result = _extract_pdf(data, filename, ocr, config, report)
    elif kind in IMAGE_KINDS:
        result = _extract_image(data, kind, filename, ocr, config, report)
    else:
        raise FileRejected("unsupported_type", filename, detected=kind)
    return result
