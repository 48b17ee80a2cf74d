"""A small finished campaign with known answers, shared by the rankings, API and report tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalplat.appeals.models import Appeal, AppealState
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import Campaign, CampaignRubric, CampaignState, Sample
from evalplat.organisations.jurisdiction import national_region
from evalplat.results.models import Result, ResultKind
from evalplat.reviews.models import Grade, Review, ReviewState, RubricVersion

RUBRIC = {"key": "mini", "version": "1", "items": [
    {"code": "meet", "label": {"zh": "会见当事人", "en": "Meetings"}, "max_points": 60},
    {"code": "write", "label": {"zh": "书面意见", "en": "Written opinion"}, "max_points": 40},
]}


def grade_of(total: float) -> Grade:
    return Grade.EXCELLENT if total >= 90 else Grade.GOOD if total >= 80 else Grade.PASS if total >= 60 else Grade.FAIL


@dataclass
class Built:
    campaign: Campaign
    cities: dict[str, Any] = field(default_factory=dict)
    agencies: dict[str, Any] = field(default_factory=dict)
    lawyers: dict[str, Any] = field(default_factory=dict)
    reviewers: list[Any] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)  # the known answers, one per sample


def build_campaign(db: Any, make_region: Any, make_agency: Any, make_lawyer: Any, make_case: Any,
                   make_reviewer: Any, make_user: Any, *, year: int = 2024, prefix: str = "T",
                   state: CampaignState = CampaignState.PUBLISHED, cases: list[tuple] | None = None,
                   reuse: Built | None = None) -> Built:
    """Cases given as (agency key, lawyer key, case type, total, meet points, veto) tuples."""
    s = db.session
    if reuse is None:
        built = Built(campaign=None)  # type: ignore[arg-type]
        built.cities = {"A": make_region("甲市"), "B": make_region("乙市")}
        built.agencies = {"A1": make_agency("甲市法律援助中心", built.cities["A"]),
                          "A2": make_agency("甲市某区法律援助处", built.cities["A"]),
                          "B1": make_agency("乙市法律援助中心", built.cities["B"])}
        built.lawyers = {k: make_lawyer(name) for k, name in
                         (("steady", "张稳"), ("lucky", "李幸"), ("weak", "王弱"), ("mid", "赵中"))}
        built.reviewers = [make_reviewer() for _ in range(4)]
    else:
        built = Built(None, reuse.cities, reuse.agencies, reuse.lawyers, reuse.reviewers)  # type: ignore[arg-type]
    rubric = RubricVersion(key=f"mini{prefix}", version=1, case_types=["criminal", "civil"], definition=RUBRIC,
                           content_hash="0" * 64, frozen=True, jurisdiction=national_region(s))
    campaign = Campaign(name=f"{year}年度评估", code_prefix=f"{prefix}{year}", year=year, state=state,
                        jurisdiction=national_region(s))
    s.add_all([rubric, campaign])
    s.flush()
    s.add_all([CampaignRubric(campaign_id=campaign.id, case_type=ct, rubric_version_id=rubric.id)
               for ct in ("criminal", "civil")])
    if cases is None:
        cases = ([("A1", "steady", "criminal", 85.0 + ((i * 7) % 13) - 6, 50.0 + ((i * 7) % 13) - 6, False) for i in range(20)]
                 + [("A2", "lucky", "civil", 100.0, 60.0, False)]
                 + [("B1", "weak", "criminal", t, 30.0, False) for t in (62.0, 58.0, 70.0)]
                 + [("B1", "mid", "civil", 81.0, 45.0, True), ("A2", "mid", "civil", 79.0, 44.0, False)])
    for i, (agency, lawyer, ctype, total, meet, veto) in enumerate(cases):
        case = make_case(agency=built.agencies[agency], case_type=ctype, lawyer=built.lawyers[lawyer], year=year)
        sample = Sample(campaign_id=campaign.id, case_id=case.id, code=f"{prefix}{year}-{i:05d}",
                        stratum=f"{built.agencies[agency].code}|{ctype}")
        s.add(sample)
        s.flush()
        grade = Grade.FAIL if veto else grade_of(total)
        s.add(Result(sample_id=sample.id, kind=ResultKind.CONSENSUS, total=total, grade=grade, raw_total=total,
                     item_points={"meet": meet, "write": total - meet}, vetoes=["fees_from_client"] if veto else []))
        for j, offset in enumerate((-2.0, 2.0)):
            reviewer = built.reviewers[(i + j) % 4]
            a = Assignment(sample_id=sample.id, reviewer_id=reviewer.id, round=AssignmentRound.INITIAL,
                           state=AssignmentState.SUBMITTED)
            s.add(a)
            s.flush()
            s.add(Review(assignment_id=a.id, rubric_version_id=rubric.id, state=ReviewState.SUBMITTED,
                         total=min(100.0, max(0.0, total + offset + (i % 2))), grade=grade_of(total)))
        built.cases.append({"sample": sample, "agency": agency, "lawyer": lawyer, "case_type": ctype,
                            "total": total, "meet": meet, "veto": veto, "grade": grade.value})
    # one escalation and one decided appeal
    first = built.cases[-1]["sample"]
    s.add(Assignment(sample_id=first.id, reviewer_id=built.reviewers[3].id, round=AssignmentRound.ADJUDICATION,
                     state=AssignmentState.SUBMITTED))
    staff = make_user("agency_staff", agency=built.agencies["A2"])
    s.add(Appeal(sample_id=first.id, agency_id=built.agencies["A2"].id, filed_by_id=staff.id, reason="理由",
                 state=AppealState.DECIDED, decision="upheld"))
    s.commit()
    built.campaign = campaign
    return built
