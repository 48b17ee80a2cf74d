"""Decide what a file is from its content (magic bytes), never from its name, and refuse what is not allowed.

Allowed kinds: ``pdf`` (unencrypted, or with only an owner/permissions password), ``docx`` (a zip
with ``word/document.xml``), ``text`` (UTF-8 with or without BOM, or GB18030; no NUL bytes),
``png``, ``jpeg``, ``tiff``. Everything else is rejected with a named :class:`FileRejected`:
``empty_file``, ``too_large``, ``old_word_format`` (OLE2: .doc/.xls/.ppt), ``encrypted_office``,
``encrypted_pdf``, ``pdf_javascript`` (JavaScript, automatic or launch actions), ``corrupt_pdf``, ``corrupt_docx``, ``executable``, ``archive_not_allowed``,
``text_encoding``, ``unsupported_type`` or ``type_not_allowed``.

Examples
--------
>>> sniff(b"%PDF-1.4 ...", "a.pdf", check_pdf=False).kind
'pdf'
>>> sniff("判决书".encode("gb18030"), "判决.txt").encoding
'gb18030'
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .errors import FileRejected

__all__ = [
    "ALL_KINDS",
    "DEFAULT_MAX_FILE_BYTES",
    "IMAGE_KINDS",
    "SniffResult",
    "decode_text",
    "is_zip",
    "open_pdf",
    "pdf_active_content",
    "sniff",
]

DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
ALL_KINDS = frozenset({"pdf", "docx", "text", "png", "jpeg", "tiff"})
IMAGE_KINDS = frozenset({"png", "jpeg", "tiff"})

MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text": "text/plain",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_EXECUTABLE_MAGICS = (
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "ELF executable"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal binary / Java class"),
    (b"#!", "script"),
)
_OTHER_ARCHIVES = (
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\x0b")
#: characters below a space other than the allowed ones (counted in C, not per character in Python)
_CONTROLS = re.compile("[" + "".join(re.escape(chr(c)) for c in range(32) if chr(c) not in _ALLOWED_CONTROLS) + "]")


@dataclass(frozen=True)
class SniffResult:
    """What a file is.

    Attributes
    ----------
    kind : str
        One of :data:`ALL_KINDS`.
    mime : str
        Its MIME type.
    size : int
        Size in bytes.
    encoding : str or None
        For ``text``: ``"utf-8"``, ``"utf-8-sig"`` or ``"gb18030"``.
    pdf_owner_password : bool
        For ``pdf``: the file is encrypted with an empty open password (permissions only).
    """

    kind: str
    mime: str
    size: int
    encoding: str | None = None
    pdf_owner_password: bool = False


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive."""
    return data.startswith(_ZIP_MAGICS)


def decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode plain text as UTF-8 (with or without BOM) or GB18030.

    Returns
    -------
    (str, str) or None
        ``(text, encoding)``, or None when the bytes are not text: a NUL byte, undecodable, or more
        than 1 % control characters.
    """
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = len(_CONTROLS.findall(text))
        if controls > max(1, len(text) // 100):
            return None
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    return None


def open_pdf(data: bytes, filename: str) -> tuple[Any, bool]:
    """Open a PDF with pypdf, refusing encrypted and corrupt files.

    Returns
    -------
    (pypdf.PdfReader, bool)
        The reader (decrypted when only an owner/permissions password is set) and whether it was.

    Raises
    ------
    FileRejected
        ``encrypted_pdf`` (an open password is needed) or ``corrupt_pdf``.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        owner_only = False
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except (NotImplementedError, PdfReadError) as exc:
                raise FileRejected("encrypted_pdf", filename, detail=str(exc)) from None
            if not decrypted:
                raise FileRejected("encrypted_pdf", filename)
            owner_only = True
        if len(reader.pages) == 0:
            raise FileRejected("corrupt_pdf", filename, reason="no_pages")
    except FileRejected:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise FileRejected("corrupt_pdf", filename, reason="damaged_structure",
                           detail=f"{type(exc).__name__}: {exc}") from None
    return reader, owner_only


#: dictionary keys and action types that make a PDF run something: JavaScript (a /JS action or the
#: document's /JavaScript name tree), additional actions fired by events (/AA), and launching programs
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/AA": "automatic actions (/AA)"}
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "launch action", "/RichMediaExecute": "rich media"}
#: objects visited at most when looking for scripts (a PDF's dictionaries, not its page content)
MAX_PDF_OBJECTS = 500_000


