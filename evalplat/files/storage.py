"""Content-addressed blob storage: a small interface, a local-directory backend and an S3 backend.

Keys are the SHA-256 hex digest of the content (or of the plaintext, see
:class:`EncryptedStorage`), so storing the same file twice stores it once and a stored file can be
verified. Original file names never reach the storage layer: the caller keeps them for display.

Examples
--------
>>> import tempfile
>>> store = storage_from_config({"EVALPLAT_STORAGE_URL": "file://" + tempfile.mkdtemp()})
>>> key = store.put(b"hello")
>>> store.get(key)
b'hello'
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import hashlib
import importlib
import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import unquote, urlparse

from .errors import StorageError

__all__ = [
    "EncryptedStorage",
    "LocalStorage",
    "S3Storage",
    "Storage",
    "content_key",
    "storage_from_config",
]

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


def content_key(data: bytes) -> str:
    """Return the storage key of ``data``: its SHA-256 hex digest (64 lower-case hex characters)."""
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_LIBC: Any = None


def _syncfs(path: Path) -> bool:
    """Flush the whole file system that holds ``path`` with one ``syncfs(2)``; False where unavailable."""
    global _LIBC
    if not sys.platform.startswith("linux"):
        return False
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
            _LIBC.syncfs.argtypes = [ctypes.c_int]
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC is False:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC.syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(path))
    finally:
        os.close(fd)
    return True


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise StorageError("storage_bad_key", key=str(key)[:80])
    return key


class Storage(abc.ABC):
    """Interface every backend implements.

    ``put`` and ``put_stream`` return the key. Storing content under a key that already exists is a
    no-op, so imports are idempotent.
    """

    def put(self, data: bytes, *, key: str | None = None) -> str:
        """Store ``data`` and return its key.

        Parameters
        ----------
        data : bytes
            The content.
        key : str, optional
            Store under this key instead of ``sha256(data)``; used by :class:`EncryptedStorage`,
            which addresses ciphertext by the hash of its plaintext.

        Returns
        -------
        str
            The 64-character key.
        """
        key = content_key(data) if key is None else _check_key(key)
        if not self.exists(key):
            self._write(key, data)
        return key

    def put_stream(self, stream: BinaryIO) -> str:
        """Store the content of a readable binary stream without holding it all in memory.

        Returns
        -------
        str
            The key (SHA-256 of everything read from ``stream``).
        """
        digest = hashlib.sha256()
        with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as spool:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                spool.write(chunk)
            key = digest.hexdigest()
            if not self.exists(key):
                spool.seek(0)
                self._write_stream(key, spool)  # type: ignore[arg-type]
        return key

    def get(self, key: str) -> bytes:
        """Return the content stored under ``key``; :class:`StorageError` ``storage_not_found`` if absent."""
        with self.open(key) as fh:
            return fh.read()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make the files stored inside the block durable together when it ends (before it returns).

        Commit the database rows that refer to those files only after the block: on leaving it every file
        written inside is on stable storage under its final name, or (on an exception) none is. Backends
        whose ``put`` is durable on return (S3) need nothing; blocks may nest (the outermost one syncs).
        """
        yield

    @abc.abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """Open the content under ``key`` as a readable binary stream (use as a context manager)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether content is stored under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the content under ``key``; removing an absent key is a no-op."""

    @abc.abstractmethod
    def _write(self, key: str, data: bytes) -> None: ...

    def _write_stream(self, key: str, stream: BinaryIO) -> None:
        self._write(key, stream.read())


