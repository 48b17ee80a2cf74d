"""Safe reading of uploaded zip archives: one folder per case number.

Whole-archive problems raise :class:`FileRejected` at open time (not a zip, too many entries, too
large when unpacked, overlapping entries). Problems with a single entry — a path such as
``../../etc/passwd``, an absolute path or drive letter, a symbolic link, a nested archive, a
password, a suspicious compression ratio, a file outside any case folder — reject that entry only:
it is listed in :attr:`ZipListing.rejected` with a named error and the rest of the archive proceeds.

File names written by Chinese Windows tools (GBK/GB18030 bytes without the UTF-8 flag, bit 11)
are decoded correctly, as are names carried in the Info-ZIP Unicode Path extra field.

Examples
--------
>>> with open_zip(zip_bytes, archive_name="cases.zip") as archive:   # doctest: +SKIP
...     for case_number, entries in archive.listing.by_case().items():
...         for entry in entries:
...             data = archive.read(entry)
"""

from __future__ import annotations

import io
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO

from .errors import FileRejected
from .sniff import DEFAULT_MAX_FILE_BYTES, is_zip

__all__ = ["SafeZip", "ZipEntry", "ZipLimits", "ZipListing", "decode_entry_name", "open_zip"]

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075
_S_IFMT = 0o170000
_S_IFLNK = 0o120000
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".jar", ".cab")
_ARCHIVE_MAGICS = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class ZipLimits:
    """Limits applied to an uploaded archive.

    Attributes
    ----------
    max_entries : int
        Most entries (files and folders) in the archive.
    max_total_bytes : int
        Most bytes all entries may unpack to.
    max_entry_bytes : int
        Most bytes one entry may unpack to.
    max_ratio : float
        Highest compression ratio accepted for an entry larger than ``ratio_floor_bytes``.
    ratio_floor_bytes : int
        Entries smaller than this are not ratio-checked (a small blank page compresses very well).
    """

    max_entries: int = 10_000
    max_total_bytes: int = 4 * 1024**3
    max_entry_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class ZipEntry:
    """One accepted file in the archive.

    Attributes
    ----------
    path : str
        Decoded path inside the archive, ``/``-separated (for display and error messages).
    case_folder : str
        The top folder: the case number.
    relative_path : str
        The path below the case folder.
    display_name : str
        The file's own name (e.g. ``"判决书.pdf"``), kept for display.
    size, compressed_size : int
        Declared sizes in bytes.
    """

    path: str
    case_folder: str
    relative_path: str
    display_name: str
    size: int
    compressed_size: int
    info: zipfile.ZipInfo = field(repr=False, compare=False)


