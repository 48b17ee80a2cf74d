"""Group-level solve: cases that look alike to every reviewer share one node, so national instances stay small.

Cases of the same region and type that still need the same numbers of reviewers and of evaluators form a
group g of ``n_g`` cases.  A reviewer j may take at most ``n_g - b_gj`` of them, ``b_gj`` being the cases of g
blocked for j (same firm, handling lawyer, declared conflict, excluded or already fixed).  Pair costs (type
match) and load costs depend only on how many cases of each group each reviewer takes, so the min-cost flow
over groups is a relaxation of the assignment problem with the same objective.  Its optimum is found on pruned
group–reviewer arcs and certified exactly as at pair level: potentials of the residual network, checked
against the *whole* group–reviewer graph, give the Lagrangian (LP) bound, and arcs with negative reduced cost
are added until the bound meets the objective.  The bound is a lower bound of every assignment obeying the
rules.

Disaggregation turns the group flow into pairs of exactly the same cost.  Within a group, reviewers
(evaluators first) fill ``need * n_g`` consecutive slots that are dealt round-robin to the group's cases in a
seeded order: a reviewer's slots (at most ``n_g``) fall on distinct cases, and the first ``need_eval`` slots of
every case are evaluators because the evaluators fill at least ``need_eval * n_g`` slots.  A blocked pair that
lands on a case is swapped with a reviewer of another case of the group (loads stay the same); a group where
no swap works is re-dealt by an exact max-flow.  If that fails too, the grouped relaxation was not tight
there: the group's cases that have blocked pairs become groups of their own (exact, since a case alone has
caps 0 or 1) and the flow is solved again, until every group can be dealt out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from evalplat.assignment.encode import Instance, is_blocked
from evalplat.assignment.network import (
    Layout,
    Network,
    assemble,
    bellman_ford,
    layout_of,
    load_units_bound,
    residual,
    solve_network,
    unit_costs,
)

MAX_ROUNDS = 12


@dataclass
class Groups:
    """Cases grouped by (region, type, reviewers needed, evaluators needed)."""

    of_case: np.ndarray     # group of each case (-1: needs nobody)
    order: np.ndarray       # active cases sorted by group, in a seeded order within each group
    start: np.ndarray       # group g's cases are order[start[g]:start[g + 1]]
    size: np.ndarray        # n_g
    region: np.ndarray
    ctype: np.ndarray
    base: np.ndarray        # the instance's (region, type) group
    need: np.ndarray
    need_eval: np.ndarray
    blk_codes: np.ndarray   # sorted g * n_reviewers + j with blocked cases among base-eligible pairs
    blk_counts: np.ndarray  # b_gj

    @property
    def n_groups(self) -> int:
        return int(self.size.size)

    def row(self, g: int, n_r: int, codes: np.ndarray) -> np.ndarray:
        """Reviewer indices of sorted ``codes`` (g * n_r + j) that belong to group ``g``."""
        lo, hi = np.searchsorted(codes, [g * n_r, (g + 1) * n_r])
        return codes[lo:hi] - g * n_r

    def caps(self, g: int, n_r: int) -> np.ndarray:
        """``n_g - b_gj`` for every reviewer j."""
        cap = np.full(n_r, self.size[g], dtype=np.int64)
        lo, hi = np.searchsorted(self.blk_codes, [g * n_r, (g + 1) * n_r])
        cap[self.blk_codes[lo:hi] - g * n_r] -= self.blk_counts[lo:hi]
        return cap


def make_groups(inst: Instance, alone: np.ndarray | None = None) -> Groups:
    """Group the cases that still need reviewers; count blocked pairs per (group, reviewer).

    Cases marked in ``alone`` form groups of their own (where the grouped optimum could not be dealt out).
    """
    n_c, n_r = inst.n_cases, inst.n_reviewers
    width = inst.rules.per_case + 1
    active = np.flatnonzero(inst.need > 0)
    keys = (inst.group_of_case[active] * width + inst.need[active]) * width + inst.need_eval[active]
    if alone is not None:
        keys = np.where(alone[active], keys.max(initial=0) + 1 + active, keys)
    _, inverse = np.unique(keys, return_inverse=True)
    of_case = np.full(n_c, -1, dtype=np.int64)
    of_case[active] = inverse
    tie = np.random.default_rng([inst.rules.seed, 11]).permutation(n_c)
    order = active[np.lexsort((tie[active], inverse))]
    size = np.bincount(inverse, minlength=int(inverse.max(initial=-1)) + 1).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(size)))
    first = order[start[:-1]]
    base = inst.group_of_case[first]
    cases, revs = inst.blocked // max(n_r, 1), inst.blocked % max(n_r, 1)
    g = of_case[cases]
    keep = g >= 0
    keep[keep] = inst.base_eligible_pairs(cases[keep], revs[keep])
    blk_codes, blk_counts = np.unique(g[keep] * n_r + revs[keep], return_counts=True)
    return Groups(of_case=of_case, order=order, start=start, size=size, region=inst.case_region[first],
                  ctype=inst.case_type[first], base=base, need=inst.need[first], need_eval=inst.need_eval[first],
                  blk_codes=blk_codes, blk_counts=blk_counts.astype(np.int64))


def _sample(pool: np.ndarray, room: np.ndarray, k: int, offset: float) -> np.ndarray:
    """``k`` reviewers of ``pool`` by systematic sampling on the ring of cumulative remaining capacity."""
    weights = np.cumsum(room[pool].astype(np.float64))
    total = weights[-1]
    where = (np.arange(k) * (total / k) + offset * total) % total
    return pool[np.minimum(np.searchsorted(weights, where, side="right"), pool.size - 1)]


def candidates(inst: Instance, grp: Groups, per_list: int | None) -> np.ndarray:
    """Sorted codes ``g * n_reviewers + j`` of candidate arcs: ``per_list`` reviewers from each preference list.

    Lists per group: matched evaluators, matched reviewers of any kind, then (``preferred`` only, where matched
    reviewers are scarce) unmatched ones; reviewers are drawn in proportion to their remaining capacity, where
    the optimum loads them.  ``per_list=None`` takes every base-eligible pair.
    """
    n_r = inst.n_reviewers
    offsets = np.random.default_rng([inst.rules.seed, 7]).random(max(grp.n_groups, 1))
    room = inst.capacity - inst.load0
    chunks: list[np.ndarray] = []
    for g in range(grp.n_groups):
        eligible = inst.base_eligible(int(grp.base[g]))
        matched = inst.matched(grp.ctype[g], inst.rev_types) & eligible
        lists = [np.flatnonzero(matched & inst.rev_evaluator), np.flatnonzero(matched)]
        if inst.rules.case_type_match == "preferred" and (per_list is None or lists[1].size < 2 * per_list):
            lists += [np.flatnonzero(eligible & ~matched & inst.rev_evaluator), np.flatnonzero(eligible & ~matched)]
        for pool in lists:
            if pool.size == 0:
                continue
            picks = pool if per_list is None or per_list >= pool.size else _sample(pool, room, per_list, offsets[g])
            chunks.append(g * n_r + picks)
    return np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)


def build_groups(inst: Instance, grp: Groups, lay: Layout, codes: np.ndarray, weight: int) -> Network:
    """The group-level network over candidate arcs ``codes`` (arcs of a kind the group cannot use are dropped)."""
    n_r = inst.n_reviewers
    g, j = codes // n_r, codes % n_r
    tails = np.where(inst.rev_evaluator[j], lay.side_eval[g], lay.side_peer[g])
    caps = grp.size[g].copy()
    if grp.blk_codes.size:
        pos = np.minimum(np.searchsorted(grp.blk_codes, codes), grp.blk_codes.size - 1)
        caps -= np.where(grp.blk_codes[pos] == codes, grp.blk_counts[pos], 0)
    keep = (tails >= 0) & (caps > 0)
    codes, g, j, tails, caps = codes[keep], g[keep], j[keep], tails[keep], caps[keep]
    costs = np.where(inst.matched(grp.ctype[g], inst.rev_types[j]), 0, weight).astype(np.int64)
    units = np.bincount(j, weights=caps, minlength=n_r).astype(np.int64)
    return assemble(inst, lay, grp.need * grp.size, grp.need_eval * grp.size, codes, tails, j, caps, costs,
                    units, 1)


def group_potentials(inst: Instance, lay: Layout, net: Network) -> np.ndarray:
    """Potentials of the solved group network; each reviewer's load arcs collapse to its next and last unit.

    Load costs are convex, so the cheapest residual arc from a reviewer to the sink is its next unit and the
    cheapest way back is undoing its last one: shortest distances are the same as over all unit arcs.  The
    next unit is taken up to the reviewer's capacity (it cannot close a negative cycle: a reviewer whose
    network units are all used has all its arcs saturated).  A reviewer without load gets the highest valid
    potential, ``p_sink + cost of its first unit``, rather than the arbitrary 0 of the virtual root: then an
    arc to it has negative reduced cost exactly when routing a case through it would pay.
    """
    assert net.flows is not None
    n_r = inst.n_reviewers
    upto = net.n_pair_arcs + 2 * lay.split_cases.size
    tails, heads, costs = residual(net, upto)
    load = np.bincount(net.tails[upto:] - lay.reviewer_base, weights=net.flows[upto:], minlength=n_r
                       ).astype(np.int64)
    nodes = lay.reviewer_base + np.arange(n_r)
    fwd = np.flatnonzero(inst.load0 + load < inst.capacity)
    bwd = np.flatnonzero(load > 0)
    tails = np.concatenate([tails, nodes[fwd], np.full(bwd.size, lay.sink)])
    heads = np.concatenate([heads, np.full(fwd.size, lay.sink), nodes[bwd]])
    costs = np.concatenate([costs, unit_costs(inst.capacity[fwd], inst.load0[fwd] + load[fwd] + 1),
                            -unit_costs(inst.capacity[bwd], inst.load0[bwd] + load[bwd])])
    p = bellman_ford(lay.n_nodes, tails, heads, costs)
    idle = np.flatnonzero((load == 0) & (inst.load0 < inst.capacity))
    p[nodes[idle]] = p[lay.sink] + unit_costs(inst.capacity[idle], inst.load0[idle] + 1)
    return p


def group_bound(inst: Instance, grp: Groups, lay: Layout, net: Network, p: np.ndarray, weight: int,
                per_group: int) -> tuple[int, np.ndarray]:
    """Lagrangian (LP) bound of potentials ``p`` over the whole group–reviewer graph, and arcs to add.

    ``sum_v p_v b_v + sum over arcs of cap * min(0, c + p[head] - p[tail])``, with every load unit up to
    capacity and every base-eligible group–reviewer arc (capacity ``n_g - b_gj``).  Returns the bound and, per
    group, the ``per_group`` arcs outside the network with the most negative reduced cost.
    """
    n_r = inst.n_reviewers
    bound = int((p * net.supplies).sum())
    rev_p = p[lay.reviewer_base: lay.reviewer_base + n_r]
    bound += load_units_bound(inst, lay, p, int(grp.size.sum()))
    split = lay.split_cases
    free = (grp.need[split] - grp.need_eval[split]) * grp.size[split]
    for heads in (lay.split_eval, lay.split_peer):
        bound += int((free * np.minimum(0, p[heads] - p[split])).sum())
    eligible: dict[int, np.ndarray] = {}
    matched: dict[int, np.ndarray] = {}
    fresh: list[np.ndarray] = []
    for g in range(grp.n_groups):
        b, t = int(grp.base[g]), int(grp.ctype[g])
        if b not in eligible:
            eligible[b] = inst.base_eligible(b)
        if t not in matched:
            matched[t] = np.where(inst.matched(np.int64(t), inst.rev_types), 0, weight)
        side = np.where(inst.rev_evaluator, lay.side_eval[g], lay.side_peer[g])
        ok = eligible[b] & (side >= 0)
        reduced = matched[t] + rev_p - p[np.maximum(side, 0)]
        cap = grp.caps(g, n_r)
        bound += int((cap * np.minimum(reduced, 0))[ok].sum())
        add = ok & (reduced < 0) & (cap > 0)
        add[grp.row(g, n_r, net.pair_codes)] = False
        idx = np.flatnonzero(add)
        if idx.size > per_group:
            idx = idx[np.argsort(reduced[idx], kind="stable")[:per_group]]
        fresh.append(g * n_r + idx)
    return bound, (np.unique(np.concatenate(fresh)) if fresh else np.zeros(0, dtype=np.int64))


@dataclass
class GroupResult:
    """Outcome of :func:`solve_groups`."""

    feasible: bool                   # False: even the relaxation is infeasible (so is the instance)
    chosen: np.ndarray | None        # pair codes; None when disaggregation failed (relaxation not tight)
    net: Network | None = None
    bound: int = 0
    rounds: int = 0


def solve_groups(inst: Instance, per_list: int | None, weight: int) -> GroupResult:
    """Optimal group flow with its certified bound, disaggregated into pairs of the same cost.

    When a group's flow cannot be dealt out to its cases (blocked pairs make the per-reviewer caps too loose),
    its cases with blocked pairs become groups of their own and the flow is solved again; the relaxation gets
    tighter each time and is exact once every such case stands alone.
    """
    alone = np.zeros(inst.n_cases, dtype=bool)
    total_rounds = 0
    while True:
        grp = make_groups(inst, alone)
        lay = layout_of(grp.need, grp.need_eval, inst.n_reviewers)
        solved = _certified_flow(inst, grp, lay, per_list, weight)
        if solved is None:
            return GroupResult(feasible=False, chosen=None)
        net, bound, rounds = solved
        total_rounds += rounds
        chosen, failed = disaggregate(inst, grp, net)
        if chosen is not None:
            return GroupResult(feasible=True, chosen=chosen, net=net, bound=bound, rounds=total_rounds)
        members = np.isin(grp.of_case, failed)
        blocked_cases = np.zeros(inst.n_cases, dtype=bool)
        blocked_cases[inst.blocked // max(inst.n_reviewers, 1)] = True
        more = members & blocked_cases & ~alone
        if not more.any():  # pragma: no cover - a group without blocked pairs can always be dealt
            return GroupResult(feasible=True, chosen=None, net=net, bound=bound, rounds=total_rounds)
        alone |= more


def _certified_flow(inst: Instance, grp: Groups, lay: Layout, per_list: int | None, weight: int
                    ) -> tuple[Network, int, int] | None:
    """Column generation on group arcs until the Lagrangian bound certifies the flow; None if infeasible."""
    codes = candidates(inst, grp, per_list)
    per_group = 20 * inst.rules.per_case
    rounds = 0
    while True:
        rounds += 1
        net = build_groups(inst, grp, lay, codes, weight)
        if not solve_network(net):
            if per_list is None:
                return None
            per_list = per_list * 4 if per_list * 4 < inst.n_reviewers else None
            codes = np.union1d(codes, candidates(inst, grp, per_list))
            continue
        p = group_potentials(inst, lay, net)
        bound, fresh = group_bound(inst, grp, lay, net, p, weight, per_group)
        if bound >= net.objective or fresh.size == 0 or rounds >= MAX_ROUNDS:
            return net, bound, rounds
        codes = np.union1d(codes, fresh)


def disaggregate(inst: Instance, grp: Groups, net: Network) -> tuple[np.ndarray | None, list[int]]:
    """Pair codes realising the group flow exactly (same loads, same matches), or None and the failed groups."""
    assert net.flows is not None
    n_r = inst.n_reviewers
    x = net.flows[: net.n_pair_arcs]
    used = np.flatnonzero(x > 0)
    g, j, x = net.pair_codes[used] // n_r, net.pair_codes[used] % n_r, x[used]
    rank = np.random.default_rng([inst.rules.seed, 13]).permutation(n_r)
    order = np.lexsort((rank[j], ~inst.rev_evaluator[j], g))
    g, j, x = g[order], j[order], x[order]
    slots = grp.need * grp.size
    slot_start = np.concatenate(([0], np.cumsum(slots)))
    if int(x.sum()) != int(slot_start[-1]):  # pragma: no cover - flow conservation
        raise RuntimeError("group flow does not cover the groups' demand")
    arc = np.repeat(np.arange(x.size), x)
    slot_group = g[arc]
    within = np.arange(arc.size) - slot_start[slot_group]
    cases = grp.order[grp.start[slot_group] + within % grp.size[slot_group]]
    revs = j[arc].copy()
    bad = np.flatnonzero(is_blocked(inst, cases * n_r + revs))
    failed = _repair(inst, grp, revs, slot_start, np.unique(slot_group[bad])) if bad.size else []
    return (None if failed else np.sort(cases * n_r + revs)), failed


def _repair(inst: Instance, grp: Groups, revs: np.ndarray, slot_start: np.ndarray, groups: np.ndarray
            ) -> list[int]:
    """Remove blocked pairs from the dealt slots of ``groups`` (in place); return the groups that cannot be."""
    n_r = inst.n_reviewers
    failed: list[int] = []
    blocked = set(inst.blocked.tolist())
    evaluator = inst.rev_evaluator.tolist()
    for g in groups.tolist():
        n, need, need_eval = int(grp.size[g]), int(grp.need[g]), int(grp.need_eval[g])
        cases = grp.order[grp.start[g]: grp.start[g + 1]].tolist()
        # table[m][q]: the m-th reviewer of the group's q-th case (a view into revs).
        table = revs[slot_start[g]: slot_start[g + 1]].reshape(need, n)
        cols = [list(col) for col in table.T.tolist()]
        swapped = all(_fix_case(q, cols, cases, blocked, evaluator, n_r, need_eval) for q in range(n))
        if not swapped and not _redeal(inst, cols, cases, need_eval):
            failed.append(g)
            continue
        table[:, :] = np.array(cols, dtype=np.int64).T
    return failed


def _fix_case(q: int, cols: list[list[int]], cases: list[int], blocked: set[int], evaluator: list[bool],
              n_r: int, need_eval: int) -> bool:
    """Swap each blocked reviewer of case q with a reviewer of another case of the group; False if stuck."""
    n = len(cases)
    i = cases[q]
    for m, j in enumerate(cols[q]):
        if i * n_r + j not in blocked:
            continue
        for step in range(1, n):
            q2 = (q + step) % n
            i2, col2 = cases[q2], cols[q2]
            if j in col2 or i2 * n_r + j in blocked:
                continue
            for m2, j2 in enumerate(col2):
                if j2 in cols[q] or i * n_r + j2 in blocked:
                    continue
                if evaluator[j] != evaluator[j2]:
                    gain = 1 if evaluator[j2] else -1
                    if (sum(evaluator[r] for r in cols[q]) + gain < need_eval
                            or sum(evaluator[r] for r in col2) - gain < need_eval):
                        continue
                cols[q][m], col2[m2] = j2, j
                break
            else:
                continue
            break
        else:
            return False
    return True


def _redeal(inst: Instance, cols: list[list[int]], cases: list[int], need_eval: int) -> bool:
    """Re-deal a group's reviewers (same counts) to its cases by an exact max-flow avoiding blocked pairs."""
    n_r = inst.n_reviewers
    n, need = len(cases), len(cols[0])
    revs, counts = np.unique(np.array(cols, dtype=np.int64), return_counts=True)
    lay = layout_of(np.full(n, need), np.full(n, need_eval), revs.size)
    q, k = np.divmod(np.arange(n * revs.size), revs.size)
    codes = np.array(cases, dtype=np.int64)[q] * n_r + revs[k]
    tails = np.where(inst.rev_evaluator[revs[k]], lay.side_eval[q], lay.side_peer[q])
    keep = (tails >= 0) & ~is_blocked(inst, codes)
    q, k, tails = q[keep], k[keep], tails[keep]
    split = lay.split_cases
    free = np.full(split.size, need - need_eval)
    flow = min_cost_flow.SimpleMinCostFlow()
    arc_tails = np.concatenate([tails, split, split, lay.reviewer_base + np.arange(revs.size)])
    arc_heads = np.concatenate([lay.reviewer_base + k, lay.split_eval, lay.split_peer,
                                np.full(revs.size, lay.sink)])
    arc_caps = np.concatenate([np.ones(tails.size, dtype=np.int64), free, free, counts])
    flow.add_arcs_with_capacity_and_unit_cost(arc_tails.astype(np.int32), arc_heads.astype(np.int32),
                                              arc_caps.astype(np.int64), np.zeros(arc_tails.size, dtype=np.int64))
    supplies = np.zeros(lay.n_nodes, dtype=np.int64)
    supplies[:n] = need
    supplies[split] = need - need_eval
    supplies[lay.split_eval] = need_eval
    supplies[lay.sink] = -n * need
    flow.set_nodes_supplies(np.arange(lay.n_nodes, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        return False
    chosen = np.asarray(flow.flows(np.arange(tails.size, dtype=np.int32))) > 0
    dealt: list[list[int]] = [[] for _ in range(n)]
    for case_pos, rev_pos in zip(q[chosen].tolist(), k[chosen].tolist(), strict=True):
        dealt[case_pos].append(int(revs[rev_pos]))
    cols[:] = dealt
    return True
