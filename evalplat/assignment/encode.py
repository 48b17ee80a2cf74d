"""Integer encoding of an assignment instance and vectorised eligibility.

Eligibility of a pair splits into a *base* part shared by whole groups — region differs (regional avoidance),
type handled (``required``), evaluator or peer slot open — and *blocked* pairs, a sparse list: same firm,
same lawyer, declared conflicts, excluded pairs and pairs already fixed.  Cases with the same (region, type)
form a case group and see the same base-eligible reviewers, so eligibility is computed per group with numpy
and never pair by pair in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evalplat.assignment.model import Case, Problem, Reviewer, Rules

LOAD_SCALE = 1000


@dataclass
class Instance:
    """Arrays describing cases, reviewers and the rules (reviewers indexed 0..nR-1, cases 0..nC-1)."""

    cases: Sequence[Case]
    reviewers: Sequence[Reviewer]
    rules: Rules
    case_region: np.ndarray
    case_type: np.ndarray          # index into type_names
    rev_region: np.ndarray
    rev_evaluator: np.ndarray      # bool
    rev_types: np.ndarray          # bitmask over type_names (int64)
    capacity: np.ndarray           # full capacity
    load0: np.ndarray              # load from fixed pairs
    need: np.ndarray               # reviewers still needed per case
    need_eval: np.ndarray          # evaluators still needed per case
    blocked: np.ndarray            # sorted unique pair codes case * nR + reviewer
    fixed_codes: np.ndarray        # pair codes of fixed pairs
    region_names: list[str]
    type_names: list[str]
    group_of_case: np.ndarray      # case -> group index (region, type)
    groups: list[tuple[int, int]]  # group -> (region, type)

    @property
    def n_cases(self) -> int:
        return len(self.cases)

    @property
    def n_reviewers(self) -> int:
        return len(self.reviewers)

    def matched(self, types: np.ndarray | np.integer[Any], masks: np.ndarray) -> np.ndarray:
        """Whether reviewers with type bitmask ``masks`` handle case types ``types`` (broadcasting)."""
        return ((masks >> types.astype(np.int64)) & 1).astype(bool)

    def base_eligible_pairs(self, cases: np.ndarray, reviewers: np.ndarray) -> np.ndarray:
        """Whether pairs are base-eligible (room left, regions differ, type handled when required)."""
        ok = self.capacity[reviewers] - self.load0[reviewers] > 0
        if self.rules.regional_avoidance:
            ok &= self.rev_region[reviewers] != self.case_region[cases]
        if self.rules.case_type_match == "required":
            ok &= self.matched(self.case_type[cases], self.rev_types[reviewers])
        return ok

    def base_eligible(self, group: int) -> np.ndarray:
        """Boolean mask of reviewers base-eligible for cases of ``group`` (ignores blocked pairs)."""
        region, ctype = self.groups[group]
        ok = self.capacity - self.load0 > 0
        if self.rules.regional_avoidance:
            ok &= self.rev_region != region
        if self.rules.case_type_match == "required":
            ok &= self.matched(np.int64(ctype), self.rev_types)
        return ok


def _codes(values: list[str | None], table: dict[str, int]) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int64)
    for i, value in enumerate(values):
        if value is not None:
            out[i] = table.setdefault(value, len(table))
    return out


def _join(left: np.ndarray, right: np.ndarray, n_right: int) -> np.ndarray:
    """Pair codes ``i * n_right + j`` for all i, j with ``left[i] == right[j] >= 0`` (a sort-merge join)."""
    order = np.argsort(right, kind="stable")
    sorted_right = right[order]
    lo = np.searchsorted(sorted_right, left, side="left")
    hi = np.searchsorted(sorted_right, left, side="right")
    counts = np.where(left >= 0, hi - lo, 0)
    rows = np.repeat(np.arange(len(left), dtype=np.int64), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    cols = order[np.arange(counts.sum()) + starts]
    return rows * n_right + cols


def encode(cases: Sequence[Case], reviewers: Sequence[Reviewer], rules: Rules,
           fixed: Sequence[tuple[str, str]] = (), exclude: Sequence[tuple[str, str]] = ()
           ) -> tuple[Instance, list[Problem], list[tuple[str, str, str]]]:
    """Encode the instance; return it, input problems (unknown ids, overfilled cases) and fixed-pair violations."""
    case_index = {c.id: i for i, c in enumerate(cases)}
    rev_index = {r.id: j for j, r in enumerate(reviewers)}
    problems: list[Problem] = []
    if len(case_index) != len(cases):
        raise ValueError("case ids must be unique / 案件编号重复")
    if len(rev_index) != len(reviewers):
        raise ValueError("reviewer ids must be unique / 评估人员编号重复")
    n_c, n_r = len(cases), len(reviewers)
    regions: dict[str, int] = {}
    types: dict[str, int] = {}
    case_region = _codes([c.region for c in cases], regions)
    rev_region = _codes([r.region for r in reviewers], regions)
    case_type = _codes([c.case_type for c in cases], types)
    if len(types) > 62:
        raise ValueError("at most 62 distinct case types are supported / 案件类型过多")
    rev_types = np.zeros(n_r, dtype=np.int64)
    for j, reviewer in enumerate(reviewers):
        for name in reviewer.case_types:
            if name in types:
                rev_types[j] |= np.int64(1) << np.int64(types[name])
    firms: dict[str, int] = {}
    lawyers: dict[str, int] = {}
    case_firm, rev_firm = _codes([c.firm for c in cases], firms), _codes([r.firm for r in reviewers], firms)
    case_lawyer, rev_lawyer = _codes([c.lawyer for c in cases], lawyers), _codes([r.lawyer for r in reviewers], lawyers)

    unknown = sorted({f"{c}/{r}" for c, r in (*fixed, *exclude) if c not in case_index or r not in rev_index})
    if unknown:
        problems.append(Problem("unknown_id", (), {"pairs": unknown[:10]},
                                f"pairs name unknown cases or reviewers: {', '.join(unknown[:10])}",
                                f"以下配对中的案件或评估人员不存在：{', '.join(unknown[:10])}"))
        fixed = [p for p in fixed if p[0] in case_index and p[1] in rev_index]
        exclude = [p for p in exclude if p[0] in case_index and p[1] in rev_index]

    conflict_codes = [case_index[c.id] * n_r + rev_index[r] for c in cases for r in c.conflicts if r in rev_index]
    fixed_codes = np.unique(np.array([case_index[c] * n_r + rev_index[r] for c, r in fixed], dtype=np.int64))
    exclude_codes = np.array([case_index[c] * n_r + rev_index[r] for c, r in exclude], dtype=np.int64)
    firm_pairs = _join(case_firm, rev_firm, n_r)
    lawyer_pairs = _join(case_lawyer, rev_lawyer, n_r)
    blocked = np.unique(np.concatenate([firm_pairs, lawyer_pairs, np.array(conflict_codes, dtype=np.int64),
                                        exclude_codes, fixed_codes]))

    fixed_case = fixed_codes // max(n_r, 1)
    fixed_rev = fixed_codes % max(n_r, 1)
    rev_evaluator = np.array([r.kind == "evaluator" for r in reviewers], dtype=bool)
    capacity = np.array([r.capacity for r in reviewers], dtype=np.int64)
    load0 = np.bincount(fixed_rev, minlength=n_r).astype(np.int64)
    have = np.bincount(fixed_case, minlength=n_c).astype(np.int64)
    have_eval = np.bincount(fixed_case, weights=rev_evaluator[fixed_rev], minlength=n_c).astype(np.int64)
    need = rules.per_case - have
    need_eval = np.maximum(rules.min_evaluators - have_eval, 0)
    over = np.flatnonzero(need < 0)
    if over.size:
        ids = tuple(cases[i].id for i in over.tolist())
        problems.append(Problem("case_overfilled", ids, {"per_case": rules.per_case},
                                f"cases {', '.join(ids[:5])} already have more than {rules.per_case} fixed reviewers",
                                f"案件 {', '.join(ids[:5])} 的固定评估人员已超过 {rules.per_case} 人"))
    need = np.maximum(need, 0)
    need_eval = np.minimum(need_eval, need)

    violations: list[tuple[str, str, str]] = []
    for code in fixed_codes.tolist():
        i, j = divmod(code, n_r)
        case, reviewer = cases[i], reviewers[j]
        reason = _pair_violation(case, reviewer, rules)
        if reason:
            violations.append((case.id, reviewer.id, reason))
    over_capacity = np.flatnonzero(load0 > capacity)
    violations.extend(("", reviewers[j].id, "over_capacity") for j in over_capacity.tolist())

    group_keys = case_region * max(len(types), 1) + case_type
    uniq, group_of_case = np.unique(group_keys, return_inverse=True)
    groups = [(int(k) // max(len(types), 1), int(k) % max(len(types), 1)) for k in uniq]
    instance = Instance(
        cases=cases, reviewers=reviewers, rules=rules, case_region=case_region, case_type=case_type,
        rev_region=rev_region, rev_evaluator=rev_evaluator, rev_types=rev_types, capacity=capacity,
        load0=load0, need=need, need_eval=need_eval, blocked=blocked, fixed_codes=fixed_codes,
        region_names=list(regions), type_names=list(types), group_of_case=group_of_case.astype(np.int64),
        groups=groups)
    return instance, problems, violations


def _pair_violation(case: Case, reviewer: Reviewer, rules: Rules) -> str:
    """The first hard rule a single pair breaks, as a code ('' when it obeys them all)."""
    if rules.regional_avoidance and case.region == reviewer.region:
        return "same_region"
    if case.firm is not None and case.firm == reviewer.firm:
        return "same_firm"
    if case.lawyer is not None and case.lawyer == reviewer.lawyer:
        return "handling_lawyer"
    if reviewer.id in case.conflicts:
        return "declared_conflict"
    if rules.case_type_match == "required" and case.case_type not in reviewer.case_types:
        return "case_type"
    return ""


def is_blocked(instance: Instance, codes: np.ndarray) -> np.ndarray:
    """Whether pair codes are in the sorted blocked list."""
    blocked = instance.blocked
    if blocked.size == 0:
        return np.zeros(codes.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(blocked, codes), blocked.size - 1)
    return blocked[pos] == codes
