"""Imports every domain's models so that the metadata (and Alembic) sees the whole schema."""

from evalplat.accounts.models import LoginAttempt, Role, User, UserRole
from evalplat.api.models import ApiToken, ApiTokenPolicy
from evalplat.appeals.models import Appeal, AppealAttachment
from evalplat.assignments.models import Assignment, AssignmentRun, Conflict
from evalplat.audit.models import AuditEvent
from evalplat.campaigns.models import Campaign, CampaignRubric, Sample, SamplingPlan
from evalplat.cases.models import Case, CaseParty, Document, EvidenceChange, Redaction
from evalplat.closing.models import ClosingCheck, ClosingMark, ClosingReview
from evalplat.followups.models import (
    FollowupAttempt,
    FollowupComplaint,
    FollowupPlan,
    FollowupTarget,
    FollowupVisit,
)
from evalplat.jobs.models import JobRecord
from evalplat.notifications.models import EmailChoice, Notification
from evalplat.organisations.models import Agency, Firm, Lawyer, Region, ReviewerProfile
from evalplat.rankings.models import RankingWeights
from evalplat.results.models import Result
from evalplat.reviews.models import Review, ReviewItem, RubricVersion
from evalplat.selfeval.models import SelfEvaluation

__all__ = [
    "Agency", "ApiToken", "ApiTokenPolicy", "Appeal", "AppealAttachment", "Assignment", "AssignmentRun", "AuditEvent", "Campaign",
    "CampaignRubric", "Case", "CaseParty", "ClosingCheck", "ClosingMark", "ClosingReview", "Conflict", "Document", "EvidenceChange", "Firm", "FollowupAttempt", "FollowupComplaint",
    "FollowupPlan", "FollowupTarget", "FollowupVisit", "JobRecord", "Lawyer", "LoginAttempt",
    "RankingWeights", "Redaction", "Region", "Result", "Review", "ReviewItem", "ReviewerProfile", "Role", "RubricVersion", "Sample",
    "SamplingPlan", "SelfEvaluation", "User", "UserRole", "Notification", "EmailChoice",
]
