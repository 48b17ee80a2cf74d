"""Rubric data types and the scoring rule (pure Python, no Flask).

A :class:`Rubric` is an immutable value: items with descriptor levels, grade bands and veto grounds.
:meth:`Rubric.evaluate` turns one reviewer's points into a total and a grade.

Rounding rule
-------------
Totals are computed exactly (rational arithmetic over the points step), then

* ``Evaluation.total`` is the full-precision figure as a float (use it for statistics);
* ``Evaluation.rounded_total`` is that figure rounded half-up to one decimal -- the figure people see;
* the grade is read from ``rounded_total``, so that the grade always agrees with the figure shown
  (a total shown as 90.0 is never "good").
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any, TypeGuard

Number = int | float

#: Case types a rubric may serve.
CASE_TYPES: tuple[str, ...] = ("criminal", "civil", "administrative", "non_litigation")
#: Grade codes from lowest to highest.
GRADES: tuple[str, ...] = ("fail", "pass", "good", "excellent")
#: Descriptor level codes from best (A, full marks) to worst (D).
LEVEL_CODES: tuple[str, ...] = ("A", "B", "C", "D")


def pick_language(locale: object | None) -> str:
    """Return ``"zh"`` for any Chinese locale (``zh``, ``zh_Hans``, ``zh-CN`` ...), else ``"en"``.

    Parameters
    ----------
    locale : object or None
        A locale string or a ``babel.Locale``; ``None`` means Chinese, the platform's default.
    """
    if locale is None:
        return "zh"
    return "zh" if str(locale).lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Text:
    """A bilingual text: Chinese and English."""

    zh: str
    en: str

    def get(self, locale: object | None = None) -> str:
        """The text for ``locale`` (Chinese for any ``zh*`` locale or ``None``, English otherwise)."""
        return self.zh if pick_language(locale) == "zh" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


GRADE_LABELS: dict[str, Text] = {
    "excellent": Text("优秀", "excellent"),
    "good": Text("良好", "good"),
    "pass": Text("合格", "pass"),
    "fail": Text("不合格", "fail"),
}

LEVEL_NAMES: dict[str, Text] = {
    "A": Text("完全达到", "fully met"),
    "B": Text("基本达到", "largely met"),
    "C": Text("部分达到", "partly met"),
    "D": Text("未达到", "not met"),
}


def _num(value: Number | Fraction | Decimal) -> Number:
    """Normalise a number for storage and hashing: integral values become ``int``."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def _exact(value: Number) -> Fraction:
    """Exact rational value of a number as written in decimal (``0.1`` is one tenth, not the binary float)."""
    return Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Level:
    """One descriptor level of an item: code A-D, bilingual descriptor and its inclusive points range."""

    code: str
    text: Text
    low: Number
    high: Number

    @property
    def name(self) -> Text:
        """The generic name of the level (A 完全达到 / fully met ...)."""
        return LEVEL_NAMES[self.code]

    def contains(self, points: Number) -> bool:
        """Whether ``points`` lies in this level's inclusive range."""
        return self.low <= points <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"points": [_num(self.low), _num(self.high)], "zh": self.text.zh, "en": self.text.en}


@dataclass(frozen=True)
class VetoGround:
    """A ground for a veto (一票否决), such as fees taken from the client."""

    code: str
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label.to_dict()}


@dataclass(frozen=True)
class Item:
    """A scored item of a rubric.

    Every item carries points and four levels. A *veto item* additionally carries a veto ground
    (``veto_ground``): the reviewer may trigger it, which forces the grade to fail whatever the total.
    """

    code: str
    label: Text
    max_points: Number
    levels: tuple[Level, ...]
    allows_na: bool = False
    veto_ground: str | None = None
    guide: Text | None = None

    @property
    def veto(self) -> bool:
        """Whether a veto may be triggered on this item."""
        return self.veto_ground is not None

    def level(self, code: str) -> Level:
        """The level with ``code`` (A-D); ``KeyError`` when there is none."""
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "label": self.label.to_dict(),
            "max_points": _num(self.max_points),
            "allows_na": self.allows_na,
            "levels": {level.code: level.to_dict() for level in self.levels},
        }
        if self.veto_ground is not None:
            data["veto_ground"] = self.veto_ground
        if self.guide is not None:
            data["guide"] = self.guide.to_dict()
        return data


