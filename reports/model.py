"""The plain report-data object every renderer takes (no Flask, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Figure:
    """Score and 优良率 of one group (city, agency, case type, lawyer), its case count beside every figure.

    ``estimate``/``low``/``high`` are the empirical-Bayes shrunk mean and its interval; ``share_low``/
    ``share_high`` the Wilson interval of the share graded excellent or good. ``rank`` and its interval
    come from the shrunk mean (None where no ranking is meaningful).
    """

    key: str
    label: str
    n: int
    mean: float
    estimate: float
    low: float
    high: float
    good: int
    share: float
    share_low: float
    share_high: float
    vetoes: int = 0
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    parent: str = ""
    tier: int | None = None  # 1 clearly above, 0 indistinguishable from, -1 clearly below the reference


@dataclass(frozen=True)
class Separation:
    """How well the data separate the entities of one ranking (lawyers or agencies).

    ``tau2`` is the REML between-entity variance with its posterior interval; ``above``/``below`` count
    entities whose interval lies clearly above/below the reference ``mean``.
    """

    tau2: float
    tau2_low: float
    tau2_high: float
    mean: float
    n_entities: int
    cases_per_entity: float
    above: int
    below: int

    @property
    def separable(self) -> bool:
        return self.above + self.below > 0


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    n: int


@dataclass(frozen=True)
class Glance:
    """The campaign at a glance."""

    n_cases: int
    n_reviewers: int
    n_reviews: int
    n_escalations: int
    n_appeals: int
    strata: tuple[Count, ...]
    case_types: tuple[Count, ...]
    grades: tuple[Count, ...]
    appeal_states: tuple[Count, ...]
    appeal_outcomes: tuple[Count, ...]
    overall: Figure | None


@dataclass(frozen=True)
class Distribution:
    """Histogram of result totals: ``edges`` (len k+1) and counts per series (overall and per case type)."""

    edges: tuple[float, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class ItemLoss:
    """Points a rubric item loses on average (``mean_lost`` of ``max_points``) over ``n`` scored cases."""

    code: str
    label: str
    max_points: float
    n: int
    mean_lost: float
    share_lost: float


@dataclass(frozen=True)
class Reliability:
    n_units: int
    n_raters: int
    n_ratings: int
    alpha: float | None
    icc: float | None
    icc_low: float | None
    icc_high: float | None
    leniency_sd: float | None
    leniency_min: float | None
    leniency_max: float | None


@dataclass(frozen=True)
class TrendPoint:
    year: int
    campaign: str
    n: int
    mean: float
    good: int
    share: float
    share_low: float
    share_high: float


@dataclass(frozen=True)
class AgencySection:
    """What one agency sees of the report: its own figures, its place among agencies and what to fix."""

    agency: Figure
    n_agencies: int
    case_types: tuple[Figure, ...]
    item_losses: tuple[tuple[str, tuple[ItemLoss, ...]], ...]
    grades: tuple[Count, ...]


@dataclass(frozen=True)
class ReportData:
    """Everything in the annual report, computed once from the database (see evalplat.rankings.report_data)."""

    campaign_id: int
    campaign_name: str
    year: int
    generated_at: datetime
    data_version: str
    level: float
    glance: Glance
    by_city: tuple[Figure, ...]
    by_agency: tuple[Figure, ...]
    by_case_type: tuple[Figure, ...]
    distribution: Distribution
    item_losses: tuple[tuple[str, tuple[ItemLoss, ...]], ...]
    reliability: Reliability
    top_lawyers: tuple[Figure, ...]
    bottom_lawyers: tuple[Figure, ...]
    top_agencies: tuple[Figure, ...]
    bottom_agencies: tuple[Figure, ...]
    trend: tuple[TrendPoint, ...]
    agency_sections: dict[str, AgencySection] = field(default_factory=dict)
    #: "lawyer" and "agency": how well the data separate them (the top/bottom lists hold only clear cases)
    separation: dict[str, Separation] = field(default_factory=dict)
    #: campaign years of the pooled record the top/bottom lists read (empty: this campaign alone)
    list_years: tuple[int, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def for_agency(self, agency_key: str) -> AgencySection | None:
        return self.agency_sections.get(str(agency_key))
