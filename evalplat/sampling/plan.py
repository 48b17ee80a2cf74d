"""Sampling plans: which mode, its parameters and how strata are formed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from evalplat.sampling.errors import SamplingError

MODES = ("fixed", "proportion", "designated", "census", "risk")
MAX_BOOST = 100.0
STRATUM_FIELDS = ("agency", "case_type", "year")
ROUNDINGS = ("half_up", "ceil", "floor")
ADMINISTRATIVE = "administrative"
CIVIL = "civil"


def _rate(value: Any) -> Fraction:
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise SamplingError("bad_parameter", parameter="rate", reason=f"not a number: {value!r}")
    else:
        text = str(value).strip()
        percent = text.endswith("%")
        try:
            rate = Fraction(text.rstrip("%")) if "/" in text else Fraction(Decimal(text.rstrip("%")))
        except (InvalidOperation, ValueError, ZeroDivisionError):
            raise SamplingError("bad_parameter", parameter="rate", reason=f"not a number: {value!r}") from None
        rate = rate / 100 if percent else rate
    if not 0 < rate <= 1:
        raise SamplingError("bad_parameter", parameter="rate", reason=f"must be in (0, 1], got {value!r}")
    return rate


def _rate_text(rate: Fraction) -> str:
    """Exact text of a rate: decimal when it terminates (``"0.1"``), else a fraction (``"1/3"``)."""
    rest = rate.denominator
    for factor in (2, 5):
        while rest % factor == 0:
            rest //= factor
    if rest != 1:
        return f"{rate.numerator}/{rate.denominator}"
    digits = 0
    while (rate * 10**digits).denominator != 1:
        digits += 1
    return f"{Decimal(rate.numerator * 10**digits // rate.denominator).scaleb(-digits):f}"


def _count(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SamplingError("bad_parameter", parameter=name, reason=f"must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class SamplingPlan:
    """A sampling plan, published with the seed and the population digest.

    Parameters
    ----------
    mode : {"fixed", "proportion", "designated", "census", "risk"}
        ``fixed``: ``per_stratum`` cases per stratum (Guangdong 2022: one per agency and type).
        ``proportion``: ``rate`` of each stratum, rounded by ``rounding``, then clipped to
        [``minimum``, ``maximum``] (Chaozhou 2023: 10 %).
        ``designated``: the cases with ``sequence_numbers`` in each stratum, or the next closed case when
        one is missing or not closed (Shaoguan 2021: each agency's No. 11-12).
        ``census``: every closed case.
        ``risk``: ``per_stratum`` cases, or ``rate`` of the stratum as for ``proportion``, drawn with
        probabilities proportional to ``1 + boost × risk signals`` (see :mod:`evalplat.sampling.risk`); the
        inclusion probabilities are recorded so that estimates can be weighted.
    per_stratum : int, optional
        Cases per stratum for ``fixed`` (and ``risk``, instead of ``rate``).
    rate : str, optional
        Proportion for ``proportion`` (and ``risk``, instead of ``per_stratum``) as exact decimal text (``"0.1"`` or ``"10%"``); floats are accepted
        and converted through their shortest decimal text.
    minimum, maximum : int
        Bounds on a stratum's sample for ``proportion`` (``maximum=None``: no upper bound).
    rounding : {"half_up", "ceil", "floor"}
        How ``rate * stratum size`` becomes a count.
    sequence_numbers : tuple of int
        Designated sequence numbers for ``designated``.
    strata : tuple of str
        Fields forming a stratum, from ``agency``, ``case_type``, ``year`` (closing year).
    fold_administrative : bool
        Count administrative cases as civil when forming strata (usual practice).
    take_all : bool
        When a stratum has fewer cases than asked, take all it has instead of failing.
    closed_only : bool
        Sample closed cases only (the rules cover closed cases).
    boost : float, optional
        For ``risk``: how much one risk signal raises a case's size measure (0: every case alike); default 3.
    """

    mode: str
    per_stratum: int | None = None
    rate: str | None = None
    minimum: int = 0
    maximum: int | None = None
    rounding: str = "half_up"
    sequence_numbers: tuple[int, ...] = ()
    strata: tuple[str, ...] = ("agency", "case_type")
    fold_administrative: bool = False
    take_all: bool = False
    closed_only: bool = True
    boost: float | None = None
    _rate: Fraction | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SamplingError("unknown_mode", mode=self.mode, modes=", ".join(MODES))
        strata = tuple(self.strata)
        for name in strata:
            if name not in STRATUM_FIELDS:
                raise SamplingError("unknown_stratum_field", field=name, fields=", ".join(STRATUM_FIELDS))
        if len(set(strata)) != len(strata):
            raise SamplingError("bad_parameter", parameter="strata", reason=f"repeated field in {strata}")
        object.__setattr__(self, "strata", strata)
        if self.rounding not in ROUNDINGS:
            raise SamplingError("bad_parameter", parameter="rounding", reason=f"use one of {', '.join(ROUNDINGS)}")
        _count("minimum", self.minimum, minimum=0)
        if self.maximum is not None and _count("maximum", self.maximum, minimum=1) < self.minimum:
            raise SamplingError("bad_parameter", parameter="maximum", reason="smaller than minimum")
        if self.mode == "risk":
            if (self.per_stratum is None) == (self.rate is None):
                raise SamplingError("bad_parameter", parameter="per_stratum",
                                    reason="mode risk needs either per_stratum or rate (one of them)")
            boost = 3.0 if self.boost is None else self.boost
            if isinstance(boost, bool) or not isinstance(boost, (int, float)) or not 0 <= boost <= MAX_BOOST:
                raise SamplingError("bad_parameter", parameter="boost",
                                    reason=f"must be a number from 0 to {MAX_BOOST:g}, got {self.boost!r}")
            object.__setattr__(self, "boost", float(boost))
        elif self.boost is not None:
            raise SamplingError("bad_parameter", parameter="boost", reason=f"only used by mode risk, not {self.mode}")
        if self.mode == "fixed" or (self.mode == "risk" and self.per_stratum is not None):
            _count("per_stratum", self.per_stratum, minimum=1)
        elif self.per_stratum is not None:
            raise SamplingError("bad_parameter", parameter="per_stratum", reason=f"only used by mode fixed, not {self.mode}")
        if self.mode == "proportion" or (self.mode == "risk" and self.rate is not None):
            if self.rate is None:
                raise SamplingError("bad_parameter", parameter="rate", reason="required by mode proportion")
            rate = _rate(self.rate)
            object.__setattr__(self, "_rate", rate)
            object.__setattr__(self, "rate", _rate_text(rate))
        elif self.rate is not None:
            raise SamplingError("bad_parameter", parameter="rate", reason=f"only used by mode proportion, not {self.mode}")
        numbers = tuple(self.sequence_numbers)
        if self.mode == "designated":
            if not numbers:
                raise SamplingError("bad_parameter", parameter="sequence_numbers", reason="required by mode designated")
            for number in numbers:
                _count("sequence_numbers", number, minimum=0)
            if len(set(numbers)) != len(numbers):
                raise SamplingError("bad_parameter", parameter="sequence_numbers", reason=f"repeated number in {numbers}")
        elif numbers:
            raise SamplingError("bad_parameter", parameter="sequence_numbers",
                                reason=f"only used by mode designated, not {self.mode}")
        object.__setattr__(self, "sequence_numbers", numbers)

    def requested(self, available: int) -> int:
        """Number of cases the plan asks of a stratum with ``available`` cases (``designated``: its count)."""
        if self.per_stratum is not None:  # fixed, or risk with a count per stratum
            return self.per_stratum
        if self.mode == "census":
            return available
        if self.mode == "designated":
            return len(self.sequence_numbers)
        assert self._rate is not None
        exact = self._rate * available
        count = {"half_up": math.floor(exact + Fraction(1, 2)), "ceil": math.ceil(exact),
                 "floor": math.floor(exact)}[self.rounding]
        count = max(count, self.minimum)
        return count if self.maximum is None else min(count, self.maximum)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data (for publication and for :meth:`from_dict`)."""
        data = asdict(self)
        data.pop("_rate")
        data["sequence_numbers"] = list(self.sequence_numbers)
        data["strata"] = list(self.strata)
        if self.boost is None:  # plans of the other modes read as they always did
            data.pop("boost")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplingPlan:
        """Build a plan from plain data, rejecting unknown keys."""
        known = {"mode", "per_stratum", "rate", "minimum", "maximum", "rounding", "sequence_numbers", "strata",
                 "fold_administrative", "take_all", "closed_only", "boost"}
        for key in data:
            if key not in known:
                raise SamplingError("bad_parameter", parameter=key, reason="unknown plan parameter")
        if "mode" not in data:
            raise SamplingError("bad_parameter", parameter="mode", reason="missing")
        values = dict(data)
        for key in ("sequence_numbers", "strata"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
