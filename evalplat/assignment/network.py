"""The min-cost-flow network, its pruned candidate arcs, dual potentials and the certified LP bound.

Network (flows in units of ``1/D``; ``D = 1`` unless randomised)::

    case i --(split, optional)--> evaluator side / peer side --pair arc--> reviewer j --unit k--> sink

A case with ``0 < need_eval < need`` is split: its evaluator side node gets supply ``need_eval`` and the case node
``need - need_eval`` which it may send to either side, so at least ``need_eval`` evaluators are chosen while
each reviewer still has one arc per case (distinct reviewers).  Pair arcs cost ``M`` when the reviewer does
not handle the case type (``M`` exceeds any possible load cost, so matches come first), the k-th unit of
reviewer j costs ``floor(S (2k - 1) / capacity_j)`` (convex; the sum is about ``S load^2 / capacity``).

Pruning: only a few candidate reviewers per case enter the network.  After solving, shortest-path
potentials of the residual network give a dual solution; its Lagrangian value over the *whole* eligibility
graph is a lower bound (the LP bound).  Pairs left out with negative reduced cost are added and the network
re-solved until none is left, at which point the bound equals the objective: the pruned optimum is optimal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from evalplat.assignment.encode import LOAD_SCALE, Instance, is_blocked


@dataclass
class Network:
    """A built network with its arcs (numpy) and solution."""

    n_nodes: int
    supplies: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    n_pair_arcs: int          # pair arcs come first, in the order of ``pair_codes``
    pair_codes: np.ndarray
    flows: np.ndarray | None = None
    status: int | None = None
    objective: int = 0


@dataclass
class Layout:
    """Node numbering: cases, split sides, reviewers, sink."""

    side_eval: np.ndarray   # node receiving evaluator arcs of each case (-1: none allowed)
    side_peer: np.ndarray   # node receiving peer arcs of each case (-1: none allowed)
    reviewer_base: int
    sink: int
    n_nodes: int
    split_cases: np.ndarray
    split_eval: np.ndarray
    split_peer: np.ndarray


def layout(inst: Instance) -> Layout:
    """Node numbering of the pair-level network (one node per case, plus split sides)."""
    return layout_of(inst.need, inst.need_eval, inst.n_reviewers)


def layout_of(need: np.ndarray, need_eval: np.ndarray, n_reviewers: int) -> Layout:
    """Node numbering for demand nodes needing ``need`` reviewers, ``need_eval`` of them evaluators."""
    n_c = need.size
    split = np.flatnonzero((need_eval > 0) & (need_eval < need))
    side_eval = np.where(need > 0, np.arange(n_c), -1)
    side_peer = np.where(need > need_eval, np.arange(n_c), -1)
    split_eval = n_c + 2 * np.arange(split.size)
    split_peer = split_eval + 1
    side_eval[split] = split_eval
    side_peer[split] = split_peer
    base = n_c + 2 * split.size
    return Layout(side_eval=side_eval, side_peer=side_peer, reviewer_base=base, sink=base + n_reviewers,
                  n_nodes=base + n_reviewers + 1, split_cases=split, split_eval=split_eval,
                  split_peer=split_peer)


def mismatch_weight(inst: Instance) -> int:
    """A mismatch costs more than the largest possible total load cost, so matches are maximised first."""
    effective = np.minimum(inst.capacity, inst.n_cases + inst.load0)
    return int(LOAD_SCALE * 2 * effective.sum()) + 1


def unit_costs(capacity: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Marginal load cost of each reviewer's ``units``-th case: ``floor(S (2k - 1) / capacity)``."""
    return (LOAD_SCALE * (2 * units - 1)) // capacity


