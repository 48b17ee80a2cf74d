"""Closing-file checklists (data, like the rubrics): reading, validating and choosing one for a case.

Pure Python, no Flask. Every problem of a definition is collected and reported together, naming the file and
the list or item concerned.

>>> book = load_checklists()
>>> book.for_case("criminal", "审查起诉").code
'criminal_prosecution_review'
>>> book.for_case("civil", "一审").code
'civil_administrative'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from forms.rubrics.loader import CODE_PATTERN, Problem, _code, _Collector, _text
from forms.rubrics.model import CASE_TYPES, Text

__all__ = ["CHECKLIST_FILE", "Checklist", "ChecklistBook", "ChecklistDefinitionError", "ChecklistItem",
           "load_checklists", "parse_checklists"]

CHECKLIST_FILE = Path(__file__).resolve().parent / "checklists" / "closing_files.yaml"
TOP_KEYS = {"key", "version", "title", "common", "lists"}
LIST_KEYS = {"code", "case_types", "stage", "stage_words", "default", "title", "items"}
ITEM_KEYS = {"code", "label", "required"}


class ChecklistDefinitionError(ValueError):
    """A checklist definition that is not valid; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid checklist definition:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: Text
    required: bool = True


@dataclass(frozen=True)
class Checklist:
    """The materials a closed file of one case type (and, for criminal cases, stage) must hold."""

    code: str
    title: Text
    case_types: tuple[str, ...]
    stage: str | None
    stage_words: tuple[str, ...]
    default: bool
    items: tuple[ChecklistItem, ...]

    def item(self, code: str) -> ChecklistItem:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)


@dataclass(frozen=True)
class ChecklistBook:
    """One version of all checklists."""

    key: str
    version: str
    title: Text
    lists: tuple[Checklist, ...]
    content_hash: str

    def get(self, code: str) -> Checklist:
        for checklist in self.lists:
            if checklist.code == code:
                return checklist
        raise KeyError(code)

    def for_case(self, case_type: str, stage_reached: str | None = None) -> Checklist:
        """The list of a case: the first of its type whose stage words occur in ``stage_reached``, else the
        type's default list."""
        candidates = [c for c in self.lists if case_type in c.case_types]
        stage = (stage_reached or "").lower()
        for checklist in candidates:
            if stage and any(word.lower() in stage for word in checklist.stage_words):
                return checklist
        for checklist in candidates:
            if checklist.default:
                return checklist
        raise KeyError(case_type)


def _items(raw: object, where: str, report: _Collector) -> list[ChecklistItem]:
    if not isinstance(raw, list) or not raw:
        report.add(f"{where}: items must be a non-empty list")
        return []
    out = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            report.add(f"{where}: item {position} must be a mapping")
            continue
        code = _code(entry.get("code"), f"{where}: item {position} code", report)
        name = code or f"#{position}"
        for key in sorted(set(entry) - ITEM_KEYS, key=str):
            report.add(f"{where}: unknown key {key!r}", name)
        label = _text(entry.get("label"), f"{where}: label", report, name)
        required = entry.get("required", True)
        if not isinstance(required, bool):
            report.add(f"{where}: required must be true or false, got {required!r}", name)
            continue
        if code and label:
            out.append(ChecklistItem(code, label, required))
    return out


def _one_list(raw: object, position: int, common: list[ChecklistItem], report: _Collector) -> Checklist | None:
    if not isinstance(raw, Mapping):
        report.add(f"list {position} must be a mapping")
        return None
    code = _code(raw.get("code"), f"list {position} code", report)
    where = f"list {code or position}"
    for key in sorted(set(raw) - LIST_KEYS, key=str):
        report.add(f"{where}: unknown key {key!r}")
    title = _text(raw.get("title"), f"{where}: title", report)
    case_types = raw.get("case_types")
    if (not isinstance(case_types, list) or not case_types
            or not all(isinstance(c, str) and c in CASE_TYPES for c in case_types)):
        report.add(f"{where}: case_types must be a non-empty list of values from {', '.join(CASE_TYPES)}, "
                   f"got {case_types!r}")
        case_types = []
    words = raw.get("stage_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        report.add(f"{where}: stage_words must be a list of words, got {words!r}")
        words = []
    stage = raw.get("stage")
    if stage is not None and (not isinstance(stage, str) or not CODE_PATTERN.match(stage)):
        report.add(f"{where}: stage {stage!r} must be a code (lower-case letters, digits, '_')")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        report.add(f"{where}: default must be true or false, got {default!r}")
    items = common + _items(raw.get("items"), where, report)
    codes = [i.code for i in items]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        report.add(f"{where}: item code {dup!r} appears twice (the common items come first)")
    if code is None or title is None:
        return None
    return Checklist(code=code, title=title, case_types=tuple(case_types), stage=stage,
                     stage_words=tuple(w.strip() for w in words), default=default is True, items=tuple(items))


def parse_checklists(data: object, *, source: str = "<data>") -> ChecklistBook:
    """Validate a checklist definition given as plain data.

    Raises
    ------
    ChecklistDefinitionError
        Listing every problem, each naming ``source`` and the list or item concerned.
    """
    report = _Collector(source)
    if not isinstance(data, Mapping):
        report.add(f"a checklist definition must be a mapping, got {type(data).__name__}")
        raise ChecklistDefinitionError(report.problems)
    for key in sorted(set(data) - TOP_KEYS, key=str):
        report.add(f"unknown key {key!r}")
    for key in ("key", "version", "title", "lists"):
        if key not in data:
            report.add(f"missing {key!r}")
    key = _code(data.get("key"), "key", report) if "key" in data else None
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        report.add(f"version must be a non-empty text (quote it in YAML), got {version!r}")
    title = _text(data.get("title"), "title", report) if "title" in data else None
    common = _items(data["common"], "common", report) if "common" in data else []
    raw_lists = data.get("lists")
    lists: list[Checklist] = []
    if not isinstance(raw_lists, list) or not raw_lists:
        report.add("lists must be a non-empty list")
    else:
        found = [_one_list(entry, n, common, report) for n, entry in enumerate(raw_lists, start=1)]
        lists = [c for c in found if c is not None]
    codes = [c.code for c in lists]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        report.add(f"list code {dup!r} is used twice")
    for case_type in CASE_TYPES:
        defaults = [c.code for c in lists if case_type in c.case_types and c.default]
        if len(defaults) != 1 and lists:
            report.add(f"case type {case_type!r} needs exactly one default list, has {defaults or 'none'}")
    if report.problems:
        raise ChecklistDefinitionError(report.problems)
    assert key is not None
    assert title is not None
    assert isinstance(version, str)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return ChecklistBook(key=key, version=version.strip(), title=title, lists=tuple(lists), content_hash=digest)


def load_checklists(path: str | Path | None = None) -> ChecklistBook:
    """Read and validate the checklist file (the platform's own by default, read once per process)."""
    return _load(str(CHECKLIST_FILE if path is None else Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> ChecklistBook:
    from forms.rubrics.loader import _SAFE_LOADER

    try:
        data: Any = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - safe
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ChecklistDefinitionError([Problem(path, None, f"cannot read: {error}")]) from error
    return parse_checklists(data, source=path)
