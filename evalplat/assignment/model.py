"""Inputs and outputs of the assignment engine: cases, reviewers, rules, solutions, problems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("peer", "evaluator")
MATCH_MODES = ("preferred", "required")
DEFAULT_CAPACITY = 10


def _ids(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


@dataclass(frozen=True)
class Case:
    """A case to be reviewed.

    Parameters
    ----------
    id : str
        Case identifier.
    case_type : str
        e.g. ``"criminal"``, ``"civil"``, ``"administrative"``, ``"non_litigation"``.
    region : str
        Region (city) of the agency that handled the case.
    firm, lawyer : str, optional
        Firm and handling lawyer (licence number or any stable id).
    conflicts : frozenset of str
        Reviewer ids declared or found in the file as conflicted.
    """

    id: str
    case_type: str
    region: str
    firm: str | None = None
    lawyer: str | None = None
    conflicts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "conflicts", _ids(self.conflicts))
        for name in ("id", "case_type", "region"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"case {self.id!r}: {name} must be non-empty text / 案件 {self.id!r}：{name} 不能为空")


@dataclass(frozen=True)
class Reviewer:
    """A reviewer of the pool.

    Parameters
    ----------
    id : str
        Reviewer identifier.
    kind : {"peer", "evaluator"}
        Peer lawyer or third-party evaluator.
    region : str
        The reviewer's region (city).
    firm, lawyer : str, optional
        The reviewer's firm and own lawyer id; ``None`` for evaluators.
    case_types : frozenset of str
        Case types the reviewer handles.
    capacity : int
        Most cases the reviewer takes in the campaign (at least 1; default 10).
    """

    id: str
    kind: str
    region: str
    firm: str | None = None
    lawyer: str | None = None
    case_types: frozenset[str] = frozenset()
    capacity: int = DEFAULT_CAPACITY

    def __post_init__(self) -> None:
        object.__setattr__(self, "case_types", _ids(self.case_types))
        where = f"reviewer {self.id!r}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be 'peer' or 'evaluator', got {self.kind!r} / 评估人员类型无效")
        if not isinstance(self.region, str) or not self.region:
            raise ValueError(f"{where}: region must be non-empty text / 评估人员所在地区不能为空")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int) or self.capacity < 1:
            raise ValueError(f"{where}: capacity must be a whole number of at least 1, got {self.capacity!r}"
                             f" / 评估人员 {self.id!r} 的承担量必须是不小于 1 的整数")
        if self.kind == "evaluator" and (self.firm is not None or self.lawyer is not None):
            raise ValueError(f"{where}: a third-party evaluator has no firm or lawyer id / 第三方评估人员不应有律所或律师编号")


@dataclass(frozen=True)
class Rules:
    """Assignment rules.

    Parameters
    ----------
    per_case : int
        Reviewers per case.
    min_evaluators : int
        Least number of third-party evaluators per case.
    regional_avoidance : bool
        Reviewers never review cases of their own region.
    case_type_match : {"preferred", "required"}
        Whether reviewers must handle the case's type, or only preferably.
    max_pair_probability : float, optional
        Randomised mode: the cap *q* on the probability of any reviewer–case pair (Jecmen et al. 2020).
    seed : int
        Seed of the randomised mode and of tie-breaking among equally good assignments.
    """

    per_case: int = 3
    min_evaluators: int = 0
    regional_avoidance: bool = True
    case_type_match: str = "preferred"
    max_pair_probability: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.per_case, bool) or not isinstance(self.per_case, int) or self.per_case < 1:
            raise ValueError(f"per_case must be a whole number of at least 1, got {self.per_case!r} / 每案评估人数无效")
        if (isinstance(self.min_evaluators, bool) or not isinstance(self.min_evaluators, int)
                or not 0 <= self.min_evaluators <= self.per_case):
            raise ValueError(f"min_evaluators must be between 0 and per_case ({self.per_case}), "
                             f"got {self.min_evaluators!r} / 第三方评估人员最少人数无效")
        if self.case_type_match not in MATCH_MODES:
            raise ValueError(f"case_type_match must be 'preferred' or 'required', got {self.case_type_match!r}"
                             " / 案件类型匹配规则无效")
        q = self.max_pair_probability
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q <= 1):
            raise ValueError(f"max_pair_probability must be in (0, 1], got {q!r} / 单对最大概率必须在 (0, 1] 之间")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r} / 随机种子必须是整数")


@dataclass(frozen=True)
class Problem:
    """One reason why an assignment is impossible.

    Attributes
    ----------
    code : str
        ``not_enough_eligible``, ``not_enough_evaluators``, ``pair_cap_too_low``, ``capacity_shortage``,
        ``evaluator_capacity_shortage``, ``case_overfilled`` or ``unknown_id``.
    case_ids : tuple of str
        The cases concerned (all of them; messages show the first few).
    params : dict
        The numbers behind the reason (counts, regions, types, capacity, demand).
    message_en, message_zh : str
        The reason in English and Chinese.
    """

    code: str
    case_ids: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    message_en: str = ""
    message_zh: str = ""


class InfeasibleAssignment(ValueError):
    """No assignment obeys the hard rules; ``problems`` says which cases cannot be covered and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"- {p.message_en} / {p.message_zh}" for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"- … and {len(problems) - 20} more problems / 另有 {len(problems) - 20} 个问题")
        super().__init__("No assignment obeys the rules / 无法在遵守规则的前提下完成分配:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Solution:
    """The result of :func:`evalplat.assignment.solve`.

    Attributes
    ----------
    pairs : list of (case id, reviewer id)
        The assignment, fixed pairs included, in case order then reviewer order.
    new_pairs : list of (case id, reviewer id)
        Pairs chosen by this run (``pairs`` minus the fixed ones).
    mismatches : float
        Number of pairs whose reviewer does not handle the case type (expected number in randomised mode).
    load_cost : float
        Load term of the objective, ``sum_r F_r(load_r)`` with marginal cost ``floor(S (2k-1) / capacity)``
        for a reviewer's k-th case (S = 1000); it is smallest when loads are proportional to capacities.
    objective : float
        ``mismatch_weight * mismatches + load_cost`` of the optimised flow (expected value in randomised mode).
    lower_bound : float
        A certified lower bound on the objective of any assignment obeying the rules (the LP bound, from the
        dual potentials checked against the whole eligibility graph, not only the pruned one).
    gap : float
        ``(objective - lower_bound) / max(1, |objective|)``; 0 proves optimality.
    marginals : dict or None
        Randomised mode: probability of each reviewer–case pair (all at most ``max_pair_probability``).
    loads : dict
        Cases per reviewer (including fixed pairs).
    candidate_arcs : int
        Reviewer–case arcs in the pruned network that was solved.
    eligible_pairs : int
        Reviewer–case pairs obeying the hard rules (size of the unpruned graph).
    rounds : int
        Solves needed until the potentials certified the pruned network.
    method : str
        ``"groups"`` when solved over groups of alike cases (``candidate_arcs`` then counts group–reviewer
        arcs), ``"pairs"`` when solved over reviewer–case pairs.
    fixed_violations : list of (case id, reviewer id, reason)
        Fixed pairs (organiser overrides) that break a rule; kept as given.
    """

    pairs: list[tuple[str, str]]
    new_pairs: list[tuple[str, str]]
    mismatches: float
    load_cost: float
    objective: float
    lower_bound: float
    gap: float
    marginals: dict[tuple[str, str], float] | None
    loads: dict[str, int]
    candidate_arcs: int
    eligible_pairs: int
    rounds: int
    mismatch_weight: int
    fixed_violations: list[tuple[str, str, str]] = field(default_factory=list)
    method: str = "pairs"
