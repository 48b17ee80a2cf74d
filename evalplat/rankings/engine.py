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
from scipy import special

from evalplat.rankings.rules import RankingRules
from scoring import ranking

RANK_DRAWS = 1000
#: the source every ranking rests on; its scale is the common scale (see :func:`scoring.ranking.combine_sources`)
PEER = "peer_review"


@dataclass(frozen=True, eq=False)
class SourceData:
    """One post-case source's evidence per entity: ``estimate`` (in the source's own units: a mean score or a
    share), its sampling ``variance``, the observations ``n`` behind it and ``detail`` counts (e.g. breaches)."""

    name: str
    keys: np.ndarray
    estimate: np.ndarray
    variance: np.ndarray
    n: np.ndarray
    detail: Mapping[Any, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceShare:
    """What one source gave one entity's ranking figure.

    ``status``: ``reference`` (the peer review, always), ``used``, ``no_weight`` (weight 0), ``no_data`` (the
    entity has no observation from it: it contributes nothing) or ``not_scaled`` (too few entities or no
    spread to put the source on the common scale: it contributes to nobody). ``weight`` is the effective
    weight (the set weights over the sources the entity has data from); ``contribution`` the points it adds
    to the combined evidence (they sum to it); ``value`` the source's own figure (mean score or share).
    """

    name: str
    n: int
    value: float | None
    weight: float
    contribution: float
    status: str
    detail: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.name, "n": self.n, "value": None if self.value is None else round(self.value, 6),
                "weight": round(self.weight, 6), "contribution": round(self.contribution, 4),
                "status": self.status, **dict(self.detail)}


@dataclass(frozen=True)
class RankRow:
    """One ranked entity (lawyer, agency, city or case type) with its reviewed-case count beside every figure.

    ``tier`` places the interval against the reference (the overall posterior mean): 1 clearly above,
    0 indistinguishable, -1 clearly below. ``rank`` always lies inside ``rank_low``–``rank_high``.
    ``years`` are the campaign years the record holds.
    """

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
    tier: int = ranking.LEVEL
    years: tuple[int, ...] = ()
    #: what each source gave the figure (empty when no post-case source was loaded)
    sources: tuple[SourceShare, ...] = ()
    #: the evidence that was shrunk: the peer review's, or the weighted combination of the sources
    evidence: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "n": self.n, "mean": round(self.mean, 4),
            "estimate": round(self.estimate, 4), "low": round(self.low, 4), "high": round(self.high, 4),
            "rank": self.rank, "rank_low": self.rank_low, "rank_high": self.rank_high, "good": self.good,
            "share": round(self.share, 6), "share_low": round(self.share_low, 6),
            "share_high": round(self.share_high, 6), "vetoes": self.vetoes, "tier": self.tier,
            "years": list(self.years), "sources": [share.as_dict() for share in self.sources], **dict(self.extra),
        }


@dataclass(frozen=True)
class Ranking:
    """Rows ordered by rank of the shrunk mean (1 = best), with the shrinkage parameters.

    ``between_variance`` is the REML estimate of τ² and ``tau2_low``/``tau2_high`` its posterior interval;
    ``separable`` is false when no entity's interval lies clearly above or below the reference
    (``grand_mean``): the data cannot tell these entities apart, and pages show tiers, not ranks.
    """

    rows: tuple[RankRow, ...]
    grand_mean: float
    between_variance: float
    within_variance: float
    level: float
    tau2_low: float = float("nan")
    tau2_high: float = float("nan")

    def by_share(self) -> list[RankRow]:
        """The same rows ordered by the Wilson lower bound of 优良率 (then its point value, then key)."""
        return sorted(self.rows, key=lambda r: (-r.share_low, -r.share, str(r.key)))

    @property
    def cases_per_entity(self) -> float:
        return sum(r.n for r in self.rows) / len(self.rows) if self.rows else 0.0

    def tier_count(self, tier: int) -> int:
        return sum(1 for r in self.rows if r.tier == tier)

    @property
    def separable(self) -> bool:
        return any(r.tier != ranking.LEVEL for r in self.rows)

    def top(self, limit: int) -> tuple[RankRow, ...]:
        """At most ``limit`` entities whose interval lies clearly above the reference, best first."""
        return tuple(sorted((r for r in self.rows if r.tier == ranking.ABOVE),
                            key=lambda r: (-r.low, -r.estimate, str(r.key)))[:limit])

    def bottom(self, limit: int) -> tuple[RankRow, ...]:
        """At most ``limit`` entities whose interval lies clearly below the reference, worst first."""
        return tuple(sorted((r for r in self.rows if r.tier == ranking.BELOW),
                            key=lambda r: (r.high, r.estimate, str(r.key)))[:limit])


