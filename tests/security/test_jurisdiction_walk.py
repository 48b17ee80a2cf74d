"""Every organiser route walked as organisers of other jurisdictions (issue 19).

Objects are made in one city, P1C1 (its campaign, a county agency's case with a document, a sample, a run, an
appeal, a job, a reviewer of its pool with a conflict, a staff account, an API token). Every route an organiser
may enter is then requested with those ids by the organisers of the sibling city (P1C2), of a city of the
sibling province (P2C1), of the sibling province (P2), of the parent province (P1) and of the child county
(P1C1K), and by P1C1 itself as the control: an object outside the viewer's jurisdiction is a 404; one inside
is never a 404 or a 500. Lists must not name what the viewer may not see, and ids of another jurisdiction in
POST form fields (agencies, reviewers, campaigns, jurisdictions) change nothing.

Follow-up plans, their targets (calls and visits) and complaints are objects of the county agency like its cases.
A rubric version of P1C1 is seen by P1C1 and the county below it (a jurisdiction uses its own and its
ancestors' rubrics), never by the parent, a sibling or another province.
Not walked here: rankings scopes (issue 19's demo part).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from crawl import ARG, methods, routes
from jurisdiction_tree import PASSWORD, build_tree

from evalplat.accounts.models import Role, User
from evalplat.db import utcnow

VIEWERS = ("P1C1", "P1C2", "P2C1", "P2", "P1", "P1C1K")
# which viewers may see each kind of object made in P1C1 (the rest must get a 404)
ALLOWED = {
    "campaign": {"P1C1"},                   # unpublished: its owner only
    "agency": {"P1C1", "P1", "P1C1K"},      # the agency lies in the county P1C1K
    "reviewer": {"P1C1", "P1"},             # the pool of P1C1
    "user": {"P1C1", "P1", "P1C1K"},        # staff of the county's agency
    "token": {"P1C1", "P1"},                # issued by P1C1's organiser
    "rubric": {"P1C1", "P1C1K"},            # P1C1's own rubric version: itself and the jurisdictions below
}
# route argument → the kind of object it names (a route takes the most restrictive of its arguments)
ARG_KIND = {"campaign_id": "campaign", "sample_id": "campaign", "run_id": "campaign", "appeal_id": "campaign",
            "attachment_id": "campaign", "job_id": "campaign", "case_id": "agency", "document_id": "agency",
            "agency_id": "agency", "lawyer_id": "agency", "reviewer_id": "reviewer", "conflict_id": "reviewer",
            "user_id": "user", "token_id": "token", "plan_id": "agency", "target_id": "agency",
            "complaint_id": "agency", "version_id": "rubric"}
ORDER = ("campaign", "rubric", "reviewer", "token", "user", "agency")
# arguments that name no object, and a value that reaches the handler
FIXED = {"active": "1", "decision": "dismiss", "field": "cause", "to_state": "sampled", "what": "samples", "fmt": "csv",
         "number": "1"}
# pages that also answer 404 to the owner in this scene's state (an unpublished campaign, a live sample, a case
# without a self-evaluation): their refusals to the others are still checked
OWNER_404_BY_STATE = {"/calibration/samples/<int:sample_id>/reference", "/rankings/<int:campaign_id>/report",
                      "/rankings/<int:campaign_id>/report.<fmt>", "/results/campaigns/<int:campaign_id>/circular",
                      "/results/ours/<int:sample_id>", "/self-evaluation/cases/<int:case_id>/feedback"}
SKIPPED_ARGS = {"scope", "table", "entity", "code"}


def _make_objects(db: Any, tree: Any) -> dict[str, Any]:
    from evalplat.api.models import ApiToken
    from evalplat.appeals.models import Appeal, AppealState
    from evalplat.assignments.models import AssignmentRun, Conflict, ConflictSource, RunState
    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.cases.models import Case, CaseType, Document, DocumentKind
    from evalplat.followups.models import (
        FollowupComplaint,
        FollowupPlan,
        FollowupTarget,
        FollowupVisit,
        PlanMode,
    )
    from evalplat.jobs.models import JobRecord
    from evalplat.organisations.models import Firm, Lawyer, ReviewerKind, ReviewerProfile

    s = db.session
    city, county = tree.regions["P1C1"], tree.regions["P1C1K"]
    agency = tree.agencies["P1C1K"]
    firm = Firm(name="越界律师事务所", region=city, city=city)
    lawyer = Lawyer(name="秘密律师", licence_no="14407000099999", firm=firm, years_of_practice=5)
    s.add_all([firm, lawyer])
    s.flush()
    case = Case(agency=agency, case_number="秘案〔2024〕第0001号", year=2024, sequence_no=1,
                case_type=CaseType.CRIMINAL, cause="盗窃罪", lawyer=lawyer, firm_id=firm.id)
    s.add(case)
    s.flush()
    document = Document(case_id=case.id, kind=DocumentKind.OTHER, title="秘密文书", position=1,
                        original_filename="秘密文书.txt", size=3)
    campaign = Campaign(name="市1秘密评估", code_prefix="SECRETA", year=2024, state=CampaignState.SCORING,
                        jurisdiction=city, scope_kind="agencies", scope_agency_ids=[agency.id])
    s.add_all([document, campaign])
    s.flush()
    sample = Sample(campaign_id=campaign.id, case_id=case.id, code="SECRETA-00001", stratum="s")
    run = AssignmentRun(campaign_id=campaign.id, state=RunState.PREVIEW, proposed=[],
                        summary={"pairs": 0, "cases": 0, "mismatches": 0, "gap": 0})
    staff = User(username="staff.secret", display_name="机构秘密职员", password_hash="x", agency=agency)
    staff.set_roles({Role.AGENCY_STAFF})
    reviewer_user = User(username="reviewer.secret", display_name="秘密评审员", password_hash="x")
    reviewer_user.set_roles({Role.EVALUATOR})
    s.add_all([sample, run, staff, reviewer_user])
    s.flush()
    reviewer = ReviewerProfile(user_id=reviewer_user.id, kind=ReviewerKind.EVALUATOR, region=county, city=city,
                               jurisdiction=city, organisation="秘密大学")
    appeal = Appeal(sample_id=sample.id, agency_id=agency.id, filed_by_id=staff.id, reason="秘密申诉理由",
                    state=AppealState.FILED, contested_items=["total"])
    job = JobRecord(id="f" * 32, task="cases.redact_campaign", object_type="campaign", object_id=campaign.id,
                    created_by_id=tree.organisers["P1C1"].id)
    token, _secret = ApiToken.issue("秘密令牌", ["rankings:read"], tree.organisers["P1C1"].id,
                                    expires_at=utcnow() + timedelta(days=30))
    s.add_all([reviewer, appeal, job, token])
    s.flush()
    conflict = Conflict(reviewer_id=reviewer.id, case_id=case.id, reason="declared", source=ConflictSource.DECLARED)
    plan = FollowupPlan(agency_id=agency.id, year=2024, mode=PlanMode.ALL, seed="秘密回访种子", population=1)
    s.add_all([conflict, plan])
    s.flush()
    target = FollowupTarget(plan_id=plan.id, case_id=case.id, agency_id=agency.id, lawyer_id=lawyer.id, position=1,
                            inclusion_probability=1.0, attempts=1)
    s.add(target)
    s.flush()
    visit = FollowupVisit(target_id=target.id, answers={"money_or_gifts": "yes"}, satisfaction=2)
    s.add(visit)
    s.flush()
    complaint = FollowupComplaint(visit_id=visit.id, case_id=case.id, agency_id=agency.id, lawyer_id=lawyer.id,
                                  kinds=["money_or_gifts"])
    s.add_all([complaint, _city_rubric(city)])
    s.commit()
    return {
        "values": {"campaign_id": campaign.id, "sample_id": sample.id, "run_id": run.id, "appeal_id": appeal.id,
                   "job_id": job.id, "case_id": case.id, "document_id": document.id, "agency_id": agency.id,
                   "lawyer_id": lawyer.id, "reviewer_id": reviewer.id, "conflict_id": conflict.id,
                   "user_id": staff.id, "token_id": token.id, "plan_id": plan.id, "target_id": target.id,
                   "complaint_id": complaint.id, "version_id": _rubric_id(s)},
        # what a list page must not name to a viewer who may not see the object
        "markers": {"campaign": ["市1秘密评估", "SECRETA"], "agency": ["秘案〔2024〕第0001号", "秘密回访种子", "秘密律师"],
                    "reviewer": ["reviewer.secret"], "user": ["staff.secret"], "token": ["秘密令牌"],
                    "rubric": ["秘密评分表", "secretrubric"]},
    }


def _rubric_id(session: Any) -> int:
    from evalplat.reviews.models import RubricVersion

    return session.scalar(sa.select(RubricVersion.id).where(RubricVersion.key == "secretrubric"))


def _city_rubric(city: Any) -> Any:
    """A rubric version of the city's own: the platform's criminal rubric under another key and title."""
    from evalplat.reviews.models import RubricVersion
    from forms.rubrics import load_rubrics, parse_rubric

    data = load_rubrics()["criminal"].to_dict()
    data.update(key="secretrubric", title={"zh": "秘密评分表", "en": "秘密评分表"})
    rubric = parse_rubric(data, source="walk")
    return RubricVersion(key="secretrubric", version=1, case_types=list(rubric.case_types),
                         definition=rubric.to_dict(), content_hash=rubric.content_hash, jurisdiction=city)


@pytest.fixture
def scene(db: Any) -> tuple[Any, dict[str, Any]]:
    tree = build_tree(db.session)
    return tree, _make_objects(db, tree)


def _client(app: Any, user: User) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code in (302, 303), f"{user.username} could not sign in"
    return client


def _organiser_routes(app: Any) -> list[Any]:
    return [rule for rule, policy in routes(app) if policy.kind == "roles" and Role.ORGANISER in policy.roles]


def _fill(rule: Any, values: dict[str, Any]) -> tuple[str, str | None] | None:
    """The rule's URL with P1C1's objects, and the kind it names (None: no object); None when not walkable."""
    args = ARG.findall(rule.rule)
    if set(args) & SKIPPED_ARGS or "attachment_id" in args:
        return None
    kinds = {ARG_KIND[a] for a in args if a in ARG_KIND}
    filled = {a: str(values[a]) if a in values else FIXED.get(a) for a in args}
    if None in filled.values():
        raise AssertionError(f"{rule.rule}: no value for {[a for a, v in filled.items() if v is None]}")
    kind = next((k for k in ORDER if k in kinds), None)
    return ARG.sub(lambda m: filled[m.group(1)], rule.rule), kind


def test_every_organiser_route_hides_other_jurisdictions_objects(app: Any, scene: Any) -> None:
    tree, made = scene
    clients = {name: _client(app, tree.organisers[name]) for name in VIEWERS}
    walked, problems = 0, []
    for rule in _organiser_routes(app):
        filled = _fill(rule, made["values"])
        if filled is None:
            continue
        url, kind = filled
        if kind is None:
            continue
        for method in methods(rule):
            for name, client in clients.items():
                allowed = name in ALLOWED[kind]
                if method != "GET" and allowed:
                    continue  # only refusals are posted: an allowed POST would act
                response = client.open(url, method=method, data={})
                walked += 1
                status = response.status_code
                if not allowed and status != 404:
                    problems.append(f"{name} {method} {url}: {status}, expected 404 ({kind} of P1C1)")
                if allowed and (status == 500 or (status == 404 and rule.rule not in OWNER_404_BY_STATE)):
                    problems.append(f"{name} {method} {url}: {status}, expected to reach the {kind}")
    assert walked > 150
    assert problems == [], "\n".join(problems)


def test_every_route_of_a_bureaus_closing_checker_hides_other_jurisdictions_agencies(app: Any, db: Any,
                                                                                     scene: Any) -> None:
    """A bureau's second-level checker (no agency) of each jurisdiction walks every route its role enters: the
    county agency's case of P1C1 is reached by the checkers of P1C1, of its province and of its county only."""
    from evalplat.accounts import operations as accounts

    tree, made = scene
    clients = {}
    for name in VIEWERS:
        checker = accounts.create_user(db.session, actor=None, username=f"bureau.{name.lower()}",
                                       display_name=f"{name}档案二级审查", password=PASSWORD,
                                       roles=[Role.SECOND_CHECKER], jurisdiction=tree.regions[name])
        db.session.commit()
        clients[name] = _client(app, checker)
    walked, problems = 0, []
    for rule, policy in routes(app):
        if policy.kind != "roles" or Role.SECOND_CHECKER not in policy.roles:
            continue
        filled = _fill(rule, made["values"])
        if filled is None:
            continue
        url, kind = filled
        for method in methods(rule):
            for name, client in clients.items():
                allowed = kind is None or name in ALLOWED[kind]
                if method != "GET" and allowed:
                    continue
                status = client.open(url, method=method, data={}).status_code
                walked += 1
                if not allowed and status != 404:
                    problems.append(f"checker {name} {method} {url}: {status}, expected 404 ({kind} of P1C1)")
                if allowed and status in (404, 500) and kind is not None:
                    problems.append(f"checker {name} {method} {url}: {status}, expected to reach the {kind}")
        if kind is None and "GET" in methods(rule):  # lists: the case number only to those who may see it
            for name, client in clients.items():
                body = client.get(url).get_data(as_text=True)
                if "秘案〔2024〕第0001号" in body and name not in ALLOWED["agency"]:
                    problems.append(f"checker {name} GET {url} names the case of P1C1's county")
    assert walked > 10
    assert problems == [], "\n".join(problems)


