"""OCR configuration, and the command-line tools: poppler's ``pdftoppm`` to rasterise, ``tesseract`` to read.

Both tools run as subprocesses with timeouts (no Python bindings needed). The engine that reads a page
(RapidOCR by default, Tesseract as the fallback) is chosen in :mod:`evalplat.extract.engines`;
:func:`ocr_available` says plainly whether it can run and what is missing; :func:`require_ocr` turns
that into :class:`OcrUnavailable` with the install command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalplat.files.errors import OCR_INSTALL_HINT, FileRejected, OcrUnavailable, render_message

__all__ = [
    "OcrConfig",
    "OcrStatus",
    "clean_page",
    "drop_red_ink",
    "full_width_punctuation",
    "join_cjk_spaces",
    "ocr_available",
    "ocr_image",
    "rasterise_pdf_page",
    "require_ocr",
    "tesseract_status",
]

_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})[ \t]+(?={_CJK}|[0-9])|(?<=[0-9])[ \t]+(?={_CJK})")


def join_cjk_spaces(text: str) -> str:
    """Remove the spaces Tesseract puts between Chinese characters (and between them and digits).

    >>> join_cjk_spaces("被 告 人 张 三 于 2023 年")
    '被告人张三于2023年'
    """
    return _CJK_GAP.sub("", text)


_HALF_WIDTH = {"(": "（", ")": "）", ",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
#: a pair of round brackets on one line, at least one of them half-width, with at most 40 characters inside
_BRACKETS = re.compile(r"\(([^()（）\n]{0,40})[)）]|（([^()（）\n]{0,40})\)")
_CJK_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: a half-width comma, colon, semicolon, question or exclamation mark next to a Chinese character (the one
#: after it may start the next line)
_MARK_NEAR_CJK = re.compile(r"(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[,:;?!]"
                            r"|[,:;?!](?=[ \t]*\n?[ \t]*[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def full_width_punctuation(text: str) -> str:
    """Chinese text's punctuation in the full-width forms it is printed in, where OCR answered half-width.

    Chinese typesetting (GB/T 15834) puts full-width marks in Chinese text; OCR models often answer the
    half-width ones. A comma, colon, semicolon, question or exclamation mark next to a Chinese character
    becomes full-width (``5274,汉族`` → ``5274，汉族``, also at the end of a line; ``1,000`` and ``9:30`` between digits stay), and so
    does a pair of round brackets on one line (one or both half-width) that holds a Chinese character or
    whose nearest character on either side, past spaces (table cells), is one (``李建国 (2023) 粤``,
    ``(2023)粤0703民初1号``, ``(签名)``); brackets around Latin text alone stay (``(a)``). Only replaces
    characters, so offsets into the text stay valid.

    >>> full_width_punctuation("(2023)粤0703民初1号,原告:张三 1,000元 9:30")
    '（2023）粤0703民初1号，原告：张三 1,000元 9:30'
    >>> full_width_punctuation("案号：(2023）粤0705民初907号")
    '案号：（2023）粤0705民初907号'
    >>> full_width_punctuation("Form (a), page 2")
    'Form (a), page 2'
    """
    def brackets(match: re.Match[str]) -> str:
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        before = text[line_start:match.start()].rstrip()[-1:]  # the nearest character on the line, past spaces
        after = text[match.end():None if line_end == -1 else line_end].lstrip()[:1]
        inside = match.group(1) if match.group(1) is not None else match.group(2)
        if _CJK_ONLY.search(before + inside + after):
            return f"（{inside}）"
        return match.group()

    text = _BRACKETS.sub(brackets, text)
    return _MARK_NEAR_CJK.sub(lambda m: _HALF_WIDTH[m.group()], text)


@dataclass(frozen=True)
class OcrConfig:
    """How OCR runs.

    Attributes
    ----------
    tesseract, pdftoppm : str
        Commands (names on PATH or absolute paths).
    languages : str
        Tesseract language models, ``"chi_sim+eng"`` by default.
    dpi : int
        Rasterisation resolution; 300 suits printed documents.
    page_timeout : float
        Seconds allowed per page for each tool.
    psm : int
        Tesseract page segmentation mode (3 = automatic layout analysis).
    fallback_psm : int or None
        Mode tried when ``psm`` finds (almost) nothing; 6 (one uniform block) reads pages that
        the layout analysis misses, such as a page with a single line. None disables the retry.
    threads : int
        ``OMP_THREAD_LIMIT`` for each Tesseract process. Keep 1: on the 2-core reference machine
        two OpenMP threads made one page ten times slower, not faster.
    page_workers : int
        Pages of one PDF OCR'd at the same time inside one extraction (default 1; raise it to the
        number of idle cores when one large scan should finish sooner). The platform's document jobs
        spread a scan's pages over the job backend instead (:mod:`evalplat.cases.page_ocr`).
    engine : str
        ``auto`` (RapidOCR where installed, else Tesseract), ``rapidocr`` or ``tesseract``.
    angle_classifier : bool
        RapidOCR's text-line angle classifier (off: it flipped upright lines and dropped them).
    max_line_ratio : float
        RapidOCR cuts text lines wider than this many times their height before recognition, which
        bounds the memory of a page with long lines.
    drop_red : bool
        Read pages through their red channel (:func:`drop_red_ink`): a red seal pressed over names
        turns pale instead of dark grey, so the names under it are read. Red text (the red header of
        an official letter) fades too; switch it off with ``EVALPLAT_OCR_DROP_RED=0``.
    clean : bool
        Even out the paper and remove salt-and-pepper specks before reading (:func:`clean_page`);
        ``EVALPLAT_OCR_CLEAN=0`` reads pages as rasterised.
    known_names : bool
        Put back a name of the case's people that OCR misread by one look-alike character
        (:mod:`evalplat.extract.known_names`); ``EVALPLAT_OCR_KNOWN_NAMES=0`` keeps the text as read.
    """

    tesseract: str = "tesseract"
    pdftoppm: str = "pdftoppm"
    languages: str = "chi_sim+eng"
    dpi: int = 300
    page_timeout: float = 180.0
    psm: int = 3
    fallback_psm: int | None = 6
    threads: int = 1
    page_workers: int = 1
    engine: str = "auto"
    angle_classifier: bool = False
    max_line_ratio: float = 40.0
    drop_red: bool = True
    clean: bool = True
    known_names: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OcrConfig:
        """Read ``EVALPLAT_OCR_ENGINE``, ``EVALPLAT_OCR_ANGLE_CLASSIFIER`` (``1`` to switch it on),
        ``EVALPLAT_OCR_DROP_RED`` (``0`` to read pages in plain grey), ``EVALPLAT_OCR_CLEAN`` (``0``: no
        :func:`clean_page`), ``EVALPLAT_OCR_KNOWN_NAMES`` (``0``: no correction towards the case's names),
        ``EVALPLAT_TESSERACT``, ``EVALPLAT_PDFTOPPM``, ``EVALPLAT_OCR_LANGUAGES``, ``EVALPLAT_OCR_DPI``,
        ``EVALPLAT_OCR_PAGE_TIMEOUT`` and ``EVALPLAT_OCR_PAGE_WORKERS`` (each optional)."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            tesseract=env.get("EVALPLAT_TESSERACT", default.tesseract),
            pdftoppm=env.get("EVALPLAT_PDFTOPPM", default.pdftoppm),
            languages=env.get("EVALPLAT_OCR_LANGUAGES", default.languages),
            dpi=int(env.get("EVALPLAT_OCR_DPI", default.dpi)),
            page_timeout=float(env.get("EVALPLAT_OCR_PAGE_TIMEOUT", default.page_timeout)),
            page_workers=int(env.get("EVALPLAT_OCR_PAGE_WORKERS", default.page_workers)),
            engine=(env.get("EVALPLAT_OCR_ENGINE") or default.engine).strip().lower(),
            angle_classifier=_flag(env, "EVALPLAT_OCR_ANGLE_CLASSIFIER", default.angle_classifier),
            drop_red=_flag(env, "EVALPLAT_OCR_DROP_RED", default.drop_red),
            clean=_flag(env, "EVALPLAT_OCR_CLEAN", default.clean),
            known_names=_flag(env, "EVALPLAT_OCR_KNOWN_NAMES", default.known_names),
        )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A switch: ``default`` when unset or blank; a value that is not a boolean is a
    :class:`~evalplat.config.ConfigError` naming the variable, as at start-up."""
    from evalplat.config import parse_flag

    return parse_flag(name, env.get(name), default)


@dataclass(frozen=True)
class OcrStatus:
    """Whether OCR can run here, and if not, what is missing.

    Attributes
    ----------
    available : bool
    missing : tuple of str
        e.g. ``("tesseract",)``, ``("tesseract language model chi_sim",)``, ``("pdftoppm (poppler-utils)",)``.
    tesseract_version : str or None
    languages : tuple of str
        Language models Tesseract reports.
    engine : str or None
        The engine that will read pages, e.g. ``"rapidocr 3.10.0"`` or ``"tesseract 5.3.0"``.
    """

    available: bool
    missing: tuple[str, ...]
    tesseract_version: str | None
    languages: tuple[str, ...]
    engine: str | None = None

    def message(self, lang: str = "zh") -> str:
        """A sentence for the status page or CLI."""
        if self.available:
            engine = self.engine or f"Tesseract {self.tesseract_version}"
            return (
                f"OCR available ({engine})"
                if lang.lower().startswith("en")
                else f"文字识别（OCR）可用（{engine}）"
            )
        return render_message(
            "ocr_tools_missing", lang, missing=", ".join(self.missing), hint=OCR_INSTALL_HINT
        )


_status_cache: dict[OcrConfig, OcrStatus] = {}
_status_lock = threading.Lock()


def _probe(config: OcrConfig) -> OcrStatus:
    missing: list[str] = []
    version: str | None = None
    languages: tuple[str, ...] = ()
    tesseract = shutil.which(config.tesseract)
    if tesseract is None:
        missing.append("tesseract")
    else:
        try:
            out = subprocess.run(  # noqa: S603 - fixed argument list, no shell
                [tesseract, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
            first = (out.stdout or out.stderr).strip().splitlines()
            version = first[0].removeprefix("tesseract ").strip() if first else None
            listed = subprocess.run(  # noqa: S603
                [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
            )
            lines = (listed.stdout + "\n" + listed.stderr).splitlines()
            languages = tuple(sorted({ln.strip() for ln in lines if ln.strip() and " " not in ln.strip()}))
        except (OSError, subprocess.SubprocessError) as exc:
            missing.append(f"tesseract (cannot run: {exc})")
        else:
            for model in config.languages.split("+"):
                if model and model not in languages:
                    missing.append(f"tesseract language model {model}")
    if shutil.which(config.pdftoppm) is None:
        missing.append("pdftoppm (poppler-utils)")
    return OcrStatus(not missing, tuple(missing), version, languages, f"tesseract {version}" if version else None)


def tesseract_status(config: OcrConfig | None = None, *, refresh: bool = False) -> OcrStatus:
    """Report whether Tesseract, its language models and pdftoppm are installed.

    Parameters
    ----------
    config : OcrConfig, optional
        Defaults to :meth:`OcrConfig.from_env`.
    refresh : bool
        Probe again instead of using the cached answer (e.g. after installing the packages).

    Returns
    -------
    OcrStatus
    """
    config = config or OcrConfig.from_env()
    with _status_lock:
        if refresh or config not in _status_cache:
            _status_cache[config] = _probe(config)
        return _status_cache[config]


def ocr_available(config: OcrConfig | None = None, *, refresh: bool = False) -> OcrStatus:
    """Report whether the OCR engine ``config.engine`` selects can run here, and what is missing if not.

    Parameters
    ----------
    config : OcrConfig, optional
        Defaults to :meth:`OcrConfig.from_env`.
    refresh : bool
        Probe Tesseract again instead of using the cached answer (e.g. after installing it).
    """
    from .engines import get_engine  # engines builds on this module

    config = config or OcrConfig.from_env()
    if refresh:
        tesseract_status(config, refresh=True)
    return get_engine(config).status()


def require_ocr(filename: str | None, config: OcrConfig) -> None:
    """Raise :class:`OcrUnavailable` naming ``filename`` and what is missing, if OCR cannot run."""
    status = ocr_available(config)
    if not status.available:
        raise OcrUnavailable(filename, missing=status.missing)


def _run(
    args: list[str], *, filename: str, page: int, timeout: float, env: dict[str, str] | None = None
) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - argument list built here, no shell
            args, capture_output=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        raise FileRejected("ocr_timeout", filename, page=page, seconds=round(timeout)) from None
    except OSError as exc:
        raise FileRejected("ocr_failed", filename, page=page, reason="ocr_engine_error",
                           detail=f"{type(exc).__name__}: {exc}") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = err[-1] if err else f"exit status {done.returncode}"
        raise FileRejected("ocr_failed", filename, page=page, reason="ocr_engine_error", detail=f"{args[0]}: {detail}")
    return done.stdout.decode("utf-8", "replace")


def rasterise_pdf_page(pdf_path: Path, page: int, out_dir: Path, config: OcrConfig, *, filename: str) -> Path:
    """Render one page (1-based) of a PDF to a greyscale PNG with pdftoppm; return its path."""
    prefix = out_dir / f"page-{page}"
    _run(
        [
            config.pdftoppm,
            "-f",
            str(page),
            "-l",
            str(page),
            "-r",
            str(config.dpi),
            *(() if config.drop_red else ("-gray",)),
            "-png",
            "-singlefile",
            "--",
            str(pdf_path),
            str(prefix),
        ],
        filename=filename,
        page=page,
        timeout=config.page_timeout,
    )
    out = prefix.with_suffix(".png")
    if not out.is_file():
        raise FileRejected("ocr_failed", filename, page=page, reason="no_page_image", detail="pdftoppm wrote no image")
    if config.drop_red:
        from PIL import Image

        with Image.open(out) as image:
            grey = drop_red_ink(image)
        grey.save(out)
    return out


def drop_red_ink(image: Any) -> Any:
    """A greyscale page without its red ink.

    Seals (公章) are red; in an ordinary greyscale conversion a seal over a signature line is as dark as
    the names under it. The red channel keeps black and blue ink dark and makes pure red light, but a seal
    printed on grey paper, or blurred into it, stays a mid-grey there (R 176 on paper of 211): so each
    pixel is also lightened by how much redder than green and blue it is, never past the paper's own
    lightness (the page's median). A grey image is returned as it is.
    """
    if image.mode not in ("RGB", "RGBA", "CMYK", "P", "YCbCr"):
        return image if image.mode == "L" else image.convert("L")
    import numpy as np
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    red = rgb[:, :, 0]
    redness = red - np.maximum(rgb[:, :, 1], rgb[:, :, 2])
    paper = np.int16(np.median(red[::4, ::4]))  # a sample is enough: most of a page is paper
    lifted = np.where(redness > 0, np.minimum(red + redness, np.maximum(red, paper)), red)
    return Image.fromarray(lifted.astype(np.uint8), mode="L")


#: isolated specks (pixels 80 levels darker or lighter than all eight neighbours) above this share of a
#: page mean salt-and-pepper noise; printed text at 300 dpi has none (strokes are several pixels wide)
SPECKLE_SHARE = 0.0005


def clean_page(image: Any) -> Any:
    """A greyscale page made easier to read: its paper evened out to white and its specks removed.

    - Background: the paper's lightness is estimated at 1/8 scale (the lightest value around each point,
      then a median), and every pixel divided by it, so grey or mottled paper becomes white and the ink
      keeps its contrast (shading correction).
    - Salt-and-pepper noise: when more than :data:`SPECKLE_SHARE` of the pixels are isolated specks, a
      3 × 3 median filter removes them; pages without specks are left sharp.

    Takes and returns a PIL image (grey, or converted to grey).
    """
    import cv2
    import numpy as np
    from PIL import Image

    grey = np.asarray(image if image.mode == "L" else image.convert("L"))
    height, width = grey.shape
    small = cv2.resize(grey, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.medianBlur(cv2.dilate(small, np.ones((7, 7), np.uint8)), 7)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    flat: np.ndarray = np.clip(grey.astype(np.float32) * 255.0 / np.maximum(paper, 1), 0, 255).astype(np.uint8)
    ring = np.ones((3, 3), np.uint8)
    ring[1, 1] = 0
    wide = flat.astype(np.int16)
    specks = ((cv2.erode(flat, ring).astype(np.int16) - wide > 80) | (wide - cv2.dilate(flat, ring) > 80)).mean()
    if specks > SPECKLE_SHARE:
        flat = cv2.medianBlur(flat, 3)
    return Image.fromarray(flat, mode="L")


def ocr_image(
    image_path: Path, config: OcrConfig, *, filename: str, page: int = 1, timeout: float | None = None
) -> list[str]:
    """Run Tesseract on an image file; return the text of each page it holds (TIFFs may hold several).

    ``timeout`` defaults to ``config.page_timeout``; pass more for a multi-page TIFF.
    """
    env = dict(os.environ, OMP_THREAD_LIMIT=str(config.threads))

    def run(psm: int) -> list[str]:
        out = _run(
            [
                config.tesseract,
                str(image_path),
                "stdout",
                "-l",
                config.languages,
                "--psm",
                str(psm),
                "--dpi",
                str(config.dpi),
                "-c",
                "preserve_interword_spaces=1",
            ],
            filename=filename,
            page=page,
            timeout=config.page_timeout if timeout is None else timeout,
            env=env,
        )
        pages = out.split("\f")
        if len(pages) > 1 and not pages[-1].strip():
            pages = pages[:-1]
        return [full_width_punctuation(join_cjk_spaces(p)).strip() for p in pages]

    texts = run(config.psm)
    if (
        config.fallback_psm is not None
        and config.fallback_psm != config.psm
        and all(len(t) < 3 for t in texts)
    ):
        texts = run(config.fallback_psm)
    return texts


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A private temporary directory for rasterised pages (removed on exit)."""
    return tempfile.TemporaryDirectory(prefix="evalplat-ocr-")
