"""End to end in a real browser: a reviewer signs in, opens a case, fills the rubric, saves a draft,
submits and sees the review locked (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _seeding() -> Any:
    name = "evalplat_reviews_seeding"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / "reviews" / "seeding.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM}: browser test skipped")
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from evalplat import create_app
    from evalplat.extensions import db

    tmp = tmp_path_factory.mktemp("browser")
    app = create_app({"EVALPLAT_ENV": "testing", "SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'browser.db'}",
                      "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}"})
    seeding = _seeding()
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        scene = seeding.build_scene(db.session, reviewers=1)
        db.session.commit()
        info = {"username": scene.reviewers[0].username, "assignment": scene.assignments[0].id,
                "code": scene.sample.code, "password": seeding.PASSWORD}
        db.session.remove()
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", info
    finally:
        server.shutdown()
        thread.join(10)


def test_reviewer_scores_a_case_in_the_browser(live_server: tuple[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, info = live_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", info["username"])
        page.fill("input[name=password]", info["password"])
        page.press("input[name=password]", "Enter")
        page.goto(f"{base}/reviews/")
        page.click(f"text={info['code']}")
        expect(page.locator("form[data-rubric-form]")).to_be_visible()
        items = page.locator("fieldset.rubric-item")
        count = items.count()
        assert count >= 5
        # First item by keyboard: level A via its radio, then the points filled in by the script.
        first = items.nth(0)
        first.locator("input[type=radio][value=A]").check()
        points = first.locator("input[name$='-points']")
        assert points.input_value() != ""  # the script filled in the level's top points
        expect(page.locator("[data-rubric-total]")).not_to_have_text("—")
        page.click("button[name=save_draft], input[name=save_draft]")
        expect(page.locator(".flash-success")).to_be_visible()
        for n in range(count):
            item = page.locator("fieldset.rubric-item").nth(n)
            item.locator("input[type=radio][value=B]").check()
        total = page.locator("[data-rubric-total]").inner_text()
        assert total not in ("—", "")
        page.screenshot(path=str(tmp_path / "filled.png"), full_page=False)
        # submitting without the confirmation box keeps the review open and says why
        page.click("button[name=submit_review], input[name=submit_review]")
        expect(page.locator("#confirmed-errors")).to_be_visible()
        assert page.locator("[data-locked]").count() == 0
        page.check("input[name=confirmed]")
        page.click("button[name=submit_review], input[name=submit_review]")
        expect(page.locator("[data-locked]")).to_be_visible()
        expect(page.locator("fieldset.rubric-items input[type=radio]").first).to_be_disabled()
        expect(page.locator("fieldset.rubric-items textarea").first).to_be_disabled()
        assert page.locator("button[name=submit_review], input[name=submit_review]").count() == 0
        shot = Path(os.environ.get("EVALPLAT_SCREENSHOT_DIR", tmp_path)) / "locked.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        assert not [e for e in errors if "Content Security Policy" in e], errors
        browser.close()
