"""Per-campaign ranking rules (``Campaign.ranking_rules``): expert-pool entry and assignment priority.

Stored as JSON; :func:`parse_rules` validates it and fills defaults, and every refusal names the field.

The expert pool and the priorities read a lawyer's pooled record: every published campaign of the last
``window_years`` years, older years weighted by ``year_decay`` per year of age, scores adjusted for case
type and campaign (:func:`evalplat.rankings.queries.record_for`).

Priority weight of a lawyer (for the case-assignment system, 指派):
``clip(1 + slope * (shrunk mean - pivot), floor, cap) + pool_bonus if in the expert pool``. It uses the
shrunk mean, so a lawyer with one lucky case gets little more than the average weight.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l

DEFAULT_PRIORITY: dict[str, float] = {"pivot": 80.0, "slope": 0.05, "floor": 0.5, "cap": 2.0, "pool_bonus": 0.25}


@dataclass(frozen=True)
class PriorityRule:
    pivot: float = 80.0
    slope: float = 0.05
    floor: float = 0.5
    cap: float = 2.0
    pool_bonus: float = 0.25


@dataclass(frozen=True)
class RankingRules:
    """Validated ranking rules of one campaign."""

    min_cases: int = 3
    lower_bound: float | None = 85.0
    min_share_lower_bound: float | None = None
    no_veto: bool = True
    level: float = 0.95
    priority: PriorityRule = PriorityRule()
    #: a lawyer's or agency's record pools the published campaigns of this many years (the campaign's and before)
    window_years: int = 3
    #: weight of a case one year older than the campaign (1 = no down-weighting); two years older: its square
    year_decay: float = 1.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["priority"] = asdict(self.priority)
        return data


class RulesError(DomainError):
    status = 400
    code = "invalid_ranking_rules"


def _number(raw: dict[str, Any], key: str, default: Any, *, low: float, high: float,
            optional: bool = False, integer: bool = False, prefix: str = "") -> Any:
    value = raw.get(key, default)
    name = prefix + key
    if value is None or value == "":
        if optional:
            return None
        raise RulesError(_l("Ranking rule %(field)s is required.", field=name))
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RulesError(_l("Ranking rule %(field)s must be a number, got %(value)s.", field=name, value=repr(value)))
    try:
        number = float(value)
    except ValueError:
        raise RulesError(_l("Ranking rule %(field)s must be a number, got %(value)s.",
                            field=name, value=repr(value))) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise RulesError(_l("Ranking rule %(field)s must lie between %(low)s and %(high)s, got %(value)s.",
                            field=name, low=low, high=high, value=value))
    if integer:
        if number != int(number):
            raise RulesError(_l("Ranking rule %(field)s must be a whole number, got %(value)s.",
                                field=name, value=value))
        return int(number)
    return number


def parse_rules(raw: dict[str, Any] | None) -> RankingRules:
    """Validate stored rules; missing keys take the defaults.

    Parameters
    ----------
    raw : dict or None
        ``Campaign.ranking_rules``.

    Returns
    -------
    RankingRules

    Raises
    ------
    RulesError
        Naming the field and the reason.
    """
    raw = dict(raw or {})
    d = RankingRules()
    unknown = sorted(set(raw) - {"min_cases", "lower_bound", "min_share_lower_bound", "no_veto", "level",
                                 "priority", "window_years", "year_decay"})
    if unknown:
        raise RulesError(_l("Unknown ranking rule(s): %(names)s.", names=", ".join(unknown)))
    no_veto = raw.get("no_veto", d.no_veto)
    if not isinstance(no_veto, bool):
        raise RulesError(_l("Ranking rule %(field)s must be true or false.", field="no_veto"))
    prio_raw = raw.get("priority") or {}
    if not isinstance(prio_raw, dict):
        raise RulesError(_l("Ranking rule %(field)s must be an object.", field="priority"))
    bad = sorted(set(prio_raw) - set(DEFAULT_PRIORITY))
    if bad:
        raise RulesError(_l("Unknown ranking rule(s): %(names)s.", names=", ".join("priority." + b for b in bad)))
    p = PriorityRule()
    prio = PriorityRule(
        pivot=_number(prio_raw, "pivot", p.pivot, low=0, high=100, prefix="priority."),
        slope=_number(prio_raw, "slope", p.slope, low=0, high=1, prefix="priority."),
        floor=_number(prio_raw, "floor", p.floor, low=0, high=10, prefix="priority."),
        cap=_number(prio_raw, "cap", p.cap, low=0, high=10, prefix="priority."),
        pool_bonus=_number(prio_raw, "pool_bonus", p.pool_bonus, low=0, high=10, prefix="priority."),
    )
    if prio.floor > prio.cap:
        raise RulesError(_l("Ranking rule %(field)s must not exceed %(other)s.", field="priority.floor",
                            other="priority.cap"))
    return RankingRules(
        min_cases=_number(raw, "min_cases", d.min_cases, low=0, high=10_000, integer=True),
        lower_bound=_number(raw, "lower_bound", d.lower_bound, low=0, high=100, optional=True),
        min_share_lower_bound=_number(raw, "min_share_lower_bound", d.min_share_lower_bound, low=0, high=1,
                                      optional=True),
        no_veto=no_veto,
        level=_number(raw, "level", d.level, low=0.5, high=0.999),
        priority=prio,
        window_years=_number(raw, "window_years", d.window_years, low=1, high=20, integer=True),
        year_decay=_number(raw, "year_decay", d.year_decay, low=0.05, high=1),
    )