def load_units(inst: Instance, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reviewer and marginal cost of each load unit, ``units[j]`` units of reviewer j after its fixed load."""
    u_rev = np.repeat(np.arange(units.size), units)
    first = np.concatenate(([0], np.cumsum(units)[:-1]))
    k = inst.load0[u_rev] + 1 + (np.arange(u_rev.size) - np.repeat(first, units))
    return u_rev, unit_costs(inst.capacity[u_rev], k)


def load_units_bound(inst: Instance, lay: Layout, p: np.ndarray, most: int) -> int:
    """Lagrangian term of every load unit up to capacity (at most ``most`` per reviewer): sum of min(0, rc)."""
    u_rev, costs = load_units(inst, np.minimum(inst.capacity - inst.load0, most).clip(min=0))
    return int(np.minimum(0, costs + p[lay.sink] - p[lay.reviewer_base + u_rev]).sum())


def allowed_kind(inst: Instance, lay: Layout, cases: np.ndarray, reviewers: np.ndarray) -> np.ndarray:
    """Tail node of each pair's arc (the case side for the reviewer's kind), -1 where the kind has no slot."""
    return np.where(inst.rev_evaluator[reviewers], lay.side_eval[cases], lay.side_peer[cases])


def pair_weights(inst: Instance, cases: np.ndarray, reviewers: np.ndarray, weight: int) -> np.ndarray:
    matched = inst.matched(inst.case_type[cases], inst.rev_types[reviewers])
    return np.where(matched, 0, weight).astype(np.int64)


def candidate_pairs(inst: Instance, per_list: int | None, seed: int) -> np.ndarray:
    """Sorted pair codes of candidate arcs: per case, ``per_list`` reviewers from each of its preference lists.

    Lists per case group: matched evaluators, matched reviewers of any kind, then (``preferred`` only) unmatched
    ones.  Consecutive cases of a group take consecutive windows of a list rotated by a seeded offset, so the
    candidates of a group cover its reviewers evenly.  ``per_list=None`` takes every eligible pair.
    """
    n_r = inst.n_reviewers
    chunks: list[np.ndarray] = []
    rng = np.random.default_rng([inst.rules.seed, 7])
    offsets = rng.integers(0, 2**31, size=max(len(inst.groups), 1))
    room = inst.capacity - inst.load0
    for g in range(len(inst.groups)):
        members = np.flatnonzero((inst.group_of_case == g) & (inst.need > 0))
        if members.size == 0:
            continue
        eligible = inst.base_eligible(g)
        ctype = np.int64(inst.groups[g][1])
        matched = inst.matched(ctype, inst.rev_types) & eligible
        lists = [np.flatnonzero(matched & inst.rev_evaluator), np.flatnonzero(matched)]
        if inst.rules.case_type_match == "preferred" and (per_list is None or lists[1].size < 2 * per_list):
            # Unmatched reviewers only enter up front where matched ones are scarce; elsewhere the reduced
            # costs bring them in if they are needed.
            lists += [np.flatnonzero(eligible & ~matched & inst.rev_evaluator), np.flatnonzero(eligible & ~matched)]
        for pool in lists:
            m = pool.size
            if m == 0:
                continue
            k = m if per_list is None else min(per_list, m)
            if k == m:
                picks = np.broadcast_to(pool, (members.size, m))
            else:
                # Systematic sampling on the ring of cumulative remaining capacity: a case's k slots lie W/k
                # apart (so they hit distinct reviewers), consecutive cases shift by W/(n k).  Each reviewer is a
                # candidate for a share of cases proportional to its room, which is where the optimum loads.
                weights = np.cumsum(room[pool].astype(np.float64))
                total = weights[-1]
                shift = (offsets[g] % 10_000) / 10_000 * total
                where = (np.arange(members.size)[:, None] * (total / (members.size * k))
                         + np.arange(k)[None, :] * (total / k) + shift) % total
                picks = pool[np.minimum(np.searchsorted(weights, where, side="right"), m - 1)]
            chunks.append((members[:, None] * n_r + picks).ravel())
    if not chunks:
        return np.zeros(0, dtype=np.int64)
    codes = np.unique(np.concatenate(chunks))
    return codes[~is_blocked(inst, codes)]


def build(inst: Instance, lay: Layout, codes: np.ndarray, weight: int, unit: int, pair_cap: int) -> Network:
    """Arrays of the network over candidate pair ``codes`` (flows in units of ``1/unit``)."""
    n_r = inst.n_reviewers
    cases, reviewers = codes // n_r, codes % n_r
    tails = allowed_kind(inst, lay, cases, reviewers)
    keep = tails >= 0
    codes, cases, reviewers, tails = codes[keep], cases[keep], reviewers[keep], tails[keep]
    caps = np.full(codes.size, pair_cap, dtype=np.int64)
    # Units of load: no more than the reviewer's remaining capacity or its number of candidate cases.
    arcs_of = np.bincount(reviewers, minlength=n_r)
    units = arcs_of * pair_cap // unit + (arcs_of * pair_cap % unit > 0)
    return assemble(inst, lay, inst.need * unit, inst.need_eval * unit, codes, tails, reviewers, caps,
                    pair_weights(inst, cases, reviewers, weight), units, unit)


def assemble(inst: Instance, lay: Layout, supply: np.ndarray, supply_eval: np.ndarray, codes: np.ndarray,
             tails: np.ndarray, reviewers: np.ndarray, caps: np.ndarray, costs: np.ndarray, units: np.ndarray,
             unit: int) -> Network:
    """The network: pair arcs (given), split arcs, load units of ``unit`` each, supplies.

    ``supply`` and ``supply_eval`` are the flow each demand node of ``lay`` must send and the part of it that
    must reach evaluators; ``units`` caps the load units built per reviewer (at most its remaining capacity).
    """
    split = lay.split_cases
    free = supply[split] - supply_eval[split]
    s_tails = np.concatenate([split, split])
    s_heads = np.concatenate([lay.split_eval, lay.split_peer])
    s_caps = np.concatenate([free, free])

    u_rev, u_costs = load_units(inst, np.minimum(inst.capacity - inst.load0, units).clip(min=0))

    supplies = np.zeros(lay.n_nodes, dtype=np.int64)
    supplies[: supply.size] = supply
    supplies[split] = free
    supplies[lay.split_eval] = supply_eval[split]
    supplies[lay.sink] = -int(supply.sum())
    return Network(
        n_nodes=lay.n_nodes, supplies=supplies,
        tails=np.concatenate([tails, s_tails, lay.reviewer_base + u_rev]).astype(np.int32),
        heads=np.concatenate([lay.reviewer_base + reviewers, s_heads, np.full(u_rev.size, lay.sink)]
                             ).astype(np.int32),
        caps=np.concatenate([caps, s_caps, np.full(u_rev.size, unit)]).astype(np.int64),
        costs=np.concatenate([costs, np.zeros(s_tails.size, dtype=np.int64), u_costs]).astype(np.int64),
        n_pair_arcs=codes.size, pair_codes=codes)


def solve_network(net: Network) -> bool:
    """Solve with OR-Tools' min-cost flow; True when every supply was routed."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    flow.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int32), net.supplies)
    status = flow.solve()
    net.status = status
    if status == flow.OPTIMAL:
        net.flows = np.asarray(flow.flows(np.arange(net.tails.size, dtype=np.int32)), dtype=np.int64)
        net.objective = int(flow.optimal_cost())
        return True
    if status in (flow.BAD_COST_RANGE, flow.BAD_CAPACITY_RANGE, flow.BAD_RESULT):
        raise OverflowError(f"min-cost flow failed with status {status} (numbers out of range)")
    return False