class LocalStorage(Storage):
    """Files in a local directory, sharded as ``root/ab/cd/abcd…`` (generated names only).

    Parameters
    ----------
    root : str or Path
        The directory; created (mode 0700) if missing. It must not lie inside a folder named
        ``static`` so that no web server can serve stored files directly.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root).expanduser().resolve()
        if "static" in path.parts:
            raise StorageError(
                "storage_bad_url", url=str(path), reason="the directory lies inside a 'static' folder"
            )
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = path
        self._batches = threading.local()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """Return the file path for ``key`` (whether or not it exists)."""
        _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def _pending(self) -> dict[str, Path] | None:
        """This thread's open batch: key -> written, not yet synced temporary file (None outside a batch)."""
        return getattr(self._batches, "pending", None)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Write files without an fsync each; on leaving, sync them all, rename, sync the directories.

        Inside the block a file is written to a temporary name in its shard directory. At the end the
        data of all of them is synced, they are renamed to their content-addressed names, and the
        directory entries are synced, so a file is never visible under its key before its bytes are
        durable (a key that exists is trusted by later imports) and the caller's commit that follows
        never refers to a file a crash could lose. On Linux both syncs are one ``syncfs`` call each.
        """
        if self._pending() is not None:
            yield
            return
        pending: dict[str, Path] = {}
        self._batches.pending = pending
        try:
            yield
            if pending:
                self._sync_files(pending.values())
                for key, tmp in pending.items():
                    os.replace(tmp, self.path_for(key))
                leaves = {self.path_for(key).parent for key in pending}
                self._sync_dirs(leaves | {leaf.parent for leaf in leaves} | {self.root})  # new shards too
        finally:
            self._batches.pending = None
            for tmp in pending.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def _sync_files(self, paths: Iterable[Path]) -> None:
        if _syncfs(self.root):
            return
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _sync_dirs(self, directories: Iterable[Path]) -> None:
        if _syncfs(self.root):
            return
        for directory in directories:
            _fsync_dir(directory)

    def open(self, key: str) -> IO[bytes]:
        pending = self._pending()
        path = pending.get(key) if pending else None
        try:
            return (path or self.path_for(key)).open("rb")
        except FileNotFoundError:
            raise StorageError("storage_not_found", key=key) from None

    def exists(self, key: str) -> bool:
        pending = self._pending()
        if pending and key in pending:
            return True
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(key).unlink()

    def _write(self, key: str, data: bytes) -> None:
        self._write_stream(key, io.BytesIO(data))

    def _write_stream(self, key: str, stream: BinaryIO) -> None:
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        pending = self._pending()
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    out.write(chunk)
                out.flush()
                if pending is None:
                    os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            if pending is not None:  # synced and renamed when the batch ends
                pending[key] = Path(tmp)
                return
            os.replace(tmp, target)  # atomic: readers never see a half-written file
            _fsync_dir(target.parent)  # and the new name survives a crash
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def iter_keys(self) -> Iterator[str]:
        """Yield every stored key (for maintenance jobs such as orphan clean-up)."""
        for path in self.root.glob("??/??/*"):
            if _KEY_RE.match(path.name):
                yield path.name


def _is_not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


class S3Storage(Storage):
    """An S3-compatible object store (AWS S3, MinIO, Ceph …) through boto3's client API.

    boto3 is imported only when this class is instantiated without a client; it is not a dependency
    of the platform, so a deployment that uses S3 installs it (``pip install boto3``).

    Parameters
    ----------
    bucket : str
        Bucket name.
    prefix : str
        Key prefix inside the bucket (``""`` for none).
    client : object, optional
        A boto3 S3 client (or anything with its ``put_object``/``get_object``/``head_object``/
        ``delete_object``/``upload_fileobj`` methods). Built with ``boto3.client("s3", ...)`` if omitted.
    endpoint_url, region_name : str, optional
        Passed to ``boto3.client`` (``endpoint_url`` for MinIO and other non-AWS stores).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
    ) -> None:
        if not bucket:
            raise StorageError("storage_bad_url", url=f"s3://{bucket}", reason="no bucket name")
        if client is None:
            try:
                boto3 = importlib.import_module("boto3")
            except ImportError:
                raise StorageError("storage_backend_missing", backend="S3", package="boto3") from None
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region_name)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """Return the object name for ``key`` inside the bucket."""
        _check_key(key)
        name = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def open(self, key: str) -> IO[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _is_not_found(exc):
                raise StorageError("storage_not_found", key=key) from None
            raise
        return response["Body"]  # type: ignore[no-any-return]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _is_not_found(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def _write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)

    def _write_stream(self, key: str, stream: BinaryIO) -> None:
        self.client.upload_fileobj(stream, self.bucket, self.object_key(key))


class EncryptedStorage(Storage):
    """Wrap a backend so that content is encrypted at rest with a :class:`~.crypto.KeyRing`.

    The key is the SHA-256 of the *plaintext* (so the same original file is stored once and imports
    stay idempotent); the bytes stored are the envelope ciphertext. ``get``/``open`` decrypt.

    Parameters
    ----------
    inner : Storage
        The backend that holds the ciphertext.
    keyring : KeyRing
        Keys for encryption (current key) and decryption (any key).
    """

    def __init__(self, inner: Storage, keyring: Any) -> None:
        self.inner = inner
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"EncryptedStorage({self.inner!r})"

    def put(self, data: bytes, *, key: str | None = None) -> str:
        key = content_key(data) if key is None else _check_key(key)
        if not self.inner.exists(key):
            self.inner.put(self.keyring.encrypt(data, aad=key.encode()), key=key)
        return key

    def put_stream(self, stream: BinaryIO) -> str:
        return self.put(stream.read())

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with self.inner.batch():
            yield

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self.get(key))

    def get(self, key: str) -> bytes:
        return self.keyring.decrypt(self.inner.get(key), aad=key.encode())  # type: ignore[no-any-return]

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def rotate(self, key: str) -> bool:
        """Re-wrap the stored object under the key ring's current key.

        Returns
        -------
        bool
            True if it was rewritten, False if it already used the current key.
        """
        blob = self.inner.get(key)
        if self.keyring.key_id_of(blob) == self.keyring.current_id:
            return False
        # Overwrite in place: the local backend replaces the file atomically, S3 overwrites the object.
        self.inner._write(key, self.keyring.rotate(blob))
        return True

    def _write(self, key: str, data: bytes) -> None:  # pragma: no cover - put() is overridden
        raise NotImplementedError


