"""The reviewer's path through the views: inbox, case page, accept, decline, draft, submit, locked."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.assignments.models import Assignment, AssignmentState, Conflict
from evalplat.audit.models import AuditEvent
from evalplat.params import opaque_id
from evalplat.reviews.models import Review, ReviewItem, ReviewState, RubricVersion


def _review(db: Any, assignment: Any) -> Review | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment.id))


def test_inbox_lists_own_assignment_with_code_status_and_count(client: Any, login: Any, scene: Any,
                                                              count_queries: Any) -> None:
    login(client, scene.reviewers[0])
    with count_queries() as q:
        page = client.get("/reviews/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert scene.sample.code in html
    assert "data-left>1<" in html
    assert "badge-to_score" in html
    assert q.count <= 6  # session user, profile, the inbox select (no N+1)


def test_inbox_is_one_query_whatever_the_number_of_assignments(make_scene: Any, db: Any,
                                                                 count_queries: Any) -> None:
    from evalplat.db import utcnow
    from evalplat.reviews.queries import inbox

    scene = make_scene(reviewers=1)
    profile = scene.reviewers[0].reviewer_profile
    for _ in range(4):  # four more cases offered to the same reviewer
        other = make_scene(reviewers=1)
        other.assignments[0].reviewer_id = profile.id
    db.session.commit()
    assert profile.id  # loaded before counting
    with count_queries() as q:
        rows = inbox(db.session, profile, now=utcnow())
    assert len(rows) == 5
    assert q.count == 1


def test_draft_then_submit_locks_review_with_server_total(client: Any, login: Any, scene: Any, db: Any,
                                                          rubric_of_scene: Any, seed: Any) -> None:
    assignment = scene.assignments[0]
    rubric = rubric_of_scene(assignment)
    login(client, scene.reviewers[0])
    first = rubric.items[0]
    draft = {"rubric_hash": rubric.content_hash, f"{first.code}-level": "A",
             f"{first.code}-points": str(first.max_points), "save_draft": "1"}
    assert client.post(f"/reviews/{opaque_id(assignment.id)}", data=draft).status_code == 302
    review = _review(db, assignment)
    assert review is not None
    assert review.state == ReviewState.DRAFT
    assert review.total is None
    assert db.session.get(RubricVersion, review.rubric_version_id).frozen
    page = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
    assert f'value="{first.max_points}"' in page  # the draft is resumed

    data = seed.full_marks_form(rubric)
    second = rubric.items[1]
    data[f"{second.code}-level"] = "B"
    data[f"{second.code}-points"] = str(second.level("B").high)
    data["submit_review"] = "1"
    assert client.post(f"/reviews/{opaque_id(assignment.id)}", data=data).status_code == 302
    review = _review(db, assignment)
    expected = rubric.evaluate({i.code: (second.level("B").high if i is second else i.max_points)
                                for i in rubric.items})
    assert review.state == ReviewState.SUBMITTED
    assert review.total == expected.total
    assert review.grade == expected.grade
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.SUBMITTED
    items = db.session.scalars(sa.select(ReviewItem).where(ReviewItem.review_id == review.id)).all()
    assert len(items) == len(rubric.items)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "review.submitted")) == 1

    locked = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
    assert "data-locked" in locked
    assert "<fieldset class=\"rubric-items\" disabled>" in locked
    again = dict(data)
    again[f"{first.code}-points"] = "0"
    again[f"{first.code}-level"] = "D"
    again[f"{first.code}-comment"] = "改分"
    response = client.post(f"/reviews/{opaque_id(assignment.id)}", data=again, headers={"Referer": f"/reviews/{opaque_id(assignment.id)}"})
    assert response.status_code in (302, 409)
    after = _review(db, assignment)
    assert after.total == expected.total
    assert after.version == review.version
    item = db.session.scalar(sa.select(ReviewItem).where(ReviewItem.review_id == review.id,
                                                         ReviewItem.item_code == first.code))
    assert item.points == first.max_points


def test_offered_assignment_must_be_accepted_before_scoring(client: Any, login: Any, make_scene: Any, db: Any,
                                                            rubric_of_scene: Any, seed: Any) -> None:
    scene = make_scene(state=AssignmentState.OFFERED)
    assignment = scene.assignments[0]
    login(client, scene.reviewers[0])
    page = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
    assert "rubric-items" not in page
    assert f"/reviews/{opaque_id(assignment.id)}/accept" in page
    data = seed.full_marks_form(rubric_of_scene(assignment)) | {"save_draft": "1"}
    client.post(f"/reviews/{opaque_id(assignment.id)}", data=data)
    assert _review(db, assignment) is None
    assert client.post(f"/reviews/{opaque_id(assignment.id)}/accept").status_code == 302
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.ACCEPTED
    assert "rubric-items" in client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)


def test_decline_with_conflict_records_conflict_and_reason(client: Any, login: Any, make_scene: Any,
                                                           db: Any) -> None:
    scene = make_scene(state=AssignmentState.OFFERED)
    assignment = scene.assignments[0]
    login(client, scene.reviewers[0])
    empty = client.post(f"/reviews/{opaque_id(assignment.id)}/decline", data={"reason": "  "})
    assert empty.status_code == 422
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.OFFERED
    response = client.post(f"/reviews/{opaque_id(assignment.id)}/decline",
                           data={"reason": "我曾代理该案对方当事人", "conflict": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    declined = db.session.get(Assignment, assignment.id)
    assert declined.state == AssignmentState.DECLINED
    assert declined.conflict_declared
    assert declined.decline_reason == "我曾代理该案对方当事人"
    conflict = db.session.scalar(sa.select(Conflict).where(Conflict.case_id == scene.case.id))
    assert conflict is not None
    assert conflict.reviewer_id == assignment.reviewer_id
    assert f">{scene.sample.code}</a>" not in client.get("/reviews/").get_data(as_text=True)
