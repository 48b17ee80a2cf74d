"""The campaign pages: the whole flow through the web, as an organiser."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.assignments.models import Assignment, AssignmentRun
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.organisations.models import ReviewerProfile

CONFIRMED = {"confirmed": "yes"}


def test_organiser_runs_a_campaign_through_the_pages(client: Any, login: Any, province: Any, db: Any) -> None:
    login(client, province.organiser)
    response = client.post("/campaigns/new", data={
        "name": "2024 年度评估", "year": 2024, "code_prefix": "gd2024", "scope_kind": "province", "scope_region_id": 0,
        "reviewers_per_case": 2, "min_evaluators": 1, "regional_avoidance": "y", "case_type_match": "preferred",
        "due_days": 21, "max_spread": 15, "band_excellent": 90, "band_good": 80, "band_pass": 60})
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign = db.session.scalar(sa.select(Campaign))
    assert campaign.code_prefix == "GD2024"
    assert {r.case_type for r in campaign.rubrics} >= {"criminal", "civil"}
    base = f"/campaigns/{campaign.id}"
    assert client.post(f"{base}/plan", data={"mode": "fixed", "strata": "agency,case_type",
                                             "fold_administrative": "y", "per_stratum": 1}).status_code == 302
    assert client.post(f"{base}/seed", data={"seed": "", "source": ""}).status_code == 302
    assert client.post(f"{base}/freeze", data=CONFIRMED).status_code == 302
    assert client.post(f"{base}/draw", data=CONFIRMED).status_code == 302
    report = client.get(f"{base}/report").get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.population_digest in report
    assert province.agencies[0].name in report
    assert client.get(f"{base}/samples").status_code == 200
    response = client.post(f"{base}/runs")
    assert response.status_code == 302
    run_page = client.get(response.headers["Location"])
    assert run_page.status_code == 200
    run_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"{base}/runs/{run_id}/commit", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).state == CampaignState.ASSIGNED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 24
    show = client.get(base).get_data(as_text=True)
    assert "GD2024" in show
    # a refused move is flashed, and nothing changes
    response = client.post(f"{base}/transition/final", data=CONFIRMED, headers={"Referer": f"http://localhost{base}"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).state == CampaignState.ASSIGNED
    assert client.post(f"{base}/runs/{run_id}/undo", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).state == CampaignState.SAMPLED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 12


def _options(page: str, name: str) -> list[tuple[str, str]]:
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found is not None, f"no picker {name}"
    return [(value, html.unescape(text)) for value, text in
            re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))]


def test_the_override_form_picks_one_of_the_campaigns_cases_with_its_proposed_reviewers(
        client: Any, login: Any, sampled_campaign: Any, province: Any, db: Any) -> None:
    login(client, province.organiser)
    base = f"/campaigns/{sampled_campaign.id}"
    run_url = client.post(f"{base}/runs").headers["Location"]
    page = client.get(run_url).get_data(as_text=True)
    run = db.session.get(AssignmentRun, int(run_url.rstrip("/").split("/")[-1]))
    codes = list(db.session.scalars(sa.select(Sample.code).where(Sample.campaign_id == sampled_campaign.id)
                                    .order_by(Sample.code)))
    cases = _options(page, "sample_code")
    assert [value for value, _ in cases] == ["", *codes]
    sample_id, reviewer_id = run.proposed[0]
    sample = db.session.get(Sample, sample_id)
    proposed = {r for s, r in run.proposed if s == sample_id}
    text = dict(cases)[sample.code]
    for rid in proposed:
        assert db.session.get(ReviewerProfile, rid).user.display_name in text
    # the case chosen in the picker is the one overridden
    other = next(int(v) for v, _ in _options(page, "add_reviewer_id") if int(v) not in proposed)
    response = client.post(f"{run_url}/override", data={
        "sample_code": sample.code, "remove_reviewer_id": reviewer_id, "add_reviewer_id": other,
        "reason": "回避", "accept_conflict": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    pairs = {tuple(p) for p in db.session.get(AssignmentRun, run.id).proposed}
    assert (sample_id, other) in pairs
    assert (sample_id, reviewer_id) not in pairs


def test_pinning_is_a_next_step_after_the_assignment_only_while_a_newer_version_can_be_pinned(
        client: Any, login: Any, sampled_campaign: Any, province: Any, db: Any) -> None:
    from evalplat.reviews.models import RubricVersion

    login(client, province.organiser)
    client.post("/language/en")
    base = f"/campaigns/{sampled_campaign.id}"
    pin = f'action="{base}/rubrics"'
    assert pin in client.get(base).get_data(as_text=True)  # sampled: the rubrics are still being chosen
    assert client.post(f"{base}/rubrics").status_code == 302  # the newest versions pinned
    run_url = client.post(f"{base}/runs").headers["Location"]
    assert client.post(f"{run_url}/commit", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, sampled_campaign.id).state == CampaignState.ASSIGNED
    page = client.get(base).get_data(as_text=True)
    assert pin not in page
    assert "Rubrics pinned: " in page
    # a newer version of a pinned rubric makes pinning a step again
    pinned = db.session.get(Campaign, sampled_campaign.id).rubrics[0].rubric_version
    db.session.add(RubricVersion(key=pinned.key, version=pinned.version + 1, case_types=list(pinned.case_types),
                                 definition=pinned.definition, content_hash="a-newer-version",
                                 jurisdiction_id=pinned.jurisdiction_id))
    db.session.commit()
    page = client.get(base).get_data(as_text=True)
    assert pin in page
    assert "Rubrics pinned: " not in page


def test_committing_a_run_through_the_page_queues_a_notification_scan(
        client: Any, login: Any, sampled_campaign: Any, province: Any, monkeypatch: Any) -> None:
    from evalplat import jobs

    queued: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kwargs: queued.append(name))
    login(client, province.organiser)
    run_url = client.post(f"/campaigns/{sampled_campaign.id}/runs").headers["Location"]
    assert "notifications.sync" not in queued  # a preview tells nobody
    assert client.post(f"{run_url}/commit", data=CONFIRMED).status_code == 302
    assert queued.count("notifications.sync") == 1  # the offers: through the events_committed signal


def test_campaign_show_lists_blockers_of_the_next_move(client: Any, login: Any, sampled_campaign: Any,
                                                      province: Any) -> None:
    login(client, province.organiser)
    client.post("/language/en")
    page = client.get(f"/campaigns/{sampled_campaign.id}").get_data(as_text=True)
    assert "No assignment run has been committed." in page


@pytest.mark.parametrize("state", ["sampled", "scoring", "published"])
def test_editing_a_campaign_of_chosen_agencies_keeps_its_agencies(client: Any, login: Any, province: Any,
                                                                  db: Any, now: Any, state: str) -> None:
    """Issue 13 item 12: the edit form shows the chosen agencies, so saving it unchanged but for the name works,
    also once reviewers are assigned (the demo's campaign 1 is published with the default assignment rules)."""
    from tests_support import form_values

    from evalplat.campaigns import operations as ops

    chosen = [province.agencies[3], province.agencies[0]]  # not in code order
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="选定机构评估", year=2024,
                                   code_prefix="AG2024", scope_kind="agencies",
                                   scope_agency_ids=[a.id for a in chosen])
    ops.pin_rubrics(db.session, actor=province.organiser, campaign=campaign)
    ops.set_plan(db.session, actor=province.organiser, campaign=campaign,
                 plan={"mode": "fixed", "per_stratum": 1, "fold_administrative": True})
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="20240101", source="test", now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    campaign.state = CampaignState(state)  # the settings check reads the state only
    db.session.commit()
    assert campaign.assignment_rules in ({}, None), "the campaign keeps the default rules, as the demo's do"
    login(client, province.organiser)
    page = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    values = form_values(page)
    assert sorted(values["scope_agency_ids"]) == sorted(str(a.id) for a in chosen)  # picked, not typed codes
    assert f'<optgroup label="{chosen[0].city.name}">' in page
    values["name"] = "选定机构评估（改名）"
    response = client.post(f"/campaigns/{campaign.id}/edit", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert saved.name == "选定机构评估（改名）"
    assert sorted(saved.scope_agency_ids) == sorted(a.id for a in chosen)
