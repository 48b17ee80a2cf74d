"""The rubric form macro: structure, labels, ARIA wiring, language, escaping and the read-only view."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask, render_template_string
from flask.testing import FlaskClient

from forms.review import review_form_class
from forms.rubrics import Rubric

URL = "/review/criminal"


class Page(HTMLParser):
    """Collects elements (tag, attributes) and the ids in the page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, Any]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs: str) -> list[dict[str, Any]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _t, a in self.elements if a.get("id")}


def test_every_item_is_a_fieldset_with_a_legend_and_labelled_controls(client: FlaskClient, criminal: Rubric) -> None:
    html = client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
    page = Page(html)
    items = [a for a in page.find("fieldset") if a.get("data-item")]
    assert [a["data-item"] for a in items] == [item.code for item in criminal.items]
    assert html.count("<legend") == 1 + 2 * len(criminal.items)  # the items group, each item and its levels
    labelled = {a["for"] for a in page.find("label")}
    controls = [a for t, a in page.elements if t in ("input", "textarea") and a.get("type") not in ("hidden", "submit")]
    assert controls
    for control in controls:
        assert control["id"] in labelled, control
    for radio in page.find("input", type="radio"):
        assert radio["aria-describedby"] in page.ids   # the level's descriptor
    assert len(page.find("input", type="radio")) == 4 * len(criminal.items)
    assert {a["name"] for a in page.find("input", type="checkbox")} == {
        *(f"{i.code}-na" for i in criminal.items if i.allows_na), *(f"{i.code}-veto" for i in criminal.items if i.veto)}
    meetings = page.find("input", name="meetings-points")[0]
    assert (meetings["type"], meetings["min"], meetings["max"], meetings["step"]) == ("number", "0", "15", "1")
    assert page.find("div", role="status")
    assert page.find("script", src="/rubric_form.js")


def test_texts_follow_the_locale(client: FlaskClient) -> None:
    zh = client.get(URL, query_string={"lang": "zh_Hans"}).get_data(as_text=True)
    en = client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
    assert "会见受援人" in zh
    assert "Meetings with the client" not in zh
    assert "Meetings with the client" in en
    assert "接受指派后及时首次会见" in zh
    assert "A 完全达到 (14–15)" in zh
    assert "A fully met (14–15)" in en
    assert "A fully met (5)" in en
    data = json.loads(re.search(r'<script type="application/json" class="rubric-data">(.*?)</script>', zh).group(1))
    assert [band["label"] for band in data["bands"]] == ["不合格", "合格", "良好", "优秀"]


def test_errors_are_tied_to_their_fields_and_listed(form_app: Flask, page_template: str, criminal: Rubric) -> None:
    with form_app.test_request_context(URL, method="POST", data={"rubric_hash": criminal.content_hash,
                                                                 "meetings-points": "99", "outcome-veto": "y"}):
        form = review_form_class(criminal)()
        assert not form.validate()
        html = render_template_string(page_template, form=form, case_type="criminal", lang="en", readonly=False)
    page = Page(html)
    points = page.find("input", name="meetings-points")[0]
    assert points["aria-invalid"] == "true"
    assert points["aria-describedby"] == "meetings-points-errors"
    assert "meetings-points-errors" in page.ids
    summary = page.find("div", role="alert")
    assert summary
    assert page.find("a", href="#meetings-points")
    assert "is not a veto item" in html


def test_rubric_text_is_escaped(client: FlaskClient, criminal: Rubric) -> None:
    data = criminal.to_dict()
    data["items"][0]["label"]["en"] = "<script>alert(1)</script>"
    data["items"][0]["levels"]["A"]["en"] = "<b>bold</b>"
    hostile = Rubric.from_dict(data)
    client.application.config["RUBRICS"] = {"criminal": hostile}
    html = client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_read_only_view_disables_every_control(client: FlaskClient) -> None:
    html = client.get(URL, query_string={"lang": "en", "readonly": "1"}).get_data(as_text=True)
    page = Page(html)
    group = page.find("fieldset", **{"class": "rubric-items"})[0]
    assert "disabled" in group
    assert not page.find("input", type="submit")


def test_each_rubric_version_renders_its_own_texts(client: FlaskClient, criminal: Rubric) -> None:
    """The escaped texts are built once per content hash and language: a revision never shows stale ones."""
    client.get(URL, query_string={"lang": "en"})
    client.get(URL, query_string={"lang": "zh_Hans"})
    data = criminal.to_dict()
    data["items"][0]["label"] = {"zh": "修订后的标签", "en": "Revised label"}
    data["items"][0]["levels"]["A"]["en"] = "Revised descriptor"
    revised = Rubric.from_dict(data)
    assert revised.key == criminal.key
    assert revised.content_hash != criminal.content_hash
    client.application.config["RUBRICS"] = {"criminal": revised}
    en = client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
    zh = client.get(URL, query_string={"lang": "zh_Hans"}).get_data(as_text=True)
    assert "Revised label" in en
    assert "Revised descriptor" in en
    assert "修订后的标签" in zh
    assert "Revised label" not in zh
    assert criminal.items[0].label.en not in en
    client.application.config["RUBRICS"] = {}
    assert criminal.items[0].label.en in client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
