"""Notification recipients stay inside the jurisdiction of the campaign an event belongs to (issue 19).

One published campaign of the city P1C1 with cases of its county agency (P1C1K) and — as a stray row, the way a
case moved to another agency or a scope edited by hand would leave it — of the sibling city's agency (P1C2);
reviewers of the province's pool, of the city's own pool and of the sibling city's pool, each with an accepted
assignment due tomorrow; appeals filed and decided. Every kind is scanned and its recipients read back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from jurisdiction_tree import build_tree

from evalplat.accounts.models import Role, User
from evalplat.appeals.models import Appeal, AppealState
from evalplat.assignments.models import Assignment, AssignmentState
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.cases.models import Case, CaseType
from evalplat.db import utcnow
from evalplat.notifications import operations
from evalplat.notifications.models import Kind, Notification
from evalplat.organisations.models import ReviewerKind, ReviewerProfile


@pytest.fixture
def scene(db: Any) -> dict[str, Any]:
    tree = build_tree(db.session)
    s = db.session
    now = utcnow()
    campaign = Campaign(name="市1评估", code_prefix="NOTE", year=2024, state=CampaignState.PUBLISHED,
                        jurisdiction=tree.regions["P1C1"], appeal_closes_at=now + timedelta(days=10))
    s.add(campaign)
    users: dict[str, User] = {}
    for name, agency in (("staff.in", "P1C1K"), ("staff.out", "P1C2")):
        users[name] = User(username=name, display_name=name, password_hash="x", agency=tree.agencies[agency])
        users[name].set_roles({Role.AGENCY_STAFF})
    for name in ("rev.province", "rev.city", "rev.sibling"):
        users[name] = User(username=name, display_name=name, password_hash="x")
        users[name].set_roles({Role.EVALUATOR})
    s.add_all(users.values())
    s.flush()
    samples = {}
    for key, agency in (("in", "P1C1K"), ("out", "P1C2")):
        case = Case(agency=tree.agencies[agency], case_number=f"{agency}〔2024〕1号", year=2024, sequence_no=1,
                    case_type=CaseType.CRIMINAL, cause="盗窃罪")
        s.add(case)
        s.flush()
        samples[key] = Sample(campaign_id=campaign.id, case_id=case.id, code=f"NOTE-{key}", stratum="s")
    s.add_all(samples.values())
    s.flush()
    pools = {"rev.province": "P1", "rev.city": "P1C1", "rev.sibling": "P1C2"}
    for name, pool in pools.items():
        city = tree.regions["P1C2"]  # all practise in the sibling city: avoidance is not what is tested here
        reviewer = ReviewerProfile(user_id=users[name].id, kind=ReviewerKind.EVALUATOR, region=city, city=city,
                                   jurisdiction=tree.regions[pool], organisation="大学")
        s.add(reviewer)
        s.flush()
        s.add(Assignment(sample_id=samples["in"].id, reviewer_id=reviewer.id, state=AssignmentState.ACCEPTED,
                         due_at=now + timedelta(days=1)))
    for key, agency, filer in (("in", "P1C1K", "staff.in"), ("out", "P1C2", "staff.out")):
        s.add(Appeal(sample_id=samples[key].id, agency_id=tree.agencies[agency].id, filed_by_id=users[filer].id,
                     reason="理由", state=AppealState.DECIDED, contested_items=["total"]))
    s.add(Appeal(sample_id=samples["in"].id, agency_id=tree.agencies["P1C1K"].id, filed_by_id=users["staff.in"].id,
                 reason="理由", state=AppealState.FILED, contested_items=["total"]))
    s.commit()
    operations.sync(s, now=now, send_mail=False)
    s.commit()
    return {"tree": tree, "users": users}


def _told(db: Any, kind: Kind) -> set[str]:
    return set(db.session.scalars(sa.select(User.username).join(Notification, Notification.user_id == User.id)
                                  .where(Notification.kind == kind)))


def test_deadline_reminders_reach_reviewers_of_the_pools_the_campaign_draws_on_only(db: Any, scene: Any) -> None:
    assert _told(db, Kind.DUE_SOON) == {"rev.province", "rev.city"}


def test_results_published_reach_staff_of_the_campaigns_agencies_in_its_jurisdiction(db: Any, scene: Any) -> None:
    assert _told(db, Kind.PUBLISHED) == {"staff.in"}


def test_a_decided_appeal_reaches_its_agency_only_inside_the_campaigns_jurisdiction(db: Any, scene: Any) -> None:
    assert _told(db, Kind.APPEAL_DECIDED) == {"staff.in"}


def test_a_filed_appeal_reaches_the_organisers_of_the_campaigns_own_jurisdiction(db: Any, scene: Any) -> None:
    tree = scene["tree"]
    assert _told(db, Kind.APPEAL_FILED) == {tree.organisers["P1C1"].username}
