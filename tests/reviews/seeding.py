"""A tiny scoring scene for the reviewer-workspace tests, the browser test and the bench.

One case with known parties (whose names, ID number and phone appear in the original text only), approved
redacted documents, a campaign in scoring with the platform's rubrics pinned, one sample, and reviewers
with accepted assignments. Built with the ORM in the caller's session (committed by the caller).

Loaded by path (``load_seeding()``) from tests/browser and bench/, since test folders are not packages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from evalplat.accounts import operations as accounts
from evalplat.accounts.models import Role, User
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.campaigns.operations import pin_rubrics
from evalplat.cases.models import (
    Case,
    CaseParty,
    CaseRedaction,
    Document,
    DocumentKind,
    DocumentStatus,
    PartyRole,
    Redaction,
    RedactionStatus,
)
from evalplat.organisations.jurisdiction import national_region
from evalplat.organisations.models import (
    Agency,
    CaseType,
    Firm,
    Lawyer,
    Region,
    RegionLevel,
    ReviewerKind,
    ReviewerProfile,
)

PASSWORD = "correct-horse-battery"  # noqa: S105 - test data
CLIENT_NAME = "欧阳振华"
CLIENT_ID = "440703198805121234"
CLIENT_PHONE = "13812345678"
CASE_NUMBER = "江法援〔2024〕第0178号"
LAWYER_NAME = "司徒明远"
FIRM_NAME = "广东明远律师事务所"
AGENCY_NAME = "江门市蓬江区法律援助处"

ORIGINAL = (f"受援人{CLIENT_NAME}，身份证号{CLIENT_ID}，电话{CLIENT_PHONE}。案号{CASE_NUMBER}。"
            f"承办律师{LAWYER_NAME}（{FIRM_NAME}）于2024年3月5日会见受援人。")
REDACTED = "受援人【当事人A】，身份证号【身份证号】，电话【电话】。案号【案号】。承办律师【律师A】（【律所A】）于2024年3月5日会见受援人。"

_seq = itertools.count(1)


@dataclass
class Scene:
    campaign: Campaign
    case: Case
    sample: Sample
    reviewers: list[User] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    organiser: User | None = None


def page_text(pages: int, chars_per_page: int = 1500) -> str:
    """A long redacted document: ``pages`` pages of about ``chars_per_page`` characters, split by form feeds."""
    line = "辩护人会见【当事人A】，核实案情，告知其诉讼权利和认罪认罚从宽制度的法律规定，听取其辩解意见并制作笔录。"
    page = (line * (chars_per_page // len(line) + 1))[:chars_per_page]
    return "\f".join(f"第{n}页\n{page}" for n in range(1, pages + 1))


def build_scene(session: Session, *, reviewers: int = 2, state: AssignmentState = AssignmentState.ACCEPTED,
                round_: AssignmentRound = AssignmentRound.INITIAL, case_type: str = "criminal",
                documents: list[tuple[DocumentKind, str]] | None = None, training: bool = False,
                now: datetime | None = None) -> Scene:
    """Build the scene; every name is made unique so that several scenes fit in one database."""
    n = next(_seq)
    now = now or datetime.now(UTC)
    province = Region(code=f"P{n:04d}", name=f"省{n}", level=RegionLevel.PROVINCE)
    city = Region(code=f"C{n:04d}", name=f"江门{n}", level=RegionLevel.CITY, parent=province)
    other = Region(code=f"O{n:04d}", name=f"韶关{n}", level=RegionLevel.CITY, parent=province)
    agency = Agency(code=f"AG{n:04d}", name=f"{AGENCY_NAME}{n}", region=city, city=city)
    firm = Firm(name=f"{FIRM_NAME}{n}", region=city, city=city)
    lawyer = Lawyer(name=LAWYER_NAME, licence_no=f"1440720101{n:07d}", firm=firm, years_of_practice=8,
                    case_types=[case_type])
    session.add_all([province, city, other, agency, firm, lawyer])
    session.flush()
    case = Case(agency=agency, case_number=f"{CASE_NUMBER}-{n}", year=2024, sequence_no=n,
                case_type=CaseType(case_type), cause="盗窃罪", stage_reached="审查起诉、一审",
                applied_on=date(2024, 2, 26), assigned_on=date(2024, 3, 1), first_meeting_on=date(2024, 3, 5),
                closed_on=date(2024, 9, 1), lawyer=lawyer, firm_id=firm.id, result="判处有期徒刑一年")
    session.add(case)
    session.flush()
    for role, name in ((PartyRole.CLIENT, CLIENT_NAME), (PartyRole.OPPONENT, "被害人张某某")):
        party = CaseParty(case_id=case.id, role=role)
        party.name = name
        session.add(party)
    docs = documents if documents is not None else [(DocumentKind.ASSIGNMENT_LETTER, REDACTED),
                                                    (DocumentKind.MEETING_NOTES, REDACTED + "\n会见笔录正文。")]
    for position, (kind, text) in enumerate(docs, start=1):
        document = Document(case_id=case.id, kind=kind, title=f"{CLIENT_NAME}{kind.value}", position=position,
                            original_filename=f"{CLIENT_NAME}-{position}.docx", status=DocumentStatus.APPROVED,
                            redacted_text=text, size=len(text))
        document.extracted_text = ORIGINAL + "\n" + text
        session.add(document)
        session.flush()
        session.add(Redaction(document_id=document.id, spans=[], status=RedactionStatus.APPROVED,
                              approved_at=now))
    # One document whose redaction is not approved: it must never be shown.
    pending = Document(case_id=case.id, kind=DocumentKind.OTHER, title="未审核", position=99,
                       status=DocumentStatus.REDACTED, redacted_text=f"未审核文书 {CLIENT_NAME}")
    pending.extracted_text = ORIGINAL
    session.add(pending)
    session.flush()
    session.add(Redaction(document_id=pending.id, spans=[], status=RedactionStatus.PENDING))
    # The case's facts as the organiser approved them with its documents (reviewers read only these).
    session.add(CaseRedaction(case_id=case.id, fields={"cause": "盗窃罪", "stage_reached": "审查起诉、一审",
                                                       "result": "判处有期徒刑一年"},
                              spans={}, flags=[], open_flags=0, status=RedactionStatus.APPROVED, approved_at=now))
    organiser = accounts.create_user(session, actor=None, username=f"organiser{n}", display_name="组织者",
                                     password=PASSWORD, roles=[Role.ORGANISER])
    campaign = Campaign(name=f"2024年度评估{n}", code_prefix=f"GD{n}", year=2024, reviewers_per_case=reviewers,
                        state=CampaignState.DRAFT,
                        jurisdiction=national_region(session))
    session.add(campaign)
    session.flush()
    pin_rubrics(session, actor=organiser, campaign=campaign)
    campaign.state = CampaignState.SCORING
    sample = Sample(campaign_id=campaign.id, case_id=case.id,
                    code=f"GD{n}-T001" if training else f"GD{n}-{n:05d}", stratum="test",
                    is_training=training, drawn_at=now)
    session.add(sample)
    session.flush()
    scene = Scene(campaign=campaign, case=case, sample=sample, organiser=organiser)
    for k in range(reviewers):
        user = accounts.create_user(session, actor=None, username=f"reviewer{n}_{k}", display_name=f"评审员{k}",
                                    password=PASSWORD, roles=[Role.PEER_REVIEWER])
        profile = ReviewerProfile(user=user, kind=ReviewerKind.PEER, region=other, city=other,
                                  jurisdiction=national_region(session),
                                  case_types=[case_type], capacity=10)
        session.add(profile)
        session.flush()
        assignment = Assignment(sample_id=sample.id, reviewer_id=profile.id, round=round_, state=state,
                                due_at=now + timedelta(days=21), created_at=now, updated_at=now)
        session.add(assignment)
        scene.reviewers.append(user)
        scene.assignments.append(assignment)
    session.flush()
    return scene


def full_marks_form(rubric: Any, *, hash_field: bool = True) -> dict[str, str]:
    """Form data giving every item its full points at level A, with the rubric hash."""
    data = {f"{item.code}-level": "A" for item in rubric.items}
    data.update({f"{item.code}-points": str(item.max_points) for item in rubric.items})
    data.update({f"{item.code}-comment": "" for item in rubric.items})
    if hash_field:
        data["rubric_hash"] = rubric.content_hash
    data["confirmed"] = "yes"  # the box a submission needs ticked (ignored for drafts)
    return data
