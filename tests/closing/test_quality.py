"""Quality profile and leniency: self-evaluation against the calibrated peer review, and access."""

from __future__ import annotations

from typing import Any

import pytest

from evalplat.accounts.models import Role
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.organisations.jurisdiction import national_region
from evalplat.quality.queries import leniency, profile
from evalplat.results.models import Grade, Result, ResultKind
from evalplat.selfeval.models import SelfEvaluation


@pytest.fixture
def scored(db: Any, make_agency: Any, make_case: Any, make_lawyer: Any) -> Any:
    """Three cases of one agency with self-scores 90, 86, 88 and calibrated peer scores 80, 80, 80."""
    agency, lawyer = make_agency(), make_lawyer()
    campaign = Campaign(name="2024年度评估", code_prefix="Q2024", year=2024, state=CampaignState.PUBLISHED,
                        jurisdiction=national_region())
    unpublished = Campaign(name="2025年度评估", code_prefix="Q2025", year=2025, state=CampaignState.SCORING,
                           jurisdiction=national_region())
    db.session.add_all([campaign, unpublished])
    db.session.flush()
    for i, (own, raw, calibrated) in enumerate(((90.0, 70.0, 80.0), (86.0, 75.0, 80.0), (88.0, 90.0, 80.0))):
        case = make_case(agency=agency, lawyer=lawyer)
        sample = Sample(campaign_id=campaign.id, case_id=case.id, code=f"Q2024-{i:05d}", stratum="s")
        db.session.add(sample)
        db.session.flush()
        db.session.add(Result(sample_id=sample.id, kind=ResultKind.CONSENSUS, total=raw, raw_total=raw,
                              calibrated_total=calibrated, grade=Grade.GOOD))
        db.session.add(SelfEvaluation(case_id=case.id, agency_id=agency.id, form_version="t", levels={}, score=own))
    # a case scored only in an unpublished campaign does not count
    hidden = make_case(agency=agency, lawyer=lawyer)
    sample = Sample(campaign_id=unpublished.id, case_id=hidden.id, code="Q2025-00000", stratum="s")
    db.session.add(sample)
    db.session.flush()
    db.session.add(Result(sample_id=sample.id, kind=ResultKind.CONSENSUS, total=10.0, grade=Grade.FAIL))
    db.session.add(SelfEvaluation(case_id=hidden.id, agency_id=agency.id, form_version="t", levels={}, score=99.0))
    db.session.commit()
    return agency, lawyer


def test_leniency_is_mean_self_minus_calibrated_peer_with_a_t_interval(db: Any, scored: Any) -> None:
    agency, _ = scored
    [row] = leniency(db.session)
    # differences 10, 6, 8: mean 8, sd 2, standard error 2/sqrt(3); t(0.975, 2 df) = 4.302653
    half = 4.302653 * 2 / 3 ** 0.5
    assert (row.agency_id, row.n) == (agency.id, 3)
    assert row.difference == pytest.approx(8.0)
    assert (row.low, row.high) == (pytest.approx(8 - half, abs=1e-4), pytest.approx(8 + half, abs=1e-4))


def test_profile_shows_each_source_with_its_count(db: Any, scored: Any) -> None:
    _, lawyer = scored
    sources = {s.key: s for s in profile(db.session, lawyer_id=lawyer.id)}
    assert (sources["peer_review"].n, sources["peer_review"].value) == (3, pytest.approx(80.0))
    assert sources["self_evaluation"].n == 4  # the self-evaluations of every case, peer-reviewed or not
    assert sources["followup_contact"].n == 0
    assert sources["followup_contact"].value is None


def test_quality_pages_keep_agencies_apart_and_refuse_reviewers(client: Any, login: Any, db: Any, scored: Any,
                                                               make_user: Any, make_agency: Any) -> None:
    agency, lawyer = scored
    login(client, make_user(Role.AGENCY_STAFF, agency=make_agency()))
    assert client.get(f"/quality/agencies/{agency.id}").status_code == 404
    assert agency.name not in client.get("/quality/").text
    assert client.get(f"/quality/lawyers/{lawyer.id}").status_code == 403
    client.post("/logout")
    login(client, make_user(Role.PEER_REVIEWER))
    for url in ("/quality/", f"/quality/agencies/{agency.id}", f"/quality/lawyers/{lawyer.id}"):
        assert client.get(url).status_code == 403
    client.post("/logout")
    login(client, make_user(Role.ORGANISER))
    page = client.get(f"/quality/agencies/{agency.id}").text
    assert "+8.0" in page
