"""rubric_form.js in a real browser (Debian's Chromium through Playwright): the reviewer's live feedback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from forms.rubrics import Rubric

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SCRIPT = Path(__file__).resolve().parents[2] / "forms" / "static" / "rubric_form.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, client: FlaskClient) -> Iterator[Any]:
    html = client.get("/review/criminal", query_string={"lang": "zh_Hans"}).get_data(as_text=True)
    html = html.replace('<script src="/rubric_form.js" defer></script>', "")
    tab = browser.new_page()
    tab.set_content(html)
    tab.add_script_tag(path=str(SCRIPT))
    yield tab
    tab.close()


def total(page: Any) -> tuple[str, str, str]:
    return (page.text_content("[data-rubric-total]"), page.text_content("[data-rubric-grade]"),
            page.text_content("[data-rubric-note]"))


def test_choosing_a_level_fills_in_points_and_updates_the_total(page: Any, criminal: Rubric) -> None:
    assert total(page)[0] == "—"
    page.check("#meetings-level-1")                        # B: 11-13
    assert page.input_value("#meetings-points") == "13"
    shown, grade, note = total(page)
    assert (shown, grade) == ("86.7", "良好")               # 13 of 15 so far
    assert "1" in note
    assert str(len(criminal.items)) in note


def test_typing_points_selects_their_level(page: Any) -> None:
    page.fill("#meetings-points", "9")
    assert page.is_checked("#meetings-level-2")            # C: 8-10
    page.fill("#meetings-points", "20")                    # out of range: flagged, level kept
    assert page.get_attribute("#meetings-points", "aria-invalid") == "true"


def test_not_applicable_disables_the_item_and_rescales(page: Any, criminal: Rubric) -> None:
    for item in criminal.items:
        if item.code != "court":
            page.check(f"#{item.code}-level-0")
    page.check("#court-na")
    assert page.is_disabled("#court-points")
    assert page.is_disabled("#court-level-0")
    assert page.is_disabled("#court-veto")
    assert total(page)[:2] == ("100.0", "优秀")
    page.fill("#closing-points", "5")                       # 80 of 85
    expected = criminal.evaluate({**{i.code: i.max_points for i in criminal.items}, "court": None, "closing": 5})
    assert total(page)[:2] == (expected.format_total(), "优秀")
    assert total(page)[2] == ""                             # complete: no provisional note


def test_a_veto_shows_fail_whatever_the_total(page: Any, criminal: Rubric) -> None:
    for item in criminal.items:
        page.check(f"#{item.code}-level-0")
    assert total(page)[:2] == ("100.0", "优秀")
    page.check("#commission-veto")
    shown, grade, note = total(page)
    assert (shown, grade) == ("100.0", "不合格")
    assert note
    assert page.get_attribute("#commission-comment", "aria-required") == "true"