def max_flow(net: Network) -> np.ndarray:
    """Flows of a maximum flow (used to explain an infeasible instance)."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    flow.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int32), net.supplies)
    flow.solve_max_flow_with_min_cost()
    return np.asarray(flow.flows(np.arange(net.tails.size, dtype=np.int32)), dtype=np.int64)


def residual(net: Network, upto: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual arcs (tail, head, cost) of a solved network (of its first ``upto`` arcs if given)."""
    assert net.flows is not None
    part = slice(0, net.tails.size if upto is None else upto)
    flows, caps, net_tails, net_heads, net_costs = (net.flows[part], net.caps[part], net.tails[part],
                                                    net.heads[part], net.costs[part])
    fwd = flows < caps
    bwd = flows > 0
    tails = np.concatenate([net_tails[fwd], net_heads[bwd]]).astype(np.int64)
    heads = np.concatenate([net_heads[fwd], net_tails[bwd]]).astype(np.int64)
    costs = np.concatenate([net_costs[fwd], -net_costs[bwd]])
    return tails, heads, costs


def potentials(net: Network) -> np.ndarray:
    """Node potentials p with non-negative reduced costs ``c + p[head] - p[tail]`` on all residual arcs."""
    return bellman_ford(net.n_nodes, *residual(net))


