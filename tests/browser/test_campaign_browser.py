"""A whole campaign in a real browser, through the pages alone (Playwright driving Debian's Chromium).

A live server on a fresh database holds a small demo province (24 closed cases with their files). Signing in
is the only address typed; everything else is a click on a link or a button, in the Chinese interface:

organiser creates the campaign (one city, two reviewers per case), pins the rubrics, plans, fixes the seed,
freezes the population and draws the sample; redacts the sampled files and approves them (one by one, then
in bulk); previews the assignment, decides the conflicts it found (a namesake of a party dismissed, another
confirmed), commits it and opens scoring → the reviewers sign in, accept and score through the rubric form →
the case they disagree on goes to the adjudicator, who decides it → the organiser consolidates and publishes
with an appeal window → the agency reads its result and appeals → the organiser accepts the appeal, a new
reviewer re-reviews it and the adjudicator decides → the organiser closes the appeals, finalises and
downloads the annual report, whose content is checked.

Each step asserts what a person would see (states, totals, grades, the report's figures) and leaves a
screenshot in ``EVALPLAT_SCREENSHOT_DIR`` (default: the test's temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "demo-password-2024"
PROVINCE = "广东省"
PREFIX = "PR2024"
SUBMIT = "button[type=submit], input[type=submit], button:not([type])"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chromium_or_skip() -> None:
    if os.path.exists(CHROMIUM) and shutil.which(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":  # .ci/system-packages.sh installs it: missing there is a failure
        pytest.fail(message + "; CI requires the browser test")
    pytest.skip(message + ": browser test skipped")


def _city(session: Any) -> tuple[str, dict[str, str]]:
    """The province's city whose 2024 cases include criminal and civil ones (most cases first), and the staff
    username of each of its agencies: what the walk needs to know of the demo world it is given."""
    import sqlalchemy as sa

    from evalplat.accounts.models import User
    from evalplat.cases.models import Case
    from evalplat.organisations.models import Agency, Region

    province = sa.select(Region.id).where(Region.name == PROVINCE).scalar_subquery()
    rows = session.execute(sa.select(Region.name, Case.case_type).join(Agency, Agency.city_id == Region.id)
                           .join(Case, Case.agency_id == Agency.id)
                           .where(Region.parent_id == province, Case.year == 2024)).all()
    types: dict[str, list[str]] = {}
    for city, case_type in rows:
        types.setdefault(city, []).append("civil" if case_type == "administrative" else str(case_type))
    city = max((c for c, t in types.items() if {"criminal", "civil"} <= set(t)),
               key=lambda c: (len(types[c]), c))
    staff = dict(session.execute(sa.select(Agency.name, sa.func.min(User.username))
                                 .join(User, User.agency_id == Agency.id).join(Region, Region.id == Agency.city_id)
                                 .where(Region.name == city).group_by(Agency.name)).all())
    return city, staff


def _namesakes(session: Any, city: str) -> list[str]:
    """Give reviewers of other cities the names of the clients of the city's cases, so that the assignment
    finds conflicts of the kind a person decides (a name in the case file). Returns the names."""
    import sqlalchemy as sa

    from evalplat.accounts.models import User
    from evalplat.cases.models import PARTY_NAME_CONTEXT, Case, CaseParty, PartyRole, decrypt_column
    from evalplat.organisations.models import Agency, Region, ReviewerKind, ReviewerProfile

    city_id = session.scalar(sa.select(Region.id).where(Region.name == city))
    parties = session.execute(
        sa.select(CaseParty.name_ciphertext).join(Case, Case.id == CaseParty.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Agency.city_id == city_id, CaseParty.role == PartyRole.CLIENT).order_by(Case.id)).scalars().all()
    names = [decrypt_column(token, PARTY_NAME_CONTEXT) for token in parties]
    peers = session.scalars(sa.select(ReviewerProfile).where(ReviewerProfile.kind == ReviewerKind.PEER,
                                                              ReviewerProfile.city_id != city_id,
                                                              ReviewerProfile.active.is_(True))
                            .order_by(ReviewerProfile.id)).all()
    for name, profile in zip(names, peers[::7], strict=False):
        session.get(User, profile.user_id).display_name = name
    return [n for n in names if n]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    if os.environ.get("EVALPLAT_TEST_DATABASE_URL"):
        pytest.skip("the campaign walk keeps its own SQLite database: it runs once, in the SQLite run of make test")
    _chromium_or_skip()
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from evalplat import create_app
    from evalplat.demo.command import generate
    from evalplat.extensions import db

    tmp = tmp_path_factory.mktemp("campaign-browser")
    app = create_app({"EVALPLAT_ENV": "testing", "SECRET_KEY": "browser-campaign-secret-key-0123456789abcdef",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'campaign.db'}",
                      "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}"})
    built = time.perf_counter()
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        generate(db.session, cases=24, seed=2024, year=2024, documents="all")
        city, staff = _city(db.session)
        names = _namesakes(db.session, city)
        db.session.commit()
        db.session.remove()
    print(f"\ncampaign walk: database with the demo province built in {time.perf_counter() - built:.0f} s")
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", {"app": app, "namesakes": names, "city": city, "staff": staff}
    finally:
        server.shutdown()
        thread.join(10)


@dataclass
class Walk:
    """The browser tab and what the walk has learnt from the pages so far."""

    page: Any
    base: str
    shots: Path
    n: int = 0
    reviewers: dict[str, list[str]] = field(default_factory=dict)  # sample code → usernames, from the run page
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.shots / f"{self.n:02d}-{name}.png"), full_page=True)

    def sign_in(self, username: str) -> None:
        page = self.page
        if page.locator("form[action$='/logout'] button").count():
            page.locator("form[action$='/logout'] button").click()
            page.wait_for_load_state()
        page.goto(f"{self.base}/login")  # the one address typed
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not sign in: {self.text()[:300]}"

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()

    def link(self, text: str) -> None:
        self.click(f"main a:has-text('{text}'), header a:has-text('{text}'), nav a:has-text('{text}')")

    def submit(self, form: str) -> None:
        """Press the form's (first) submit button."""
        self.page.locator(form).first.locator(SUBMIT).first.click()
        self.page.wait_for_load_state()

    def confirm(self, form: str) -> None:
        """Tick the form's confirmation box and press its button (irreversible steps ask first)."""
        self.page.locator(form).first.locator("input[type=checkbox]").first.check()
        self.submit(form)

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def text(self) -> str:
        return self.page.locator("main").inner_text()