def _within_variance(codes: np.ndarray, values: np.ndarray, n: np.ndarray) -> float:
    """Pooled within-group variance; the overall variance when no group has two scores; 1 without any spread."""
    df = float((n - 1).sum())
    if df > 0:
        mean = np.bincount(codes, weights=values) / n
        ss = float(((values - mean[codes]) ** 2).sum())
        if ss > 0:
            return ss / df
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


def adjusted_scores(totals: ArrayLike, *factors: ArrayLike) -> np.ndarray:
    """Totals with additive effects of the factors (e.g. case type, campaign) removed by least squares.

    The fit is ``total ~ 1 + factor dummies`` (no entity effects); the adjusted score is the total minus
    its factors' effects, centred so that the overall mean is unchanged. A factor with one level does
    nothing.
    """
    y = np.asarray(totals, dtype=np.float64)
    columns = [np.ones(y.size)]
    for f in factors:
        _, code = np.unique(np.asarray(f), return_inverse=True)
        code = code.ravel()
        for level in range(1, int(code.max(initial=0)) + 1):
            columns.append((code == level).astype(np.float64))
    if len(columns) == 1:
        return y.copy()
    x = np.column_stack(columns)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    effect = x[:, 1:] @ beta[1:]
    return y - effect + effect.mean()


def rank_groups(keys: ArrayLike, totals: ArrayLike, good: ArrayLike, vetoed: ArrayLike, *,
                labels: Mapping[Any, str] | None = None, level: float = 0.95,
                extra: Mapping[Any, Mapping[str, Any]] | None = None, n_draws: int = RANK_DRAWS,
                rank_by: str = "estimate", scores: ArrayLike | None = None, weights: ArrayLike | None = None,
                years: ArrayLike | None = None, sources: Sequence[SourceData] = (),
                source_weights: Mapping[str, float] | None = None) -> Ranking:
    """Rank groups by their posterior mean score (τ² integrated out), with tiers and Wilson intervals for 优良率.

    Each group's evidence is the weighted mean of its scores with sampling variance
    :math:`\\sigma^2 \\sum w^2 / (\\sum w)^2`; :func:`scoring.ranking.posterior_shrinkage` shrinks it towards
    the overall mean with the uncertainty in the between-group variance integrated out, so a boundary
    estimate τ² = 0 does not put every group on one number.

    Parameters
    ----------
    keys : array_like
        Group (lawyer id, agency id, city id …) of each reviewed case.
    totals : array_like of float
        The case's current result total (the raw mean shown beside every figure).
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
        Order by the posterior mean, or by the lower bound of its interval (conservative: used for
        lawyers, whose case counts range from one to dozens, so that a single lucky case never lifts a
        lawyer above one with twenty steady cases). The rank shown is kept inside its rank interval.
    scores : array_like of float, optional
        The scores to shrink (e.g. adjusted for case type and campaign); default ``totals``.
    weights : array_like of float, optional
        Weight of each case (e.g. older years down-weighted); default 1.
    years : array_like of int, optional
        Campaign year of each case, reported per group.
    sources : sequence of SourceData, optional
        Post-case evidence per group (self-evaluation, follow-ups, closing review). Each row reports what every
        source gave it (:class:`SourceShare`); groups without a peer-reviewed case are not ranked.
    source_weights : mapping, optional
        Weight per source name (``peer_review`` and the ``sources``'); when a post-case source has a positive
        weight the peer evidence is replaced by the weighted combination of
        :func:`scoring.ranking.combine_sources` (on the peer-review scale, interval kept) before shrinking.
        Default: the peer review alone, exactly as without sources.

    Returns
    -------
    Ranking
        Empty when there are no cases.
    """
    k = np.asarray(keys)
    v = np.asarray(totals, dtype=np.float64)
    g = np.asarray(good, dtype=bool)
    vt = np.asarray(vetoed, dtype=bool)
    s = v if scores is None else np.asarray(scores, dtype=np.float64)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (k.shape == v.shape == g.shape == vt.shape == s.shape == w.shape):
        raise ValueError("keys, totals, good, vetoed, scores and weights must have the same length")
    if rank_by not in ("estimate", "lower"):
        raise ValueError(f"rank_by must be 'estimate' or 'lower', got {rank_by!r}")
    if v.size == 0:
        return Ranking((), float("nan"), float("nan"), float("nan"), level)
    uniq, codes = np.unique(k, return_inverse=True)
    codes = codes.ravel()
    n = np.bincount(codes).astype(np.float64)
    raw_mean = np.bincount(codes, weights=v) / n
    sigma2 = _within_variance(codes, s, n)
    sw = np.bincount(codes, weights=w)
    evidence = np.bincount(codes, weights=w * s) / sw
    var_i = sigma2 * np.bincount(codes, weights=w * w) / sw**2
    evidence, var_i, shares = _with_sources(uniq, n, evidence, var_i, sources, source_weights or {PEER: 1.0})
    tau2 = tau2_low = tau2_high = float("nan")
    if uniq.size >= 2:
        post = ranking.posterior_shrinkage(evidence, var_i, confidence_level=level)
        est, se, low, high = post.estimate, post.se, post.low, post.high
        mu, tau2, tau2_low, tau2_high = post.grand_mean, post.fit.tau2, post.tau2_low, post.tau2_high
        tier = ranking.tiers(low, high, mu)
    else:
        z = float(special.ndtri((1 + level) / 2))
        est, se = evidence, np.sqrt(var_i)
        low, high, mu = est - z * se, est + z * se, float(evidence[0])
        tier = np.zeros(1, dtype=np.int64)
    n_good = np.bincount(codes, weights=g.astype(np.float64)).astype(np.int64)
    n_veto = np.bincount(codes, weights=vt.astype(np.float64)).astype(np.int64)
    wilson = ranking.wilson_interval(n_good, n.astype(np.int64), confidence_level=level)
    ranks = ranking.rank_intervals(est, se, n_draws=n_draws, confidence_level=level, rng=_seed(uniq, s))
    key_values = est if rank_by == "estimate" else low
    order_rank = np.clip(_ranks(key_values), ranks.low, ranks.high)
    group_years: dict[int, tuple[int, ...]] = {}
    if years is not None:
        pairs = np.unique(np.column_stack([codes, np.asarray(years, dtype=np.int64)]), axis=0)
        for code, year in pairs.tolist():
            group_years[code] = (*group_years.get(code, ()), year)
    labels = labels or {}
    extra = extra or {}
    rows = []
    for i, key in enumerate(uniq.tolist()):
        rows.append(RankRow(
            key=key, label=str(labels.get(key, key)), n=int(n[i]), mean=float(raw_mean[i]),
            estimate=float(est[i]), low=float(low[i]), high=float(high[i]),
            rank=int(order_rank[i]), rank_low=int(ranks.low[i]), rank_high=int(ranks.high[i]),
            good=int(n_good[i]), share=float(wilson.proportion[i]), share_low=float(wilson.low[i]),
            share_high=float(wilson.high[i]), vetoes=int(n_veto[i]), extra=dict(extra.get(key, {})),
            tier=int(tier[i]), years=group_years.get(i, ()), sources=shares[i] if shares else (),
            evidence=float(evidence[i]),
        ))
    value = dict(zip(uniq.tolist(), key_values.tolist(), strict=True))
    rows.sort(key=lambda r: (r.rank, -value[r.key], -r.n, str(r.key)))
    return Ranking(tuple(rows), mu, tau2, sigma2, level, tau2_low, tau2_high)


