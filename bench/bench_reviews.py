"""Time the reviewer's case page with a 50-page document and a draft save (server time, in process).

Run: ``.venv/bin/python bench/bench_reviews.py [--pages 50] [--repeat 50] [--database-url URL]``

Targets (issue 6): the case page renders in under 100 ms, a draft saves in under 50 ms. The database is
a migrated temporary SQLite file unless ``--database-url`` (or EVALPLAT_BENCH_DATABASE_URL) names another.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


from bench_env import machine  # noqa: E402


def _seeding() -> Any:
    spec = importlib.util.spec_from_file_location("evalplat_reviews_seeding", ROOT / "tests" / "reviews" / "seeding.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _times(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _line(name: str, ms: list[float], target: float) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    verdict = "OK" if statistics.median(ms) < target else "SLOW"
    return f"{name:<34} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   min {ms[0]:6.1f} ms   " \
           f"(target < {target:.0f} ms: {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default=os.environ.get("EVALPLAT_BENCH_DATABASE_URL"))
    args = parser.parse_args()

    from flask_migrate import upgrade

    from evalplat import create_app
    from evalplat.accounts import passwords
    from evalplat.cases.models import DocumentKind
    from evalplat.extensions import db

    passwords.configure(fast=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reviews-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"EVALPLAT_ENV": "testing", "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                      "SQLALCHEMY_DATABASE_URI": url, "EVALPLAT_STORAGE_URL": f"file://{tmp / 'files'}"})
    seeding = _seeding()
    text = seeding.page_text(args.pages)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        scene = seeding.build_scene(db.session, reviewers=1, documents=[(DocumentKind.MEETING_NOTES, text)])
        db.session.commit()
        assignment_id = scene.assignments[0].id
        username = scene.reviewers[0].username
        from evalplat.reviews.rubrics import rubric_for_assignment

        rubric = rubric_for_assignment(db.session, scene.assignments[0])[1]
        db.session.remove()
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": seeding.PASSWORD}).status_code == 302
    form = seeding.full_marks_form(rubric) | {"save_draft": "1"}
    form[f"{rubric.items[0].code}-comment"] = "会见及时，记录完整。" * 20

    def page() -> None:
        response = client.get(f"/reviews/{assignment_id}")
        assert response.status_code == 200, response.status_code
        assert len(response.data) > len(text)

    def save() -> None:
        response = client.post(f"/reviews/{assignment_id}", data=form)
        assert response.status_code == 302, response.status_code

    page(), save()  # warm up: first request, template compilation, the draft row exists
    page_ms = _times(page, args.repeat)
    save_ms = _times(save, args.repeat)
    page_after_draft = _times(page, args.repeat)
    print(f"machine: {machine()}")
    print(f"database: {url.split('://')[0]}; document: {args.pages} pages, {len(text):,} characters; "
          f"rubric {rubric.key} ({len(rubric.items)} items); {args.repeat} runs each")
    print(_line("case page (GET, draft resumed)", page_ms + page_after_draft, 100))
    print(_line("save draft (POST, validate+store)", save_ms, 50))
    if url.startswith("sqlite:///"):
        for path in tmp.glob("*"):
            if path.is_file():
                path.unlink()


if __name__ == "__main__":
    main()