def test_a_whole_campaign_through_the_pages(live_server: tuple[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, info = live_server
    city, staff = info["city"], info["staff"]
    name = f"2024 年度{city}案件质量同行评估"
    shots = Path(os.environ.get("EVALPLAT_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                      accept_downloads=True)
        context.set_default_timeout(20_000)
        page = context.new_page()
        walk = Walk(page, base, shots)
        page.on("console", lambda m: walk.errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: walk.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)

        # --- the organiser sets the campaign up -----------------------------------------------------------
        walk.sign_in("organiser")
        expect(page.locator("main")).to_contain_text("待办事项")
        walk.link("新建评估活动")
        page.fill("input[name=name]", name)
        page.fill("input[name=year]", "2024")
        page.fill("input[name=code_prefix]", PREFIX)
        page.select_option("select[name=scope_kind]", "city")
        page.select_option("select[name=scope_region_id]", label=city)
        page.fill("input[name=reviewers_per_case]", "2")
        walk.shot("new-campaign")
        walk.submit("main form:has(input[name=code_prefix])")
        assert f"{PREFIX}" in walk.flash()
        expect(page.locator("[aria-current=step]")).to_contain_text("草稿")
        walk.shot("campaign-draft")

        walk.click("main button:has-text('指定最新版评分标准')")
        assert "评分标准" in walk.flash()
        assert "criminal v1" not in walk.text()  # rubrics by their names, not their keys
        walk.link("抽样方案、随机种子与抽样")
        page.select_option("select[name=mode]", "fixed")
        page.select_option("select[name=strata]", "case_type")
        page.fill("input[name=per_stratum]", "1")
        walk.submit("main form:has(select[name=strata])")
        assert "抽样方案已保存" in walk.flash()
        page.fill("input[name=seed]", "20250110-lottery")
        page.fill("input[name=source]", "福利彩票 2025-01-10 开奖号码")
        walk.submit("main form:has(input[name=seed])")
        assert "随机种子已确定" in walk.flash()
        walk.confirm("main form[action$='/freeze']")
        population = re.search(r"总体已冻结：(\d+) 件案件", walk.flash())
        assert population is not None, walk.flash()
        walk.confirm("main form[action$='/draw']")
        assert "已抽取 2 件案件" in walk.flash()
        report = page.locator("main table").last.inner_text()
        assert re.search(rf"合计\s+{population.group(1)}\s+2\s+2", report), report
        walk.shot("sampling-report")
        # the sampled cases: one civil (it will be disputed and appealed), one criminal
        walk.link("返回评估活动")
        walk.link("抽中案件及脱敏情况")
        sampled: dict[str, tuple[str, str]] = {}
        for row in page.locator("main table tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            sampled["civil" if "民事" in cells or "行政" in cells else "criminal"] = (cells[0], cells[1])
        assert set(sampled) == {"civil", "criminal"}, sampled
        (first, civil_agency), (second, _criminal_agency) = sampled["civil"], sampled["criminal"]
        assert civil_agency in staff, (civil_agency, staff)

        # --- redaction: run it, approve one case after reading it, the other in bulk ----------------------
        walk.link("返回评估活动")
        expect(page.locator("[aria-current=step]")).to_contain_text("已抽样")
        walk.click("main button:has-text('对全部抽样案件脱敏')")
        expect(page.locator("main")).to_contain_text("已完成", timeout=180_000)
        assert "cases.redact_campaign" not in walk.text()  # the task by its name, its summary in words
        assert "{" not in walk.text()
        expect(page.locator("main")).to_contain_text("已脱敏文件: 12")
        walk.shot("redaction-job-done")
        walk.link("审核并批准脱敏结果")
        expect(page.locator("main")).to_contain_text("待核查")
        walk.link("下一件待核查案件")
        expect(page.locator("main")).to_contain_text("「当事人A」")
        walk.shot("redaction-review")
        walk.confirm("main form[action*='/redaction/approve']")
        assert "审核通过" in walk.flash()
        walk.link("返回脱敏队列")
        walk.link("批量批准")
        walk.confirm("main form[action*='/redaction/approve']")
        assert "已批准 1 件案件" in walk.flash()
        expect(page.locator("main")).to_contain_text("已审核通过 2")
        walk.shot("redaction-approved")

        # --- assignment: preview, decide the conflicts it found, commit, open scoring ---------------------
        walk.link("返回评估活动")
        walk.click("main button:has-text('预览分配方案')")
        expect(page.locator("main")).to_contain_text("预览")
        walk.shot("assignment-preview")
        walk.link("返回评估活动")
        walk.link("利益冲突待决定")
        rows = page.locator("main table tbody tr")
        assert rows.count() >= 2, walk.text()
        expect(page.locator("main")).to_contain_text("案卷中出现其姓名")
        assert not re.search(r"\bparty\b|document:", walk.text())  # where the name was found, in words
        walk.shot("conflicts-open")
        # the first is a namesake of the client: dismissed; the second is confirmed
        walk.click("main table tbody tr >> nth=0 >> button:has-text('排除')")
        assert "已排除" in walk.flash() or "排除" in walk.flash()
        walk.click("main table tbody tr:has(button:has-text('确认')) >> button:has-text('确认')")
        walk.shot("conflicts-decided")
        walk.link("评估活动")
        walk.link(PREFIX)
        walk.click("#runs a >> nth=0")
        for row in page.locator("main table").nth(1).locator("tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            walk.reviewers[cells[0].strip()] = re.findall(r"（([\w.]+) ·", cells[2])
        assert sorted(walk.reviewers) == sorted([first, second]), walk.reviewers
        assert all(len(v) == 2 for v in walk.reviewers.values()), walk.reviewers
        walk.confirm("main form[action$='/commit']")
        assert "已向评估人员发出 4 项分配" in walk.flash()
        expect(page.locator("[aria-current=step]")).to_contain_text("已分配")
        walk.confirm("main form[action$='/transition/scoring']")
        expect(page.locator("[aria-current=step]")).to_contain_text("评分中")
        walk.shot("scoring-open")

        # --- reviewers sign in, accept and score through the rubric form ---------------------------------
        levels = {(first, 0): "A", (first, 1): "C", (second, 0): "B", (second, 1): "B"}
        totals: dict[tuple[str, int], float] = {}
        for code, usernames in sorted(walk.reviewers.items()):
            for k, username in enumerate(usernames):
                walk.sign_in(username)
                expect(page.locator("main")).to_contain_text("我的评估任务")
                walk.click(f"main a:has-text('{code}')")
                walk.click("main button:has-text('接受')")
                assert "已接受任务" in walk.flash()
                items = page.locator("fieldset.rubric-item")
                assert items.count() >= 8
                for n in range(items.count()):
                    items.nth(n).locator(f"input[type=radio][value={levels[code, k]}]").check()
                shown = page.locator("[data-rubric-total]").inner_text()
                assert re.fullmatch(r"\d+\.\d", shown), shown
                totals[code, k] = float(shown)
                page.check("input[name=confirmed]")
                walk.click("[name=submit_review]")
                assert "评估已提交" in walk.flash(), walk.text()[:500]
                expect(page.locator("[data-locked]")).to_be_visible()
                if k == 0:
                    walk.shot(f"review-submitted-{code}")
        assert totals[first, 0] == 100.0
        assert totals[first, 0] - totals[first, 1] > 15  # more than the campaign's spread: adjudication
        assert totals[second, 0] == totals[second, 1]

        # --- the disagreement goes to the adjudicator ---------------------------------------------------------
        walk.sign_in("organiser")
        walk.link(name)
        walk.link("评分进度")
        row = page.locator("main table tr:has-text('复评')").last.inner_text()
        found = re.search(r"（([\w.]+) ·", row)
        assert found, row
        adjudicator = found.group(1)
        assert first in row
        walk.shot("scoring-progress")
        walk.sign_in(adjudicator)
        expect(page.locator("main")).to_contain_text("1 件待决定")
        walk.click(f"main a:has-text('{first}')")
        earlier = walk.text()
        assert "评估人A" in earlier
        assert "100.0" in earlier
        assert f"{totals[first, 1]:.1f}" in earlier
        walk.shot("adjudication")
        page.fill("input[name=total]", "82")
        page.fill("textarea[name=reasons]", "评估人A对证据收集评价偏高；综合全案，认定为良好。")
        walk.submit("main form:has(input[name=total])")
        assert f"{first}" in walk.flash()
        assert "已记录" in walk.flash()

        # --- the organiser consolidates and publishes with an appeal window ----------------------------------
        walk.sign_in("organiser")
        walk.link(name)
        walk.confirm("main form[action$='/transition/consolidating']")
        expect(page.locator("[aria-current=step]")).to_contain_text("汇总中")
        walk.link("结果汇总")
        walk.submit("main form[action$='/consolidate']")
        results = {row.locator("td").first.inner_text().strip(): row.inner_text()
                   for row in page.locator("main table").last.locator("tbody tr").all()}
        consensus = f"{totals[second, 0]:.1f}"
        assert re.search(r"复评裁定\s+82\.0\s+82\.0\s+—\s+良好", results[first]), results
        assert re.search(rf"合成结果\s+{re.escape(consensus)}", results[second]), results
        assert "nan" not in walk.text()
        walk.shot("results")
        walk.link("评估活动页面")
        expect(page.locator("#next")).to_contain_text("尚未设置异议期")  # publishing without a window is refused
        walk.click("#next a:has-text('设置')")
        local = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        page.fill("input[name=appeal_opens_at]", (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("input[name=appeal_closes_at]", (local + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
        walk.submit("main form:has(input[name=appeal_closes_at])")
        assert "设置已保存" in walk.flash()
        walk.confirm("main form[action$='/transition/published']")
        expect(page.locator("[aria-current=step]")).to_contain_text("已发布")
        closes = (local + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
        expect(page.locator("#next")).to_contain_text(closes)  # the window as it was typed: Beijing time
        walk.shot("published")

        # --- the agency reads its result and appeals ----------------------------------------------------------
        walk.sign_in(staff[civil_agency])
        expect(page.locator("main")).to_contain_text(closes)
        walk.link("件评估结果待查阅")
        walk.click("main table a >> nth=0")
        feedback = walk.text()
        assert "82.0" in feedback
        assert "良好" in feedback
        assert "评估人A对证据收集评价偏高" in feedback
        points = [float(x) for x in re.findall(r"(\d+(?:\.\d)?) / \d+", feedback)]
        assert len(points) >= 8
        assert abs(sum(points) - 82.0) < 0.05, points  # the item scores add up to the decided total
        walk.shot("agency-result")
        walk.link("提出异议")
        page.get_by_label("证据收集与运用").check()
        page.get_by_label("法律文书").check()
        page.fill("textarea[name=reason]", "本案证据收集完整，代理词已被法院采纳，评分偏低，请求复核。")
        page.set_input_files("input[name=attachments]", files=[{
            "name": "法院采纳意见.txt", "mimeType": "text/plain",
            "buffer": f"判决书第三页采纳了代理意见。承办机构：{civil_agency}。".encode()}])
        walk.submit("main form:has(textarea[name=reason])")
        assert "异议已提交" in walk.flash()
        assert "证据收集与运用" in walk.text()
        assert "evidence" not in walk.text()
        walk.shot("appeal-filed")

        # --- the organiser accepts it; a reviewer who has not seen the case re-reviews it -----------------
        walk.sign_in("organiser")
        walk.link("件异议待处理")
        walk.click("main table a >> nth=0")
        page.fill("textarea[name=note]", "异议理由具体，交复评。")
        walk.submit("main form[action$='/accept']")
        assert "异议已受理" in walk.flash()
        walk.link("评估活动")
        walk.link(name)
        walk.link("评分进度")
        row = page.locator("main table tr:has-text('异议复核')").last.inner_text()
        found = re.search(r"（([\w.]+) ·", row)
        assert found, row
        rereviewer = found.group(1)
        assert rereviewer not in walk.reviewers[first]
        assert rereviewer != adjudicator
        walk.sign_in(rereviewer)
        walk.click(f"main a:has-text('{first}')")
        page_text = walk.text()
        assert "本案证据收集完整" in page_text
        assert "判决书第三页采纳了代理意见" in page_text
        assert civil_agency not in page_text  # the agency's attachment is redacted for the re-reviewer
        walk.shot("appeal-rereview")
        page.fill("input[name=total]", "88")
        page.fill("textarea[name=reasons]", "代理词被采纳，证据收集充分；上调分数。")
        walk.submit("main form:has(input[name=total])")
        assert "已记录" in walk.flash()

        # --- the organiser closes the appeals, finalises and downloads the annual report ------------------
        walk.sign_in("organiser")
        walk.link(name)
        walk.click("a.button:has-text('设置')")
        ended = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None) - timedelta(minutes=1)
        page.fill("input[name=appeal_closes_at]", ended.strftime("%Y-%m-%dT%H:%M"))
        walk.submit("main form:has(input[name=appeal_closes_at])")
        walk.confirm("main form[action$='/transition/appeals_closed']")
        expect(page.locator("[aria-current=step]")).to_contain_text("异议期结束")
        walk.confirm("main form[action$='/transition/final']")
        expect(page.locator("[aria-current=step]")).to_contain_text("已定稿")
        walk.shot("final")
        walk.link("年度报告")
        report = walk.text()
        mean = (88.0 + float(consensus)) / 2
        for expected in (name, "评查案件数\t2", "提交复评案件数\t1", "异议数\t1", f"平均分\t{mean:.1f}",
                         "改变原结果\t1", "民事\t1", "刑事\t1", f"{civil_agency}\t{city}\t1\t88.0"):
            assert expected in report, (expected, report[:3000])
        for raw in ("civil", "criminal", "changed", "nan"):
            assert not re.search(rf"\b{raw}\b", report), raw
        assert "（UTC）" not in report  # generated in Beijing time, with its offset
        walk.shot("annual-report")
        with page.expect_download() as pdf:
            walk.click("main a:has-text('PDF')")
        path = pdf.value.path()
        assert path is not None
        data = Path(path).read_bytes()
        assert data.startswith(b"%PDF")
        assert len(data) > 20_000
        with page.expect_download() as xlsx:
            walk.click("main a:has-text('XLSX')")
        saved = tmp_path / "annual-report.xlsx"
        xlsx.value.save_as(saved)
        workbook = load_workbook(saved, read_only=True)
        rows = [row for ws in workbook.worksheets for row in ws.iter_rows(values_only=True)]
        agency_rows = [row for row in rows if civil_agency in row]
        assert agency_rows, "the agency is missing from the XLSX report"
        assert any(88 in row for row in agency_rows), agency_rows  # its mean after the appeal, as a number

        # --- the agency sees the re-reviewed result -------------------------------------------------------
        walk.sign_in(staff[civil_agency])
        walk.link("异议复核")
        walk.click("main table a >> nth=0")
        expect(page.locator("main")).to_contain_text("88.0")
        walk.shot("agency-appeal-decided")

        browser.close()
    seconds = time.perf_counter() - started
    print(f"\ncampaign walk: {seconds:.0f} s in the browser, {walk.n} screenshots in {shots}")
    assert not [e for e in walk.errors if "Content Security Policy" in e or e[:1] == "5"], walk.errors
