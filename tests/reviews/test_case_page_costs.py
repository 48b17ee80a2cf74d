"""The reviewer's two frequent requests stay cheap and complete: the case page and the draft save.

A draft save writes only the items that changed, yet the stored items always equal what was posted; the
case page and the save take a bounded number of queries whatever the rubric's size; the audit chain holds.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.audit.operations import verify_chain
from evalplat.params import opaque_id
from evalplat.reviews.models import Review, ReviewItem


def _stored(db: Any, assignment: Any) -> tuple[Review, dict[str, ReviewItem]]:
    db.session.expire_all()
    review = db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment.id))
    assert review is not None
    items = db.session.scalars(sa.select(ReviewItem).where(ReviewItem.review_id == review.id)).all()
    return review, {item.item_code: item for item in items}


def _points_shown(page: str, code: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{code}-points"[^>]*>', page)
    assert tag is not None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def _draft(rubric: Any, filled: dict[str, tuple[str, Any, str]]) -> dict[str, str]:
    data = {"rubric_hash": rubric.content_hash, "save_draft": "1"}
    for code, (level, points, comment) in filled.items():
        data |= {f"{code}-level": level, f"{code}-points": str(points), f"{code}-comment": comment}
    return data


def test_draft_saves_store_exactly_what_was_posted_rewriting_only_changed_items(
        client: Any, login: Any, scene: Any, db: Any, rubric_of_scene: Any) -> None:
    assignment = scene.assignments[0]
    rubric = rubric_of_scene(assignment)
    one, two, three, four = rubric.items[:4]
    login(client, scene.reviewers[0])
    url = f"/reviews/{opaque_id(assignment.id)}"

    first = {one.code: ("A", one.max_points, ""), two.code: ("B", two.level("B").high, "尚可"),
             three.code: ("A", three.max_points, "")}
    assert client.post(url, data=_draft(rubric, first)).status_code == 302
    review, items = _stored(db, assignment)
    assert {code: (i.level, i.points, i.comment) for code, i in items.items()} == first
    version, ids = review.version, {code: i.id for code, i in items.items()}

    # Same draft again: nothing to rewrite, but the save is still a save (version, time, audit event).
    assert client.post(url, data=_draft(rubric, first)).status_code == 302
    review, items = _stored(db, assignment)
    assert review.version == version + 1
    assert {code: i.id for code, i in items.items()} == ids

    # One item changed, one emptied, one new, one untouched.
    second = {one.code: ("A", one.max_points, ""), two.code: ("C", two.level("C").high, "论证不足"),
              four.code: ("D", 0, "未会见")}
    assert client.post(url, data=_draft(rubric, second)).status_code == 302
    review, items = _stored(db, assignment)
    assert {code: (i.level, i.points, i.comment) for code, i in items.items()} == second
    assert items[one.code].id == ids[one.code]  # unchanged row kept
    assert review.version == version + 2

    page = client.get(url).get_data(as_text=True)
    assert "论证不足" in page
    assert "未会见" in page
    assert _points_shown(page, two.code) == str(two.level("C").high)
    assert _points_shown(page, three.code) == ""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "review.draft_saved")) == 3
    assert verify_chain(db.session) == []


def test_case_page_and_draft_save_take_a_few_queries(client: Any, login: Any, scene: Any, rubric_of_scene: Any,
                                                       count_queries: Any) -> None:
    assignment = scene.assignments[0]
    rubric = rubric_of_scene(assignment)
    login(client, scene.reviewers[0])
    url = f"/reviews/{opaque_id(assignment.id)}"
    filled = {item.code: ("A", item.max_points, "") for item in rubric.items[:3]}
    assert client.post(url, data=_draft(rubric, filled)).status_code == 302  # the review exists from here
    client.get(url)  # the rubric is cached from here
    with count_queries() as page:
        assert client.get(url).status_code == 200
    with count_queries() as save:
        assert client.post(url, data=_draft(rubric, filled)).status_code == 302
    # page: the session's user; the assignment with sample, case facts, review, rubric version and items;
    # the approved documents
    assert page.count <= 3, page.statements
    # save: user; assignment with everything; the review's version bump; the audit event (lock, chain
    # head, insert)
    assert save.count <= 6, save.statements


def _label_of_first_item(page: str) -> str:
    match = re.search(r'<span class="rubric-item-number">1\.</span> ([^<]*)', page)
    assert match is not None
    return match.group(1).strip()


def _hash_shown(page: str) -> str:
    match = re.search(r'<input id="rubric_hash" name="rubric_hash" type="hidden" value="([0-9a-f]+)"', page)
    assert match is not None
    return match.group(1)


def test_case_page_follows_a_revised_rubric_and_a_review_keeps_its_version(
        client: Any, login: Any, scene: Any, db: Any) -> None:
    import yaml

    from evalplat.reviews.models import RubricVersion

    assignment = scene.assignments[0]
    url = f"/reviews/{opaque_id(assignment.id)}"
    row = db.session.scalar(sa.select(RubricVersion).where(RubricVersion.key == "criminal")
                            .order_by(RubricVersion.version.desc()))
    version_id, label = row.id, row.definition["items"][0]["label"]["zh"]

    def edit(new_label: str, *, new_version: bool) -> None:
        db.session.expire_all()
        base = db.session.get(RubricVersion, version_id)
        data = dict(base.definition)
        data["items"] = [dict(i) for i in data["items"]]
        data["items"][0]["label"] = {"zh": new_label, "en": "Edited"}
        login(client, scene.organiser)
        assert client.post(f"/rubrics/{version_id}/edit", data={
            "definition": yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
            "new_version": "y" if new_version else ""}).status_code == 302
        client.post("/logout")

    login(client, scene.reviewers[0])
    before = client.get(url).get_data(as_text=True)  # the rendered rubric is cached from here
    assert _label_of_first_item(before) == label
    client.post("/logout")

    edit("就地修订的评分项", new_version=False)  # no review uses the version yet: revised in place
    db.session.expire_all()
    revised = db.session.get(RubricVersion, version_id)
    login(client, scene.reviewers[0])
    page = client.get(url).get_data(as_text=True)
    assert _label_of_first_item(page) == "就地修订的评分项"
    assert _hash_shown(page) == revised.content_hash != _hash_shown(before)

    rubric_hash = revised.content_hash
    assert client.post(url, data=_draft_from_page(page, rubric_hash)).status_code == 302  # freezes the version
    client.post("/logout")
    edit("第三版的评分项", new_version=True)
    login(client, scene.reviewers[0])
    page = client.get(url).get_data(as_text=True)
    assert _label_of_first_item(page) == "就地修订的评分项"  # the review stays on its version
    assert _hash_shown(page) == rubric_hash


def _draft_from_page(page: str, rubric_hash: str) -> dict[str, str]:
    code = re.search(r'data-item="([^"]+)"', page)
    assert code is not None
    return {"rubric_hash": rubric_hash, "save_draft": "1", f"{code.group(1)}-level": "A"}


def test_case_page_shows_the_documents_as_currently_approved(client: Any, login: Any, scene: Any, db: Any,
                                                              seed: Any) -> None:
    from evalplat.cases.models import Document, Redaction, RedactionStatus

    url = f"/reviews/{opaque_id(scene.assignments[0].id)}"
    login(client, scene.reviewers[0])
    assert "会见笔录正文。" in client.get(url).get_data(as_text=True)
    document = db.session.scalar(sa.select(Document).where(Document.case_id == scene.case.id,
                                                           Document.redacted_text.contains("会见笔录正文")))
    redaction = db.session.scalar(sa.select(Redaction).where(Redaction.document_id == document.id))
    redaction.status = RedactionStatus.PENDING  # the redaction is being changed
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "会见笔录正文。" not in page
    document.redacted_text = seed.REDACTED + "\n修订后的会见笔录。"
    redaction.status = RedactionStatus.APPROVED
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "修订后的会见笔录。" in page
    assert "会见笔录正文。" not in page
    assert seed.CLIENT_NAME not in page
