from __future__ import annotations

import hashlib
import importlib.util
import io
import stat
from pathlib import Path
from typing import Any

import pytest

from evalplat.files.crypto import KeyRing, generate_key
from evalplat.files.errors import CryptoError, StorageError
from evalplat.files.storage import EncryptedStorage, LocalStorage, S3Storage, storage_from_config


def test_local_put_is_content_addressed_sharded_and_private(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "files")
    data = "起诉状全文".encode() * 100
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    path = tmp_path / "files" / key[:2] / key[2:4] / key
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.get(key) == data
    with store.open(key) as fh:
        assert fh.read(5) == data[:5]
    assert store.exists(key)
    assert list(store.iter_keys()) == [key]


def test_putting_the_same_content_twice_stores_it_once(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    first = store.put(b"same bytes")
    mtime = store.path_for(first).stat().st_mtime_ns
    assert store.put(b"same bytes") == first
    assert store.path_for(first).stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [first]


def test_put_stream_hashes_while_copying(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    data = bytes(range(256)) * 40_000  # 10 MB, larger than the in-memory spool
    key = store.put_stream(io.BytesIO(data))
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data
    assert not list(tmp_path.rglob(".tmp-*"))


def test_delete_and_missing_keys(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    key = store.put(b"x")
    store.delete(key)
    store.delete(key)  # absent: no error
    assert not store.exists(key)
    with pytest.raises(StorageError) as err:
        store.get(key)
    assert err.value.code == "storage_not_found"


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "a" * 63, "g" * 64, "A" * 64])
def test_keys_that_are_not_sha256_hex_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(StorageError) as err:
        store.get(key)
    assert err.value.code == "storage_bad_key"


def test_local_storage_refuses_a_directory_inside_static(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as err:
        LocalStorage(tmp_path / "static" / "uploads")
    assert err.value.code == "storage_bad_url"
    assert not (tmp_path / "static").exists()


def test_factory_builds_local_storage_from_a_file_url(tmp_path: Path) -> None:
    store = storage_from_config({"EVALPLAT_STORAGE_URL": f"file://{tmp_path}/案件文件"})
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path / "案件文件"
    fallback = storage_from_config({}, default_dir=tmp_path / "default")
    assert isinstance(fallback, LocalStorage)
    assert fallback.root == tmp_path / "default"


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ({}, "storage_not_configured"),
        ({"EVALPLAT_STORAGE_URL": "file://relative/dir"}, "storage_bad_url"),
        ({"EVALPLAT_STORAGE_URL": "ftp://host/dir"}, "storage_bad_url"),
        ({"EVALPLAT_STORAGE_URL": "s3:///prefix-only"}, "storage_bad_url"),
    ],
)
def test_factory_errors_name_the_problem(config: dict[str, str], code: str) -> None:
    with pytest.raises(StorageError) as err:
        storage_from_config(config)
    assert err.value.code == code


def test_s3_without_boto3_says_which_package_to_install() -> None:
    if importlib.util.find_spec("boto3") is not None:  # not a dependency, but a deployment may add it
        pytest.skip("boto3 is installed here; the missing-package message cannot be shown")
    with pytest.raises(StorageError) as err:
        storage_from_config({"EVALPLAT_STORAGE_URL": "s3://evalplat-files/prod"})
    assert err.value.code == "storage_backend_missing"
    assert "pip install boto3" in err.value.message("en")


class _ClientError(Exception):
    """Shaped like botocore's ClientError: carries ``response['Error']['Code']``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class InMemoryS3Client:
    """Implements the slice of boto3's S3 client API that S3Storage uses."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:
        self.objects[(Bucket, Key)] = bytes(Body)
        return {}

    def upload_fileobj(self, fileobj: Any, bucket: str, key: str) -> None:
        self.objects[(bucket, key)] = fileobj.read()

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise _ClientError("NoSuchKey")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise _ClientError("404")
        return {}

    def delete_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.objects.pop((Bucket, Key), None)
        return {}


def test_s3_storage_speaks_the_boto3_client_api() -> None:
    client = InMemoryS3Client()
    store = S3Storage("bucket", "/evalplat/files/", client=client)
    key = store.put(b"scan")
    assert ("bucket", f"evalplat/files/{key[:2]}/{key[2:4]}/{key}") in client.objects
    assert store.exists(key)
    assert store.get(key) == b"scan"
    streamed = store.put_stream(io.BytesIO(b"streamed"))
    assert client.objects[("bucket", store.object_key(streamed))] == b"streamed"
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(StorageError) as err:
        store.get(key)
    assert err.value.code == "storage_not_found"


def test_s3_storage_lets_other_client_errors_through() -> None:
    client = InMemoryS3Client()

    def denied(**_: Any) -> None:
        raise _ClientError("AccessDenied")

    client.head_object = denied  # type: ignore[method-assign]
    with pytest.raises(_ClientError):
        S3Storage("bucket", client=client).exists("a" * 64)


def test_encrypted_storage_keeps_only_ciphertext_on_disk_and_rotates(tmp_path: Path) -> None:
    old_key, new_key = generate_key(), generate_key()
    inner = LocalStorage(tmp_path)
    store = EncryptedStorage(inner, KeyRing.from_string(f"old:{old_key}"))
    original = "委托人：张三 身份证号 110101199003071234".encode()
    key = store.put(original)
    assert key == hashlib.sha256(original).hexdigest()
    on_disk = inner.path_for(key).read_bytes()
    assert original not in on_disk
    assert "张三".encode() not in on_disk
    assert store.get(key) == original
    assert store.put(original) == key  # idempotent: no second ciphertext
    assert inner.path_for(key).read_bytes() == on_disk

    rotating = EncryptedStorage(inner, KeyRing.from_string(f"new:{new_key},old:{old_key}"))
    assert rotating.rotate(key) is True
    assert rotating.rotate(key) is False
    assert EncryptedStorage(inner, KeyRing.from_string(f"new:{new_key}")).get(key) == original


def test_encrypted_storage_detects_a_swapped_file(tmp_path: Path) -> None:
    inner = LocalStorage(tmp_path)
    store = EncryptedStorage(inner, KeyRing.from_string(f"k:{generate_key()}"))
    a, b = store.put(b"file a"), store.put(b"file b")
    inner.path_for(a).write_bytes(inner.path_for(b).read_bytes())
    with pytest.raises(CryptoError) as err:
        store.get(a)
    assert err.value.code == "decrypt_failed"
