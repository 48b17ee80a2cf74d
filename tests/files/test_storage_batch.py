"""LocalStorage.batch(): files written inside become durable together, before anyone may refer to them."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from evalplat.files import storage as storage_module
from evalplat.files.crypto import KeyRing, generate_key
from evalplat.files.storage import EncryptedStorage, LocalStorage


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_a_batch_publishes_its_files_under_their_keys_only_when_it_ends(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    datas = [f"第{i}份案卷".encode() * 50 for i in range(5)]
    with store.batch():
        keys = [store.put(d) for d in datas]
        assert store.put(datas[0]) == keys[0]  # same content inside the batch: stored once
        for key, data in zip(keys, datas, strict=True):
            assert not store.path_for(key).exists()  # not under its key before it is durable
            assert store.exists(key)
            assert store.get(key) == data  # readable from its temporary file meanwhile
    assert keys == [hashlib.sha256(d).hexdigest() for d in datas]
    assert _files(tmp_path) == sorted(keys)  # no temporary file left
    assert [store.get(k) for k in keys] == datas


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    kept = store.put(b"stored before")
    written: list[str] = []

    def failing_import() -> None:
        with store.batch():
            written.append(store.put(b"written inside"))
            raise RuntimeError("the import failed")

    with pytest.raises(RuntimeError):
        failing_import()
    assert not store.exists(written[0])
    assert _files(tmp_path) == [kept]


def test_data_is_synced_before_the_rename_and_the_directories_after(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStorage(tmp_path)
    events: list[tuple[str, object]] = []
    monkeypatch.setattr(storage_module, "_syncfs", lambda path: False)  # the portable path: fsync each
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        events.append(("fsync", Path(target).name))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with store.batch():
        keys = [store.put(f"file {i}".encode()) for i in range(3)]
        assert events == []  # no fsync per file while writing
    synced_files = [name for kind, name in events[:3]]
    assert all(name.startswith(".tmp-") for name in synced_files)  # data first, under the temporary names
    directories = {name for kind, name in events[3:]}
    assert {store.path_for(k).parent.name for k in keys} <= directories  # then the renamed entries
    assert tmp_path.name in directories
    assert _files(tmp_path) == sorted(keys)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs(2) is Linux only")
def test_syncfs_makes_a_batch_two_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStorage(tmp_path)
    calls: list[bool] = []
    real = storage_module._syncfs

    def counting(path: Path) -> bool:
        # at the first call no file may be under its key yet; at the second every one must be
        calls.append(all(store.path_for(k).exists() for k in keys))
        return real(path)

    monkeypatch.setattr(storage_module, "_syncfs", counting)
    keys: list[str] = []
    with store.batch():
        keys.extend(store.put(f"file {i}".encode()) for i in range(20))
    assert calls == [False, True]


def test_outside_a_batch_each_put_is_durable_and_batches_nest(tmp_path: Path) -> None:
    store = EncryptedStorage(LocalStorage(tmp_path), KeyRing.from_string("k1:" + generate_key()))
    single = store.put(b"alone")
    assert store.inner.path_for(single).exists()  # type: ignore[attr-defined]
    with store.batch():
        with store.batch():
            inner = store.put(b"nested")
        assert not store.inner.path_for(inner).exists()  # type: ignore[attr-defined]  # outermost syncs
        assert store.get(inner) == b"nested"
    assert store.inner.path_for(inner).exists()  # type: ignore[attr-defined]
    assert store.get(inner) == b"nested"
