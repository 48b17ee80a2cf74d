"""One exception hierarchy for file handling, encryption and extraction.

Every error carries a stable ``code`` (for logs, audit rows and tests), the ``filename`` it concerns
(when there is one) and the ``params`` that fill its message. Messages exist in Chinese (the default)
and English; this layer has no Flask, so the caller picks the language with ``message(lang)``.

Hierarchy::

    CodedError
    ├── FileRejected       a file (or zip entry) the platform will not accept or cannot read
    │   └── OcrUnavailable a file needs OCR but no OCR engine (RapidOCR, Tesseract) or pdftoppm is installed
    ├── StorageError       storage misconfigured or a key not found
    └── CryptoError        key ring missing or invalid, ciphertext unreadable
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "MESSAGES",
    "REASONS",
    "CodedError",
    "CryptoError",
    "FileRejected",
    "Notice",
    "OcrUnavailable",
    "StorageError",
    "render_message",
]

LANGUAGES = ("zh", "en")

OCR_INSTALL_HINT = (
    "pip install rapidocr onnxruntime; apt-get install poppler-utils "
    "(Tesseract fallback: apt-get install tesseract-ocr tesseract-ocr-chi-sim poppler-utils)"
)

# code -> (zh, en). Placeholders are filled from the error's params plus ``filename``.
MESSAGES: dict[str, tuple[str, str]] = {
    # --- content checks (sniff) ---
    "empty_file": ("文件“{filename}”是空文件。", "File '{filename}' is empty."),
    "too_large": (
        "文件“{filename}”大小为 {size_mb} MB，超过上限 {limit_mb} MB。",
        "File '{filename}' is {size_mb} MB, above the limit of {limit_mb} MB.",
    ),
    "unsupported_type": (
        "文件“{filename}”的类型不受支持（检测到：{detected}）。允许的类型：PDF、DOCX、TXT、PNG、JPEG、TIFF。",
        "File '{filename}' has an unsupported type (detected: {detected}). "
        "Allowed: PDF, DOCX, TXT, PNG, JPEG, TIFF.",
    ),
    "type_not_allowed": (
        "文件“{filename}”的类型 {detected} 在此处不被允许。",
        "File '{filename}' is of type {detected}, which is not allowed here.",
    ),
    "old_word_format": (
        "文件“{filename}”是旧版 Word（.doc）或其他旧版 Office 格式，不受支持。请用 Word 或 WPS 另存为 .docx 后重新上传。",
        "File '{filename}' is an old Word (.doc) or other legacy Office file, which is not supported. "
        "Please save it as .docx in Word or WPS and upload it again.",
    ),
    "encrypted_office": (
        "文件“{filename}”是加密（设有打开密码）的 Office 文档，请去除密码后另存为 .docx 再上传。",
        "File '{filename}' is a password-protected Office document. "
        "Remove the password, save it as .docx and upload it again.",
    ),
    "executable": (
        "文件“{filename}”是可执行程序或脚本，不允许上传。",
        "File '{filename}' is an executable program or script and may not be uploaded.",
    ),
    "archive_not_allowed": (
        "文件“{filename}”是压缩包（{detected}），此处只接受单个文档。",
        "File '{filename}' is an archive ({detected}); only single documents are accepted here.",
    ),
    "encrypted_pdf": (
        "PDF 文件“{filename}”已加密（需要密码才能打开），请提供未加密的版本。",
        "PDF file '{filename}' is encrypted (a password is needed to open it). Please supply an unencrypted copy.",
    ),
    "pdf_javascript": (
        "PDF 文件“{filename}”含有脚本或自动执行的动作（{detected}），不予接受。请去除后（例如用“打印为 PDF”另存一份）"
        "重新上传。",
        "PDF file '{filename}' contains a script or an automatic action ({detected}) and is refused. "
        "Remove it (for example by printing the document to a new PDF) and upload it again.",
    ),
    "corrupt_pdf": (
        "PDF 文件“{filename}”已损坏或无法读取：{reason}",
        "PDF file '{filename}' is corrupt or unreadable: {reason}",
    ),
    "corrupt_docx": (
        "Word 文件“{filename}”已损坏或无法读取：{reason}",
        "Word file '{filename}' is corrupt or unreadable: {reason}",
    ),
    "corrupt_image": (
        "图片文件“{filename}”已损坏或无法识别：{reason}",
        "Image file '{filename}' is corrupt or unreadable: {reason}",
    ),
    "text_encoding": (
        "文本文件“{filename}”既不是 UTF-8 也不是 GB18030 编码，请另存为 UTF-8 后上传。",
        "Text file '{filename}' is neither UTF-8 nor GB18030; please save it as UTF-8 and upload it again.",
    ),
    # --- zip archives ---
    "zip_corrupt": (
        "压缩包“{filename}”已损坏或不是 zip 文件：{reason}",
        "Archive '{filename}' is corrupt or not a zip file: {reason}",
    ),
    "zip_path_traversal": (
        "压缩包中的“{filename}”路径不安全（{reason}），已拒绝。",
        "Entry '{filename}' in the archive has an unsafe path ({reason}) and was rejected.",
    ),
    "zip_symlink": (
        "压缩包中的“{filename}”是符号链接，已拒绝。",
        "Entry '{filename}' in the archive is a symbolic link and was rejected.",
    ),
    "zip_nested": (
        "压缩包中的“{filename}”本身是压缩包；不接受嵌套压缩包，请解开后重新打包。",
        "Entry '{filename}' in the archive is itself an archive; nested archives are refused. "
        "Unpack it and zip the files directly.",
    ),
    "zip_encrypted_entry": (
        "压缩包中的“{filename}”设有密码，无法读取。",
        "Entry '{filename}' in the archive is password-protected and cannot be read.",
    ),
    "zip_no_case_folder": (
        "压缩包中的“{filename}”不在任何案件文件夹内；每个案件的文件应放在以案号命名的文件夹中。",
        "Entry '{filename}' in the archive is not inside a case folder; "
        "put each case's files in a folder named after its case number.",
    ),
    "zip_too_many_entries": (
        "压缩包“{filename}”包含 {count} 个条目，超过上限 {limit}。",
        "Archive '{filename}' has {count} entries, above the limit of {limit}.",
    ),
    "zip_too_large": (
        "压缩包“{filename}”解压后共 {size_mb} MB，超过上限 {limit_mb} MB。",
        "Archive '{filename}' would unpack to {size_mb} MB, above the limit of {limit_mb} MB.",
    ),
    "zip_entry_too_large": (
        "压缩包中的“{filename}”解压后为 {size_mb} MB，超过单个文件上限 {limit_mb} MB。",
        "Entry '{filename}' in the archive unpacks to {size_mb} MB, above the per-file limit of {limit_mb} MB.",
    ),
    "zip_bomb": (
        "压缩包中的“{filename}”压缩比为 {ratio}:1，超过上限 {limit}:1，疑似压缩炸弹，已拒绝。",
        "Entry '{filename}' in the archive has a compression ratio of {ratio}:1, above the limit of "
        "{limit}:1; it looks like a decompression bomb and was rejected.",
    ),
    # --- extraction / OCR ---
    "ocr_unavailable": (
        "文件“{filename}”需要文字识别（OCR），但本机缺少：{missing}。请安装：{hint}",
        "File '{filename}' needs OCR, but this machine lacks: {missing}. Install with: {hint}",
    ),
    "ocr_tools_missing": (
        "文字识别（OCR）不可用，本机缺少：{missing}。请安装：{hint}",
        "OCR is unavailable; this machine lacks: {missing}. Install with: {hint}",
    ),
    "ocr_failed": (
        "文件“{filename}”第 {page} 页文字识别失败：{reason}",
        "OCR of page {page} of file '{filename}' failed: {reason}",
    ),
    "ocr_timeout": (
        "文件“{filename}”第 {page} 页处理超时（{seconds} 秒）。",
        "Processing page {page} of file '{filename}' timed out after {seconds} s.",
    ),
    # --- storage ---
    "storage_not_configured": (
        "未配置文件存储位置（EVALPLAT_STORAGE_URL）。",
        "File storage is not configured (EVALPLAT_STORAGE_URL).",
    ),
    "storage_bad_url": (
        "文件存储地址“{url}”无效：{reason}",
        "Storage URL '{url}' is invalid: {reason}",
    ),
    "storage_bad_key": ("存储键“{key}”无效。", "Storage key '{key}' is invalid."),
    "storage_not_found": ("存储中找不到文件（键 {key}）。", "No stored file has key {key}."),
    "storage_backend_missing": (
        "文件存储后端 {backend} 需要 Python 包 {package}，请先安装：pip install {package}",
        "Storage backend {backend} needs the Python package {package}; install it with: pip install {package}",
    ),
    # --- encryption ---
    "keyring_missing": (
        "未配置数据加密密钥（环境变量 {variable}）。可用 `python -m evalplat.files.crypto` 生成一个。",
        "No data encryption key is configured (environment variable {variable}). "
        "Generate one with `python -m evalplat.files.crypto`.",
    ),
    "keyring_invalid": (
        "数据加密密钥配置第 {position} 项无效：{reason}",
        "Entry {position} of the data encryption key configuration is invalid: {reason}",
    ),
    "keyring_not_configured": (
        "应用启动时未设置加密密钥环（configure_keyring）。",
        "The encryption key ring was not set at application start-up (configure_keyring).",
    ),
    "key_unknown": (
        "密文使用的密钥“{kid}”不在当前密钥环中，无法解密。",
        "The ciphertext was made with key '{kid}', which is not in the key ring; it cannot be decrypted.",
    ),
    "ciphertext_malformed": (
        "密文格式无效：{reason}",
        "The ciphertext is malformed: {reason}",
    ),
    "decrypt_failed": (
        "解密失败：密钥“{kid}”不匹配，或数据已被篡改。",
        "Decryption failed: key '{kid}' does not match or the data was tampered with.",
    ),
    # --- extraction notices (warnings, not errors) ---
    "page_without_text": (
        "第 {page} 页没有可提取的文字。",
        "Page {page} has no extractable text.",
    ),
    "pages_need_ocr_skipped": (
        "第 {pages} 页没有文字层，未进行文字识别（OCR 已关闭）。",
        "Pages {pages} have no text layer and were not OCR'd (OCR is switched off).",
    ),
    "ocr_low_text": (
        "第 {page} 页文字识别结果很少，请检查扫描质量。",
        "OCR found very little text on page {page}; please check the scan quality.",
    ),
    "pdf_owner_password": (
        "PDF 设有权限密码（无打开密码），已正常读取。",
        "The PDF has an owner (permissions) password but no open password; it was read normally.",
    ),
    "text_decoded_gb18030": (
        "文本按 GB18030 编码读取。",
        "The text was read as GB18030.",
    ),
}


# Why a file could not be read: reason code -> (zh, en). A file error's ``reason`` parameter is one of these
# codes, so that the user reads it in their language; what the library said goes to the log only (issue 13).
REASONS: dict[str, tuple[str, str]] = {
    "unreadable": ("文件无法读取", "the file cannot be read"),
    "no_pages": ("文件中没有任何页面", "the document has no pages"),
    "damaged_structure": ("文件结构不完整或已损坏，无法解析", "its structure is incomplete or damaged and cannot be parsed"),
    "objects_unreadable": ("文件内部的对象无法读取", "its internal objects cannot be read"),
    "not_a_package": ("不是有效的 Word（.docx）文件包", "it is not a valid Word (.docx) package"),
    "damaged_content": ("文档内容已损坏，无法解析", "its content is damaged and cannot be parsed"),
    "damaged_archive": ("压缩数据已损坏或不完整", "its compressed data is damaged or incomplete"),
    "entries_overlap": ("条目相互重叠（压缩炸弹或文件已损坏）", "its entries overlap (a decompression bomb or a damaged file)"),
    "control_characters": ("名称中含有控制字符", "control characters in the name"),
    "absolute_path": ("绝对路径", "absolute path"),
    "drive_letter": ("含有盘符", "drive letter"),
    "parent_directory": ("指向上级目录（..）", "parent directory (..)"),
    "image_unreadable": ("图像无法打开或已损坏", "the image cannot be opened or is damaged"),
    "ocr_engine_error": ("文字识别程序出错", "the OCR engine failed on it"),
    "worker_lost": ("读取该页的进程意外终止（例如因内存不足被系统结束），重试后仍然如此",
                    "the process reading it died (killed for lack of memory, for instance), also when retried"),
    "no_page_image": ("无法将该页转换为图像", "the page could not be turned into an image"),
}


def reason_text(reason: Any, lang: str = "zh") -> str:
    """A reason code in ``lang``; anything else as it is (messages built before reasons were codes)."""
    texts = REASONS.get(reason) if isinstance(reason, str) else None
    if texts is None:
        return str(reason)
    return texts[1 if lang.lower().startswith("en") else 0]


class _SafeParams(dict[str, Any]):
    """Format mapping that leaves unknown placeholders visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_message(code: str, lang: str = "zh", **params: Any) -> str:
    """Render the message for ``code`` in ``lang``.

    Parameters
    ----------
    code : str
        A key of :data:`MESSAGES`.
    lang : str
        ``"zh"`` (default) or ``"en"``; a regional tag such as ``"zh-CN"`` or ``"en_GB"`` is accepted.
    **params
        Values for the placeholders.

    Returns
    -------
    str
        The message; an unknown code renders as the code and its parameters.
    """
    templates = MESSAGES.get(code)
    if templates is None:
        detail = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
        return f"{code} ({detail})" if detail else code
    index = 1 if lang.lower().startswith("en") else 0
    if "reason" in params:
        params = {**params, "reason": reason_text(params["reason"], lang)}
    return templates[index].format_map(_SafeParams(params))


