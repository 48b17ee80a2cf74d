"""Reading and validating rubric definitions (YAML files or plain data).

Every problem found in a definition is collected and reported together, each naming the file and, where
it concerns one, the item -- so that an organiser fixing a rubric sees the whole list at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from forms.rubrics.model import (
    CASE_TYPES,
    LEVEL_CODES,
    GradeBands,
    Item,
    Level,
    Rubric,
    Text,
    VetoGround,
    _exact,
    _is_number,
    _num,
)

#: Folder of the rubric definitions shipped with the platform.
RUBRIC_DIR = Path(__file__).resolve().parent

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TOP_KEYS = {"key", "version", "title", "case_types", "points_step", "grade_bands", "veto_grounds", "items"}
ITEM_KEYS = {"code", "label", "guide", "max_points", "allows_na", "veto_ground", "levels"}
TOTAL_POINTS = 100
#: libyaml's safe loader when available (about ten times faster), else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One problem in a rubric definition."""

    source: str
    item: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: item {self.item!r}" if self.item else self.source
        return f"{where}: {self.message}"


class RubricDefinitionError(ValueError):
    """A rubric definition that is not valid; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid rubric definition:\n" + "\n".join(f"  {p}" for p in problems))


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, message: str, item: str | None = None) -> None:
        self.problems.append(Problem(self.source, item, message))


def _text(value: object, what: str, report: _Collector, item: str | None = None) -> Text | None:
    if (not isinstance(value, Mapping) or set(value) != {"zh", "en"}
            or not all(isinstance(value[k], str) and value[k].strip() for k in ("zh", "en"))):
        report.add(f"{what} must have non-empty 'zh' and 'en' texts", item)
        return None
    return Text(value["zh"].strip(), value["en"].strip())


def _code(value: object, what: str, report: _Collector, item: str | None = None) -> str | None:
    if not isinstance(value, str) or not CODE_PATTERN.match(value):
        report.add(f"{what} {value!r} must be lower-case letters, digits and '_', starting with a letter "
                   f"(at most 40)", item)
        return None
    return value


def _levels(raw: object, code: str, max_points: Any, step: Fraction, report: _Collector) -> tuple[Level, ...]:
    if not isinstance(raw, Mapping) or list(raw) != list(LEVEL_CODES):
        found = list(raw) if isinstance(raw, Mapping) else type(raw).__name__
        report.add(f"levels must be exactly A, B, C, D in that order (found {found})", code)
        return ()
    levels = []
    for letter in LEVEL_CODES:
        entry = raw[letter]
        if not isinstance(entry, Mapping) or set(entry) != {"points", "zh", "en"}:
            report.add(f"level {letter} must have exactly 'points', 'zh' and 'en'", code)
            continue
        text = _text({"zh": entry["zh"], "en": entry["en"]}, f"level {letter}", report, code)
        bounds = entry["points"]
        if (not isinstance(bounds, list) or len(bounds) != 2 or not all(_is_number(b) for b in bounds)
                or bounds[0] > bounds[1] or bounds[0] < 0):
            report.add(f"level {letter} points must be [low, high] with 0 <= low <= high, got {bounds!r}", code)
            continue
        if any((_exact(b) / step).denominator != 1 for b in bounds):
            report.add(f"level {letter} points {bounds!r} are not multiples of the points step {_num(step)}", code)
            continue
        if text is not None:
            levels.append(Level(letter, text, _num(bounds[0]), _num(bounds[1])))
    if len(levels) != len(LEVEL_CODES):
        return ()
    if _is_number(max_points) and levels[0].high != max_points:
        report.add(f"level A must reach the maximum {_num(max_points)} points, it ends at {levels[0].high}", code)
    if levels[-1].low != 0:
        report.add(f"level D must start at 0 points, it starts at {levels[-1].low}", code)
    for upper, lower in zip(levels, levels[1:], strict=False):
        expected = _exact(lower.high) + step
        if _exact(upper.low) != expected:
            kind = "gap" if _exact(upper.low) > expected else "overlap"
            report.add(f"{kind} between level {lower.code} (up to {lower.high}) and level {upper.code} "
                       f"(from {upper.low}); ranges must cover 0..{_num(max_points)} in steps of {_num(step)}",
                       code)
    return tuple(levels)


def _item(raw: object, position: int, step: Fraction, grounds: set[str], report: _Collector) -> Item | None:
    if not isinstance(raw, Mapping):
        report.add(f"item {position} must be a mapping")
        return None
    code = _code(raw.get("code"), f"item {position} code", report)
    name = code or f"#{position}"
    for key in sorted(set(raw) - ITEM_KEYS, key=str):
        report.add(f"unknown key {key!r}", name)
    for key in ("label", "max_points", "levels"):
        if key not in raw:
            report.add(f"missing {key!r}", name)
    label = _text(raw.get("label"), "label", report, name)
    guide = _text(raw["guide"], "guide", report, name) if "guide" in raw else None
    max_points: Any = raw.get("max_points")
    if "max_points" in raw and (not _is_number(max_points) or max_points <= 0
                                or (_exact(max_points) / step).denominator != 1):
        report.add(f"max_points must be a positive multiple of {_num(step)}, got {max_points!r}", name)
    allows_na = raw.get("allows_na", False)
    if not isinstance(allows_na, bool):
        report.add(f"allows_na must be true or false, got {allows_na!r}", name)
    veto_ground = raw.get("veto_ground")
    if veto_ground is not None and (not isinstance(veto_ground, str) or veto_ground not in grounds):
        report.add(f"veto_ground {veto_ground!r} is not one of the rubric's veto_grounds "
                   f"({', '.join(sorted(grounds)) or 'none declared'})", name)
    levels = _levels(raw.get("levels"), name, max_points, step, report) if "levels" in raw else ()
    if code is None or label is None or not levels or not _is_number(max_points) or not isinstance(allows_na, bool):
        return None
    return Item(code=code, label=label, max_points=_num(max_points), levels=levels, allows_na=allows_na,
                veto_ground=veto_ground, guide=guide)


def _veto_grounds(raw: object, report: _Collector) -> tuple[VetoGround, ...]:
    if not isinstance(raw, list):
        report.add("veto_grounds must be a list")
        return ()
    grounds = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or set(entry) != {"code", "label"}:
            report.add(f"veto ground {position} must have exactly 'code' and 'label'")
            continue
        code = _code(entry["code"], f"veto ground {position} code", report)
        label = _text(entry["label"], f"veto ground {entry['code']!r} label", report)
        if code and label:
            grounds.append(VetoGround(code, label))
    seen: set[str] = set()
    for ground in grounds:
        if ground.code in seen:
            report.add(f"veto ground {ground.code!r} is declared twice")
        seen.add(ground.code)
    return tuple(grounds)


def parse_rubric(data: object, *, source: str = "<data>") -> Rubric:
    """Validate a rubric definition given as plain data and build the :class:`Rubric`.

    Parameters
    ----------
    data : object
        The parsed YAML or JSON document.
    source : str
        Where the data came from (a file name), used in error messages.

    Raises
    ------
    RubricDefinitionError
        Listing every problem, each naming ``source`` and the item concerned.
    """
    report = _Collector(source)
    if not isinstance(data, Mapping):
        report.add(f"a rubric must be a mapping, got {type(data).__name__}")
        raise RubricDefinitionError(report.problems)
    for key in sorted(set(data) - TOP_KEYS, key=str):
        report.add(f"unknown key {key!r}")
    for key in ("key", "version", "title", "case_types", "items"):
        if key not in data:
            report.add(f"missing {key!r}")
    key = _code(data.get("key"), "key", report) if "key" in data else None
    version = data.get("version")
    if "version" in data and (not isinstance(version, str) or not version.strip()):
        report.add(f"version must be a non-empty text (quote it in YAML: version: \"2024.1\"), got {version!r}")
    title = _text(data.get("title"), "title", report) if "title" in data else None
    case_types: Any = data.get("case_types")
    if "case_types" in data and (not isinstance(case_types, list) or not case_types
                                 or not all(isinstance(c, str) for c in case_types)
                                 or len(set(case_types)) != len(case_types)
                                 or not set(case_types) <= set(CASE_TYPES)):
        report.add(f"case_types must be a non-empty list of distinct values from {', '.join(CASE_TYPES)}, "
                   f"got {case_types!r}")
    step_raw = data.get("points_step", 1)
    if not _is_number(step_raw) or step_raw <= 0:
        report.add(f"points_step must be a positive number, got {step_raw!r}")
        step = Fraction(1)
    else:
        step = _exact(step_raw)
    bands = GradeBands.default()
    if "grade_bands" in data:
        try:
            bands = GradeBands.from_data(data["grade_bands"])
        except ValueError as error:
            report.add(f"grade_bands: {error}")
    grounds = _veto_grounds(data.get("veto_grounds", []), report)
    items = _items(data.get("items"), step, grounds, report) if "items" in data else ()
    if report.problems:
        raise RubricDefinitionError(report.problems)
    assert key is not None  # checked above
    assert title is not None
    assert isinstance(version, str)
    return Rubric(key=key, version=version.strip(), title=title, case_types=tuple(case_types), items=items,
                  bands=bands, veto_grounds=grounds, points_step=_num(step))


def _items(raw: object, step: Fraction, grounds: tuple[VetoGround, ...], report: _Collector) -> tuple[Item, ...]:
    if not isinstance(raw, list) or not raw:
        report.add("items must be a non-empty list")
        return ()
    ground_codes = {g.code for g in grounds}
    items = [_item(entry, position, step, ground_codes, report) for position, entry in enumerate(raw, start=1)]
    codes: list[str] = [entry["code"] for entry in raw
                        if isinstance(entry, Mapping) and isinstance(entry.get("code"), str)]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        report.add("code is used by more than one item", str(code))
    maxima: list[Any] = [entry.get("max_points") for entry in raw if isinstance(entry, Mapping)]
    if all(_is_number(m) for m in maxima):
        total = sum((_exact(m) for m in maxima), Fraction(0))
        if total != TOTAL_POINTS:
            listing = ", ".join(f"{entry.get('code')} {_num(entry.get('max_points'))}" for entry in raw)
            report.add(f"item points must sum to {TOTAL_POINTS}, they sum to {_num(total)} ({listing})")
    if raw and all(isinstance(entry, Mapping) and entry.get("allows_na") is True for entry in raw):
        report.add("at least one item must not allow N/A, so that a total always exists")
    used = {entry.get("veto_ground") for entry in raw
            if isinstance(entry, Mapping) and isinstance(entry.get("veto_ground"), str)}
    for ground in grounds:
        if ground.code not in used:
            report.add(f"veto ground {ground.code!r} is attached to no item")
    return tuple(item for item in items if item is not None)


def load_rubric_file(path: str | Path) -> Rubric:
    """Read and validate one rubric file (YAML, or JSON which is YAML too).

    Raises
    ------
    RubricDefinitionError
        When the file cannot be read or parsed, or the definition is invalid; messages name the file.
    """
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RubricDefinitionError([Problem(str(path), None, f"cannot read: {error}")]) from error
    return parse_rubric(data, source=str(path))


def load_rubrics(directory: str | Path | None = None) -> dict[str, Rubric]:
    """The current rubrics keyed by case type.

    Parameters
    ----------
    directory : str or Path, optional
        Folder of ``*.yaml`` definitions; the platform's own (``forms/rubrics``) by default, read once
        per process.

    Returns
    -------
    dict
        ``"criminal"``, ``"civil"``, ``"administrative"`` and ``"non_litigation"`` mapped to their
        rubric (civil and administrative share one object in the shipped definitions).

    Raises
    ------
    RubricDefinitionError
        When a definition is invalid, a case type is served by two files, or one has no rubric.
    """
    folder = RUBRIC_DIR if directory is None else Path(directory).resolve()
    return dict(_load_folder(str(folder)) if directory is None else _load_folder.__wrapped__(str(folder)))


@lru_cache(maxsize=1)
def _load_folder(folder: str) -> tuple[tuple[str, Rubric], ...]:
    files = sorted(Path(folder).glob("*.yaml"))
    by_type: dict[str, Rubric] = {}
    origin: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in files:
        try:
            rubric = load_rubric_file(path)
        except RubricDefinitionError as error:
            problems.extend(error.problems)
            continue
        for case_type in rubric.case_types:
            if case_type in by_type:
                problems.append(Problem(str(path), None, f"case type {case_type!r} already has a rubric in "
                                                         f"{origin[case_type]}"))
            by_type[case_type] = rubric
            origin[case_type] = path
    for case_type in CASE_TYPES:
        if case_type not in by_type and not problems:
            problems.append(Problem(folder, None, f"no rubric for case type {case_type!r}"))
    if problems:
        raise RubricDefinitionError(problems)
    return tuple((case_type, by_type[case_type]) for case_type in CASE_TYPES)