def _with_sources(uniq: np.ndarray, n: np.ndarray, evidence: np.ndarray, var_i: np.ndarray,
                  sources: Sequence[SourceData], weights: Mapping[str, float],
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[SourceShare, ...]]]:
    """The evidence to shrink (the peer review's, or the weighted combination) and each group's source shares."""
    if not sources:
        return evidence, var_i, []
    names = [PEER, *(sd.name for sd in sources)]
    k, s = uniq.size, len(names)
    y = np.full((k, s), np.nan)
    v = np.full((k, s), np.nan)
    counts = np.zeros((k, s), dtype=np.int64)
    own = np.full((k, s), np.nan)
    y[:, 0], v[:, 0], counts[:, 0], own[:, 0] = evidence, var_i, n.astype(np.int64), evidence
    index = {key: i for i, key in enumerate(uniq.tolist())}
    details: list[dict[int, Mapping[str, int]]] = [{} for _ in names]
    for j, sd in enumerate(sources, start=1):
        for key, est, var, count in zip(sd.keys.tolist(), sd.estimate.tolist(), sd.variance.tolist(),
                                        sd.n.tolist(), strict=True):
            i = index.get(key)
            if i is None or count <= 0:
                continue
            y[i, j], v[i, j], counts[i, j], own[i, j] = est, var, count, est
            if key in sd.detail:
                details[j][i] = sd.detail[key]
    w = np.array([float(weights.get(name, 0.0)) for name in names])
    combined = ranking.combine_sources(y, v, w) if (w[1:] > 0).any() else None
    shares: list[tuple[SourceShare, ...]] = []
    for i in range(k):
        row = []
        for j, name in enumerate(names):
            if j == 0:
                status = "reference"
            elif w[j] <= 0:
                status = "no_weight"
            elif counts[i, j] == 0:
                status = "no_data"
            elif combined is not None and not combined.usable[j]:
                status = "not_scaled"
            else:
                status = "used"
            weight = float(combined.weight[i, j]) if combined is not None else float(j == 0)
            contribution = float(combined.contribution[i, j]) if combined is not None else (
                float(evidence[i]) if j == 0 else 0.0)
            row.append(SourceShare(name, int(counts[i, j]), None if counts[i, j] == 0 else float(own[i, j]),
                                   weight, contribution, status, details[j].get(i, {})))
        shares.append(tuple(row))
    if combined is None:
        return evidence, var_i, shares
    return combined.estimate, combined.variance, shares


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