class CodedError(Exception):
    """Base of all errors in this layer: a stable code, parameters and bilingual messages.

    Parameters
    ----------
    code : str
        Stable machine-readable code (a key of :data:`MESSAGES`).
    filename : str, optional
        The file or zip entry the error concerns (its original, display name).
    **params
        Values that fill the message.
    """

    def __init__(self, code: str, filename: str | None = None, **params: Any) -> None:
        self.code = code
        self.filename = filename
        self.params: dict[str, Any] = params
        super().__init__(self.message("zh"))

    def message(self, lang: str = "zh") -> str:
        """Return the message in ``lang`` (``"zh"`` default, or ``"en"``)."""
        return render_message(self.code, lang, filename=self.filename or "", **self.params)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for job status, JSON responses and import reports."""
        return {
            "code": self.code,
            "filename": self.filename,
            "params": dict(self.params),
            "message_zh": self.message("zh"),
            "message_en": self.message("en"),
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, filename={self.filename!r}, params={self.params!r})"
        )


class FileRejected(CodedError):
    """A file or zip entry the platform will not accept or cannot read.

    ``reason`` (when the message has one) is a key of :data:`REASONS`; ``detail`` is what the library said,
    written to the log and kept on ``self.detail``, never put into the message. A reason that is not a key
    (a library's text) is treated as detail, and the message says only that the file cannot be read.
    """

    def __init__(self, code: str, filename: str | None = None, *, detail: str | None = None, **params: Any) -> None:
        reason = params.get("reason")
        if reason is not None and reason not in REASONS:
            detail = f"{detail}; {reason}" if detail else str(reason)
            params["reason"] = "unreadable"
        self.detail = detail
        super().__init__(code, filename, **params)
        if detail:
            log.warning("file %r refused (%s, %s): %s", filename, code, params.get("reason", "-"), detail)


class OcrUnavailable(FileRejected):
    """A file needs OCR but the OCR tools are missing on this machine.

    Parameters
    ----------
    filename : str, optional
        The file that needed OCR.
    missing : sequence of str
        What is missing, e.g. ``["tesseract", "chi_sim"]``.
    """

    def __init__(self, filename: str | None = None, *, missing: list[str] | tuple[str, ...]) -> None:
        self.missing = tuple(missing)
        super().__init__("ocr_unavailable", filename, missing=", ".join(self.missing), hint=OCR_INSTALL_HINT)


class StorageError(CodedError):
    """Storage misconfigured, a key invalid or not found, a backend package missing."""


class CryptoError(CodedError):
    """Key ring missing or invalid, or a ciphertext that cannot be decrypted."""


@dataclass(frozen=True)
class Notice:
    """A warning attached to a result (not an error): a code, its parameters, bilingual messages."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        """Return the notice in ``lang`` (``"zh"`` default, or ``"en"``)."""
        return render_message(self.code, lang, **dict(self.params))
