"""OCR engines behind one interface: RapidOCR (PP-OCR models as ONNX, shipped in its wheel) and Tesseract.

:func:`get_engine` picks the engine ``EVALPLAT_OCR_ENGINE`` names: ``auto`` (default) takes RapidOCR where
the ``rapidocr`` and ``onnxruntime`` packages are installed and Tesseract otherwise; ``rapidocr`` or
``tesseract`` insist on one. Every engine reads one image file and returns the text of each page it holds
(a TIFF may hold several), and says which engine and model produced it (stored on each document).

Nothing is downloaded at run time: RapidOCR is given the paths of the model files inside its wheel (its
own configuration would otherwise look them up by URL), its download function is replaced by one that
raises, and onnxruntime is imported only through :func:`evalplat.onnx_runtime.load` (telemetry off).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from evalplat.files.errors import FileRejected, OcrUnavailable

from .ocr import (
    OcrConfig,
    OcrStatus,
    clean_page,
    drop_red_ink,
    full_width_punctuation,
    join_cjk_spaces,
    ocr_image,
    tesseract_status,
)

__all__ = [
    "ENGINE_NAMES",
    "OcrEngine",
    "RapidOcrEngine",
    "TesseractEngine",
    "cut_long_line",
    "get_engine",
    "join_boxes",
]

ENGINE_NAMES = ("auto", "rapidocr", "tesseract")
RAPIDOCR_INSTALL_HINT = "pip install rapidocr onnxruntime"


class OcrEngine(Protocol):
    """What the extraction needs from an OCR engine."""

    name: str

    def status(self) -> OcrStatus:
        """Whether the engine can run here, and what is missing if not."""

    def describe(self) -> tuple[str, str]:
        """``(engine, model)``: e.g. ``("rapidocr 3.10.0", "PP-OCRv6_det_small+PP-OCRv6_rec_small")``."""

    def read(self, image: Path, *, filename: str, page: int = 1) -> list[str]:
        """The text of each page of the image file (a TIFF may hold several)."""


# --- Tesseract ----------------------------------------------------------------------------------------
class TesseractEngine:
    """Tesseract through its command line (the fallback): ``chi_sim+eng`` by default."""

    name = "tesseract"

    def __init__(self, config: OcrConfig) -> None:
        self.config = config

    def status(self) -> OcrStatus:
        return tesseract_status(self.config)

    def describe(self) -> tuple[str, str]:
        status = self.status()
        return f"tesseract {status.tesseract_version or '?'}", self.config.languages

    def read(self, image: Path, *, filename: str, page: int = 1) -> list[str]:
        pages = 1
        if image.suffix.lower() in (".tif", ".tiff"):
            from .core import tiff_page_count

            pages = tiff_page_count(image.read_bytes())
        elif self.config.drop_red or self.config.clean:
            image = _prepared(image, filename=filename, page=page, drop_red=self.config.drop_red,
                              clean=self.config.clean)
        return ocr_image(image, self.config, filename=filename, page=page, timeout=self.config.page_timeout * pages)


# --- RapidOCR -----------------------------------------------------------------------------------------
def cut_long_line(crop: Any, max_ratio: float) -> list[Any]:
    """Cut a text-line image wider than ``max_ratio`` × its height into pieces at the lightest columns.

    The recogniser pads every line of a batch to the widest one, so one very long line (a table row across
    the page, a line of dots) sets the memory of the whole batch; cut lines keep it bounded. Each cut is
    placed in the middle of the widest run of blank columns in the second half of the piece: the gap
    between two characters is wider than the gaps inside a character (纟|丩 of 纠), so no character is split.

    Parameters
    ----------
    crop : numpy.ndarray
        ``H × W`` or ``H × W × C`` image of one line.
    max_ratio : float
        Largest width / height of a piece.

    Returns
    -------
    list of numpy.ndarray
        The pieces, left to right (the crop itself when it is short enough).
    """
    import numpy as np

    height, width = crop.shape[:2]
    limit = max(int(height * max_ratio), 2)
    if width <= limit:
        return [crop]
    grey = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(float)
    ink = (grey.max() - grey).sum(axis=0)
    blank = ink <= ink.min() + 0.02 * (ink.max() - ink.min())
    pieces: list[Any] = []
    start = 0
    while width - start > limit:
        low, high = start + limit // 2, start + limit
        best, best_length, run = -1, 0, 0
        for column in range(low, high):
            run = run + 1 if blank[column] else 0
            if run >= best_length and run:
                best, best_length = column - run // 2, run
        cut = best if best > start else low + int(np.argmin(ink[low:high]))
        pieces.append(crop[:, start:cut])
        start = cut
    pieces.append(crop[:, start:])
    return pieces


def join_boxes(boxes: Sequence[Any], texts: Sequence[str]) -> str:
    """Lay recognised boxes out as lines of text: boxes whose vertical middles overlap form one line,
    left to right, separated by a space; lines top to bottom.

    Parameters
    ----------
    boxes : sequence
        Four corner points per box (as RapidOCR returns them).
    texts : sequence of str
        The text of each box.
    """
    items = []
    for box, text in zip(boxes, texts, strict=True):
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        items.append((min(ys), max(ys), min(xs), text))
    items.sort(key=lambda item: (item[0] + item[1]) / 2)
    lines: list[list[tuple[float, float, float, str]]] = []
    for item in items:
        middle = (item[0] + item[1]) / 2
        if lines:
            last = lines[-1]
            top = sum(i[0] for i in last) / len(last)
            bottom = sum(i[1] for i in last) / len(last)
            if top <= middle <= bottom:
                last.append(item)
                continue
        lines.append([item])
    return "\n".join(" ".join(i[3] for i in sorted(line, key=lambda i: i[2])) for line in lines)


class _DownloadRefused(RuntimeError):
    pass


def _refuse_download(*args: Any, **kwargs: Any) -> None:
    raise _DownloadRefused("RapidOCR tried to download a file; evalplat only uses the models in the wheel")


@dataclass(frozen=True)
class _Models:
    det: Path
    rec: Path
    cls: Path | None


class RapidOcrEngine:
    """RapidOCR with the PP-OCR detection and recognition models of its wheel, on onnxruntime.

    One instance per process is shared by every thread (:func:`get_engine`); onnxruntime sessions may run
    from several threads at once. Each session uses ``config.threads`` threads, so N worker processes use
    N cores. The angle classifier is off unless ``config.angle_classifier`` (it flipped upright lines on
    the issue's pages), and lines wider than ``config.max_line_ratio`` × their height are cut before
    recognition (:func:`cut_long_line`), which bounds the memory of a page.
    """

    name = "rapidocr"

    def __init__(self, config: OcrConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._problem: str | None = None

    # --- availability --------------------------------------------------------------------------------
    @cached_property
    def _package(self) -> Any:
        """The ``rapidocr`` module, imported after onnxruntime with telemetry off; None if missing."""
        from evalplat import onnx_runtime

        try:
            onnx_runtime.load()
        except ImportError:
            self._problem = "onnxruntime (Python package)"
            return None
        try:
            import rapidocr
            from rapidocr.utils.download_file import DownloadFile
        except ImportError:
            self._problem = "rapidocr (Python package)"
            return None
        DownloadFile.run = classmethod(_refuse_download)  # type: ignore[method-assign,assignment,arg-type]
        return rapidocr

    @cached_property
    def _models(self) -> _Models | None:
        package = self._package
        if package is None:
            return None
        folder = Path(package.__file__).parent / "models"

        def one(kind: str) -> Path | None:
            found = sorted(folder.glob(f"*_{kind}_*.onnx"))
            return found[0] if found else None

        det, rec = one("det"), one("rec")
        if det is None or rec is None:
            self._problem = f"rapidocr models in {folder}"
            return None
        return _Models(det, rec, one("cls"))

    def status(self) -> OcrStatus:
        models = self._models
        if models is None:
            return OcrStatus(False, (self._problem or "rapidocr",), None, ())
        missing = ("pdftoppm (poppler-utils)",) if not _which(self.config.pdftoppm) else ()
        return OcrStatus(not missing, missing, None, (), engine=self.describe()[0])

    def describe(self) -> tuple[str, str]:
        package, models = self._package, self._models
        if package is None or models is None:
            return "rapidocr", ""
        from evalplat import onnx_runtime

        model = f"{models.det.stem}+{models.rec.stem}"
        if self.config.angle_classifier and models.cls is not None:
            model += f"+{models.cls.stem}"
        from importlib.metadata import version

        return f"rapidocr {version('rapidocr')}", f"{model} (onnxruntime {onnx_runtime.load().__version__})"

    # --- reading -----------------------------------------------------------------------------------------
    @cached_property
    def _ocr(self) -> Any:
        models = self._models
        if models is None:
            raise OcrUnavailable(None, missing=[self._problem or "rapidocr"])
        from rapidocr import RapidOCR

        max_ratio = self.config.max_line_ratio

        class BoundedRapidOCR(RapidOCR):  # type: ignore[misc]
            """RapidOCR whose recogniser sees long lines cut into pieces (joined again afterwards)."""

            def recognize_txt(self, img: list[Any]) -> Any:
                pieces: list[Any] = []
                owners: list[int] = []
                for index, crop in enumerate(img):
                    for piece in cut_long_line(crop, max_ratio):
                        pieces.append(piece)
                        owners.append(index)
                # rapidocr's result annotates one text per image as a 1-tuple; the fields are rewritten per image
                result: Any = super().recognize_txt(pieces)
                if len(pieces) == len(img):
                    return result
                texts = [""] * len(img)
                scores = [1.0] * len(img)
                for owner, text, score in zip(owners, result.txts, result.scores, strict=True):
                    texts[owner] += text
                    scores[owner] = min(scores[owner], float(score))
                result.imgs = list(img)
                result.txts = tuple(texts)
                result.scores = tuple(scores)
                result.word_results = tuple(() for _ in img)
                return result

        threads = max(1, self.config.threads)
        params: dict[str, Any] = {
            "Global.use_cls": bool(self.config.angle_classifier and models.cls is not None),
            "Global.log_level": "error",
            "Global.model_root_dir": str(models.det.parent),
            "Det.model_path": str(models.det),
            "Rec.model_path": str(models.rec),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        if models.cls is not None:
            params["Cls.model_path"] = str(models.cls)
        return BoundedRapidOCR(params=params)

    def read(self, image: Path, *, filename: str, page: int = 1) -> list[str]:
        with self._lock:  # build the engine once, even when threads ask at the same time
            ocr = self._ocr
        frames = _image_frames(image, filename=filename, page=page, drop_red=self.config.drop_red,
                               clean=self.config.clean)
        texts = []
        for offset, frame in enumerate(frames):
            try:
                result = ocr(frame)
            except _DownloadRefused as exc:
                raise OcrUnavailable(filename, missing=[str(exc)]) from None
            except Exception as exc:  # a damaged image or an onnxruntime failure: this page failed
                raise FileRejected(
                    "ocr_failed", filename, page=page + offset, reason="ocr_engine_error",
                    detail=f"{type(exc).__name__}: {exc}"
                ) from None
            boxes, txts = getattr(result, "boxes", None), getattr(result, "txts", None)
            texts.append(full_width_punctuation(join_cjk_spaces(join_boxes(boxes, txts)))
                         if boxes is not None and txts else "")
        return texts


def _prepare(frame: Any, *, drop_red: bool, clean: bool) -> Any:
    """One page as the engine should see it: without red ink (:func:`drop_red_ink`) and cleaned
    (:func:`clean_page`), as asked."""
    if drop_red:
        frame = drop_red_ink(frame)
    return clean_page(frame) if clean else frame


def _image_frames(image: Path, *, filename: str, page: int, drop_red: bool, clean: bool) -> list[Any]:
    """The pages of an image file as BGR arrays (one, or one per TIFF frame), prepared (:func:`_prepare`)."""
    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            # each frame is converted at once: the iterator moves one image object from frame to frame
            return [np.asarray(_prepare(frame, drop_red=drop_red, clean=clean).convert("RGB"))[:, :, ::-1].copy()
                    for frame in ImageSequence.Iterator(opened)]
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise FileRejected("ocr_failed", filename, page=page, reason="image_unreadable",
                             detail=f"{type(exc).__name__}: {exc}") from None


def _prepared(image: Path, *, filename: str, page: int, drop_red: bool, clean: bool) -> Path:
    """A greyscale copy of a single-page image, prepared (:func:`_prepare`), for Tesseract."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            if opened.mode == "L" and not clean:
                return image
            grey = _prepare(opened, drop_red=drop_red, clean=clean)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise FileRejected("ocr_failed", filename, page=page, reason="image_unreadable",
                             detail=f"{type(exc).__name__}: {exc}") from None
    out = image.with_name(f"{image.stem}-grey.png")
    grey.save(out)
    return out


def _which(command: str) -> bool:
    import shutil

    return shutil.which(command) is not None


# --- choice ---------------------------------------------------------------------------------------------
_engines: dict[tuple[str, OcrConfig], OcrEngine] = {}
_engines_lock = threading.Lock()


def _build(name: str, config: OcrConfig) -> OcrEngine:
    key = (name, config)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = RapidOcrEngine(config) if name == "rapidocr" else TesseractEngine(config)
            _engines[key] = engine
        return engine


def get_engine(config: OcrConfig | None = None) -> OcrEngine:
    """The engine ``config.engine`` names (``EVALPLAT_OCR_ENGINE``), one instance per process.

    ``auto`` returns RapidOCR when it can run here, else Tesseract when it can, else RapidOCR (whose
    :meth:`~RapidOcrEngine.status` then names everything that is missing).

    Raises
    ------
    ValueError
        For an engine name other than ``auto``, ``rapidocr`` or ``tesseract``.
    """
    config = config or OcrConfig.from_env()
    if config.engine not in ENGINE_NAMES:
        raise ValueError(f"EVALPLAT_OCR_ENGINE must be one of {', '.join(ENGINE_NAMES)}, not {config.engine!r}")
    if config.engine != "auto":
        return _build(config.engine, config)
    rapid = _build("rapidocr", config)
    if rapid.status().available:
        return rapid
    tesseract = _build("tesseract", config)
    if tesseract.status().available:
        return tesseract
    return _NoEngine(rapid.status(), tesseract.status())


class _NoEngine:
    """``auto`` when neither engine can run: its status names what each one lacks."""

    name = "none"

    def __init__(self, rapid: OcrStatus, tesseract: OcrStatus) -> None:
        missing = tuple(dict.fromkeys(rapid.missing + tesseract.missing))
        self._status = OcrStatus(False, missing, None, ())

    def status(self) -> OcrStatus:
        return self._status

    def describe(self) -> tuple[str, str]:
        return "none", ""

    def read(self, image: Path, *, filename: str, page: int = 1) -> list[str]:
        raise OcrUnavailable(filename, missing=self._status.missing)
