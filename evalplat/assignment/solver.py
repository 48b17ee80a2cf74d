"""Public entry points: :func:`solve`, :func:`assign` and :func:`reassign`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np

from evalplat.assignment.diagnose import hall_violator, precheck
from evalplat.assignment.encode import Instance, encode
from evalplat.assignment.groups import solve_groups
from evalplat.assignment.model import Case, InfeasibleAssignment, Reviewer, Rules, Solution
from evalplat.assignment.network import (
    Layout,
    Network,
    build,
    candidate_pairs,
    lagrangian_bound,
    layout,
    load_units,
    max_flow,
    mismatch_weight,
    potentials,
    solve_network,
)
from evalplat.assignment.randomised import round_flow

MAX_ROUNDS = 12
# Default candidate reviewers per group and preference list, per reviewer needed: with 1,200 groups and 5,000
# reviewers (the national benchmark) the first solve is already optimal.
GROUP_CANDIDATES = 40


def _scale(q: float | None) -> tuple[int, int]:
    """Flow unit D and pair capacity (``q * D``) for the randomised mode; (1, 1) otherwise."""
    if q is None or q >= 1:
        return 1, 1
    frac = Fraction(q).limit_denominator(1000)
    frac = min(frac, Fraction(q))  # never above the organiser's cap
    unit = frac.denominator * max(1, math.ceil(24 / frac.denominator))
    return unit, int(frac * unit)


def solve(cases: Sequence[Case], reviewers: Sequence[Reviewer], rules: Rules, *,
          fixed: Iterable[tuple[str, str]] = (), exclude: Iterable[tuple[str, str]] = (),
          candidates_per_case: int | None = 0, aggregate: bool = True) -> Solution:
    """Optimal conflict-free assignment of reviewers to cases.

    Hard rules (never broken): each case gets exactly ``rules.per_case`` distinct eligible reviewers, at least
    ``rules.min_evaluators`` of them third-party evaluators, and no reviewer exceeds capacity.  A reviewer is
    eligible for a case when the regions differ (regional avoidance), the firms differ, the reviewer is not the
    handling lawyer, is not in the case's conflicts or ``exclude``, and — with ``case_type_match="required"`` —
    handles the case type.  Among such assignments the objective is lexicographic: most type matches first,
    then loads as even as possible relative to capacity (convex cost about ``S * load**2 / capacity``).

    Parameters
    ----------
    cases, reviewers : sequence of Case, Reviewer
        The instance.
    rules : Rules
        Assignment rules; ``rules.max_pair_probability`` switches on the randomised mode.
    fixed : iterable of (case id, reviewer id)
        Pairs to keep (earlier runs, organiser overrides); they count towards per_case, min_evaluators and
        capacity.  A fixed pair that breaks a rule is kept and reported in ``fixed_violations``.
    exclude : iterable of (case id, reviewer id)
        Pairs that must not be chosen (e.g. a reviewer who declined the case).
    candidates_per_case : int or None
        Candidate reviewers per case (per group of alike cases when solving by groups) and preference list in
        the pruned network; 0 picks a default, ``None`` solves the full eligibility graph (for checks).  Pruning never costs optimality: pairs whose reduced
        cost is negative are added until the LP bound certifies the result (``Solution.gap``).
    aggregate : bool
        Solve over groups of alike cases first (deterministic mode with pruning; see
        :mod:`evalplat.assignment.groups`), falling back to pairs when the group optimum cannot be realised or
        the instance is infeasible.  ``False`` always solves at pair level.

    Returns
    -------
    Solution

    Raises
    ------
    InfeasibleAssignment
        With ``problems`` naming the cases that cannot be covered and why.

    References
    ----------
    Jecmen, Zhang, Liu, Shah, Conitzer, Fang (2020), "Mitigating manipulation in peer review via randomized
    reviewer assignments", NeurIPS.
    """
    fixed = list(dict.fromkeys((str(c), str(r)) for c, r in fixed))
    exclude = [(str(c), str(r)) for c, r in exclude]
    inst, problems, violations = encode(cases, reviewers, rules, fixed, exclude)
    if problems:
        raise InfeasibleAssignment(problems)
    q = rules.max_pair_probability
    problems = precheck(inst, q if q is not None and q < 1 else None)
    if problems:
        raise InfeasibleAssignment(problems)
    unit, pair_cap = _scale(q)
    weight = mismatch_weight(inst)
    lay = layout(inst)
    default = 2 * rules.per_case + 2 + (2 * math.ceil(rules.per_case * unit / pair_cap) if unit > 1 else 0)
    per_list = default if candidates_per_case == 0 else candidates_per_case

    if unit == 1 and per_list is not None and aggregate:
        per_group = GROUP_CANDIDATES * rules.per_case if candidates_per_case == 0 else per_list
        solution = _solve_by_groups(inst, weight, per_group, violations)
        if solution is not None:
            return solution

    result = None
    if rules.case_type_match == "preferred":
        # If every case can be covered by reviewers who handle its type, the lexicographic optimum has no
        # mismatch and lives in the matched-only network, whose small costs solve several times faster.
        result = _optimise(_matched_only(inst), lay, per_list, weight, unit, pair_cap, escalate=False)
        if result is None and per_list is not None:
            result = _optimise(_matched_only(inst), lay, 2 * per_list, weight, unit, pair_cap, escalate=False)
    if result is None:
        result = _optimise(inst, lay, per_list, weight, unit, pair_cap, escalate=True)
    assert result is not None
    net, bound, rounds = result

    assert net.flows is not None
    n_r = inst.n_reviewers
    pair_flow = net.flows[: net.n_pair_arcs]
    marginals = None
    if unit > 1:
        used = np.flatnonzero(pair_flow > 0)
        marginals = {(inst.cases[c].id, inst.reviewers[r].id): float(f) / unit for c, r, f in zip(
            (net.pair_codes[used] // n_r).tolist(), (net.pair_codes[used] % n_r).tolist(),
            pair_flow[used].tolist(), strict=True)}
        rounded = round_flow(net.tails, net.heads, net.flows, unit, rules.seed)
        chosen = net.pair_codes[rounded[: net.n_pair_arcs] == unit]
    else:
        chosen = net.pair_codes[pair_flow == 1]
    mismatch = ~inst.matched(inst.case_type[net.pair_codes // n_r], inst.rev_types[net.pair_codes % n_r])
    mismatches = float(pair_flow[mismatch].sum()) / unit
    return _solution(inst, chosen, mismatches, net.objective / unit, bound / unit, weight, marginals,
                     int(net.n_pair_arcs), rounds, "pairs", violations)


def _matched_only(inst: Instance) -> Instance:
    return dataclasses.replace(inst, rules=dataclasses.replace(inst.rules, case_type_match="required"))


def _solve_by_groups(inst: Instance, weight: int, per_list: int, violations: list[tuple[str, str, str]]
                     ) -> Solution | None:
    """The group-level solve (see :mod:`evalplat.assignment.groups`); None when pairs must be solved instead.

    That is when the instance is infeasible (the pair-level solve explains why) or when the group optimum
    cannot be realised by pairs (its relaxation of the per-case rules is not tight).
    """
    result = None
    if inst.rules.case_type_match == "preferred":
        result = solve_groups(_matched_only(inst), per_list, weight)
    if result is None or not result.feasible:
        result = solve_groups(inst, per_list, weight)
    if not result.feasible or result.chosen is None:
        return None
    assert result.net is not None
    n_r = inst.n_reviewers
    chosen = result.chosen
    mismatches = int((~inst.matched(inst.case_type[chosen // n_r], inst.rev_types[chosen % n_r])).sum())
    load = np.bincount(chosen % n_r, minlength=n_r)
    objective = weight * mismatches + _load_cost(inst, load)
    if objective != result.net.objective:  # pragma: no cover - disaggregation keeps loads and matches
        raise RuntimeError(f"disaggregated cost {objective} differs from the group optimum {result.net.objective}")
    return _solution(inst, chosen, float(mismatches), float(objective), float(result.bound), weight, None,
                     int(result.net.n_pair_arcs), result.rounds, "groups", violations)


def _load_cost(inst: Instance, load: np.ndarray) -> int:
    """Cost of adding ``load`` cases to each reviewer's fixed load: the sum of their marginal unit costs."""
    return int(load_units(inst, load)[1].sum())