def bellman_ford(n_nodes: int, tails: np.ndarray, heads: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Potentials ``p = -d``, d the shortest distances from a virtual root joined to every node.

    Vectorised Bellman-Ford over the given (residual) arcs; the residual network of an optimal flow has no
    negative cycle.
    """
    order = np.argsort(heads, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if heads.size else np.zeros(0, dtype=np.int64)
    targets = heads[starts]
    dist = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        if heads.size == 0:
            break
        best = np.minimum.reduceat(dist[tails] + costs, starts)
        improved = best < dist[targets]
        if not improved.any():
            break
        dist[targets[improved]] = best[improved]
    else:  # pragma: no cover - an optimal flow has no negative cycle
        raise RuntimeError("negative cycle in the residual network of an optimal flow")
    return -dist


def _neg_sums(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold x: sum over ``values < x`` of ``(value - x)`` (values sorted ascending)."""
    prefix = np.concatenate(([0], np.cumsum(values)))
    count = np.searchsorted(values, thresholds, side="left")
    return prefix[count] - count * thresholds


def _reviewer_classes(inst: Instance, eligible: np.ndarray) -> dict[tuple[int, bool], np.ndarray]:
    classes: dict[tuple[int, bool], list[int]] = {}
    for j in np.flatnonzero(eligible).tolist():
        classes.setdefault((int(inst.rev_types[j]), bool(inst.rev_evaluator[j])), []).append(j)
    return {key: np.array(value, dtype=np.int64) for key, value in classes.items()}


def _case_terms(inst: Instance, lay: Layout, p: np.ndarray, weight: int, mask: int, evaluator: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per case: threshold ``P_side - w`` for a reviewer class, and whether the class may serve the case."""
    side = lay.side_eval if evaluator else lay.side_peer
    matched = ((np.int64(mask) >> inst.case_type) & 1).astype(bool)
    ok = side >= 0
    if inst.rules.case_type_match == "required":
        ok &= matched
    w = np.where(matched, 0, weight)
    return np.where(ok, p[np.maximum(side, 0)] - w, np.iinfo(np.int64).min // 4), ok


def lagrangian_bound(inst: Instance, lay: Layout, net: Network, p: np.ndarray, weight: int, unit: int,
                     pair_cap: int) -> tuple[int, np.ndarray]:
    """The Lagrangian (LP) lower bound of potentials ``p`` over the whole eligibility graph.

    Returns the bound (in flow units) and the codes of eligible pairs outside the network with negative
    reduced cost (the arcs to add).  Sum over arcs of ``cap * min(0, c + p[head] - p[tail])`` plus
    ``sum_v p_v b_v``: reviewers are grouped by (types, kind) with sorted potentials, so each class costs one
    ``searchsorted`` over the cases; same-region reviewers and blocked pairs are then taken out.
    """
    n_r = inst.n_reviewers
    bound = int((p * net.supplies).sum())
    rev_p = p[lay.reviewer_base: lay.reviewer_base + n_r]
    room = inst.capacity - inst.load0
    eligible_rev = room > 0
    # Load units (every unit up to capacity, not only those in the pruned network).
    bound += unit * load_units_bound(inst, lay, p, inst.n_cases)
    # Split arcs.
    for tail_nodes, head_nodes in ((lay.split_cases, lay.split_eval), (lay.split_cases, lay.split_peer)):
        free = (inst.need[lay.split_cases] - inst.need_eval[lay.split_cases]) * unit
        bound += int((free * np.minimum(0, p[head_nodes] - p[tail_nodes])).sum())
    # Pair arcs, class by class: thresholds x_i = P_side(i) - w_i; term = sum over p_j < x_i of (p_j - x_i).
    pair_sum = 0
    present = net.pair_codes
    violators: list[np.ndarray] = []
    for (mask, evaluator), members in _reviewer_classes(inst, eligible_rev).items():
        x, ok = _case_terms(inst, lay, p, weight, mask, evaluator)
        order = np.argsort(rev_p[members], kind="stable")
        members = members[order]
        values = rev_p[members]
        total = np.where(ok, _neg_sums(values, x), 0)
        if inst.rules.regional_avoidance:
            for region in np.unique(inst.rev_region[members]).tolist():
                local = members[inst.rev_region[members] == region]
                cases = np.flatnonzero((inst.case_region == region) & ok)
                total[cases] -= _neg_sums(rev_p[local], x[cases])
        pair_sum += int(total.sum())
        # Enumerate violating pairs: the first count_i reviewers of the sorted class for each case.
        count = np.where(ok, np.searchsorted(values, x, side="left"), 0)
        count = np.minimum(count, 4 * inst.rules.per_case + 8)
        rows = np.repeat(np.arange(inst.n_cases, dtype=np.int64), count)
        if rows.size:
            first = np.concatenate(([0], np.cumsum(count)[:-1]))
            cols = members[np.arange(rows.size) - np.repeat(first, count)]
            if inst.rules.regional_avoidance:
                keep = inst.rev_region[cols] != inst.case_region[rows]
                rows, cols = rows[keep], cols[keep]
            violators.append(np.stack([rows * n_r + cols, rev_p[cols] - x[rows]]))
    # Blocked pairs that the class sums counted.
    blocked = inst.blocked
    if blocked.size:
        cases, reviewers = blocked // n_r, blocked % n_r
        tails = allowed_kind(inst, lay, cases, reviewers)
        counted = (tails >= 0) & eligible_rev[reviewers]
        if inst.rules.regional_avoidance:
            counted &= inst.rev_region[reviewers] != inst.case_region[cases]
        matched = inst.matched(inst.case_type[cases], inst.rev_types[reviewers])
        if inst.rules.case_type_match == "required":
            counted &= matched
        rc = np.where(matched, 0, weight) + rev_p[reviewers] - p[np.maximum(tails, 0)]
        pair_sum -= int(np.minimum(0, rc[counted]).sum())
    bound += pair_cap * pair_sum
    fresh = np.zeros(0, dtype=np.int64)
    if violators:
        codes, reduced = np.concatenate(violators, axis=1)
        keep = ~is_blocked(inst, codes)
        if present.size:
            pos = np.minimum(np.searchsorted(present, codes), present.size - 1)
            keep &= present[pos] != codes
        codes, reduced = codes[keep], reduced[keep]
        # Per case, only the most negative reduced costs: enough to move the solution, few arcs.
        order = np.lexsort((reduced, codes // n_r))
        codes, rows = codes[order], codes[order] // n_r
        rank = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
        fresh = np.unique(codes[rank < 3 * inst.rules.per_case + 3])
    return bound, fresh
