"""Instance factories and an independent checker of the hard rules for the assignment tests."""

from __future__ import annotations

import random
from collections import Counter

from evalplat.assignment import Case, Reviewer, Rules

TYPES = ("criminal", "civil", "administrative", "non_litigation")


def random_instance(seed: int, n_cases: int, n_reviewers: int, *, regions: int = 5, evaluator_every: int = 3,
                    capacity: tuple[int, int] = (3, 8), firms: int = 12, conflicts: float = 0.05
                    ) -> tuple[list[Case], list[Reviewer]]:
    rng = random.Random(seed)
    names = [f"城市{i}" for i in range(regions)]
    reviewers = []
    for j in range(n_reviewers):
        evaluator = j % evaluator_every == 0
        reviewers.append(Reviewer(
            f"r{j}", "evaluator" if evaluator else "peer", rng.choice(names),
            firm=None if evaluator else f"firm{rng.randrange(firms)}",
            lawyer=None if evaluator else f"lic{j}",
            case_types=frozenset(rng.sample(TYPES, rng.randint(1, 3))),
            capacity=rng.randint(*capacity)))
    cases = []
    for i in range(n_cases):
        declared = frozenset(r.id for r in reviewers if rng.random() < conflicts)
        lawyer = f"lic{rng.randrange(n_reviewers)}" if rng.random() < 0.3 else None
        cases.append(Case(f"c{i}", rng.choice(TYPES), rng.choice(names), firm=f"firm{rng.randrange(firms)}",
                          lawyer=lawyer, conflicts=declared))
    return cases, reviewers


def eligible(case: Case, reviewer: Reviewer, rules: Rules) -> bool:
    """The hard eligibility rule, written out independently of the engine."""
    if rules.regional_avoidance and case.region == reviewer.region:
        return False
    if case.firm is not None and case.firm == reviewer.firm:
        return False
    if case.lawyer is not None and case.lawyer == reviewer.lawyer:
        return False
    if reviewer.id in case.conflicts:
        return False
    return not (rules.case_type_match == "required" and case.case_type not in reviewer.case_types)


def check_hard_rules(cases: list[Case], reviewers: list[Reviewer], rules: Rules,
                     pairs: list[tuple[str, str]]) -> None:
    case_by = {c.id: c for c in cases}
    rev_by = {r.id: r for r in reviewers}
    assert len(set(pairs)) == len(pairs), "a reviewer appears twice on a case"
    per_case = Counter(c for c, _ in pairs)
    evaluators = Counter(c for c, r in pairs if rev_by[r].kind == "evaluator")
    for case in cases:
        assert per_case[case.id] == rules.per_case, case.id
        assert evaluators[case.id] >= rules.min_evaluators, case.id
    for c, r in pairs:
        assert eligible(case_by[c], rev_by[r], rules), (c, r)
    load = Counter(r for _, r in pairs)
    for reviewer in reviewers:
        assert load[reviewer.id] <= reviewer.capacity, reviewer.id
