"""Rankings, expert pool and assignment priorities from per-case figures (plain arrays in, rows out).

No session here: :mod:`evalplat.rankings.queries` loads the figures, this module ranks them with
:mod:`scoring.ranking`. Everything is deterministic: the rank-interval simulation is seeded from the
inputs' identity, so the same data always give the same lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from evalplat.rankings.rules import RankingRules
from scoring import ranking

RANK_DRAWS = 1000


@dataclass(frozen=True)
class RankRow:
    """One ranked entity (lawyer, agency, city or case type) with its reviewed-case count beside every figure."""

    key: Any
    label: str
    n: int
    mean: float
    estimate: float
    low: float
    high: float
    rank: int
    rank_low: int
    rank_high: int
    good: int
    share: float
    share_low: float
    share_high: float
    vetoes: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "n": self.n, "mean": round(self.mean, 4),
            "estimate": round(self.estimate, 4), "low": round(self.low, 4), "high": round(self.high, 4),
            "rank": self.rank, "rank_low": self.rank_low, "rank_high": self.rank_high, "good": self.good,
            "share": round(self.share, 6), "share_low": round(self.share_low, 6),
            "share_high": round(self.share_high, 6), "vetoes": self.vetoes, **dict(self.extra),
        }


@dataclass(frozen=True)
class Ranking:
    """Rows ordered by rank of the shrunk mean (1 = best), with the shrinkage parameters."""

    rows: tuple[RankRow, ...]
    grand_mean: float
    between_variance: float
    within_variance: float
    level: float

    def by_share(self) -> list[RankRow]:
        """The same rows ordered by the Wilson lower bound of 优良率 (then its point value, then key)."""
        return sorted(self.rows, key=lambda r: (-r.share_low, -r.share, str(r.key)))


def _within_variance(codes: np.ndarray, values: np.ndarray, n: np.ndarray) -> float | None:
    """Pooled within-group variance, or the overall variance when no group has two scores; None = let scoring pool."""
    df = float((n - 1).sum())
    if df > 0:
        mean = np.bincount(codes, weights=values) / n
        ss = float(((values - mean[codes]) ** 2).sum())
        if ss > 0:
            return None
    overall = float(values.var(ddof=1)) if values.size > 1 else 0.0
    # Without any spread there is nothing to shrink; any positive variance leaves the estimates equal to the means.
    return overall if overall > 0 else 1.0


def _ranks(x: np.ndarray) -> np.ndarray:
    """1 + number of strictly larger values (ties share the best rank), in O(k log k)."""
    s = np.sort(x)
    return x.size - np.searchsorted(s, x, side="right") + 1


def _seed(keys: np.ndarray, values: np.ndarray) -> int:
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys.astype(str)).tobytes())
    h.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return int.from_bytes(h.digest()[:8], "big")


def rank_groups(keys: ArrayLike, totals: ArrayLike, good: ArrayLike, vetoed: ArrayLike, *,
                labels: Mapping[Any, str] | None = None, level: float = 0.95,
                extra: Mapping[Any, Mapping[str, Any]] | None = None, n_draws: int = RANK_DRAWS,
                rank_by: str = "estimate") -> Ranking:
    """Rank groups by empirical-Bayes shrunk mean score, with Wilson intervals for 优良率.

    Parameters
    ----------
    keys : array_like
        Group (lawyer id, agency id, city id …) of each reviewed case.
    totals : array_like of float
        The case's current result total.
    good : array_like of bool
        Whether the case was graded excellent or good.
    vetoed : array_like of bool
        Whether a veto item stands in the case's result.
    labels : mapping, optional
        Display label per key.
    level : float
        Confidence level of all intervals.
    extra : mapping, optional
        Extra columns per key (e.g. the agency's city).
    n_draws : int
        Simulation draws for the rank intervals.
    rank_by : {"estimate", "lower"}
        Order by the shrunk mean, or by the lower bound of its interval (conservative: used for lawyers,
        whose case counts range from one to dozens, so that a single lucky case never lifts a lawyer above
        one with twenty steady cases — shrinkage alone does not guarantee it when the between-lawyer
        variance is estimated from few lawyers). Rank intervals always simulate the shrunk means.

    Returns
    -------
    Ranking
        Empty when there are no cases.
    """
    k = np.asarray(keys)
    v = np.asarray(totals, dtype=np.float64)
    g = np.asarray(good, dtype=bool)
    vt = np.asarray(vetoed, dtype=bool)
    if not (k.shape == v.shape == g.shape == vt.shape):
        raise ValueError("keys, totals, good and vetoed must have the same length")
    if v.size == 0:
        return Ranking((), float("nan"), float("nan"), float("nan"), level)
    uniq, codes = np.unique(k, return_inverse=True)
    codes = codes.ravel()
    n = np.bincount(codes).astype(np.float64)
    shrunk = ranking.empirical_bayes(codes, v, within_variance=_within_variance(codes, v, n),
                                     confidence_level=level)
    n_good = np.bincount(codes, weights=g.astype(np.float64)).astype(np.int64)
    n_veto = np.bincount(codes, weights=vt.astype(np.float64)).astype(np.int64)
    wilson = ranking.wilson_interval(n_good, n.astype(np.int64), confidence_level=level)
    ranks = ranking.rank_intervals(shrunk.estimate, shrunk.se, n_draws=n_draws, confidence_level=level,
                                   rng=_seed(uniq, v))
    if rank_by not in ("estimate", "lower"):
        raise ValueError(f"rank_by must be 'estimate' or 'lower', got {rank_by!r}")
    key_values = shrunk.estimate if rank_by == "estimate" else shrunk.low
    order_rank = (1 + (key_values[None, :] > key_values[:, None]).sum(axis=1) if key_values.size <= 2000
                  else _ranks(key_values))
    labels = labels or {}
    extra = extra or {}
    rows = []
    for i, key in enumerate(uniq.tolist()):
        rows.append(RankRow(
            key=key, label=str(labels.get(key, key)), n=int(n[i]), mean=float(shrunk.raw_mean[i]),
            estimate=float(shrunk.estimate[i]), low=float(shrunk.low[i]), high=float(shrunk.high[i]),
            rank=int(order_rank[i]), rank_low=int(ranks.low[i]), rank_high=int(ranks.high[i]),
            good=int(n_good[i]), share=float(wilson.proportion[i]), share_low=float(wilson.low[i]),
            share_high=float(wilson.high[i]), vetoes=int(n_veto[i]), extra=dict(extra.get(key, {})),
        ))
    rows.sort(key=lambda r: (r.rank, -r.n, str(r.key)))
    return Ranking(tuple(rows), shrunk.grand_mean, shrunk.between_variance, shrunk.within_variance, level)


@dataclass(frozen=True)
class PoolEntry:
    """The expert-pool decision for one lawyer; ``reasons`` (code, params, ``message(lang)``) empty when eligible."""

    row: RankRow
    eligible: bool
    reasons: tuple[Any, ...]

    def messages(self, language: str = "zh") -> list[str]:
        return [reason.message(language) for reason in self.reasons]

    def reason_codes(self) -> list[dict[str, Any]]:
        return [{"code": reason.code, "params": dict(reason.params)} for reason in self.reasons]


def expert_pool(rows: Sequence[RankRow], rules: RankingRules) -> list[PoolEntry]:
    """Apply the campaign's expert-pool rule (专家库) to ranked lawyers, in rank order.

    The rule uses the lower bound of the shrunk score interval, the number of reviewed cases, optionally
    the Wilson lower bound of 优良率, and whether any case carries a veto.
    """
    if not rows:
        return []
    rule = ranking.ExpertPoolRule(min_cases=rules.min_cases, min_lower_bound=rules.lower_bound,
                                  min_share_lower_bound=rules.min_share_lower_bound,
                                  allow_veto=not rules.no_veto)
    decisions = ranking.expert_pool_eligibility(
        [str(r.key) for r in rows], [r.n for r in rows], [r.low for r in rows], rule=rule,
        share_lower_bound=[r.share_low for r in rows], veto_count=[r.vetoes for r in rows])
    return [PoolEntry(row, d.eligible, tuple(d.reasons))
            for row, d in zip(rows, decisions, strict=True)]


@dataclass(frozen=True)
class Priority:
    row: RankRow
    in_pool: bool
    weight: float


def priority_weights(pool: Sequence[PoolEntry], rules: RankingRules) -> list[Priority]:
    """Per-lawyer assignment-priority weights (see :mod:`evalplat.rankings.rules`), in rank order."""
    p = rules.priority
    out = []
    for entry in pool:
        base = min(max(1.0 + p.slope * (entry.row.estimate - p.pivot), p.floor), p.cap)
        out.append(Priority(entry.row, entry.eligible, round(base + (p.pool_bonus if entry.eligible else 0.0), 4)))
    return out