def pdf_active_content(reader: Any) -> str | None:
    """What in an opened PDF would run on its own: ``"JavaScript"``, ``"automatic actions (/AA)"`` …, or None.

    Every dictionary reachable from the document catalogue is visited once (object streams included, names
    decoded by pypdf, so ``/J#61vaScript`` is ``/JavaScript``); stream contents are not read.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack: list[Any] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            if len(seen) > MAX_PDF_OBJECTS:
                return "too many objects to check"
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in _ACTIVE_KEYS:
                    return _ACTIVE_KEYS[key]
                if key == "/S" and value in _ACTIVE_ACTIONS:
                    return _ACTIVE_ACTIONS[value]
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return None


def _check_zip_kind(data: bytes, filename: str, max_bytes: int) -> str:
    """Return ``"docx"`` for a Word document, otherwise reject the zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                unpacked = sum(info.file_size for info in zf.infolist())
                if unpacked > max_bytes * 4:
                    raise FileRejected(
                        "too_large",
                        filename,
                        size_mb=round(unpacked / 2**20, 1),
                        limit_mb=round(max_bytes * 4 / 2**20, 1),
                    )
                return "docx"
            if "xl/workbook.xml" in names or "ppt/presentation.xml" in names:
                detected = "xlsx" if "xl/workbook.xml" in names else "pptx"
                raise FileRejected("unsupported_type", filename, detected=detected)
    except zipfile.BadZipFile as exc:
        raise FileRejected("corrupt_docx", filename, reason="not_a_package", detail=f"{type(exc).__name__}: {exc}") from None
    raise FileRejected("archive_not_allowed", filename, detected="zip")


def sniff(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    allowed: Collection[str] = ALL_KINDS,
    check_pdf: bool = True,
) -> SniffResult:
    """Identify ``data`` by content and check it against the allow-list and the size limit.

    Parameters
    ----------
    data : bytes
        The whole file.
    filename : str
        Its original name, used only in error messages.
    max_bytes : int
        Size limit (default 64 MiB).
    allowed : collection of str
        Kinds accepted here (default all of :data:`ALL_KINDS`).
    check_pdf : bool
        Open PDFs to refuse encrypted and corrupt ones (default True).

    Returns
    -------
    SniffResult

    Raises
    ------
    FileRejected
        With the codes listed in the module docstring.
    """
    size = len(data)
    if size == 0:
        raise FileRejected("empty_file", filename)
    if size > max_bytes:
        raise FileRejected(
            "too_large", filename, size_mb=round(size / 2**20, 1), limit_mb=round(max_bytes / 2**20, 1)
        )
    head = data[:1024]
    encoding: str | None = None
    owner_only = False
    if head.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileRejected("encrypted_office", filename)
        raise FileRejected("old_word_format", filename)
    if b"%PDF-" in head:
        kind = "pdf"
        if check_pdf and "pdf" in allowed:
            reader, owner_only = open_pdf(data, filename)
            try:
                active = pdf_active_content(reader)
            except Exception as exc:  # pypdf raises many types on damaged object graphs
                raise FileRejected("corrupt_pdf", filename, reason="objects_unreadable",
                                   detail=f"{type(exc).__name__}: {exc}") from None
            if active:
                raise FileRejected("pdf_javascript", filename, detected=active)
    elif is_zip(data):
        kind = _check_zip_kind(data, filename, max_bytes)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif data.startswith((b"II*\x00", b"MM\x00*")):
        kind = "tiff"
    else:
        for magic, label in _EXECUTABLE_MAGICS:
            if data.startswith(magic):
                raise FileRejected("executable", filename, detected=label)
        for magic, label in _OTHER_ARCHIVES:
            if data.startswith(magic):
                raise FileRejected("archive_not_allowed", filename, detected=label)
        decoded = decode_text(data)
        if decoded is None:
            if b"\x00" in data[:8192]:
                raise FileRejected("unsupported_type", filename, detected="binary data")
            raise FileRejected("text_encoding", filename)
        kind, encoding = "text", decoded[1]
    if kind not in allowed:
        raise FileRejected("type_not_allowed", filename, detected=kind)
    return SniffResult(
        kind=kind, mime=MIME_TYPES[kind], size=size, encoding=encoding, pdf_owner_password=owner_only
    )
