"""Campaigns (annual assessments), sampling, conflicts and reviewer assignments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalplat.db import enum_column, utcnow
from evalplat.extensions import db

if TYPE_CHECKING:
    from evalplat.accounts.models import User
    from evalplat.cases.models import Case
    from evalplat.organisations.models import ReviewerProfile
    from evalplat.reviews.models import Review, RubricVersion


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


class AssignmentRound(enum.StrEnum):
    CALIBRATION = "calibration"
    INITIAL = "initial"
    ADJUDICATION = "adjudication"
    APPEAL = "appeal"


class AssignmentState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class RunState(enum.StrEnum):
    PREVIEW = "preview"
    COMMITTED = "committed"
    UNDONE = "undone"
    DISCARDED = "discarded"


class ConflictSource(enum.StrEnum):
    COMPUTED = "computed"
    DECLARED = "declared"


class ConflictStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


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


class Campaign(db.Model):
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

    __mapper_args__ = {"version_id_col": version}

    @property
    def results_published(self) -> bool:
        """Whether the campaign's results are published (its state is one of :data:`PUBLISHED_STATES`)."""
        return self.state in PUBLISHED_STATES

    def can_manage(self, user: User) -> bool:
        return user.is_organiser


class CampaignRubric(db.Model):
    """The rubric version a campaign pins for one case type."""

    __tablename__ = "campaign_rubrics"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    case_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_versions.id"), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="rubrics")
    rubric_version: Mapped[RubricVersion] = relationship()


class SamplingPlan(db.Model):
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

    campaign: Mapped[Campaign] = relationship(back_populates="plan")


class Sample(db.Model):
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

    campaign: Mapped[Campaign] = relationship()
    case: Mapped[Case] = relationship()


class Conflict(db.Model):
    """A reason a reviewer must not review a case (or a lawyer's, firm's or agency's cases)."""

    __tablename__ = "conflicts"
    __table_args__ = (
        sa.CheckConstraint(
            "case_id IS NOT NULL OR lawyer_id IS NOT NULL OR firm_id IS NOT NULL OR agency_id IS NOT NULL",
            name="has_target",
        ),
        sa.Index("ix_conflicts_reviewer_case", "reviewer_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewer_profiles.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    lawyer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lawyers.id"))
    firm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("firms.id"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    reason: Mapped[str] = mapped_column(sa.String(64))  # a code: same_region, same_firm, own_case, named_in_file…
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[ConflictSource] = mapped_column(enum_column(ConflictSource))
    status: Mapped[ConflictStatus] = mapped_column(enum_column(ConflictStatus), default=ConflictStatus.OPEN)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[ReviewerProfile] = relationship()


class AssignmentRun(db.Model):
    __tablename__ = "assignment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    round: Mapped[AssignmentRound] = mapped_column(enum_column(AssignmentRound), default=AssignmentRound.INITIAL)
    state: Mapped[RunState] = mapped_column(enum_column(RunState), default=RunState.PREVIEW)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seed: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Pairs of a preview run, before they become Assignment rows on commit: [[sample_id, reviewer_id], …]
    proposed: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    committed_at: Mapped[datetime | None]


class Assignment(db.Model):
    """A sampled case offered to one reviewer in one round."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("sample_id", "reviewer_id", "round"),
        sa.Index("ix_assignments_reviewer_state", "reviewer_id", "state"),
        sa.Index("ix_assignments_sample_round", "sample_id", "round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewer_profiles.id"))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment_runs.id"), index=True)
    round: Mapped[AssignmentRound] = mapped_column(enum_column(AssignmentRound), default=AssignmentRound.INITIAL)
    state: Mapped[AssignmentState] = mapped_column(enum_column(AssignmentState), default=AssignmentState.OFFERED)
    due_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    conflict_declared: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    sample: Mapped[Sample] = relationship()
    reviewer: Mapped[ReviewerProfile] = relationship()
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)

    __mapper_args__ = {"version_id_col": version}

    def can_open(self, user: User) -> bool:
        """Only the assigned reviewer opens an assignment (the organiser manages it elsewhere); an offer only
        once its case's redaction is approved (until then it waits, invisible)."""
        from evalplat.cases.queries import is_released

        profile = user.reviewer_profile
        if profile is None or profile.id != self.reviewer_id or not user.is_reviewer:
            return False
        return self.state != AssignmentState.OFFERED or is_released(self.sample.case_id)

    def can_score(self, user: User) -> bool:
        return self.can_open(user) and self.state in (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
