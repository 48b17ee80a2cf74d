"""Risk-weighted selection inside a stratum: probabilities proportional to a size measure, Pareto order sampling.

Each case gets the size measure ``1 + boost × signals`` (signals: how many post-case risk signals the case
has — returned at the second level of the closing review, a low self-evaluation, a complaint from a follow-up
visit). Target inclusion probabilities are proportional to it and sum to the stratum's sample size *n*; a case
whose probability would exceed 1 is taken with certainty and the rest re-scaled. The *n* cases are drawn by
Pareto order sampling (Rosén 1997, "Asymptotic theory for order sampling", J. Stat. Plan. Inference
62:135-158): case *i* gets the ranking value ``(u / (1 - u)) / (p / (1 - p))`` and the *n* smallest are
taken, where ``u`` is a uniform number from SHA-256 of the published seed and the case's stable key — so anyone
re-running it with the same population, signals and seed gets the same cases. Pareto sampling's actual
inclusion probabilities equal the targets to within O(1/n) (Rosén; Aires 1999 computes them exactly); the
targets are what the estimates use, as is usual.

>>> inclusion_probabilities([1, 1, 1, 1, 20], 3).round(3).tolist()
[0.5, 0.5, 0.5, 0.5, 1.0]
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from evalplat.sampling.records import PopulationRecord, canonical_key


def inclusion_probabilities(sizes: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """Probabilities proportional to ``sizes`` summing to ``n``, those above 1 set to 1 (taken with certainty)."""
    x = np.asarray(sizes, dtype=float)
    if n <= 0 or not len(x):
        return np.zeros(len(x))
    if n >= len(x):
        return np.ones(len(x))
    p = np.zeros(len(x))
    certain = np.zeros(len(x), dtype=bool)
    while True:
        rest = n - certain.sum()
        p[~certain] = rest * x[~certain] / x[~certain].sum()
        over = (p > 1) & ~certain
        if not over.any():
            break
        certain |= over
        p[certain] = 1.0
    return p


def uniform(seed: str, record: PopulationRecord) -> float:
    """The case's uniform number in (0, 1): SHA-256 of ``seed || "\\nrisk\\n" || canonical key``, first 8 bytes."""
    digest = hashlib.sha256(f"{seed}\nrisk\n{canonical_key(record.key)}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64


def target_probabilities(members: Sequence[PopulationRecord], signals: Mapping[str, int], *, n: int,
                         boost: float) -> np.ndarray:
    """Each member's inclusion probability when ``n`` of them are drawn (:func:`inclusion_probabilities` of
    ``1 + boost × signals``), in the order given."""
    risk = np.array([max(0, int(signals.get(r.case_id, 0))) for r in members], dtype=float)
    return inclusion_probabilities(1.0 + boost * risk, min(n, len(members)))


def select(members: Sequence[PopulationRecord], signals: Mapping[str, int], *, n: int, seed: str,
           boost: float) -> list[tuple[PopulationRecord, float]]:
    """Draw ``n`` of ``members`` with probabilities proportional to ``1 + boost × signals``.

    Returns
    -------
    list of (PopulationRecord, float)
        The chosen records in the order given, each with its inclusion probability.
    """
    if not members or n <= 0:
        return []
    count = min(n, len(members))
    p = target_probabilities(members, signals, n=count, boost=boost)
    u = np.array([uniform(seed, r) for r in members])
    with np.errstate(divide="ignore"):
        q = np.where(p >= 1.0, -np.inf, (u / (1 - u)) / (p / (1 - p)))
    chosen = np.sort(np.argsort(q, kind="stable")[:count])
    return [(members[i], float(p[i])) for i in chosen]


def signals_digest(signals: Mapping[str, int]) -> str:
    """SHA-256 (hex) over ``case_id <TAB> count`` lines of the cases with signals, sorted by case id as text.

    Published with the plan, seed and population digest, so that a risk-weighted draw can be checked."""
    lines = sorted(f"{case_id}\t{int(n)}\n" for case_id, n in signals.items() if int(n) > 0)
    return hashlib.sha256("".join(lines).encode()).hexdigest()
