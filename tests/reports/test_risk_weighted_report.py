"""The annual report of a risk-weighted campaign says so first, with estimates weighted by 1 / probability."""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.campaigns.models import Sample, SamplingMode, SamplingPlan
from evalplat.rankings.report_data import build_report_data
from evalplat.results.models import Result
from reports.html import render_html
from reports.numbers import number  # the pages' one formatter: rounds half up, as shown
from reports.pdf import render_pdf
from reports.xlsx import render_xlsx
from scoring.survey import hajek_mean


@pytest.fixture
def risk_weighted(small_campaign: Any, db: Any) -> Any:
    """The small campaign as though drawn risk-weighted: every other case with probability 0.5, the rest 0.125."""
    campaign = small_campaign.campaign
    db.session.add(SamplingPlan(campaign_id=campaign.id, mode=SamplingMode.RISK,
                                params={"engine": {"mode": "risk", "per_stratum": 2, "boost": 3.0}}))
    samples = list(db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id)))
    for i, sample in enumerate(samples):
        sample.inclusion_probability = 0.5 if i % 2 else 0.125
        sample.risk_signals = 1 if i % 2 else 0
    db.session.commit()
    db.session.refresh(campaign)
    return campaign


def test_report_states_the_risk_weighting_and_gives_the_hajek_mean(risk_weighted: Any, db: Any) -> None:
    rows = db.session.execute(sa.select(Result.total, Sample.inclusion_probability, Sample.stratum)
                              .join(Sample, Sample.id == Result.sample_id)
                              .where(Sample.campaign_id == risk_weighted.id, Result.current.is_(True))).all()
    expected = hajek_mean([r[0] for r in rows], [r[1] for r in rows], strata=[r[2] for r in rows])
    zh = render_html(build_report_data(db.session, risk_weighted, lang="zh"), "zh")
    assert "风险加权抽样：全部案件的估计" in zh
    assert "不是全部案件的估计" in zh
    assert zh.index("风险加权抽样") < zh.index("一、评估概况")  # the statement comes before any figure
    assert number(expected.estimate) in zh
    assert number(expected.unweighted) in zh
    en = render_html(build_report_data(db.session, risk_weighted, lang="en"), "en")
    assert "Unweighted means describe the drawn cases only and are not population estimates" in en


def test_report_of_another_plan_has_no_weighted_section(small_campaign: Any, db: Any) -> None:
    assert "风险加权" not in render_html(build_report_data(db.session, small_campaign.campaign, lang="zh"), "zh")


def test_xlsx_opens_with_the_weighted_estimates(risk_weighted: Any, db: Any) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render_xlsx(build_report_data(db.session, risk_weighted))))
    assert wb.sheetnames[0] == "风险加权估计"
    cells = [c for row in wb["风险加权估计"].iter_rows(values_only=True) for c in row if c]
    assert any("不是全部案件的估计" in str(c) for c in cells)
    assert "平均总分" in cells


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_says_the_sample_was_risk_weighted(risk_weighted: Any, db: Any, tmp_path: Any) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(build_report_data(db.session, risk_weighted)))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "风险加权抽样" in text
    assert "加权估计" in text
