"""Annual report: figures equal direct computations, access, Chinese glyphs, pdftotext, XLSX, CLI."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from typing import Any

import pytest
from matplotlib.figure import Figure

from evalplat.rankings.report_data import build_report_data
from reports import charts
from reports.html import render_html
from reports.pdf import render_pdf
from reports.xlsx import render_xlsx


def test_report_figures_equal_the_database(small_campaign: Any, db: Any) -> None:
    data = build_report_data(db.session, small_campaign.campaign)
    cases = small_campaign.cases
    g = data.glance
    assert g.n_cases == len(cases)
    assert g.n_reviews == 2 * len(cases)
    assert g.n_reviewers == 4
    assert g.n_escalations == 1
    assert g.n_appeals == 1
    assert [(c.key, c.n) for c in g.appeal_outcomes] == [("upheld", 1)]
    assert sum(c.n for c in g.strata) == len(cases)
    good = sum(c["grade"] in ("excellent", "good") for c in cases)
    assert g.overall.n == len(cases)
    assert g.overall.good == good
    assert g.overall.mean == pytest.approx(sum(c["total"] for c in cases) / len(cases))
    assert {c.key: c.n for c in g.grades} == {k: sum(c["grade"] == k for c in cases)
                                                for k in ("excellent", "good", "pass", "fail")}
    by_type = {f.key: f for f in data.by_case_type}
    for ctype in ("criminal", "civil"):
        mine = [c for c in cases if c["case_type"] == ctype]
        assert by_type[ctype].n == len(mine)
        assert by_type[ctype].mean == pytest.approx(sum(c["total"] for c in mine) / len(mine))
        assert by_type[ctype].share == pytest.approx(sum(c["grade"] in ("excellent", "good") for c in mine) / len(mine))
    losses = dict(data.item_losses)
    crim = {r.code: r for r in losses["criminal"]}
    mine = [c for c in cases if c["case_type"] == "criminal"]
    assert crim["meet"].mean_lost == pytest.approx(sum(60 - c["meet"] for c in mine) / len(mine))
    assert crim["write"].mean_lost == pytest.approx(sum(40 - (c["total"] - c["meet"]) for c in mine) / len(mine))
    assert sum(data.distribution.series[0][1]) == len(cases)
    assert data.reliability.n_ratings == 2 * len(cases)
    assert data.reliability.alpha is not None
    assert data.reliability.leniency_sd is not None
    cities = {f.label: f.n for f in data.by_city}
    assert cities == {"甲市": 22, "乙市": 4}


def test_report_is_reproducible(small_campaign: Any, db: Any) -> None:
    a = build_report_data(db.session, small_campaign.campaign)
    b = build_report_data(db.session, small_campaign.campaign)
    assert a.data_version == b.data_version
    assert [(f.key, f.estimate, f.rank_low) for f in a.by_agency] == [(f.key, f.estimate, f.rank_low) for f in b.by_agency]
    from evalplat.results.models import Result

    row = db.session.query(Result).first()
    row.total = 55.0
    db.session.commit()
    assert build_report_data(db.session, small_campaign.campaign).data_version != a.data_version


def _clear_chart_caches() -> None:
    for chart in (charts.share_chart, charts.distribution_chart, charts.trend_chart):
        chart.cache_clear()


def test_chinese_labels_have_glyphs(small_campaign: Any, db: Any) -> None:
    data = build_report_data(db.session, small_campaign.campaign)
    _clear_chart_caches()  # draw them here, under the warnings filter, not from an earlier test's cache
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning from matplotlib
        png = charts.share_chart(data.by_city) + charts.distribution_chart(data.distribution)
    assert png.count(b"\x89PNG") == 2


def test_each_chart_is_drawn_once_for_all_formats(small_campaign: Any, db: Any) -> None:
    data = build_report_data(db.session, small_campaign.campaign)
    _clear_chart_caches()
    render_html(data)
    drawn = charts.distribution_chart.cache_info().misses
    assert drawn == 1
    render_pdf(data)
    assert charts.distribution_chart.cache_info().misses == drawn  # the PDF reuses the HTML's chart
    assert charts.distribution_chart(data.distribution, "en") != charts.distribution_chart(data.distribution)


def test_glyph_check_can_fail_without_the_cjk_font() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure()
    FigureCanvasAgg(fig)
    fig.add_subplot().set_title("各市优良率", family="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        fig.savefig(io.BytesIO(), format="png")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_text_contains_chinese_headings(small_campaign: Any, db: Any, tmp_path: Any) -> None:
    data = build_report_data(db.session, small_campaign.campaign)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(data))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("法律援助案件质量同行评估报告", "一、评估概况", "二、各市优良率与平均分", "六、主要失分项", "七、评审信度",
                    "会见当事人", "甲市", data.data_version):
        assert heading in text, heading


def test_xlsx_has_every_section(small_campaign: Any, db: Any) -> None:
    from openpyxl import load_workbook

    data = build_report_data(db.session, small_campaign.campaign)
    wb = load_workbook(io.BytesIO(render_xlsx(data)))
    assert wb.sheetnames == ["概况", "按市", "按机构", "按案件类型", "得分分布", "失分项", "信度", "排名", "趋势"]
    cities = {row[1]: row[2] for row in wb["按市"].iter_rows(min_row=2, values_only=True)}
    assert cities == {"甲市": 22, "乙市": 4}


def test_organiser_sees_province_report_agency_only_its_section(small_campaign: Any, client: Any, app: Any,
                                                                make_user: Any, login: Any) -> None:
    cid = small_campaign.campaign.id
    login(client, make_user("organiser"))
    html = client.get(f"/rankings/{cid}/report").get_data(as_text=True)
    assert "二、各市优良率与平均分" in html
    assert "乙市法律援助中心" in html
    client = app.test_client()
    staff = make_user("agency_staff", agency=small_campaign.agencies["B1"])
    login(client, staff)
    html = client.get(f"/rankings/{cid}/report").get_data(as_text=True)
    assert "本机构评估结果" in html
    assert "乙市法律援助中心" in html
    assert "甲市法律援助中心" not in html
    assert "二、各市优良率与平均分" not in html
    assert "张稳" not in html
    pdf = client.get(f"/rankings/{cid}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
    assert client.get(f"/rankings/{cid}/export/lawyers.csv").status_code == 403


def test_agency_does_not_see_unpublished_report(small_campaign: Any, client: Any, db: Any, make_user: Any,
                                                login: Any) -> None:
    from evalplat.campaigns.models import CampaignState

    small_campaign.campaign.state = CampaignState.CONSOLIDATING
    db.session.commit()
    login(client, make_user("agency_staff", agency=small_campaign.agencies["B1"]))
    assert client.get(f"/rankings/{small_campaign.campaign.id}/report").status_code == 404


def test_agency_without_cases_gets_404(small_campaign: Any, client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("agency_staff"))
    assert client.get(f"/rankings/{small_campaign.campaign.id}/report.xlsx").status_code == 404


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "html"])
def test_cli_writes_the_report(small_campaign: Any, runner: Any, tmp_path: Any, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(args=["report", str(small_campaign.campaign.id), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000
    if fmt == "html":
        assert "一、评估概况" in out.read_text(encoding="utf-8")


def test_cli_names_a_missing_campaign(runner: Any, tmp_path: Any) -> None:
    result = runner.invoke(args=["report", "424242", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert "campaign 424242 does not exist" in result.output