def storage_from_config(
    config: Mapping[str, Any], *, default_dir: str | os.PathLike[str] | None = None
) -> Storage:
    """Build the storage backend a configuration names.

    Parameters
    ----------
    config : mapping
        ``EVALPLAT_STORAGE_URL``: ``file:///abs/path`` (local directory) or ``s3://bucket/prefix``.
        For S3 also ``EVALPLAT_S3_ENDPOINT_URL`` and ``EVALPLAT_S3_REGION`` (optional).
    default_dir : path, optional
        Local directory used when no URL is configured (e.g. the app's ``instance/files``).

    Returns
    -------
    Storage

    Raises
    ------
    StorageError
        ``storage_not_configured`` or ``storage_bad_url``.
    """
    url = str(config.get("EVALPLAT_STORAGE_URL") or "").strip()
    if not url:
        if default_dir is None:
            raise StorageError("storage_not_configured")
        return LocalStorage(default_dir)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StorageError("storage_bad_url", url=url, reason="use file:///absolute/path")
        path = unquote(parsed.path)
        if not path or not os.path.isabs(path):
            raise StorageError("storage_bad_url", url=url, reason="the path must be absolute")
        return LocalStorage(path)
    if parsed.scheme == "s3":
        return S3Storage(
            parsed.netloc,
            unquote(parsed.path),
            endpoint_url=config.get("EVALPLAT_S3_ENDPOINT_URL") or None,
            region_name=config.get("EVALPLAT_S3_REGION") or None,
        )
    raise StorageError("storage_bad_url", url=url, reason="the scheme must be file:// or s3://")
