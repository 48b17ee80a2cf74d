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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OcrConfig:
        """Read ``EVALPLAT_OCR_ENGINE``, ``EVALPLAT_OCR_ANGLE_CLASSIFIER`` (``1`` to switch it on),
        ``EVALPLAT_OCR_DROP_RED`` (``0`` to read pages in plain grey),
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
            angle_classifier=_flag(env.get("EVALPLAT_OCR_ANGLE_CLASSIFIER"), default.angle_classifier),
            drop_red=_flag(env.get("EVALPLAT_OCR_DROP_RED"), default.drop_red),
        )


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


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
    """A greyscale page without its red ink: the red channel of a colour image (a grey one as it is).

    Seals (公章) are red; in an ordinary greyscale conversion a seal over a signature line is as dark as
    the names under it. In the red channel red is nearly white while black and blue ink stay dark.
    """
    if image.mode in ("RGB", "RGBA", "CMYK", "P", "YCbCr"):
        return image.convert("RGB").getchannel("R")
    return image if image.mode == "L" else image.convert("L")


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
        return [join_cjk_spaces(p).strip() for p in pages]

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
