"""The review form: server-side validation in draft and submit mode, CSRF, and the scores it yields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms.review import ItemEntry, initial_data, localized, review_form_class
from forms.rubrics import Rubric, Text

URL = "/review/criminal"
Post = dict[str, str]


def post(client: FlaskClient, data: Post, *, mode: str | None = None, lang: str = "en") -> tuple[int, Any]:
    query = {"lang": lang, **({"mode": mode} if mode else {})}
    response = client.post(URL, data=data, query_string=query)
    return response.status_code, response.get_json()


def errors_of(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [tuple(e) for e in body["errors"]]


def test_a_complete_submission_yields_points_vetoes_and_entries(client: FlaskClient, criminal: Rubric,
                                                                full_marks: Callable[[Rubric], Post]) -> None:
    data = full_marks(criminal)
    data.update({"court-na": "y", "court-level": "", "court-points": "", "court-comment": "案件未开庭，撤回起诉。",
                 "meetings-level": "D", "meetings-points": "3", "meetings-comment": "仅开庭当日会见一次。",
                 "commission-veto": "y", "commission-comment": "卷内有收取受援人“辛苦费”500元的收条。"})
    status, body = post(client, data)
    assert status == 200, body
    assert body["mode"] == "submit"
    assert body["complete"] is True
    assert body["points"]["court"] is None
    assert body["points"]["meetings"] == 3
    assert body["vetoes"] == ["commission"]
    assert body["entries"]["meetings"]["level"] == "D"
    assert body["entries"]["court"]["not_applicable"] is True
    assert body["entries"]["court"]["level"] is None
    result = criminal.evaluate(body["points"], body["vetoes"])
    assert result.grade == "fail"
    assert result.applicable_max == 85


def _set(**values: str) -> Callable[[Post], None]:
    def change(data: Post) -> None:
        for key, value in values.items():
            data[key.replace("__", "-")] = value
    return change


def _drop(*keys: str) -> Callable[[Post], None]:
    def change(data: Post) -> None:
        for key in keys:
            data.pop(key, None)
    return change


INVALID: list[tuple[str, Callable[[Post], None], str | None, str]] = [
    ("points above the item maximum", _set(meetings__level="A", meetings__points="16"), "meetings-points",
     "Meetings with the client: the points must be between 0 and 15."),
    ("negative points", _set(outcome__points="-1", outcome__level="D"), "outcome-points",
     "must be between 0 and 10"),
    ("points outside the chosen level", _set(meetings__level="A", meetings__points="12"), "meetings-points",
     "Meetings with the client: 12 points do not fit level A (14–15 points)."),
    ("unknown level", _set(meetings__level="E"), "meetings-level", "'E' is not a level"),
    ("points not a number", _set(outcome__points="nine"), "outcome-points", "the points must be a number"),
    ("points NaN", _set(outcome__points="NaN"), "outcome-points", "the points must be a number"),
    ("points infinite", _set(outcome__points="Infinity"), "outcome-points", "the points must be a number"),
    ("points off the step", _set(outcome__points="8.5", outcome__level="B"), "outcome-points",
     "a multiple of 1"),
    ("level D without comment", _set(closing__level="D", closing__points="2"), "closing-comment",
     "Closing and archiving: a comment is required for level D."),
    ("N/A without comment", _set(court__na="y", court__level="", court__points=""), "court-comment",
     "Court performance: explain in a comment why it does not apply."),
    ("veto without comment", _set(court__veto="y"), "court-comment",
     "Court performance: a comment is required when the veto is triggered."),
    ("N/A with points", _set(court__na="y", court__comment="未开庭"), "court-na",
     "Court performance is marked not applicable, so it takes no level and no points."),
    ("N/A with a veto", _set(court__na="y", court__level="", court__points="", court__comment="未开庭",
                             court__veto="y"), "court-veto", "cannot carry a veto"),
    ("forged veto on a non-veto item", _set(outcome__veto="y"), None,
     "Outcome and adoption of the defence opinions is not a veto item; a veto cannot be recorded on it."),
    ("forged N/A on an item that must be scored", _set(defence_opinion__na="y"), None,
     "Written defence opinion cannot be marked not applicable."),
    ("unknown item", _set(bonus__points="5"), None, "Unknown item 'bonus'."),
    ("unknown field of an item", _set(meetings__weight="2"), None, "Unknown field 'meetings-weight'"),
    ("unknown field", _set(total="100"), None, "Unknown field 'total'."),
    ("another rubric version", _set(rubric_hash="0" * 64), None, "another version of the rubric"),
    ("no rubric version", _drop("rubric_hash"), None, "another version of the rubric"),
    ("missing level in submit", _drop("closing-level"), "closing-level", "Closing and archiving: choose a level."),
    ("missing points in submit", _drop("closing-points"), "closing-points", "Closing and archiving: enter the points."),
]


@pytest.mark.parametrize(("change", "field", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_submission_is_refused_with_a_message_naming_the_item(
        client: FlaskClient, criminal: Rubric, full_marks: Callable[[Rubric], Post],
        change: Callable[[Post], None], field: str | None, message: str) -> None:
    data = full_marks(criminal)
    change(data)
    status, body = post(client, data)
    assert status == 422
    assert "points" not in body
    assert any(f == field and message in text for f, text in errors_of(body)), body["errors"]


def test_messages_follow_the_locale(client: FlaskClient, criminal: Rubric, full_marks: Callable[[Rubric], Post]) -> None:
    data = full_marks(criminal)
    data.update({"closing-level": "D", "closing-points": "2"})
    _, body = post(client, data, lang="zh")
    texts = [text for _f, text in errors_of(body)]
    assert any(text.startswith("结案与归档") for text in texts), texts


def test_draft_accepts_a_partial_review_without_comments(client: FlaskClient, criminal: Rubric) -> None:
    data = {"rubric_hash": criminal.content_hash, "save_draft": "Save draft",
            "meetings-level": "D", "meetings-points": "5", "court-na": "y", "court-veto": ""}
    data.pop("court-veto")
    status, body = post(client, data)
    assert status == 200, body
    assert body["mode"] == "draft"
    assert body["complete"] is False
    assert body["points"] == {"meetings": 5, "court": None}
    assert body["entries"]["outcome"] == {"code": "outcome", "level": None, "points": None, "not_applicable": False,
                                          "veto": False, "comment": ""}


def test_draft_still_checks_ranges_levels_and_forged_fields(client: FlaskClient, criminal: Rubric) -> None:
    base = {"rubric_hash": criminal.content_hash, "save_draft": "Save draft"}
    for extra, expected in [({"meetings-points": "40"}, "between 0 and 15"),
                            ({"meetings-level": "A", "meetings-points": "9"}, "do not fit level A"),
                            ({"outcome-veto": "y"}, "not a veto item")]:
        status, body = post(client, {**base, **extra})
        assert status == 422
        assert any(expected in text for _f, text in errors_of(body)), body


def test_level_alone_is_a_valid_draft(client: FlaskClient, criminal: Rubric) -> None:
    status, body = post(client, {"rubric_hash": criminal.content_hash, "meetings-level": "B"})
    assert status == 200
    assert body["entries"]["meetings"]["level"] == "B"
    assert "meetings" not in body["points"]


def test_submit_mode_can_be_forced_by_the_view(client: FlaskClient, criminal: Rubric) -> None:
    status, body = post(client, {"rubric_hash": criminal.content_hash, "save_draft": "Save draft"}, mode="submit")
    assert status == 422
    assert body["mode"] == "submit"
    assert len([e for e in errors_of(body) if e[1].endswith("choose a level.")]) == len(criminal.items)


def test_full_width_digits_and_comma_decimals_are_read(client: FlaskClient, criminal: Rubric,
                                                       full_marks: Callable[[Rubric], Post]) -> None:
    data = full_marks(criminal)
    data.update({"meetings-level": "B", "meetings-points": "１２"})
    status, body = post(client, data)
    assert status == 200, body
    assert body["points"]["meetings"] == 12


def test_scores_refuse_an_unvalidated_form(form_app: Flask, criminal: Rubric) -> None:
    with form_app.test_request_context("/", method="POST", data={"meetings-points": "99"}):
        form = review_form_class(criminal)()
        assert form.validate() is False
        with pytest.raises(RuntimeError, match="validate"):
            form.scores()


def test_mode_must_be_draft_or_submit(form_app: Flask, criminal: Rubric) -> None:
    with form_app.test_request_context("/"), pytest.raises(ValueError, match="mode"):
        review_form_class(criminal)(mode="final")


def test_form_class_is_built_once_per_rubric(rubrics: dict[str, Rubric]) -> None:
    assert review_form_class(rubrics["civil"]) is review_form_class(rubrics["administrative"])
    assert review_form_class(rubrics["civil"]) is not review_form_class(rubrics["criminal"])
    non_litigation = review_form_class(rubrics["non_litigation"])
    assert hasattr(non_litigation, "negotiation")
    assert not hasattr(non_litigation, "meetings")


def test_saved_draft_is_shown_again_and_posts_back_the_same(form_app: Flask, client: FlaskClient,
                                                             criminal: Rubric) -> None:
    entries = [ItemEntry("meetings", "C", 9, False, False, "会见笔录过于简单"),
               ItemEntry("court", None, None, True, False, "未开庭"),
               ItemEntry("commission", "A", 5, False, True, "收取礼品")]
    with form_app.test_request_context("/review/criminal"):
        form = review_form_class(criminal)(data=initial_data(entries))
        assert form.meetings.form.level.data == "C"
        assert form.meetings.form.points.data == "9"
        assert form.court.form.na.data is True
        assert form.commission.form.veto.data is True
        assert form.rubric_hash.data == criminal.content_hash
    data = {"rubric_hash": criminal.content_hash, "meetings-level": "C", "meetings-points": "9",
            "meetings-comment": "会见笔录过于简单", "court-na": "y", "court-comment": "未开庭",
            "commission-level": "A", "commission-points": "5", "commission-veto": "y", "commission-comment": "收取礼品"}
    status, body = post(client, data)
    assert status == 200, body
    assert {code: ItemEntry(**body["entries"][code]) for code in ("meetings", "court", "commission")} == \
        {entry.code: entry for entry in entries}


def test_localized_picks_the_language() -> None:
    text = Text("会见受援人", "Meetings with the client")
    assert localized(text, "zh_Hans") == "会见受援人"
    assert localized(text, "en") == "Meetings with the client"
    assert localized(None) == ""


def test_post_without_csrf_token_fails_when_csrf_is_on(csrf_app: Flask, criminal: Rubric,
                                                       full_marks: Callable[[Rubric], Post]) -> None:
    with csrf_app.test_client() as client:
        status, body = post(client, full_marks(criminal))
        assert status == 422
        assert any(field == "csrf_token" for field, _text in errors_of(body)), body
        page = client.get(URL, query_string={"lang": "en"}).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        status, body = post(client, {**full_marks(criminal), "csrf_token": token.group(1)})
        assert status == 200, body


def test_wtforms_messages_follow_the_locale_as_flask_wtf_gives_them(form_app: Flask, criminal: Rubric) -> None:
    """The review form reads WTForms' catalogue once per locale; its messages are Flask-WTF's own."""
    from flask_wtf.i18n import translations as flask_wtf_translations

    seen = set()
    for lang in ("zh_Hans", "en", "zh_Hans"):
        with form_app.test_request_context(f"/review/criminal?lang={lang}"):
            form = review_form_class(criminal)()
            for message in ("Not a valid choice.", "This field is required.", "Invalid Email address."):
                assert form.rubric_hash.gettext(message) == flask_wtf_translations.gettext(message)
            seen.add(form.rubric_hash.gettext("This field is required."))
    assert len(seen) == 2  # Chinese and English
