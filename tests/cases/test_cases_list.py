"""The cases list: pages read by key, a page jump, the campaign filter and the file-state filters."""

from __future__ import annotations

import re
from typing import Any

from evalplat.accounts.models import Role
from evalplat.campaigns.models import Campaign, Sample
from evalplat.cases import queries
from evalplat.cases.models import Case, Document, DocumentStatus
from evalplat.cases.views import PER_PAGE
from evalplat.organisations.jurisdiction import national_region


def _numbers(html: str) -> list[str]:
    return re.findall(r">(L-\d+)</a>", html)


def _cases(db: Any, agency: Any, count: int, year: int = 2024) -> list[Case]:
    cases = [Case(agency=agency, case_number=f"L-{i:04d}", year=year, case_type="civil") for i in range(count)]
    db.session.add_all(cases)
    db.session.commit()
    return cases


def test_cases_list_pages_by_key_and_jumps_to_a_page(db, province, client, make_user, login):
    _cases(db, province["agency"], PER_PAGE * 2 + 5)
    login(client, make_user(Role.ORGANISER))
    first = client.get("/cases/").get_data(as_text=True)
    assert _numbers(first) == [f"L-{i:04d}" for i in range(PER_PAGE)]
    assert "Page 1 of 3" in first or "第 1 页，共 3 页" in first
    after = re.search(r'href="[^"]*after=(\d+)[^"]*"', first)
    assert after is not None  # the next page is linked by the last case's key
    second = client.get(f"/cases/?page=2&after={after.group(1)}").get_data(as_text=True)
    assert _numbers(second) == [f"L-{i:04d}" for i in range(PER_PAGE, PER_PAGE * 2)]
    jumped = client.get("/cases/?page=3").get_data(as_text=True)  # the page-jump form sends only the number
    assert _numbers(jumped) == [f"L-{i:04d}" for i in range(PER_PAGE * 2, PER_PAGE * 2 + 5)]
    assert 'name="page"' in first  # the jump form is on the page


def test_cases_list_key_pages_follow_year_then_agency_order(db, province, make_user):
    older = _cases(db, province["agency"], 3, year=2023)
    newer = [Case(agency=province["other_agency"], case_number=f"N-{i}", year=2024, case_type="civil")
             for i in range(2)]
    db.session.add_all(newer)
    db.session.commit()
    organiser = make_user(Role.ORGANISER)
    rows, total = queries.case_list(organiser, per_page=2)
    assert [r.case_number for r in rows] == ["N-0", "N-1"]
    assert total == 5
    rows, _ = queries.case_list(organiser, per_page=2, after=rows[-1].id)
    assert [r.case_number for r in rows] == [c.case_number for c in older[:2]]


def test_cases_list_filters_by_campaign(db, province, client, make_user, login):
    cases = _cases(db, province["agency"], 4)
    campaign = Campaign(name="抽样甲", code_prefix="LA", year=2024, jurisdiction=national_region())
    other = Campaign(name="抽样乙", code_prefix="LB", year=2024, jurisdiction=national_region())
    db.session.add_all([campaign, other])
    db.session.flush()
    db.session.add_all([Sample(campaign_id=campaign.id, case_id=cases[1].id, code="LA-1", stratum="s"),
                        Sample(campaign_id=campaign.id, case_id=cases[3].id, code="LA-2", stratum="s"),
                        Sample(campaign_id=other.id, case_id=cases[0].id, code="LB-1", stratum="s")])
    db.session.commit()
    login(client, make_user(Role.ORGANISER))
    page = client.get(f"/cases/?campaign={campaign.id}").get_data(as_text=True)
    assert _numbers(page) == ["L-0001", "L-0003"]
    assert f'<option value="{campaign.id}" selected>抽样甲</option>' in page
    assert _numbers(client.get(f"/cases/?campaign={other.id}").get_data(as_text=True)) == ["L-0000"]
    assert client.get("/cases/?campaign=x").status_code == 400


def test_cases_list_redaction_filters_read_file_states(db, province, make_user):
    cases = _cases(db, province["agency"], 4)
    for case, states in zip(cases, [[DocumentStatus.APPROVED], [DocumentStatus.APPROVED, DocumentStatus.FAILED],
                                    [DocumentStatus.UPLOADED], []], strict=True):
        for position, state in enumerate(states, 1):
            db.session.add(Document(case_id=case.id, original_filename="a.txt", storage_key=f"k{case.id}{position}",
                                    position=position, status=state))
    db.session.commit()
    organiser = make_user(Role.ORGANISER)

    def numbers(redaction: str) -> list[str]:
        return [r.case_number for r in queries.case_list(organiser, redaction=redaction)[0]]

    assert numbers("approved") == ["L-0000"]
    assert numbers("pending") == ["L-0001", "L-0002"]
    assert numbers("failed") == ["L-0001"]
    assert numbers("none") == ["L-0003"]
    rows = {r.case_number: (r.documents, r.approved, r.failed) for r in queries.case_list(organiser)[0]}
    assert rows == {"L-0000": (1, 1, 0), "L-0001": (2, 1, 1), "L-0002": (1, 0, 0), "L-0003": (0, 0, 0)}