def _solution(inst: Instance, chosen: np.ndarray, mismatches: float, objective: float, bound: float, weight: int,
              marginals: dict[tuple[str, str], float] | None, arcs: int, rounds: int, method: str,
              violations: list[tuple[str, str, str]]) -> Solution:
    n_r = inst.n_reviewers
    lower = min(bound, objective)
    all_codes = np.concatenate([inst.fixed_codes, chosen])
    order = np.argsort(all_codes, kind="stable")
    pairs = [(inst.cases[c].id, inst.reviewers[r].id) for c, r in zip(
        (all_codes[order] // n_r).tolist(), (all_codes[order] % n_r).tolist(), strict=True)]
    new_pairs = [(inst.cases[c].id, inst.reviewers[r].id) for c, r in zip(
        (np.sort(chosen) // n_r).tolist(), (np.sort(chosen) % n_r).tolist(), strict=True)]
    loads = np.bincount(all_codes % n_r, minlength=n_r) if n_r else np.zeros(0, dtype=np.int64)
    return Solution(
        pairs=pairs, new_pairs=new_pairs, mismatches=mismatches, load_cost=objective - weight * mismatches,
        objective=objective, lower_bound=lower, gap=(objective - lower) / max(1.0, abs(objective)),
        marginals=marginals, loads={r.id: int(n) for r, n in zip(inst.reviewers, loads.tolist(), strict=True)},
        candidate_arcs=arcs, eligible_pairs=_eligible_count(inst), rounds=rounds,
        mismatch_weight=weight, fixed_violations=violations, method=method)


def _optimise(inst: Instance, lay: Layout, per_list: int | None, weight: int, unit: int, pair_cap: int, *,
              escalate: bool) -> tuple[Network, int, int] | None:
    """Solve the pruned network, adding pairs with negative reduced cost until the LP bound certifies it.

    Returns (network, bound, rounds); None when the pruned network is infeasible and ``escalate`` is off.
    Escalating widens the candidate lists and finally solves the full graph, whose infeasibility is explained.
    """
    codes = candidate_pairs(inst, per_list, inst.rules.seed)
    rounds = 0
    while True:
        rounds += 1
        net = build(inst, lay, codes, weight, unit, pair_cap)
        if not solve_network(net):
            if not escalate:
                return None
            if per_list is None:
                raise InfeasibleAssignment(hall_violator(inst, lay, net, max_flow(net), unit))
            per_list = per_list * 4 if per_list * 4 < inst.n_reviewers else None
            codes = np.union1d(codes, candidate_pairs(inst, per_list, inst.rules.seed))
            continue
        p = potentials(net)
        bound, fresh = lagrangian_bound(inst, lay, net, p, weight, unit, pair_cap)
        if bound >= net.objective or fresh.size == 0 or rounds >= MAX_ROUNDS:
            return net, bound, rounds
        codes = np.union1d(codes, fresh)


def _eligible_count(inst: Instance) -> int:
    """Size of the unpruned eligibility graph: base-eligible pairs minus blocked ones."""
    total = sum(int((inst.group_of_case == g).sum()) * int(inst.base_eligible(g).sum())
                for g in range(len(inst.groups)))
    n_r = inst.n_reviewers
    cases, revs = inst.blocked // max(n_r, 1), inst.blocked % max(n_r, 1)
    return total - int(inst.base_eligible_pairs(cases, revs).sum())


def assign(cases: Sequence[Case], reviewers: Sequence[Reviewer], rules: Rules) -> list[tuple[str, str]]:
    """Assign reviewers to cases; returns (case id, reviewer id) pairs.  See :func:`solve`.

    Examples
    --------
    >>> cases = [Case("c1", "civil", "江门"), Case("c2", "criminal", "广州")]
    >>> pool = [Reviewer(f"r{i}", "peer", city, case_types={"civil", "criminal"}, capacity=2)
    ...         for i, city in enumerate(["广州", "深圳", "江门"])]
    >>> sorted(assign(cases, pool, Rules(per_case=2)))
    [('c1', 'r0'), ('c1', 'r1'), ('c2', 'r1'), ('c2', 'r2')]
    """
    return solve(cases, reviewers, rules).pairs


def reassign(cases: Sequence[Case], reviewers: Sequence[Reviewer], rules: Rules,
             current: Iterable[tuple[str, str]], drop: Iterable[tuple[str, str]]) -> Solution:
    """Re-assign only the dropped pairs, keeping every other pair of ``current``.

    Parameters
    ----------
    current : iterable of (case id, reviewer id)
        The committed assignment.
    drop : iterable of (case id, reviewer id)
        Pairs to replace (a reviewer declined, or was deactivated — then drop all their pairs and leave them
        out of ``reviewers``).  A dropped reviewer is never given the same case again.

    Returns
    -------
    Solution
        ``pairs`` is the kept pairs plus the replacements; ``new_pairs`` the replacements only.
    """
    dropped = {(str(c), str(r)) for c, r in drop}
    known = {r.id for r in reviewers}
    kept = [(str(c), str(r)) for c, r in current if (str(c), str(r)) not in dropped and str(r) in known]
    exclude = [pair for pair in dropped if pair[1] in known]
    return solve(cases, reviewers, rules, fixed=kept, exclude=exclude)
