"""Rubric definitions (``forms/rubrics/*.yaml``) and the rubric logic; pure Python, no Flask.

>>> from forms.rubrics import load_rubrics
>>> rubrics = load_rubrics()
>>> sorted(rubrics)
['administrative', 'civil', 'criminal', 'non_litigation']
>>> rubrics["civil"] is rubrics["administrative"]
True
"""

from forms.rubrics.loader import (
    RUBRIC_DIR,
    Problem,
    RubricDefinitionError,
    load_rubric_file,
    load_rubrics,
    parse_rubric,
)
from forms.rubrics.model import (
    CASE_TYPES,
    GRADE_LABELS,
    GRADES,
    LEVEL_CODES,
    LEVEL_NAMES,
    Evaluation,
    GradeBand,
    GradeBands,
    GradeBandsError,
    Item,
    Level,
    Rubric,
    ScoreError,
    Text,
    VetoGround,
    level_for_points,
    pick_language,
)

__all__ = [
    "CASE_TYPES",
    "GRADES",
    "GRADE_LABELS",
    "LEVEL_CODES",
    "LEVEL_NAMES",
    "RUBRIC_DIR",
    "Evaluation",
    "GradeBand",
    "GradeBands",
    "GradeBandsError",
    "Item",
    "Level",
    "Problem",
    "Rubric",
    "RubricDefinitionError",
    "ScoreError",
    "Text",
    "VetoGround",
    "level_for_points",
    "load_rubric_file",
    "load_rubrics",
    "parse_rubric",
    "pick_language",
]
