"""The way through a campaign: each role's to-do list, the campaign pipeline, confirmations of irreversible steps,
and adjudications that go to the adjudicator role."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.assignments.models import Assignment, AssignmentRound, Conflict
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.labels import when
from evalplat.params import opaque_id

CONFIRMED = {"confirmed": "yes"}


def _english(client: Any) -> None:
    client.post("/language/en")


def _assigned(db: Any, campaign: Any, organiser: Any, now: Any) -> list[Assignment]:
    from evalplat.assignments import operations as assigning

    run = assigning.preview_run(db.session, campaign=campaign, actor=organiser, now=now)
    assigning.commit_run(db.session, run=run, actor=organiser, now=now)
    db.session.commit()
    return list(db.session.scalars(sa.select(Assignment).order_by(Assignment.id)))


def test_campaign_page_offers_no_sampled_pages_before_anything_is_drawn(client: Any, login: Any, province: Any,
                                                                       db: Any) -> None:
    from evalplat.campaigns import operations as ops

    campaign = ops.create_campaign(db.session, actor=province.organiser, name="草稿活动", year=2024,
                                   code_prefix="D2024")
    db.session.commit()
    login(client, province.organiser)
    _english(client)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/campaigns/{campaign.id}/plan" in page
    assert f"/campaigns/{campaign.id}/report" not in page
    assert f"/campaigns/{campaign.id}/samples" not in page
    assert 'aria-current="step"' in page
    current = re.search(r'aria-current="step">\s*<span class="stage-name">([^<]*)<', page)
    assert current is not None
    assert "Draft" in current.group(1)
    assert "No cases have been drawn." in page
    assert "Fix it here:" in page


def test_campaign_page_links_every_stage_open_so_far(client: Any, login: Any, province: Any,
                                                    sampled_campaign: Any) -> None:
    login(client, province.organiser)
    _english(client)
    page = client.get(f"/campaigns/{sampled_campaign.id}").get_data(as_text=True)
    base = f"/campaigns/{sampled_campaign.id}"
    for href in (f"{base}/report", f"{base}/samples", f"{base}/samples?redaction=pending", f"{base}/plan",
                 f"/conflicts?campaign={sampled_campaign.id}"):
        assert f'href="{href}"' in page, href
    assert "No assignment run has been committed." in page
    # the plan reads as sentences, not JSON
    assert "1 cases from every stratum." in page
    assert '"per_stratum"' not in page


def test_freeze_draw_and_move_without_the_ticked_box_change_nothing(client: Any, login: Any, province: Any,
                                                                    db: Any, sampled_campaign: Any) -> None:
    login(client, province.organiser)
    _english(client)
    base = f"/campaigns/{sampled_campaign.id}"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment))
    run = client.post(f"{base}/runs")
    run_url = run.headers["Location"]
    page = client.get(run_url).get_data(as_text=True)
    assert 'name="confirmed"' in page
    assert "required" in page
    refused = client.post(f"{run_url}/commit", headers={"Referer": f"http://localhost{run_url}"})
    assert refused.status_code == 302
    flashed = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "tick the box to confirm" in flashed
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == before
    assert db.session.get(Campaign, sampled_campaign.id).state == CampaignState.SAMPLED
    assert client.post(f"{run_url}/commit", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, sampled_campaign.id).state == CampaignState.ASSIGNED


def test_organiser_home_is_a_to_do_list_with_links(client: Any, login: Any, province: Any, db: Any,
                                                   sampled_campaign: Any, now: Any) -> None:
    reviewer = province.reviewers[0]
    db.session.add(Conflict(reviewer_id=reviewer.id, case_id=province.cases[0].id, reason="party",
                            source="declared"))
    db.session.commit()
    login(client, province.organiser)
    _english(client)
    page = client.get("/home").get_data(as_text=True)
    assert re.search(r'href="/conflicts\?status=open"><strong class="num">1</strong> conflicts of interest to decide',
                     page)
    assert f'href="/campaigns/{sampled_campaign.id}"' in page
    assert "No assignment run has been committed." in page


def test_overdue_reviews_show_on_the_organiser_home_and_the_progress_page(client: Any, login: Any, province: Any,
                                                                         db: Any, sampled_campaign: Any,
                                                                         now: Any) -> None:
    assignments = _assigned(db, sampled_campaign, province.organiser, now)
    from evalplat.db import utcnow

    for a in assignments:  # the home page reads the clock: one assignment late, the others due in ten days
        a.due_at = utcnow() + timedelta(days=10)
    late = assignments[0]
    late.due_at = utcnow() - timedelta(days=2)
    db.session.commit()
    login(client, province.organiser)
    _english(client)
    home = client.get("/home").get_data(as_text=True)
    progress = f"/campaigns/{sampled_campaign.id}/progress#overdue"
    assert re.search(rf'href="{re.escape(progress)}"><strong class="num">1</strong> overdue reviews', home)
    page = client.get(f"/campaigns/{sampled_campaign.id}/progress").get_data(as_text=True)
    assert late.reviewer.user.username in page
    assert when(late.due_at) in page


def test_reviewer_home_lists_offers_with_deadlines_in_beijing_time(client: Any, login: Any, province: Any, db: Any,
                                                                   sampled_campaign: Any, now: Any) -> None:
    assignments = _assigned(db, sampled_campaign, province.organiser, now)
    mine = [a for a in assignments if a.reviewer_id == assignments[0].reviewer_id]
    user = assignments[0].reviewer.user
    login(client, user)
    _english(client)
    page = client.get("/home").get_data(as_text=True)
    assert re.search(rf'<strong class="num">{len(mine)}</strong> offers to accept or decline', page)
    due = mine[0].due_at
    local = when(due)
    assert local in page
    # stored in UTC, shown eight hours later in Beijing time
    assert local == (due.replace(tzinfo=due.tzinfo or now.tzinfo) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert f"/reviews/{opaque_id(mine[0].id)}" in page


def test_adjudication_goes_to_a_user_with_the_adjudicator_role(db: Any, province: Any, sampled_campaign: Any,
                                                               make_user: Any, make_reviewer: Any,
                                                               make_region: Any, now: Any) -> None:
    from evalplat.accounts.models import Role
    from evalplat.assignments.operations import create_adjudication_assignment

    _assigned(db, sampled_campaign, province.organiser, now)
    expert = make_reviewer("evaluator", city=make_region("省直"), user=make_user(Role.ADJUDICATOR),
                           case_types=("criminal", "civil", "administrative"))
    sample = sampled_campaign_sample(db, sampled_campaign)
    made = create_adjudication_assignment(db.session, sample=sample, round=AssignmentRound.ADJUDICATION,
                                          actor=None, now=now)
    db.session.commit()
    assert made.reviewer_id == expert.id


def sampled_campaign_sample(db: Any, campaign: Any) -> Any:
    from evalplat.campaigns.models import Sample

    return db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id)).first()


def test_adjudicator_home_lists_decisions_waiting(client: Any, login: Any, db: Any, province: Any,
                                                  sampled_campaign: Any, make_user: Any, make_reviewer: Any,
                                                  make_region: Any, now: Any) -> None:
    from evalplat.accounts.models import Role
    from evalplat.assignments.operations import create_adjudication_assignment

    _assigned(db, sampled_campaign, province.organiser, now)
    user = make_user(Role.ADJUDICATOR)
    make_reviewer("evaluator", city=make_region("省直"), user=user, case_types=("criminal", "civil", "administrative"))
    sample = sampled_campaign_sample(db, sampled_campaign)
    made = create_adjudication_assignment(db.session, sample=sample, round=AssignmentRound.ADJUDICATION,
                                          actor=None, now=now)
    db.session.commit()
    login(client, user)
    _english(client)
    page = client.get("/home").get_data(as_text=True)
    assert re.search(r'href="/results/decisions"><strong class="num">1</strong> decisions waiting', page)
    assert f'href="/results/decisions/{opaque_id(made.id)}"' in page
    assert sample.code in page


def test_two_reviewers_of_the_same_name_are_told_apart_in_the_assignment_run(client: Any, login: Any, db: Any,
                                                                             province: Any,
                                                                             sampled_campaign: Any) -> None:
    twins = province.reviewers[:2]
    for profile in twins:
        profile.user.display_name = "李婷"
    db.session.commit()
    login(client, province.organiser)
    run = client.post(f"/campaigns/{sampled_campaign.id}/runs")
    page = client.get(run.headers["Location"]).get_data(as_text=True)
    for profile in twins:
        assert f"李婷（{profile.user.username}" in page


def test_exports_of_samples_assignments_and_report_are_labelled_and_never_formulas(
        client: Any, login: Any, db: Any, province: Any, sampled_campaign: Any, now: Any) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    agency = province.agencies[0]
    agency.name = "=HYPERLINK(\"http://evil\",\"x\")法援"
    db.session.commit()
    _assigned(db, sampled_campaign, province.organiser, now)
    login(client, province.organiser)
    client.post("/language/en")
    base = f"/campaigns/{sampled_campaign.id}/export"
    samples = client.get(f"{base}/samples.csv")
    assert samples.status_code == 200
    assert samples.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(samples.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Code", "Agency", "Case number", "Case type"]
    assert {r[3] for r in rows[1:]} <= {"Criminal", "Civil", "Administrative"}
    assert "'=HYPERLINK(\"http://evil\",\"x\")法援" in {r[1] for r in rows[1:]}  # text, not a formula
    book = load_workbook(io.BytesIO(client.get(f"{base}/assignments.xlsx").data))
    sheet = book.active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == ["Code", "Round", "Reviewer", "State", "Due", "Created"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values
    assert {v[1] for v in values} == {"Initial review"}
    assert {v[3] for v in values} == {"To accept"}
    report = client.get(f"{base}/sampling-report.csv").get_data(as_text=True)
    assert "All strata" in report
    assert client.get(f"{base}/nothing.csv").status_code == 404


def test_sampling_report_reads_the_plan_as_sentences(client: Any, login: Any, province: Any,
                                                     sampled_campaign: Any) -> None:
    login(client, province.organiser)
    client.post("/language/en")
    page = client.get(f"/campaigns/{sampled_campaign.id}/report").get_data(as_text=True)
    assert "1 cases from every stratum." in page
    assert "Administrative cases are counted with civil cases." in page
    assert '"per_stratum"' not in page
