"""The draw: a pure function of (population ordered by stable key, plan, seed).

Procedure (version ``evalplat-sampling/1``), reproducible by anyone with the canonical population:

1. Order the population by stable key; its digest is SHA-256 over the canonical lines
   (see :mod:`evalplat.sampling.records`).
2. Keep closed cases (unless the plan says ``closed_only=False``) and group them into strata by the plan's
   fields; with ``fold_administrative`` an administrative case counts as civil.
3. ``fixed`` / ``proportion``: rank each stratum's cases by the hexadecimal
   ``SHA-256(UTF-8(seed) || 0x0A || UTF-8(canonical key))`` (ascending; no two keys are equal) and take
   the first *n*.  ``census``: take all.  ``designated``: for each designated number in plan order take
   the case with that sequence number if it is closed and not yet taken, else the next closed one by
   sequence number (all of the stratum's cases are looked at, closed or not).  ``risk``: the stratum's
   eligible cases in population order get target probabilities proportional to ``1 + boost × signals``
   and are drawn by Pareto order sampling (see :mod:`evalplat.sampling.risk`).
4. Return the selected cases in population order, with each one's inclusion probability: ``n / N`` of its
   stratum for ``fixed`` and ``proportion``, 1 for ``census`` and for a stratum taken whole, the target
   probability for ``risk``; none for ``designated`` (not a random draw).

No step depends on Python's ``random`` module or on the order in which records arrive.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from evalplat.sampling import risk
from evalplat.sampling.errors import SamplingError
from evalplat.sampling.plan import ADMINISTRATIVE, CIVIL, SamplingPlan
from evalplat.sampling.records import PopulationRecord, canonical_key, digest_lines, prepare_population

ALGORITHM = "evalplat-sampling/1"

StratumKey = tuple[str, ...]


@dataclass(frozen=True)
class StratumReport:
    """One line of the sampling report.

    Attributes
    ----------
    stratum : tuple of str
        Values of the stratum fields, e.g. ``("GD-JM-01", "civil")``.
    population : int
        Cases of the stratum eligible for the draw (closed cases unless the plan says otherwise).
    requested : int
        Cases the plan asks of the stratum.
    sample : int
        Cases drawn.
    rate : float
        ``sample / population`` (0 for an empty stratum).
    """

    stratum: StratumKey
    population: int
    requested: int
    sample: int

    @property
    def rate(self) -> float:
        return self.sample / self.population if self.population else 0.0


@dataclass(frozen=True)
class SampleResult:
    """The outcome of :func:`draw`.

    Attributes
    ----------
    selected : tuple of PopulationRecord
        The drawn cases in population (stable-key) order.
    strata : tuple of StratumReport
        The sampling report, strata in sorted order.
    population_digest : str
        SHA-256 of the ordered canonical population.
    population_size : int
        Records in the population (closed or not).
    seed : str
        The seed as used (text).
    plan : SamplingPlan
        The plan.
    algorithm : str
        Version tag of the procedure.
    probabilities : dict of str to float
        Case id → inclusion probability of each drawn case (empty for ``designated`` plans).
    signals_digest : str or None
        For ``risk`` plans: :func:`evalplat.sampling.risk.signals_digest` of the signals used.
    eligible_probabilities : dict of str to float
        For ``risk`` plans: case id → target inclusion probability of every eligible case, drawn or not (a case
        missing from it could not be drawn); empty for other plans.
    """

    selected: tuple[PopulationRecord, ...]
    strata: tuple[StratumReport, ...]
    population_digest: str
    population_size: int
    seed: str
    plan: SamplingPlan
    algorithm: str = ALGORITHM
    probabilities: Mapping[str, float] = field(default_factory=dict)
    signals_digest: str | None = None
    eligible_probabilities: Mapping[str, float] = field(default_factory=dict)

    @property
    def case_ids(self) -> list[str]:
        """Ids of the drawn cases in population order."""
        return [record.case_id for record in self.selected]

    def report_rows(self) -> list[dict[str, object]]:
        """The report as plain rows (stratum fields, population, requested, sample, rate) plus a total row."""
        rows: list[dict[str, object]] = []
        for line in self.strata:
            row: dict[str, object] = dict(zip(self.plan.strata, line.stratum, strict=True))
            row.update(population=line.population, requested=line.requested, sample=line.sample,
                       rate=round(line.rate, 6))
            rows.append(row)
        population = sum(line.population for line in self.strata)
        total: dict[str, object] = dict.fromkeys(self.plan.strata, "")
        if self.plan.strata:
            total[self.plan.strata[0]] = "total"
        total.update(population=population, requested=sum(line.requested for line in self.strata),
                     sample=len(self.selected), rate=round(len(self.selected) / population, 6) if population else 0.0)
        rows.append(total)
        return rows


def seed_text(seed: str | int) -> str:
    """The seed as text; rejects empty text and non-integer numbers."""
    if isinstance(seed, bool) or not isinstance(seed, (str, int)) or (isinstance(seed, str) and not seed.strip()):
        raise SamplingError("bad_seed", seed=seed)
    return str(seed)


def rank_hash(seed: str, record: PopulationRecord) -> str:
    """Hex SHA-256 of ``seed || "\\n" || canonical key`` — a record's position in its stratum's ranking."""
    return hashlib.sha256(f"{seed}\n{canonical_key(record.key)}".encode()).hexdigest()


def stratum_function(plan: SamplingPlan) -> Callable[[PopulationRecord], StratumKey]:
    """The function mapping a record to its stratum under ``plan``."""
    folded = {ADMINISTRATIVE: CIVIL} if plan.fold_administrative else {}

    def year(record: PopulationRecord) -> str:
        return str(record.closed_on.year) if record.closed_on is not None else "open"

    getters: dict[str, Callable[[PopulationRecord], str]] = {
        "agency": attrgetter("agency"),
        "case_type": lambda record: folded.get(record.case_type, record.case_type),
        "year": year,
    }
    if plan.strata == ("agency", "case_type"):  # the default, kept fast for national populations
        return lambda record: (record.agency, folded.get(record.case_type, record.case_type))
    parts = [getters[name] for name in plan.strata]
    return lambda record: tuple(get(record) for get in parts)


def _designated(members: Sequence[PopulationRecord], plan: SamplingPlan,
                label: str) -> list[PopulationRecord]:
    numbered = sorted((r for r in members if r.sequence is not None), key=lambda r: (r.sequence, r.key))
    taken: set[str] = set()
    chosen: list[PopulationRecord] = []
    for wanted in plan.sequence_numbers:
        pick = next((r for r in numbered if r.sequence >= wanted and (r.closed or not plan.closed_only)  # type: ignore[operator]
                     and r.case_id not in taken), None)
        if pick is None:
            if plan.take_all:
                continue
            raise SamplingError("designated_missing", stratum=label, sequence=wanted)
        taken.add(pick.case_id)
        chosen.append(pick)
    return chosen


def draw(records: Iterable[PopulationRecord], plan: SamplingPlan, seed: str | int, *,
         stratum_of: Callable[[PopulationRecord], StratumKey] | None = None,
         signals: Mapping[str, int] | None = None) -> SampleResult:
    """Draw a stratified sample.

    Parameters
    ----------
    records : iterable of PopulationRecord
        The population, in any order.
    plan : SamplingPlan
        What to draw.
    seed : str or int
        The published seed (e.g. typed in from a public lottery result).
    stratum_of : callable, optional
        Replaces the plan's stratum fields; only for strata the fields cannot express, since the function
        is not part of the published plan.
    signals : mapping of case id to int, optional
        For ``risk`` plans: the number of risk signals of each case (missing: none). Published through its
        digest (:func:`evalplat.sampling.risk.signals_digest`) with the plan.

    Returns
    -------
    SampleResult
        Selected cases, report and population digest.

    Raises
    ------
    SamplingError
        ``stratum_too_small`` when a stratum has fewer eligible cases than asked (unless ``take_all``),
        ``designated_missing`` when no closed case is left at or after a designated number, and the record
        errors of :func:`evalplat.sampling.records.order_population`.

    Examples
    --------
    >>> import datetime as dt
    >>> population = [PopulationRecord(f"c{i}", ("A01", 2023, i), "A01", "civil", i, dt.date(2023, 5, 1))
    ...               for i in range(1, 6)]
    >>> result = draw(population, SamplingPlan("fixed", per_stratum=2), "2023-lottery")
    >>> len(result.selected), result.strata[0].population
    (2, 5)
    """
    # The draw allocates millions of small acyclic objects at national scale; pausing the cyclic garbage
    # collector meanwhile saves about a fifth of the time and changes nothing else.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _draw(records, plan, seed, stratum_of, signals or {})
    finally:
        if paused:
            gc.enable()


def _draw(records: Iterable[PopulationRecord], plan: SamplingPlan, seed: str | int,
          stratum_of: Callable[[PopulationRecord], StratumKey] | None, signals: Mapping[str, int]) -> SampleResult:
    seed_value = seed_text(seed)
    ordered, lines = prepare_population(records)
    digest = digest_lines(lines)
    key_of = stratum_of or stratum_function(plan)
    groups: dict[StratumKey, list[PopulationRecord]] = {}
    for record in ordered:
        groups.setdefault(key_of(record), []).append(record)

    selected_ids: set[str] = set()
    probabilities: dict[str, float] = {}
    eligible_probabilities: dict[str, float] = {}
    strata: list[StratumReport] = []
    for stratum in sorted(groups):
        members = groups[stratum]
        eligible = [r for r in members if r.closed] if plan.closed_only else members
        label = " / ".join(stratum)
        requested = plan.requested(len(eligible))
        if plan.mode == "designated":
            chosen = _designated(members, plan, label)
        else:
            if requested > len(eligible) and not plan.take_all:
                raise SamplingError("stratum_too_small", stratum=label, available=len(eligible), requested=requested)
            count = min(requested, len(eligible))
            if count == len(eligible):
                chosen = list(eligible)
                probabilities.update(dict.fromkeys((r.case_id for r in chosen), 1.0))
                if plan.mode == "risk":
                    eligible_probabilities.update(dict.fromkeys((r.case_id for r in chosen), 1.0))
            elif plan.mode == "risk":
                assert plan.boost is not None
                picked = risk.select(eligible, signals, n=count, seed=seed_value, boost=plan.boost)
                chosen = [r for r, _p in picked]
                probabilities.update((r.case_id, p) for r, p in picked)
                targets = risk.target_probabilities(eligible, signals, n=count, boost=plan.boost)
                eligible_probabilities.update(zip((r.case_id for r in eligible), targets.tolist(), strict=True))
            else:
                chosen = sorted(eligible, key=lambda r: rank_hash(seed_value, r))[:count]
                probabilities.update(dict.fromkeys((r.case_id for r in chosen), count / len(eligible)))
        selected_ids.update(r.case_id for r in chosen)
        strata.append(StratumReport(stratum=stratum, population=len(eligible), requested=requested, sample=len(chosen)))
    selected = tuple(r for r in ordered if r.case_id in selected_ids)
    return SampleResult(selected=selected, strata=tuple(strata), population_digest=digest,
                        population_size=len(ordered), seed=seed_value, plan=plan, probabilities=probabilities,
                        signals_digest=risk.signals_digest(signals) if plan.mode == "risk" else None,
                        eligible_probabilities=eligible_probabilities)