@dataclass
class ZipListing:
    """What an archive holds: accepted entries, rejected entries with their errors, skipped items."""

    archive_name: str
    entries: list[ZipEntry] = field(default_factory=list)
    rejected: list[FileRejected] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def by_case(self) -> dict[str, list[ZipEntry]]:
        """Group accepted entries by case folder, in archive order."""
        groups: dict[str, list[ZipEntry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.case_folder, []).append(entry)
        return groups


def _unicode_path_extra(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """Return the Info-ZIP Unicode Path (0x7075) if present and matching ``raw``."""
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag == _UNICODE_PATH_EXTRA and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def decode_entry_name(info: zipfile.ZipInfo) -> str:
    """Return the entry's real file name.

    Python decodes names without the UTF-8 flag (bit 11) as CP437. Chinese Windows tools write GBK
    bytes there, so those are recovered as: the Unicode Path extra field, else UTF-8 (some tools
    omit the flag), else GB18030 (a superset of GBK), else CP437 as a last resort.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:  # the archive was opened with another metadata encoding
        return info.filename
    from_extra = _unicode_path_extra(info, raw)
    if from_extra is not None:
        return from_extra
    if raw.isascii():
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _path_problem(name: str) -> str | None:
    """Why ``name`` is unsafe as a path (a reason code of :data:`evalplat.files.errors.REASONS`), or None."""
    if any(ord(ch) < 32 for ch in name):
        return "control_characters"
    if name.startswith("/"):
        return "absolute_path"
    if _DRIVE_RE.match(name):
        return "drive_letter"
    if any(part == ".." for part in name.split("/")):
        return "parent_directory"
    return None


class SafeZip:
    """An opened archive: :attr:`listing` to see what it holds, :meth:`read` to unpack one entry.

    Use :func:`open_zip` to create one; close it (or use ``with``) when done.
    """

    def __init__(self, zf: zipfile.ZipFile, listing: ZipListing, limits: ZipLimits) -> None:
        self._zf = zf
        self.listing = listing
        self.limits = limits

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zf.close()

    def read(self, entry: ZipEntry) -> bytes:
        """Unpack one entry, never reading more than the per-entry limit.

        Raises
        ------
        FileRejected
            ``zip_entry_too_large`` (the real size exceeds the limit whatever the header claims),
            ``zip_nested`` (the content is itself an archive, Word documents excepted) or
            ``zip_corrupt`` (bad CRC, unsupported compression).
        """
        limit = self.limits.max_entry_bytes
        try:
            with self._zf.open(entry.info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError) as exc:
            raise FileRejected("zip_corrupt", entry.path, reason="damaged_archive",
                               detail=f"{type(exc).__name__}: {exc}") from None
        if len(data) > limit:
            raise FileRejected(
                "zip_entry_too_large",
                entry.path,
                size_mb=f">{round(limit / 2**20, 1)}",
                limit_mb=round(limit / 2**20, 1),
            )
        if data.startswith(_ARCHIVE_MAGICS) or (is_zip(data) and not _is_office_zip(data)):
            raise FileRejected("zip_nested", entry.path)
        return data

    def iter_files(self) -> Iterator[tuple[ZipEntry, bytes | FileRejected]]:
        """Yield ``(entry, data)`` for each accepted entry, or ``(entry, error)`` if reading it failed."""
        for entry in self.listing.entries:
            try:
                yield entry, self.read(entry)
            except FileRejected as exc:
                yield entry, exc


def _is_office_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            return "[Content_Types].xml" in inner.namelist()
    except zipfile.BadZipFile:
        return False


def _check_overlaps(infos: list[zipfile.ZipInfo], archive_name: str) -> None:
    """Refuse archives whose entries share compressed data (the 'overlapping files' bomb)."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for current, following in zip(ordered, ordered[1:], strict=False):
        if current.header_offset + current.compress_size > following.header_offset:
            raise FileRejected(
                "zip_corrupt", archive_name, reason="entries_overlap"
            )


def _classify(info: zipfile.ZipInfo, limits: ZipLimits, listing: ZipListing) -> None:
    name = unicodedata.normalize("NFC", decode_entry_name(info)).replace("\\", "/")
    if name.endswith("/") or info.is_dir():
        listing.skipped.append(name)
        return
    problem = _path_problem(name)
    if problem:
        listing.rejected.append(FileRejected("zip_path_traversal", name, reason=problem))
        return
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts:
        listing.skipped.append(name)
        return
    base = parts[-1]
    if parts[0] == "__MACOSX" or base in _JUNK_NAMES or base.startswith("._"):
        listing.skipped.append(name)
        return
    if info.create_system == 3 and (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        listing.rejected.append(FileRejected("zip_symlink", name))
        return
    if info.flag_bits & _ENCRYPTED_FLAG:
        listing.rejected.append(FileRejected("zip_encrypted_entry", name))
        return
    if base.lower().endswith(_ARCHIVE_SUFFIXES):
        listing.rejected.append(FileRejected("zip_nested", name))
        return
    if len(parts) < 2:
        listing.rejected.append(FileRejected("zip_no_case_folder", name))
        return
    if info.file_size > limits.max_entry_bytes:
        listing.rejected.append(
            FileRejected(
                "zip_entry_too_large",
                name,
                size_mb=round(info.file_size / 2**20, 1),
                limit_mb=round(limits.max_entry_bytes / 2**20, 1),
            )
        )
        return
    if info.file_size > limits.ratio_floor_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            listing.rejected.append(
                FileRejected("zip_bomb", name, ratio=round(ratio), limit=round(limits.max_ratio))
            )
            return
    listing.entries.append(
        ZipEntry(
            path=name,
            case_folder=parts[0].strip(),
            relative_path="/".join(parts[1:]),
            display_name=base,
            size=info.file_size,
            compressed_size=info.compress_size,
            info=info,
        )
    )


def open_zip(
    source: bytes | str | os.PathLike[str] | IO[bytes],
    *,
    archive_name: str = "",
    limits: ZipLimits | None = None,
) -> SafeZip:
    """Open an uploaded archive and classify its entries.

    Parameters
    ----------
    source : bytes, path or binary file object
        The archive.
    archive_name : str
        Its original name, for error messages.
    limits : ZipLimits, optional
        Defaults to ``ZipLimits()``.

    Returns
    -------
    SafeZip

    Raises
    ------
    FileRejected
        ``zip_corrupt``, ``zip_too_many_entries`` or ``zip_too_large`` for the whole archive.
    """
    limits = limits or ZipLimits()
    if not archive_name and isinstance(source, str | os.PathLike):
        archive_name = os.path.basename(os.fspath(source))
    fileobj = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileRejected("zip_corrupt", archive_name, reason="damaged_archive",
                           detail=f"{type(exc).__name__}: {exc}") from None
    try:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise FileRejected(
                "zip_too_many_entries", archive_name, count=len(infos), limit=limits.max_entries
            )
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            raise FileRejected(
                "zip_too_large",
                archive_name,
                size_mb=round(total / 2**20, 1),
                limit_mb=round(limits.max_total_bytes / 2**20, 1),
            )
        _check_overlaps(infos, archive_name)
        listing = ZipListing(archive_name=archive_name)
        for info in infos:
            _classify(info, limits, listing)
    except BaseException:
        zf.close()
        raise
    return SafeZip(zf, listing, limits)