def test_organiser_lists_do_not_name_other_jurisdictions_objects(app: Any, scene: Any) -> None:
    tree, made = scene
    pages = [rule.rule for rule in _organiser_routes(app)
             if "GET" in methods(rule) and not ARG.findall(rule.rule)]
    pages += ["/home", "/conflicts?status=open", "/cases/?q=秘案", "/admin/users?q=secret", "/reviewers?q=secret",
              "/followups/rates?by=lawyer", "/followups/complaints?state=open"]
    problems, seen = [], {kind: set() for kind in ALLOWED}
    for name in VIEWERS:
        client = _client(app, tree.organisers[name])
        for url in pages:
            response = client.get(url)
            assert response.status_code != 500, f"{name} GET {url}: 500"
            body = response.get_data(as_text=True)
            for kind, markers in made["markers"].items():
                named = [m for m in markers if m in body]
                if named:
                    seen[kind].add(name)
                if named and name not in ALLOWED[kind]:
                    problems.append(f"{name} GET {url} names {named} ({kind} of P1C1)")
    assert problems == [], "\n".join(problems)
    # the control: the owner's lists do show its objects (so the markers are real)
    assert all("P1C1" in seen[kind] for kind in ("campaign", "agency", "reviewer", "user", "token", "rubric")), seen


