"""Campaigns (annual assessments) and sampling. Assignments, runs and conflicts: evalplat.assignments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import Model

if TYPE_CHECKING:
    from evalplat.accounts.models import User
    from evalplat.cases.models import Case
    from evalplat.organisations.models import Region
    from evalplat.reviews.models import RubricVersion


class CampaignState(enum.StrEnum):
    DRAFT = "draft"
    SAMPLED = "sampled"
    ASSIGNED = "assigned"
    SCORING = "scoring"
    CONSOLIDATING = "consolidating"
    PUBLISHED = "published"
    APPEALS_CLOSED = "appeals_closed"
    FINAL = "final"


#: The states in which a campaign's results are published (the one list; pages, API, rankings, notifications).
PUBLISHED_STATES = frozenset({CampaignState.PUBLISHED, CampaignState.APPEALS_CLOSED, CampaignState.FINAL})


class ScopeKind(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    AGENCIES = "agencies"


class SamplingMode(enum.StrEnum):
    FIXED = "fixed"
    PROPORTION = "proportion"
    DESIGNATED = "designated"
    CENSUS = "census"
    RISK = "risk"


DEFAULT_GRADE_BANDS: dict[str, Any] = {"excellent": 90, "good": 80, "pass": 60}
DEFAULT_DISAGREEMENT_RULES: dict[str, Any] = {
    "max_spread": 15,
    "max_band_gap": 1,
    "veto_one_side": True,
    "escalate_extremes": True,
}
DEFAULT_RANKING_RULES: dict[str, Any] = {
    "min_cases": 3,
    "lower_bound": 85,
    "no_veto": True,
    "level": 0.95,
}


class Campaign(Model):
    """An annual assessment (年度案件质量同行评估)."""

    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("reviewers_per_case BETWEEN 1 AND 9", name="reviewers_per_case_range"),
        sa.CheckConstraint("min_evaluators >= 0 AND min_evaluators <= reviewers_per_case",
                           name="min_evaluators_range"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    code_prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    year: Mapped[int]
    scope_kind: Mapped[ScopeKind] = mapped_column(enum_column(ScopeKind), default=ScopeKind.PROVINCE)
    scope_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"))
    scope_agency_ids: Mapped[list[int]] = mapped_column(default=list)
    # The jurisdiction that owns (runs) the campaign; its scope lies inside it (evalplat.campaigns.operations
    # checks that), and its organisers alone manage it.
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    state: Mapped[CampaignState] = mapped_column(enum_column(CampaignState), default=CampaignState.DRAFT,
                                                 index=True)
    reviewers_per_case: Mapped[int] = mapped_column(default=2)
    min_evaluators: Mapped[int] = mapped_column(default=0)
    disagreement_rules: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_DISAGREEMENT_RULES))
    grade_bands: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_GRADE_BANDS))
    ranking_rules: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_RANKING_RULES))
    assignment_rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_days: Mapped[int] = mapped_column(default=21)
    appeal_opens_at: Mapped[datetime | None]
    appeal_closes_at: Mapped[datetime | None]
    seed: Mapped[str | None] = mapped_column(sa.String(128))
    population_digest: Mapped[str | None] = mapped_column(sa.String(64))
    population_size: Mapped[int | None]
    population_frozen_at: Mapped[datetime | None]
    official_scores: Mapped[str] = mapped_column(sa.String(16), default="raw")
    published_at: Mapped[datetime | None]
    circular_published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optimistic concurrency: every state change bumps it.
    version: Mapped[int] = mapped_column(default=1)

    rubrics: Mapped[list[CampaignRubric]] = relationship(cascade="all, delete-orphan", back_populates="campaign")
    plan: Mapped[SamplingPlan | None] = relationship(cascade="all, delete-orphan", back_populates="campaign")
    jurisdiction: Mapped[Region] = relationship(foreign_keys=[jurisdiction_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.code_prefix} {self.state} jurisdiction={self.jurisdiction_id}>"

    @property
    def results_published(self) -> bool:
        """Whether the campaign's results are published (its state is one of :data:`PUBLISHED_STATES`)."""
        return self.state in PUBLISHED_STATES

    def can_manage(self, user: User) -> bool:
        return user.can_manage_campaign(self)

    def can_read(self, user: User) -> bool:
        return user.can_read_campaign(self)


class CampaignRubric(Model):
    """The rubric version a campaign pins for one case type."""

    __tablename__ = "campaign_rubrics"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    case_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="rubrics")
    rubric_version: Mapped[RubricVersion] = relationship()


class SamplingPlan(Model):
    __tablename__ = "sampling_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[SamplingMode] = mapped_column(enum_column(SamplingMode))
    # e.g. {"per_stratum": 1} / {"rate": 0.1, "min": 1, "max": 5} / {"numbers": [11, 12]}
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    strata: Mapped[list[str]] = mapped_column(default=lambda: ["agency", "case_type"])
    fold_administrative: Mapped[bool] = mapped_column(default=True)
    closed_from: Mapped[datetime | None]
    closed_until: Mapped[datetime | None]
    # Risk mode: the risk signals of the population's cases as they were when the population was frozen
    # (case id as text → number of signals; cases without signals left out). Read only by the draw.
    risk_signals: Mapped[dict[str, Any] | None] = mapped_column(deferred=True)

    campaign: Mapped[Campaign] = relationship(back_populates="plan")


class Sample(Model):
    """A case drawn into a campaign, with its anonymised code (e.g. GD2024-00123)."""

    __tablename__ = "samples"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "case_id"),
        sa.Index("ix_samples_campaign_stratum", "campaign_id", "stratum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    stratum: Mapped[str] = mapped_column(sa.String(96))
    is_training: Mapped[bool] = mapped_column(default=False)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the organiser last changed the frozen case's file (evalplat.cases.evidence): the reviewer's case
    # page looks the changes up only when this is later than the reviewer's start.
    evidence_changed_at: Mapped[datetime | None]
    # The case's probability of being drawn under the plan (n/N of its stratum, or the risk mode's target
    # probability); estimates weight the case by its inverse. None for designated numbers (not random).
    inclusion_probability: Mapped[float | None]
    # Risk mode: the case's risk signals at the freeze (what raised its probability).
    risk_signals: Mapped[int | None]

    campaign: Mapped[Campaign] = relationship()
    case: Mapped[Case] = relationship()