def level_for_points(item: Item, points: Number) -> Level:
    """The descriptor level whose range contains ``points``.

    Parameters
    ----------
    item : Item
        The rubric item.
    points : int or float
        Points awarded on the item.

    Returns
    -------
    Level

    Raises
    ------
    ValueError
        When ``points`` is not a finite number or falls in no level of the item.

    Examples
    --------
    >>> from forms.rubrics import load_rubrics
    >>> item = load_rubrics()["criminal"].item("meetings")
    >>> level_for_points(item, 15).code
    'A'
    """
    if isinstance(points, bool) or not isinstance(points, numbers.Real) or not math.isfinite(points):
        raise ValueError(f"item {item.code!r}: points must be a finite number, got {points!r}")
    for level in item.levels:
        if level.contains(points):
            return level
    raise ValueError(f"item {item.code!r}: {points!r} points fall in no level (0..{_num(item.max_points)})")


@dataclass(frozen=True)
class GradeBand:
    """A grade band: totals ``low <= total < high`` (the top band also includes ``high``)."""

    grade: str
    low: Number
    high: Number

    @property
    def label(self) -> Text:
        return GRADE_LABELS[self.grade]

    def to_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "min": _num(self.low), "max": _num(self.high)}


class GradeBandsError(ValueError):
    """Grade bands that do not cover 0-100 exactly once, in the order fail < pass < good < excellent."""


