"""Combine one case's reviews into a consensus and detect disagreement that needs adjudication.

Pure functions on plain inputs (lists of totals, per-reviewer sets of veto items) for the campaign
workflow; results carry machine-readable :class:`Reason` codes, never translated text.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._reasons import Reason
from ._validation import check_choice, finite_1d

__all__ = [
    "DEFAULT_BANDS",
    "GRADES",
    "GRADE_LABELS",
    "Consensus",
    "Disagreement",
    "GradeBands",
    "Reason",
    "combine",
    "detect_disagreement",
]

GRADES: tuple[str, ...] = ("excellent", "good", "pass", "fail")
GRADE_LABELS: dict[str, tuple[str, str]] = {
    "excellent": ("优秀", "excellent"), "good": ("良好", "good"),
    "pass": ("合格", "pass"), "fail": ("不合格", "fail"),
}
METHODS: tuple[str, ...] = ("mean", "median", "trimmed")


@dataclass(frozen=True)
class GradeBands:
    """Grade bands: ``cutoffs[i]`` is the lowest total that earns ``grades[i]``; below the last → last grade.

    The default is the design's ≥ 90 优秀 / 80–89 良好 / 60–79 合格 / < 60 不合格, configurable per campaign.

    Examples
    --------
    >>> b = GradeBands()
    >>> b.grade(89.5), b.grade(90), b.grade(59.9), b.index("good")
    ('good', 'excellent', 'fail', 1)
    """

    cutoffs: tuple[float, ...] = (90.0, 80.0, 60.0)
    grades: tuple[str, ...] = GRADES

    def __post_init__(self) -> None:
        cut = tuple(float(c) for c in self.cutoffs)
        if len(self.grades) != len(cut) + 1:
            raise ValueError(f"need one more grade than cutoffs, got {len(self.grades)} grades and "
                             f"{len(cut)} cutoffs")
        if len(set(self.grades)) != len(self.grades):
            raise ValueError(f"grades must be distinct, got {self.grades!r}")
        if not all(np.isfinite(cut)) or any(a <= b for a, b in zip(cut, cut[1:], strict=False)):
            raise ValueError(f"cutoffs must be finite and strictly decreasing, got {self.cutoffs!r}")
        object.__setattr__(self, "cutoffs", cut)

    def grade(self, score: float) -> str:
        """Grade of one total (best grade first in ``grades``)."""
        for cutoff, g in zip(self.cutoffs, self.grades, strict=False):
            if score >= cutoff:
                return g
        return self.grades[-1]

    def index(self, grade: str) -> int:
        """Position of a grade, 0 = best."""
        return self.grades.index(check_choice(grade, self.grades, "grade"))


DEFAULT_BANDS = GradeBands()


def _scores(scores: ArrayLike) -> np.ndarray:
    s = finite_1d(scores, "scores")
    if not s.size:
        raise ValueError("scores is empty: a case needs at least one review")
    return s


def _veto_sets(vetoes: Sequence[Collection[str]] | None, n: int) -> list[frozenset[str]]:
    if vetoes is None:
        return [frozenset()] * n
    if len(vetoes) != n:
        raise ValueError(f"vetoes must hold one collection per review: {len(vetoes)} for {n} scores")
    if any(isinstance(v, str) for v in vetoes):
        raise ValueError("each entry of vetoes must be a collection of item codes, not a single string")
    return [frozenset(v) for v in vetoes]


@dataclass(frozen=True)
class Consensus:
    """The combined result of one case.

    Attributes
    ----------
    value : float
        The consensus total (the adjudicated one when overridden).
    combined : float
        The statistic of the reviewers' totals by ``method``, kept even when overridden.
    method : str
        ``"mean"``, ``"median"``, ``"trimmed"`` or ``"adjudicated"``.
    grade : str
    n : int
        Number of reviews combined.
    reasons : tuple of Reason
        ``adjudicated_override``, ``veto_forces_fail``.
    """

    value: float
    combined: float
    method: str
    grade: str
    n: int
    reasons: tuple[Reason, ...]


def _trimmed_mean(s: np.ndarray, trim: float) -> float:
    cut = int(np.floor(trim * s.size + 1e-9))
    kept = np.sort(s)[cut : s.size - cut]
    return float(kept.mean())


def combine(scores: ArrayLike, *, method: str = "mean", trim: float = 0.2, adjudicated: float | None = None,
            veto: bool = False, bands: GradeBands = DEFAULT_BANDS) -> Consensus:
    """Combine the reviewers' totals of one case into a consensus total and grade.

    ``trimmed`` drops ``floor(trim · n)`` totals at each end before averaging (Tukey's trimmed mean;
    with 3–4 reviews and the default 0.2 nothing is dropped; with 5 the extremes are). An adjudicated
    total overrides the statistic (the reviewers' statistic is kept in ``combined``). A veto that stands
    forces the last grade (不合格) whatever the total.

    Parameters
    ----------
    scores : array_like of float
        The reviewers' totals.
    method : {"mean", "median", "trimmed"}
    trim : float, optional
        Proportion cut at each end for ``trimmed``, in [0, 0.5).
    adjudicated : float, optional
        The adjudicator's total, which overrides.
    veto : bool, optional
        Whether a veto item stands for the case.
    bands : GradeBands, optional

    Returns
    -------
    Consensus

    Examples
    --------
    >>> from scoring.consensus import combine
    >>> c = combine([82, 91, 88])
    >>> c.value, c.grade
    (87.0, 'good')
    >>> c = combine([82, 91, 60], adjudicated=85.0)
    >>> c.value, c.method, [r.code for r in c.reasons]
    (85.0, 'adjudicated', ['adjudicated_override'])
    >>> combine([95, 93], veto=True).grade
    'fail'
    """
    s = _scores(scores)
    method = check_choice(method, METHODS, "method")
    if not 0.0 <= trim < 0.5:
        raise ValueError(f"trim must lie in [0, 0.5), got {trim!r}")
    if method == "mean":
        combined = float(s.mean())
    elif method == "median":
        combined = float(np.median(s))
    else:
        combined = _trimmed_mean(s, trim)
    reasons: list[Reason] = []
    value, used = combined, method
    if adjudicated is not None:
        if not np.isfinite(adjudicated):
            raise ValueError(f"adjudicated must be a finite total, got {adjudicated!r}")
        value, used = float(adjudicated), "adjudicated"
        reasons.append(Reason("adjudicated_override", {"combined": combined, "method": method}))
    grade = bands.grade(value)
    if veto:
        grade = bands.grades[-1]
        reasons.append(Reason("veto_forces_fail", {}))
    return Consensus(value, combined, used, grade, int(s.size), tuple(reasons))


@dataclass(frozen=True)
class Disagreement:
    """Outcome of the disagreement rules for one case.

    Attributes
    ----------
    escalate : bool
        True when any rule fired: send the case to adjudication.
    reasons : tuple of Reason
        Codes ``spread_above_threshold``, ``grades_apart``, ``veto_one_side``, ``extreme_grade``.
    spread : float
        Highest minus lowest total.
    grades : tuple of str
        Each review's grade (a review with a veto item is graded with the last grade).
    """

    escalate: bool
    reasons: tuple[Reason, ...]
    spread: float
    grades: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in rule order."""
        return tuple(r.code for r in self.reasons)


def detect_disagreement(scores: ArrayLike, *, vetoes: Sequence[Collection[str]] | None = None,
                        spread_threshold: float | None = 10.0, max_band_gap: int | None = 1,
                        extreme_grades: Collection[str] = ("excellent", "fail"),
                        bands: GradeBands = DEFAULT_BANDS) -> Disagreement:
    """Apply the campaign's disagreement rules to the reviews of one case.

    Rules (each can be switched off with ``None`` or an empty collection), following the practice
    collected in the domain brief (Shaoguan 2021, Pingdingshan 2022):

    1. ``spread_above_threshold`` — highest minus lowest total exceeds ``spread_threshold``.
    2. ``grades_apart`` — the reviews' grades lie more than ``max_band_gap`` bands apart.
    3. ``veto_one_side`` — a veto item raised by some reviewers but not all (one reason per item).
    4. ``extreme_grade`` — some review earned a grade in ``extreme_grades`` (e.g. every 优秀 and every
       不合格 is re-reviewed).

    Parameters
    ----------
    scores : array_like of float
        The reviewers' totals, one per review.
    vetoes : sequence of collections of str, optional
        Per review, the veto item codes it raised.
    spread_threshold : float or None
    max_band_gap : int or None
    extreme_grades : collection of str
    bands : GradeBands

    Returns
    -------
    Disagreement

    Examples
    --------
    >>> from scoring.consensus import detect_disagreement
    >>> d = detect_disagreement([72, 85], extreme_grades=())
    >>> d.escalate, d.codes
    (True, ('spread_above_threshold',))
    >>> d = detect_disagreement([84, 86], vetoes=[{"fee_taken"}, set()])
    >>> d.codes, d.grades
    (('grades_apart', 'veto_one_side', 'extreme_grade'), ('fail', 'good'))
    >>> detect_disagreement([84, 86, 83]).escalate
    False
    """
    s = _scores(scores)
    sets = _veto_sets(vetoes, s.size)
    if spread_threshold is not None and (not np.isfinite(spread_threshold) or spread_threshold < 0):
        raise ValueError(f"spread_threshold must be a finite number >= 0 or None, got {spread_threshold!r}")
    if max_band_gap is not None and (isinstance(max_band_gap, bool) or not isinstance(max_band_gap, int)
                                     or max_band_gap < 0):
        raise ValueError(f"max_band_gap must be an integer >= 0 or None, got {max_band_gap!r}")
    if isinstance(extreme_grades, str):
        raise ValueError("extreme_grades must be a collection of grades, not a single string")
    for g in extreme_grades:
        check_choice(g, bands.grades, "extreme grade")
    grades = tuple(bands.grades[-1] if v else bands.grade(float(x)) for x, v in zip(s, sets, strict=True))
    reasons: list[Reason] = []
    spread = float(s.max() - s.min())
    if spread_threshold is not None and spread > spread_threshold:
        reasons.append(Reason("spread_above_threshold", {"spread": spread, "threshold": float(spread_threshold)}))
    idx = [bands.index(g) for g in grades]
    gap = max(idx) - min(idx)
    if max_band_gap is not None and gap > max_band_gap:
        reasons.append(Reason("grades_apart", {"gap": gap, "max_gap": max_band_gap, "grades": list(grades)}))
    for item in sorted(frozenset().union(*sets)):
        raised = [i for i, v in enumerate(sets) if item in v]
        if len(raised) < s.size:
            reasons.append(Reason("veto_one_side", {
                "item": item, "raised_by": raised, "not_raised_by": [i for i in range(s.size) if i not in raised]}))
    for g in bands.grades:
        if g in extreme_grades and g in grades:
            reasons.append(Reason("extreme_grade", {
                "grade": g, "reviews": [i for i, x in enumerate(grades) if x == g]}))
    return Disagreement(bool(reasons), tuple(reasons), spread, grades)
