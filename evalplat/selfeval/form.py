"""The self-evaluation form (data): which rubric items the agency scores per case type, and the score.

>>> form = load_form()
>>> [item.code for item in form.items("criminal")][:2]
['meetings', 'file_reading']
>>> form.score("criminal", {"meetings": "A", "file_reading": "A", "defence_opinion": "A", "court": "A",
...                         "closing": "A"})
100.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from forms.rubrics import CASE_TYPES, LEVEL_CODES, Item, Rubric, Text, load_rubrics
from forms.rubrics.loader import _SAFE_LOADER, Problem, _Collector, _text

__all__ = ["FORM_FILE", "SelfEvaluationForm", "SelfEvaluationFormError", "load_form"]

FORM_FILE = Path(__file__).resolve().parent / "self_evaluation.yaml"


class SelfEvaluationFormError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid self-evaluation form:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class SelfEvaluationForm:
    key: str
    version: str
    title: Text
    codes: dict[str, tuple[str, ...]]
    rubrics: dict[str, Rubric]

    def items(self, case_type: str) -> tuple[Item, ...]:
        rubric = self.rubrics[case_type]
        return tuple(rubric.item(code) for code in self.codes[case_type])

    def score(self, case_type: str, levels: Mapping[str, str]) -> float:
        """The self-score on 100 points: each item at the top of its chosen level, rescaled to the form's items.

        Raises
        ------
        ValueError
            An item of the form without a level A-D, or an item that is not on the form.
        """
        items = self.items(case_type)
        extra = sorted(set(levels) - {item.code for item in items})
        if extra:
            raise ValueError(f"not items of the {case_type} form: {', '.join(extra)}")
        points = maximum = 0.0
        for item in items:
            letter = levels.get(item.code)
            if letter not in LEVEL_CODES:
                raise ValueError(f"item {item.code}: give a level A, B, C or D")
            points += float(item.level(letter).high)
            maximum += float(item.max_points)
        return round(points / maximum * 100, 1)


def parse_form(data: object, rubrics: Mapping[str, Rubric], *, source: str = "<data>") -> SelfEvaluationForm:
    report = _Collector(source)
    if not isinstance(data, Mapping):
        report.add("the form must be a mapping")
        raise SelfEvaluationFormError(report.problems)
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        report.add(f"version must be a non-empty text, got {version!r}")
    title = _text(data.get("title"), "title", report)
    raw = data.get("forms")
    codes: dict[str, tuple[str, ...]] = {}
    if not isinstance(raw, Mapping):
        report.add("forms must map each case type to a list of rubric item codes")
    else:
        for case_type in CASE_TYPES:
            entry = raw.get(case_type)
            if not isinstance(entry, list) or not entry:
                report.add(f"forms: case type {case_type!r} needs a non-empty list of item codes")
                continue
            known = {item.code for item in rubrics[case_type].items}
            unknown = [c for c in entry if c not in known]
            if unknown:
                report.add(f"forms: {case_type}: not items of its rubric: {', '.join(map(str, unknown))}")
            codes[case_type] = tuple(str(c) for c in entry)
    if report.problems:
        raise SelfEvaluationFormError(report.problems)
    assert title is not None
    assert isinstance(version, str)
    return SelfEvaluationForm(key=str(data.get("key", "self_evaluation")), version=version.strip(), title=title,
                              codes=codes, rubrics=dict(rubrics))


@lru_cache(maxsize=1)
def load_form() -> SelfEvaluationForm:
    """The platform's self-evaluation form, read once per process."""
    try:
        data: Any = yaml.load(FORM_FILE.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - safe
    except (OSError, yaml.YAMLError) as error:
        raise SelfEvaluationFormError([Problem(str(FORM_FILE), None, f"cannot read: {error}")]) from error
    return parse_form(data, load_rubrics(), source=str(FORM_FILE))