@dataclass(frozen=True)
class GradeBands:
    """Grade bands covering 0-100 without gap or overlap, lowest band first."""

    bands: tuple[GradeBand, ...]

    def __post_init__(self) -> None:
        problems = _band_problems(self.bands)
        if problems:
            raise GradeBandsError("; ".join(problems))

    @classmethod
    def default(cls) -> GradeBands:
        """≥ 90 excellent, 80-89 good, 60-79 pass, < 60 fail."""
        return cls.from_minimums({"excellent": 90, "good": 80, "pass": 60})

    @classmethod
    def from_minimums(cls, minimums: Mapping[str, Number]) -> GradeBands:
        """Bands from the lowest total of each grade above fail, e.g. ``{"excellent": 90, "good": 80, "pass": 60}``
        (a ``"fail": 0`` entry is accepted and changes nothing)."""
        if "fail" in minimums:
            if minimums["fail"] != 0:
                raise GradeBandsError(f"fail always starts at 0, not {minimums['fail']!r}")
            minimums = {grade: low for grade, low in minimums.items() if grade != "fail"}
        unknown = sorted(set(minimums) - set(GRADES[1:]))
        missing = [g for g in GRADES[1:] if g not in minimums]
        if unknown or missing:
            raise GradeBandsError(f"grade minimums need exactly pass, good and excellent "
                                  f"(unknown: {unknown}, missing: {missing})")
        lows = [0, *(minimums[g] for g in GRADES[1:])]
        highs = [*lows[1:], 100]
        return cls(tuple(GradeBand(g, lo, hi) for g, lo, hi in zip(GRADES, lows, highs, strict=True)))

    @classmethod
    def from_data(cls, data: object) -> GradeBands:
        """Bands from their stored form: a list of ``{"grade", "min", "max"}`` mappings in any order,
        a mapping of minimums (see :meth:`from_minimums`), or a :class:`GradeBands`."""
        if isinstance(data, GradeBands):
            return data
        if isinstance(data, Mapping):
            return cls.from_minimums(data)
        if not isinstance(data, Sequence) or isinstance(data, str | bytes):
            raise GradeBandsError("grade bands must be a list of {grade, min, max}")
        bands = []
        for position, entry in enumerate(data, start=1):
            if not isinstance(entry, Mapping) or set(entry) != {"grade", "min", "max"}:
                raise GradeBandsError(f"grade band {position} must have exactly the keys grade, min and max")
            low, high = entry["min"], entry["max"]
            if not (_is_number(low) and _is_number(high)):
                raise GradeBandsError(f"grade band {entry.get('grade')!r}: min and max must be numbers")
            bands.append(GradeBand(str(entry["grade"]), low, high))
        return cls(tuple(sorted(bands, key=lambda b: b.low)))

    def grade_for(self, total: Number | Decimal | Fraction) -> str:
        """The grade code of a total in 0-100."""
        value = Fraction(total) if not isinstance(total, float) else _exact(total)
        if value < 0 or value > 100:
            raise ValueError(f"total {float(value)} is outside 0-100")
        for band in reversed(self.bands):
            if value >= _exact(band.low):
                return band.grade
        raise AssertionError("bands start at 0")  # pragma: no cover - guaranteed by validation

    def to_list(self) -> list[dict[str, Any]]:
        return [band.to_dict() for band in self.bands]


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _band_problems(bands: Sequence[GradeBand]) -> list[str]:
    grades = [b.grade for b in bands]
    if sorted(grades) != sorted(GRADES) or len(grades) != len(GRADES):
        return [f"grade bands must be exactly one each of {', '.join(GRADES)} (got {', '.join(grades) or 'none'})"]
    problems = []
    if grades != list(GRADES):
        problems.append("grade bands must rise in the order fail < pass < good < excellent")
    if bands[0].low != 0:
        problems.append(f"the lowest band ({bands[0].grade}) must start at 0, not {bands[0].low}")
    if bands[-1].high != 100:
        problems.append(f"the highest band ({bands[-1].grade}) must end at 100, not {bands[-1].high}")
    for band in bands:
        if not band.low < band.high:
            problems.append(f"band {band.grade}: min {band.low} must be below max {band.high}")
    for lower, upper in zip(bands, bands[1:], strict=False):
        if lower.high < upper.low:
            problems.append(f"gap between {lower.grade} (up to {lower.high}) and {upper.grade} (from {upper.low})")
        elif lower.high > upper.low:
            problems.append(f"{lower.grade} (up to {lower.high}) overlaps {upper.grade} (from {upper.low})")
    return problems


class ScoreError(ValueError):
    """Invalid scores given to :meth:`Rubric.evaluate`.

    Attributes
    ----------
    code : str
        What is wrong: ``unknown_item``, ``missing_item``, ``not_a_number``, ``out_of_range``,
        ``off_step``, ``na_not_allowed``, ``veto_unknown_item``, ``veto_not_allowed``, ``veto_on_na``.
    item : str
        The item code concerned.
    params : dict
        Values for the message (points, limits).
    message : Text
        The message in Chinese and English; ``str(error)`` is the English one.
    """

    def __init__(self, code: str, item: str, message: Text, **params: Any) -> None:
        super().__init__(message.en)
        self.code = code
        self.item = item
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Evaluation:
    """The result of :meth:`Rubric.evaluate` (see the module docstring for the rounding rule)."""

    total: float
    rounded_total: float
    grade: str
    score_grade: str
    vetoes: tuple[str, ...]
    veto_grounds: tuple[str, ...]
    not_applicable: tuple[str, ...]
    points_sum: Number
    applicable_max: Number

    @property
    def vetoed(self) -> bool:
        """Whether a veto forced the grade to fail."""
        return bool(self.vetoes)

    @property
    def grade_label(self) -> Text:
        """优秀 / 良好 / 合格 / 不合格 and the English labels."""
        return GRADE_LABELS[self.grade]

    def format_total(self) -> str:
        """The total as shown to people: one decimal, e.g. ``"87.5"``."""
        return f"{self.rounded_total:.1f}"


