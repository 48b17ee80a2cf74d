"""Fixtures for the rubric and review-form tests: the shipped rubrics and a minimal Flask app.

The app here is deliberately not evalplat's: forms/ must work in any Flask app that has Flask-WTF and
Flask-Babel, and these tests need no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask, jsonify, render_template_string, request
from flask.testing import FlaskClient
from flask_babel import Babel
from jinja2 import ChoiceLoader, FileSystemLoader

from forms.review import review_form_class
from forms.rubrics import Rubric, load_rubrics

FORMS = Path(__file__).resolve().parents[2] / "forms"

PAGE = """{% from "forms/rubric_form.html" import rubric_form %}<!doctype html>
<html lang="{{ lang }}"><body>{{ rubric_form(form, action="/review/" ~ case_type, script_url="/rubric_form.js",
readonly=readonly) }}</body></html>"""


@pytest.fixture(scope="session")
def rubrics() -> dict[str, Rubric]:
    return load_rubrics()


@pytest.fixture(scope="session")
def criminal(rubrics: dict[str, Rubric]) -> Rubric:
    return rubrics["criminal"]


def make_app(*, csrf: bool) -> Flask:
    """A minimal app: one page that renders the rubric form and, on POST, reports the validation."""
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SECRET_KEY="forms-test-secret-key-0123456789abcdef",
        WTF_CSRF_ENABLED=csrf,
        BABEL_TRANSLATION_DIRECTORIES=str(FORMS / "translations"),
    )
    Babel(app, locale_selector=lambda: request.args.get("lang", "en"))
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(FORMS / "templates"))])
    app.config["RUBRICS"] = {}

    @app.route("/review/<case_type>", methods=["GET", "POST"])
    def review(case_type: str) -> Any:
        rubric = app.config["RUBRICS"].get(case_type) or load_rubrics()[case_type]
        mode = request.args.get("mode")
        form = review_form_class(rubric)(mode=mode)
        if request.method == "POST":
            if form.validate_on_submit():
                scores = form.scores()
                return jsonify(ok=True, mode=scores.mode, points=scores.points, vetoes=list(scores.vetoes),
                               complete=scores.complete,
                               entries={code: vars(e) for code, e in scores.entries.items()})
            return jsonify(ok=False, mode=form.mode, errors=form.error_list()), 422
        return render_template_string(PAGE, form=form, case_type=case_type, lang=request.args.get("lang", "en"),
                                      readonly=request.args.get("readonly") == "1")

    return app


@pytest.fixture(scope="session")
def form_app() -> Flask:
    return make_app(csrf=False)


@pytest.fixture(scope="session")
def csrf_app() -> Flask:
    """The same app with CSRF protection on, as in production."""
    return make_app(csrf=True)


@pytest.fixture(scope="session")
def page_template() -> str:
    """The page template the test app renders the form with."""
    return PAGE


@pytest.fixture
def client(form_app: Flask) -> Iterator[FlaskClient]:
    form_app.config["RUBRICS"] = {}
    with form_app.test_client() as test_client:
        yield test_client


@pytest.fixture
def full_marks() -> Callable[[Rubric], dict[str, str]]:
    """A complete, valid submission (level A, full points) for every item of a rubric."""

    def build(rubric: Rubric) -> dict[str, str]:
        data = {"rubric_hash": rubric.content_hash, "submit_review": "Submit review"}
        for item in rubric.items:
            data[f"{item.code}-level"] = "A"
            data[f"{item.code}-points"] = str(item.max_points)
            data[f"{item.code}-comment"] = ""
        return data

    return build


@pytest.fixture
def write_rubric(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Write a rubric definition to a YAML file in a temporary folder."""

    def write(data: dict[str, Any], name: str = "rubric.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write
