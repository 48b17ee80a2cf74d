"""A sample that over-samples risk, with the inclusion probabilities recorded for unbiased (weighted) figures.

Risk signals per closed case (from the post-case checks): the file was returned at the second level of the
closing review, the agency's own evaluation is low, a breach was reported in a follow-up. Each case gets a
size measure ``1 + boost × signals``; target inclusion probabilities are proportional to it (cases whose
probability would exceed 1 are taken with certainty, the rest re-scaled), and the cases are drawn by Pareto
order sampling (Rosén 1997, "Asymptotic theory for order sampling", J. Stat. Plan. Inference 62:135-158) with
the uniform numbers taken from the published seed (SHA-256 of seed and the case's stable key, as the
platform's draws): anyone re-running it with the same population and seed gets the same cases.

Province-wide figures from such a sample are weighted by ``1 / probability`` (Horvitz–Thompson);
:func:`weighted_mean` gives the Hájek ratio estimate.

>>> import datetime as dt
>>> from evalplat.sampling import PopulationRecord
>>> pop = [PopulationRecord(f"c{i}", ("A", 2024, i), "A", "civil", i, dt.date(2024, 5, 1)) for i in range(10)]
>>> drawn = risk_draw(pop, {"c3": 2}, n=3, seed="2024", boost=4.0)
>>> len(drawn), round(sum(d.probability for d in drawn.values()), 6) <= 10
(3, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from evalplat.sampling import PopulationRecord
from evalplat.sampling.records import canonical_key


@dataclass(frozen=True)
class Drawn:
    case_id: str
    probability: float
    signals: int


def inclusion_probabilities(sizes: Sequence[float], n: int) -> np.ndarray:
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


def _uniform(seed: str, record: PopulationRecord) -> float:
    digest = hashlib.sha256(f"{seed}\nrisk\n{canonical_key(record.key)}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64


def risk_draw(records: Iterable[PopulationRecord], signals: Mapping[str, int], *, n: int, seed: str,
              boost: float = 3.0) -> dict[str, Drawn]:
    """Draw ``n`` cases with probabilities proportional to ``1 + boost × signals`` (Pareto order sampling).

    Parameters
    ----------
    records : iterable of PopulationRecord
        The population (closed cases).
    signals : mapping of case id to int
        Number of risk signals of a case (missing: none).
    n : int
        Sample size.
    seed : str
        The published seed.
    boost : float
        How much one signal raises a case's size measure (0 gives a simple random sample).

    Returns
    -------
    dict
        Case id → :class:`Drawn` with the case's inclusion probability.
    """
    if boost < 0:
        raise ValueError("boost must be >= 0")
    population = sorted(records, key=lambda r: canonical_key(r.key))
    if not population:
        return {}
    risk = np.array([max(0, int(signals.get(r.case_id, 0))) for r in population])
    p = inclusion_probabilities(1.0 + boost * risk, min(n, len(population)))
    u = np.array([_uniform(seed, r) for r in population])
    with np.errstate(divide="ignore"):
        q = np.where(p >= 1.0, -np.inf, (u / (1 - u)) / (p / (1 - p)))
    chosen = np.argsort(q, kind="stable")[:min(n, len(population))]
    return {population[i].case_id: Drawn(population[i].case_id, float(p[i]), int(risk[i])) for i in sorted(chosen)}


def weighted_mean(values: Sequence[float], probabilities: Sequence[float]) -> float:
    """Hájek estimate of a population mean from a sample drawn with the given inclusion probabilities."""
    v, p = np.asarray(values, dtype=float), np.asarray(probabilities, dtype=float)
    if not len(v) or (p <= 0).any():
        raise ValueError("give values with positive inclusion probabilities")
    w = 1.0 / p
    return float((w * v).sum() / w.sum())
