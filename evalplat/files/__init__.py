"""Pure file handling for case intake: storage, encryption at rest, content sniffing, safe zips.

No Flask views and no database sessions here; :mod:`evalplat.files.encrypted_type` is the one
module that imports SQLAlchemy (it defines a column type) and is not imported by this package.
"""

from .archive import SafeZip, ZipEntry, ZipLimits, ZipListing, open_zip
from .crypto import KeyRing, generate_key
from .errors import CodedError, CryptoError, FileRejected, Notice, OcrUnavailable, StorageError
from .sniff import ALL_KINDS, DEFAULT_MAX_FILE_BYTES, SniffResult, sniff
from .storage import EncryptedStorage, LocalStorage, S3Storage, Storage, content_key, storage_from_config

__all__ = [
    "ALL_KINDS",
    "DEFAULT_MAX_FILE_BYTES",
    "CodedError",
    "CryptoError",
    "EncryptedStorage",
    "FileRejected",
    "KeyRing",
    "LocalStorage",
    "Notice",
    "OcrUnavailable",
    "S3Storage",
    "SafeZip",
    "SniffResult",
    "Storage",
    "StorageError",
    "ZipEntry",
    "ZipLimits",
    "ZipListing",
    "content_key",
    "generate_key",
    "open_zip",
    "sniff",
    "storage_from_config",
]
