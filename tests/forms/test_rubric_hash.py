"""Canonical JSON and content hash: stable across loads and formatting, changed by any real edit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import yaml

from forms.rubrics import RUBRIC_DIR, Rubric, load_rubric_file


def test_round_trip_through_dict_and_json_keeps_everything(rubrics: dict[str, Rubric]) -> None:
    for rubric in rubrics.values():
        assert Rubric.from_dict(rubric.to_dict()) == rubric
        again = Rubric.from_json(rubric.canonical_json())
        assert again == rubric
        assert again.content_hash == rubric.content_hash


def test_content_hash_is_sha256_of_the_canonical_json(criminal: Rubric) -> None:
    canonical = criminal.canonical_json()
    assert criminal.content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert len(criminal.content_hash) == 64


def test_canonical_json_is_compact_sorted_and_keeps_chinese(criminal: Rubric) -> None:
    canonical = criminal.canonical_json()
    assert canonical == json.dumps(json.loads(canonical), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert "会见受援人" in canonical
    assert "\\u" not in canonical


def test_hash_is_the_same_on_every_load(criminal: Rubric) -> None:
    assert load_rubric_file(RUBRIC_DIR / "criminal.yaml").content_hash == criminal.content_hash


def test_hash_ignores_key_order_layout_and_integral_floats(tmp_path: Path, criminal: Rubric) -> None:
    data = criminal.to_dict()
    data = dict(reversed(list(data.items())))
    for item in data["items"]:
        item["max_points"] = float(item["max_points"])
    path = tmp_path / "reordered.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=True, width=60),
                    encoding="utf-8")
    assert load_rubric_file(path).content_hash == criminal.content_hash


def test_any_edit_changes_the_hash(criminal: Rubric, write_rubric: Callable[..., Path]) -> None:
    edits = []
    descriptor = criminal.to_dict()
    descriptor["items"][0]["levels"]["B"]["zh"] += "。"
    edits.append(descriptor)
    version = criminal.to_dict()
    version["version"] = "1.1"
    edits.append(version)
    na = criminal.to_dict()
    na["items"][-1]["allows_na"] = True
    edits.append(na)
    hashes = {Rubric.from_dict(edit).content_hash for edit in edits}
    assert len(hashes) == len(edits)
    assert criminal.content_hash not in hashes


def test_rubrics_are_immutable_values(criminal: Rubric) -> None:
    import dataclasses

    import pytest

    with pytest.raises(dataclasses.FrozenInstanceError):
        criminal.version = "2"  # type: ignore[misc]
    assert hash(criminal) == hash(Rubric.from_dict(criminal.to_dict()))