@dataclass(frozen=True)
class Rubric:
    """A versioned rubric for one or more case types; build it with :meth:`from_dict` or the loader."""

    key: str
    version: str
    title: Text
    case_types: tuple[str, ...]
    items: tuple[Item, ...]
    bands: GradeBands = field(default_factory=GradeBands.default)
    veto_grounds: tuple[VetoGround, ...] = ()
    points_step: Number = 1

    # -- lookup -------------------------------------------------------------------------------------------
    def item(self, code: str) -> Item:
        """The item with ``code``; ``KeyError`` when there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"rubric {self.key!r} has no item {code!r}") from None

    @cached_property
    def _by_code(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    @property
    def veto_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.veto)

    def veto_ground(self, code: str) -> VetoGround:
        """The veto ground with ``code``; ``KeyError`` when there is none."""
        for ground in self.veto_grounds:
            if ground.code == code:
                return ground
        raise KeyError(code)

    def on_step(self, points: Number) -> bool:
        """Whether ``points`` is a whole multiple of the rubric's points step."""
        step = self.points_step
        if isinstance(points, int) and isinstance(step, int):
            return points % step == 0
        return (_exact(points) / _exact(step)).denominator == 1

    # -- scoring ------------------------------------------------------------------------------------------
    def evaluate(self, points: Mapping[str, Number | None], vetoes: Iterable[str] = (), *,
                 bands: GradeBands | Mapping[str, Number] | Sequence[Mapping[str, Any]] | None = None
                 ) -> Evaluation:
        """Total and grade of one review.

        Parameters
        ----------
        points : mapping of str to number or None
            Every item code mapped to its points, or to ``None`` for not applicable (N/A).
        vetoes : iterable of str
            Codes of the veto items the reviewer triggered.
        bands : GradeBands, mapping or list, optional
            Grade bands of the campaign (see :meth:`GradeBands.from_data`); the rubric's own by default.

        Returns
        -------
        Evaluation
            ``total`` rescaled to 0-100 over the applicable items; ``grade`` is ``"fail"`` when any
            veto is triggered, otherwise read from the rounded total.

        Raises
        ------
        ScoreError
            (a ``ValueError``) naming the item: unknown or missing item, points not a number, out of
            range or off the points step, N/A on an item that does not allow it, a veto on an unknown
            item, on an item that is not a veto item, or on an item marked N/A.

        Examples
        --------
        >>> from forms.rubrics import load_rubrics
        >>> rubric = load_rubrics()["criminal"]
        >>> scores = {item.code: item.max_points for item in rubric.items}
        >>> rubric.evaluate(scores).grade
        'excellent'
        >>> rubric.evaluate(scores, vetoes=["court"]).grade
        'fail'
        """
        grade_bands = self.bands if bands is None else GradeBands.from_data(bands)
        for code in sorted(set(points) - set(self._by_code), key=str):
            raise ScoreError("unknown_item", str(code), Text(f"评分表中没有评分项 {code!r}",
                                                           f"unknown item {code!r}"))
        earned: int | Fraction = 0      # whole points stay ints (fast); others are exact fractions
        possible: int | Fraction = 0
        not_applicable = []
        for item in self.items:
            if item.code not in points:
                raise ScoreError("missing_item", item.code,
                                 Text(f"评分项 {item.code!r} 缺少分数", f"item {item.code!r} has no points"))
            value = points[item.code]
            if value is None:
                if not item.allows_na:
                    raise ScoreError("na_not_allowed", item.code,
                                     Text(f"评分项 {item.code!r} 不得标为不适用",
                                          f"item {item.code!r} may not be marked not applicable"))
                not_applicable.append(item.code)
                continue
            self._check_points(item, value)
            earned += value if isinstance(value, int) else _exact(value)
            possible += item.max_points if isinstance(item.max_points, int) else _exact(item.max_points)
        triggered = self._check_vetoes(vetoes, set(not_applicable))
        total = Fraction(earned) / possible * 100  # possible > 0: some item can never be N/A
        rounded = Decimal(math.floor(total * 10 + Fraction(1, 2))) / 10  # half-up to tenths, exactly
        score_grade = grade_bands.grade_for(rounded)
        return Evaluation(
            total=float(total),
            rounded_total=float(rounded),
            grade="fail" if triggered else score_grade,
            score_grade=score_grade,
            vetoes=triggered,
            veto_grounds=tuple(dict.fromkeys(self.item(code).veto_ground or "" for code in triggered)),
            not_applicable=tuple(not_applicable),
            points_sum=_num(earned),
            applicable_max=_num(possible),
        )

    def _check_points(self, item: Item, value: object) -> None:
        if not _is_number(value):
            raise ScoreError("not_a_number", item.code,
                             Text(f"评分项 {item.code!r} 的分数必须是数字，收到 {value!r}",
                                  f"item {item.code!r}: points must be a finite number, got {value!r}"),
                             points=value)
        if not 0 <= value <= item.max_points:
            raise ScoreError("out_of_range", item.code,
                             Text(f"评分项 {item.code!r} 的分数 {value} 超出 0–{_num(item.max_points)} 分",
                                  f"item {item.code!r}: {value} points is outside 0-{_num(item.max_points)}"),
                             points=value, low=0, high=item.max_points)
        if not self.on_step(value):
            raise ScoreError("off_step", item.code,
                             Text(f"评分项 {item.code!r} 的分数 {value} 须为 {_num(self.points_step)} 的整数倍",
                                  f"item {item.code!r}: {value} points is not a multiple of "
                                  f"{_num(self.points_step)}"),
                             points=value, step=self.points_step)

    def _check_vetoes(self, vetoes: Iterable[str], not_applicable: set[str]) -> tuple[str, ...]:
        if isinstance(vetoes, str):
            raise TypeError("vetoes must be a collection of item codes, not one string")
        triggered = tuple(dict.fromkeys(vetoes))
        for code in triggered:
            if code not in self._by_code:
                raise ScoreError("veto_unknown_item", str(code),
                                 Text(f"一票否决指向不存在的评分项 {code!r}", f"veto on unknown item {code!r}"))
            if not self._by_code[code].veto:
                raise ScoreError("veto_not_allowed", code,
                                 Text(f"评分项 {code!r} 不是一票否决项", f"item {code!r} is not a veto item"))
            if code in not_applicable:
                raise ScoreError("veto_on_na", code,
                                 Text(f"评分项 {code!r} 已标为不适用，不能同时触发一票否决",
                                      f"item {code!r} is marked not applicable and cannot carry a veto"))
        return triggered

    # -- serialisation ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The rubric as plain data (the same shape as the YAML files); :meth:`from_dict` reads it back."""
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title.to_dict(),
            "case_types": list(self.case_types),
            "points_step": _num(self.points_step),
            "grade_bands": self.bands.to_list(),
            "veto_grounds": [ground.to_dict() for ground in self.veto_grounds],
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: object, *, source: str = "<data>") -> Rubric:
        """Validate plain data and build a rubric; errors name ``source`` and the item.

        Raises
        ------
        RubricDefinitionError
            (a ``ValueError``) listing every problem found.
        """
        from forms.rubrics.loader import parse_rubric

        return parse_rubric(data, source=source)

    @classmethod
    def from_json(cls, text: str, *, source: str = "<json>") -> Rubric:
        """Read a rubric from its JSON form (for example a version stored in the database)."""
        return cls.from_dict(json.loads(text), source=source)

    def canonical_json(self) -> str:
        """Canonical JSON of :meth:`to_dict`: sorted keys, no spaces, UTF-8 text kept as is."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          allow_nan=False)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json` encoded as UTF-8; identifies a frozen version."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