def test_ids_of_another_jurisdiction_in_form_fields_change_nothing(app: Any, db: Any, scene: Any) -> None:
    from evalplat.api.models import ApiToken
    from evalplat.assignments.models import AssignmentRun, RunState
    from evalplat.campaigns.models import Campaign, CampaignState, Sample
    from evalplat.followups.models import FollowupPlan

    tree, made = scene
    values = made["values"]
    sibling = _client(app, tree.organisers["P1C2"])
    counts = {m: db.session.scalar(sa.select(sa.func.count()).select_from(m))
              for m in (Campaign, User, ApiToken, FollowupPlan)}

    # a campaign over another city's agency
    sibling.post("/campaigns/new", data={"name": "越界评估", "year": 2024, "code_prefix": "OUTX", "scope_kind": "agencies",
                                         "scope_region_id": 0, "scope_agency_ids": [values["agency_id"]],
                                         "reviewers_per_case": 2, "min_evaluators": 0, "due_days": 21,
                                         "band_excellent": 90, "band_good": 80, "band_pass": 60, "max_spread": 15,
                                         "case_type_match": "preferred"})
    # staff of another city's agency; an organiser above itself
    sibling.post("/admin/users/new", data={"username": "staff.out", "display_name": "越界", "roles": ["agency_staff"],
                                           "agency_id": values["agency_id"],
                                           "jurisdiction_id": tree.regions["P1C2"].id, "password": PASSWORD})
    sibling.post("/admin/users/new", data={"username": "org.up", "display_name": "越权", "roles": ["organiser"],
                                           "agency_id": 0, "jurisdiction_id": tree.regions["P1"].id,
                                           "password": PASSWORD})
    # an API token naming another jurisdiction's campaign
    sibling.post("/settings/api-tokens", data={"name": "越界令牌", "scopes": ["rankings:read"], "days": 30,
                                               "campaigns": [values["campaign_id"]]})
    # a follow-up plan of another city's agency
    sibling.post("/followups/plans", data={"agency": values["agency_id"], "year": 2024, "mode": "share",
                                           "share": "10%", "seed": "越界"})
    # a reviewer of another city's pool into the sibling's own preview run
    own = Campaign(name="市2评估", code_prefix="OWNB", year=2024, state=CampaignState.SAMPLED,
                   jurisdiction=tree.regions["P1C2"])
    db.session.add(own)
    db.session.flush()
    from evalplat.cases.models import Case

    own_case = Case(agency=tree.agencies["P1C2"], case_number="市2〔2024〕1号", year=2024, sequence_no=1,
                    case_type="criminal", cause="盗窃罪")
    db.session.add(own_case)
    db.session.flush()
    db.session.add(Sample(campaign_id=own.id, case_id=own_case.id, code="OWNB-00001", stratum="s"))
    run = AssignmentRun(campaign_id=own.id, state=RunState.PREVIEW, proposed=[])
    db.session.add(run)
    db.session.commit()
    response = sibling.post(f"/campaigns/{own.id}/runs/{run.id}/override",
                            data={"sample_code": "OWNB-00001", "add_reviewer_id": values["reviewer_id"],
                                  "remove_reviewer_id": 0, "reason": "越界"})
    assert response.status_code in (302, 303, 400)
    # another city's rubric version pinned to the sibling's own campaign
    response = sibling.post(f"/campaigns/{own.id}/rubrics", data={"version_id": values["version_id"]})
    assert response.status_code in (302, 303, 400, 404, 409)
    db.session.expire_all()
    assert db.session.get(AssignmentRun, run.id).proposed == []
    assert db.session.get(Campaign, own.id).rubrics == []
    counts[Campaign] += 1  # the sibling's own campaign made above
    after = {m: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in counts}
    assert after == counts
    assert db.session.scalar(sa.select(User).where(User.username.in_(["staff.out", "org.up"]))) is None
    # another city's agency in the results page's picker is a 404
    assert sibling.get(f"/results/ours?agency={values['agency_id']}").status_code == 404


def test_city_organiser_creates_a_county_organiser_through_the_page(app: Any, db: Any, scene: Any) -> None:
    tree, _made = scene
    city = _client(app, tree.organisers["P1C1"])
    response = city.post("/admin/users/new", data={"username": "org.county2", "display_name": "县组织者",
                                                   "roles": ["organiser"], "agency_id": 0,
                                                   "jurisdiction_id": tree.regions["P1C1K"].id,
                                                   "password": "Another-county-passphrase-2024"})
    assert response.status_code in (302, 303)
    made = db.session.scalar(sa.select(User).where(User.username == "org.county2"))
    assert made is not None
    assert made.jurisdiction_id == tree.regions["P1C1K"].id
