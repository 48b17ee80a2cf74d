"""The risk sampling mode of a campaign: the plan form, signals frozen with the population, inclusion probabilities
on the samples (page and export), and the weighted estimates on the results page and in the report."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.campaigns import operations as ops
from evalplat.campaigns.models import CampaignState, Sample, SamplingMode
from evalplat.quality.report import weighted_section
from evalplat.results.models import Grade, Result, ResultKind
from evalplat.results.queries import weighted_figures
from evalplat.sampling import SamplingPlan, draw
from evalplat.selfeval.models import SelfEvaluation
from reports.numbers import number  # the pages' one formatter: rounds half up, as shown
from scoring.survey import hajek_mean

from .test_campaign_sampling import _independent_population

CONFIRMED = {"confirmed": "1"}
PLAN = {"mode": "risk", "per_stratum": 2, "strata": ["agency"], "boost": 5}


def _low_self_score(db: Any, case: Any, score: float = 40.0) -> None:
    db.session.add(SelfEvaluation(case_id=case.id, agency_id=case.agency_id, form_version="t", levels={}, score=score))
    db.session.flush()


def _risk_campaign(db: Any, province: Any, now: Any, *, prefix: str = "RK2024", draw_it: bool = True) -> Any:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name=prefix, year=2024, code_prefix=prefix)
    ops.set_plan(db.session, actor=province.organiser, campaign=campaign, plan=PLAN)
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="lottery-7", source="test", now=now)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=now)
    if draw_it:
        ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=now)
    db.session.commit()
    return campaign


@pytest.fixture
def flagged(db: Any, province: Any) -> dict[str, int]:
    """The criminal cases of the first three agencies have a self-score below 60: one risk signal each."""
    signals = {}
    for case in province.cases:
        if case.agency_id in {a.id for a in province.agencies[:3]} and case.case_type.value == "criminal":
            _low_self_score(db, case)
            signals[str(case.id)] = 1
    db.session.commit()
    return signals


def test_the_freeze_keeps_the_signals_and_the_draw_records_the_engines_probabilities(
        db: Any, province: Any, flagged: dict[str, int], now: Any) -> None:
    campaign = _risk_campaign(db, province, now)
    assert campaign.plan.mode == SamplingMode.RISK
    assert campaign.plan.risk_signals == flagged
    frozen = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "campaign.population_frozen"))
    assert frozen.after["cases_with_signals"] == 9
    expected = draw(_independent_population(db), SamplingPlan.from_dict(PLAN), "lottery-7", signals=flagged)
    rows = {str(s.case_id): s for s in db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id))}
    assert set(rows) == set(expected.case_ids)
    assert len(rows) == 12
    for case_id, sample in rows.items():
        assert sample.inclusion_probability == pytest.approx(expected.probabilities[case_id])
        assert sample.risk_signals == flagged.get(case_id, 0)
    # a flagged case of a flagged agency: (1 + 5) / (3 × 6 + 4) × 2 = 6/11; an unflagged one 1/11
    flagged_agency = [s for s in rows.values() if s.case.agency_id == province.agencies[0].id]
    assert {round(s.inclusion_probability, 6) for s in flagged_agency} <= {round(6 / 11, 6), round(1 / 11, 6)}
    assert ops.verify_draw(db.session, campaign).ok


def test_signals_recorded_after_the_freeze_do_not_change_the_draw(db: Any, province: Any, flagged: dict[str, int],
                                                                   now: Any) -> None:
    campaign = _risk_campaign(db, province, now, draw_it=False)
    for case in province.cases:
        if case.case_type.value == "civil" and str(case.id) not in flagged:
            _low_self_score(db, case)
    db.session.commit()
    ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=now)
    expected = draw(_independent_population(db), SamplingPlan.from_dict(PLAN), "lottery-7", signals=flagged)
    stored = set(db.session.scalars(sa.select(Sample.case_id).where(Sample.campaign_id == campaign.id)))
    assert stored == {int(c) for c in expected.case_ids}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "campaign.sample_drawn"))
    assert event.after["signals_digest"] == expected.signals_digest


def test_fixed_plans_record_n_over_N_of_the_stratum(db: Any, sampled_campaign: Any) -> None:
    probabilities = set(db.session.scalars(sa.select(Sample.inclusion_probability)
                                           .where(Sample.campaign_id == sampled_campaign.id)))
    assert sorted(probabilities) == pytest.approx([1 / 4, 1 / 3])  # 1 of 3 criminal, 1 of 3 civil + 1 admin


def test_the_organiser_chooses_the_risk_mode_on_the_plan_form(client: Any, login: Any, db: Any, province: Any,
                                                              now: Any) -> None:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="RK", year=2024, code_prefix="RK2024")
    db.session.commit()
    login(client, province.organiser)
    url = f"/campaigns/{campaign.id}/plan"
    response = client.post(url, data={"mode": "risk", "strata": "agency", "per_stratum": 2, "boost": "4.5"})
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert campaign.plan.mode == SamplingMode.RISK
    assert campaign.plan.params["engine"]["boost"] == 4.5
    assert campaign.plan.params["engine"]["per_stratum"] == 2
    page = client.get(url).get_data(as_text=True)
    assert 'value="4.5"' in page
    assert '<option selected value="risk">' in page
    with_rate = client.post(url, data={"mode": "risk", "strata": "agency", "rate": "20%"})
    assert with_rate.status_code == 302
    db.session.refresh(campaign)
    assert campaign.plan.params["engine"]["rate"] == "0.2"
    assert campaign.plan.params["engine"]["boost"] == 3.0


@pytest.mark.parametrize(("data", "message"), [
    ({"per_stratum": 2, "boost": "500"}, "Number must be between 0 and 100"),
    ({"per_stratum": 2, "boost": "NaN"}, "Not a valid decimal value"),
    ({}, "per_stratum"),
])
def test_a_bad_risk_plan_says_why_and_saves_nothing(client: Any, login: Any, db: Any, province: Any,
                                                    data: dict[str, Any], message: str) -> None:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="RK", year=2024, code_prefix="RK2024")
    db.session.commit()
    login(client, province.organiser)
    url = f"/campaigns/{campaign.id}/plan"
    response = client.post(url, data={"mode": "risk", "strata": "agency", **data}, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.plan is None


def test_samples_page_and_export_show_each_cases_inclusion_probability(
        client: Any, login: Any, db: Any, province: Any, flagged: dict[str, int], now: Any) -> None:
    campaign = _risk_campaign(db, province, now)
    login(client, province.organiser)
    page = client.get(f"/campaigns/{campaign.id}/samples").get_data(as_text=True)
    assert "risk-weighted" in page
    assert "Inclusion probability" in page
    a_sample = db.session.scalar(sa.select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.code))
    assert f"{a_sample.inclusion_probability:.4f}" in page
    exported = client.get(f"/campaigns/{campaign.id}/export/samples.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    head = rows[0]
    by_code = {r[0]: r for r in rows[1:]}
    for sample in db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id)):
        row = by_code[sample.code]
        assert float(row[head.index("Inclusion probability")]) == pytest.approx(sample.inclusion_probability, abs=1e-6)
        assert float(row[head.index("Weight (1 / probability)")]) == pytest.approx(1 / sample.inclusion_probability,
                                                                                  abs=1e-3)
        assert int(row[head.index("Risk signals")]) == sample.risk_signals


def _results(db: Any, campaign: Any, flagged: dict[str, int]) -> list[Sample]:
    """Flagged cases score 50 (fail), the others 90 (excellent)."""
    samples = list(db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id)))
    for sample in samples:
        risky = str(sample.case_id) in flagged
        db.session.add(Result(sample_id=sample.id, kind=ResultKind.CONSENSUS, total=50.0 if risky else 90.0,
                              grade=Grade.FAIL if risky else Grade.EXCELLENT))
    campaign.state = CampaignState.PUBLISHED
    db.session.commit()
    return samples


def test_results_are_weighted_by_the_inverse_inclusion_probability(
        client: Any, login: Any, db: Any, province: Any, flagged: dict[str, int], now: Any) -> None:
    campaign = _risk_campaign(db, province, now)
    samples = _results(db, campaign, flagged)
    values = [50.0 if str(s.case_id) in flagged else 90.0 for s in samples]
    p = [s.inclusion_probability for s in samples]
    figures = weighted_figures(db.session, campaign)
    assert figures is not None
    expected = hajek_mean(values, p, strata=[s.stratum for s in samples])
    assert figures.mean.estimate == pytest.approx(expected.estimate)
    assert figures.mean.se == pytest.approx(expected.se)
    # the population: 9 flagged of 42 cases → true mean (9×50 + 33×90)/42 ≈ 81.4; the sample over-represents them
    assert figures.mean.estimate > figures.mean.unweighted
    assert figures.population == pytest.approx(sum(1 / x for x in p))  # Σ 1/π estimates the 42 cases
    login(client, province.organiser)
    page = client.get(f"/results/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Estimates for all cases (weighted)" in page
    assert number(figures.mean.estimate) in page
    assert number(figures.mean.unweighted) in page
    assert "not an estimate for all cases" in page


def test_the_report_says_the_sample_was_risk_weighted(db: Any, province: Any, flagged: dict[str, int],
                                                      now: Any) -> None:
    campaign = _risk_campaign(db, province, now)
    _results(db, campaign, flagged)
    zh = weighted_section(db.session, campaign, lang="zh")
    en = weighted_section(db.session, campaign, lang="en")
    assert zh is not None
    assert en is not None
    assert "风险加权" in zh["title"]
    assert "不是全部案件的估计" in zh["sections"][0][1]
    assert "not population estimates" in en["sections"][0][1]
    figures = weighted_figures(db.session, campaign)
    assert en["sections"][0][2][1][0][1] == number(figures.mean.estimate)


def test_other_plans_get_no_weighted_section(db: Any, sampled_campaign: Any) -> None:
    assert weighted_figures(db.session, sampled_campaign) is None
    assert weighted_section(db.session, sampled_campaign, lang="en") is None


def test_the_frozen_signals_export_recomputes_the_published_digest(
        client: Any, login: Any, db: Any, province: Any, flagged: dict[str, int], now: Any) -> None:
    import hashlib

    from openpyxl import load_workbook

    campaign = _risk_campaign(db, province, now)
    digest = campaign.plan.params["risk"]["signals_digest"]
    login(client, province.organiser)
    show = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert digest in show
    assert "risk-signals.csv" in show
    exported = client.get(f"/campaigns/{campaign.id}/export/risk-signals.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    head, body = rows[0], rows[1:]
    ids, counts = head.index("Case id"), head.index("Risk signals")
    text = "".join(f"{r[ids]}\t{r[counts]}\n" for r in body)
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    assert {r[ids]: int(r[counts]) for r in body} == flagged
    # each case's probability: the drawn ones' as recorded, the others' from the same stratum's targets
    expected = draw(_independent_population(db), SamplingPlan.from_dict(PLAN), "lottery-7", signals=flagged)
    drawn = {str(s.case_id): s.inclusion_probability
             for s in db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id))}
    prob = head.index("Inclusion probability")
    for r in body:
        assert float(r[prob]) == pytest.approx(drawn.get(r[ids], expected.eligible_probabilities[r[ids]]), abs=1e-9)
        assert r[head.index("Drawn in the sample")] == ("yes" if r[ids] in drawn else "no")
    # a flagged case of a flagged agency: 6/11 whether drawn or not (see the freeze test)
    assert {round(float(r[prob]), 6) for r in body} == {round(6 / 11, 6)}
    book = load_workbook(io.BytesIO(client.get(f"/campaigns/{campaign.id}/export/risk-signals.xlsx").data))
    sheet = [[str(c) for c in row] for row in book.active.iter_rows(values_only=True)]
    assert hashlib.sha256("".join(f"{r[0]}\t{r[1]}\n" for r in sheet[1:]).encode()).hexdigest() == digest


def test_only_a_risk_plan_has_a_signals_export(client: Any, login: Any, province: Any, sampled_campaign: Any) -> None:
    login(client, province.organiser)
    assert client.get(f"/campaigns/{sampled_campaign.id}/export/samples.csv").status_code == 200
    assert client.get(f"/campaigns/{sampled_campaign.id}/export/risk-signals.csv").status_code == 404
