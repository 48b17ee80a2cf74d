"""Randomised assignment (Jecmen et al. 2020): sample an integral flow whose marginals equal a fractional one.

The fractional optimum caps every reviewer–case arc at ``q`` (flows in units of ``1/D``).  Rounding walks the
undirected graph of arcs whose flow is not a multiple of ``D``; every node on such an arc has another one
(supplies are multiples of ``D``), so the walk closes a cycle.  Along the cycle the flow is pushed by ``+a``
with probability ``b / (a + b)`` or by ``-b`` otherwise, where ``a`` and ``b`` are the largest pushes keeping
every arc between the multiples of ``D`` around its starting value.  The expected change is zero, so each
arc's probability of ending at ``D`` is its fractional flow / ``D``; conservation holds exactly, and at least
one arc becomes integral per step.  Random numbers come from SHA-256 of (seed, step), so the draw depends
on nothing but the seed and the network.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _uniform_below(seed: int, step: int, bound: int) -> int:
    digest = hashlib.sha256(f"evalplat-assignment-rounding/1:{seed}:{step}".encode()).digest()
    return int.from_bytes(digest[:16], "big") % bound


def round_flow(tails: np.ndarray, heads: np.ndarray, flows: np.ndarray, unit: int, seed: int) -> np.ndarray:
    """Dependent rounding of ``flows`` to multiples of ``unit`` preserving conservation and expectations.

    Parameters
    ----------
    tails, heads : ndarray of int
        Arc endpoints.
    flows : ndarray of int
        A flow whose node balances are multiples of ``unit``.
    unit : int
        The integral step D.
    seed : int
        Seed of the SHA-256 random stream.

    Returns
    -------
    ndarray of int
        Flows, each ``floor`` or ``ceil`` (in multiples of ``unit``) of the input flow.
    """
    flow = flows.astype(np.int64).copy()
    low = (flow // unit) * unit
    high = low + unit
    frac = np.flatnonzero(flow % unit != 0)
    incident: dict[int, dict[int, None]] = {}
    arc: int | None
    for arc in frac.tolist():
        incident.setdefault(int(tails[arc]), {})[arc] = None
        incident.setdefault(int(heads[arc]), {})[arc] = None

    def drop(arc: int) -> None:
        for node in (int(tails[arc]), int(heads[arc])):
            arcs = incident.get(node)
            if arcs is not None:
                arcs.pop(arc, None)
                if not arcs:
                    del incident[node]

    step = 0
    path_nodes: list[int] = []
    path_arcs: list[int] = []
    position: dict[int, int] = {}
    while incident:
        if not path_nodes:
            start = next(iter(incident))
            path_nodes, path_arcs, position = [start], [], {start: 0}
        node = path_nodes[-1]
        previous = path_arcs[-1] if path_arcs else -1
        arc = next((a for a in incident.get(node, {}) if a != previous), None)
        if arc is None:  # pragma: no cover - impossible when balances are multiples of unit
            raise RuntimeError("rounding walk stuck: node balances are not integral")
        other = int(heads[arc]) if int(tails[arc]) == node else int(tails[arc])
        if other not in position:
            position[other] = len(path_nodes)
            path_nodes.append(other)
            path_arcs.append(arc)
            continue
        # Cycle: path_nodes[position[other]:] + arc back to other.
        begin = position[other]
        cycle_arcs = [*path_arcs[begin:], arc]
        cycle_nodes = path_nodes[begin:]
        sign = np.array([1 if int(tails[a]) == cycle_nodes[i] else -1 for i, a in enumerate(cycle_arcs)])
        idx = np.array(cycle_arcs)
        up = np.where(sign > 0, high[idx] - flow[idx], flow[idx] - low[idx]).min()
        down = np.where(sign > 0, flow[idx] - low[idx], high[idx] - flow[idx]).min()
        step += 1
        delta = up if _uniform_below(seed, step, int(up + down)) < down else -down
        flow[idx] += sign * delta
        done = [a for a in cycle_arcs if flow[a] % unit == 0]
        for a in done:
            drop(a)
        # Keep the walk up to the first node of the cycle whose next arc is still usable.
        cut = min(cycle_arcs.index(a) for a in done)
        keep_until = begin + cut
        for n in path_nodes[keep_until + 1:]:
            position.pop(n, None)
        del path_nodes[keep_until + 1:]
        del path_arcs[keep_until:]
        if path_nodes and path_nodes[-1] not in incident:
            for n in path_nodes:
                position.pop(n, None)
            path_nodes, path_arcs = [], []
    return flow
