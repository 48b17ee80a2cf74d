"""Server-side validation through the views, access rules and the redaction promise of reviewer pages."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.params import opaque_id
from evalplat.reviews.models import Review, ReviewItem


def _count_reviews(db: Any) -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Review)),
            db.session.scalar(sa.select(sa.func.count()).select_from(ReviewItem)))


@pytest.mark.parametrize("case", ["out_of_range", "missing_comment", "forged_veto", "wrong_hash"])
def test_invalid_submission_names_the_problem_and_changes_nothing(case: str, client: Any, login: Any, scene: Any,
                                                                  db: Any, rubric_of_scene: Any, seed: Any) -> None:
    assignment = scene.assignments[0]
    rubric = rubric_of_scene(assignment)
    data = seed.full_marks_form(rubric) | {"submit_review": "1"}
    plain = next(i for i in rubric.items if not i.veto)
    if case == "out_of_range":
        data[f"{plain.code}-points"] = str(plain.max_points + 5)
        expected = "between 0 and"
    elif case == "missing_comment":
        data[f"{plain.code}-level"] = "D"
        data[f"{plain.code}-points"] = "0"
        expected = "a comment is required for level D"
    elif case == "forged_veto":
        data[f"{plain.code}-veto"] = "y"
        expected = "is not a veto item"
    else:
        data["rubric_hash"] = "0" * 64
        expected = "another version of the rubric"
    scene.reviewers[0].locale = "en"
    db.session.commit()
    login(client, scene.reviewers[0])
    response = client.post(f"/reviews/{opaque_id(assignment.id)}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "rubric-error-summary" in html
    assert expected in html
    assert _count_reviews(db) == (0, 0)


def test_submit_without_the_ticked_confirmation_box_stores_nothing_and_says_why(
        client: Any, login: Any, scene: Any, db: Any, rubric_of_scene: Any, seed: Any) -> None:
    assignment = scene.assignments[0]
    data = seed.full_marks_form(rubric_of_scene(assignment)) | {"submit_review": "1"}
    del data["confirmed"]
    scene.reviewers[0].locale = "en"
    db.session.commit()
    login(client, scene.reviewers[0])
    page = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
    assert "Submitting locks the review" in page
    response = client.post(f"/reviews/{opaque_id(assignment.id)}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was submitted: tick the box to confirm." in html
    assert _count_reviews(db) == (0, 0)
    assert client.post(f"/reviews/{opaque_id(assignment.id)}", data=data | {"confirmed": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(Review.state)) == "submitted"


def test_reviewer_cannot_open_or_post_to_another_reviewers_assignment(client: Any, login: Any, scene: Any,
                                                                      db: Any, rubric_of_scene: Any,
                                                                      seed: Any) -> None:
    mine, theirs = scene.assignments
    login(client, scene.reviewers[0])
    assert client.get(f"/reviews/{opaque_id(theirs.id)}").status_code == 404
    assert client.get("/reviews/999999").status_code == 404
    data = seed.full_marks_form(rubric_of_scene(theirs)) | {"submit_review": "1"}
    assert client.post(f"/reviews/{opaque_id(theirs.id)}", data=data).status_code == 404
    assert client.post(f"/reviews/{opaque_id(theirs.id)}/accept").status_code == 404
    assert client.post(f"/reviews/{opaque_id(theirs.id)}/decline", data={"reason": "x"}).status_code == 404
    assert _count_reviews(db) == (0, 0)


def test_organiser_and_agency_staff_cannot_enter_the_workspace(client: Any, login: Any, scene: Any,
                                                               make_user: Any) -> None:
    from evalplat.accounts.models import Role

    login(client, scene.organiser)
    assert client.get(f"/reviews/{opaque_id(scene.assignments[0].id)}").status_code == 403
    client.post("/logout")
    login(client, make_user(Role.AGENCY_STAFF))
    assert client.get("/reviews/").status_code == 403
    assert client.get("/rubrics/").status_code == 403


def test_no_other_reviewers_scores_before_submitting(client: Any, login: Any, scene: Any, db: Any,
                                                     rubric_of_scene: Any, seed: Any) -> None:
    first, second = scene.assignments
    rubric = rubric_of_scene(first)
    item = rubric.items[0]
    data = seed.full_marks_form(rubric) | {"submit_review": "1"}
    data[f"{item.code}-level"] = "D"
    data[f"{item.code}-points"] = "0"
    data[f"{item.code}-comment"] = "独特的评语-第一位评审员"
    login(client, scene.reviewers[0])
    assert client.post(f"/reviews/{opaque_id(first.id)}", data=data).status_code == 302
    client.post("/logout")
    login(client, scene.reviewers[1])
    html = client.get(f"/reviews/{opaque_id(second.id)}").get_data(as_text=True)
    assert "独特的评语-第一位评审员" not in html
    assert "calibration-title" not in html
    submitted = db.session.scalar(sa.select(Review.total).where(Review.assignment_id == first.id))
    from evalplat.reviews.queries import format_total

    assert f"Total {format_total(submitted)}" not in html
    assert f"总分 {format_total(submitted)}" not in html


def test_reviewer_pages_never_contain_unredacted_data(client: Any, login: Any, scene: Any, seed: Any) -> None:
    assignment = scene.assignments[0]
    login(client, scene.reviewers[0])
    pages = [client.get("/reviews/").get_data(as_text=True),
             client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)]
    case_page = pages[1]
    assert "【当事人A】" in case_page  # the approved redacted text is shown
    assert case_page.count('class="document"') == 2  # the unapproved document is not
    for html in pages:
        for secret in (seed.CLIENT_NAME, seed.CLIENT_ID, seed.CLIENT_PHONE, seed.CASE_NUMBER, seed.LAWYER_NAME,
                       seed.FIRM_NAME, seed.AGENCY_NAME, "江门", "被害人张某某"):
            assert secret not in html, secret


def test_case_page_shows_facts_intervals_and_contents(client: Any, login: Any, scene: Any, db: Any) -> None:
    scene.reviewers[0].locale = "en"
    db.session.commit()
    login(client, scene.reviewers[0])
    html = client.get(f"/reviews/{opaque_id(scene.assignments[0].id)}").get_data(as_text=True)
    assert "盗窃罪" in html
    assert "审查起诉、一审" in html
    assert "2024-03-05" in html
    assert 'class="toc card"' in html
    assert 'href="#doc-' in html
    assert 'class="split"' in html
    assert 'class="sticky scoring"' in html
    assert "<dt>Assignment to first meeting</dt><dd>4 days</dd>" in html  # 1 March to 5 March
