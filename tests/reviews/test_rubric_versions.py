"""Rubric versions: freezing, editing into new versions, validation by item, preview, pins."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from evalplat.errors import InvalidTransition
from evalplat.params import opaque_id
from evalplat.reviews.models import Review, RubricVersion


def _criminal(db: Any) -> RubricVersion:
    return db.session.scalar(sa.select(RubricVersion).where(RubricVersion.key == "criminal")
                             .order_by(RubricVersion.version.desc()))


def _edited(row: RubricVersion, label: str) -> str:
    data = dict(row.definition)
    items = [dict(i) for i in data["items"]]
    items[0]["label"] = {"zh": label, "en": "Edited label"}
    data["items"] = items
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _submit_one(client: Any, login: Any, scene: Any, seed: Any, rubric: Any) -> None:
    login(client, scene.reviewers[0])
    data = seed.full_marks_form(rubric) | {"save_draft": "1"}
    assert client.post(f"/reviews/{opaque_id(scene.assignments[0].id)}", data=data).status_code == 302
    client.post("/logout")


def test_first_draft_freezes_the_version_and_the_guard_refuses_changes(client: Any, login: Any, scene: Any,
                                                                        db: Any, seed: Any,
                                                                        rubric_of_scene: Any) -> None:
    row = _criminal(db)
    assert not row.frozen
    _submit_one(client, login, scene, seed, rubric_of_scene(scene.assignments[0]))
    db.session.expire_all()
    row = _criminal(db)
    assert row.frozen
    row.definition = {**row.definition, "title": {"zh": "改", "en": "changed"}}
    with pytest.raises(InvalidTransition):
        db.session.flush()
    db.session.rollback()


def test_editing_a_used_version_makes_a_new_version_and_leaves_it_unchanged(client: Any, login: Any, scene: Any,
                                                                             db: Any, seed: Any,
                                                                             rubric_of_scene: Any) -> None:
    _submit_one(client, login, scene, seed, rubric_of_scene(scene.assignments[0]))
    row = _criminal(db)
    old_hash, old_number = row.content_hash, row.version
    login(client, scene.organiser)
    response = client.post(f"/rubrics/{row.id}/edit", data={"definition": _edited(row, "修改后的评分项"),
                                                              "new_version": ""})
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(sa.select(RubricVersion).where(RubricVersion.key == "criminal")
                              .order_by(RubricVersion.version)).all()
    assert [r.version for r in rows] == [old_number, old_number + 1]
    assert rows[0].content_hash == old_hash
    assert rows[1].definition["items"][0]["label"]["zh"] == "修改后的评分项"
    assert rows[1].definition["version"] == str(old_number + 1)
    assert not rows[1].frozen
    review = db.session.scalar(sa.select(Review))
    assert review.rubric_version_id == rows[0].id  # the review keeps its version
    page = client.get(f"/reviews/{opaque_id(scene.assignments[0].id)}")
    assert page.status_code == 403  # organisers do not enter the workspace


def test_unused_version_can_be_revised_in_place(client: Any, login: Any, scene: Any, db: Any) -> None:
    row = _criminal(db)
    login(client, scene.organiser)
    response = client.post(f"/rubrics/{row.id}/edit", data={"definition": _edited(row, "就地修订")})
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(sa.select(RubricVersion).where(RubricVersion.key == "criminal")).all()
    assert len(rows) == 1
    assert rows[0].definition["items"][0]["label"]["zh"] == "就地修订"


def test_invalid_definition_lists_problems_by_item_and_stores_nothing(client: Any, login: Any, scene: Any,
                                                                      db: Any) -> None:
    row = _criminal(db)
    data = dict(row.definition)
    items = [dict(i) for i in data["items"]]
    items[1]["max_points"] = items[1]["max_points"] + 3
    data["items"] = items
    scene.organiser.locale = "en"
    db.session.commit()
    login(client, scene.organiser)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(RubricVersion))
    response = client.post(f"/rubrics/{row.id}/edit", data={"definition": yaml.safe_dump(data, allow_unicode=True)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Item {items[1]['code']}" in html
    assert "must sum to 100" in html
    broken = client.post(f"/rubrics/{row.id}/edit", data={"definition": "key: criminal\nitems: [\n"})
    assert broken.status_code == 422
    assert "line" in broken.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RubricVersion)) == before
    assert _criminal(db).content_hash == row.content_hash


def test_preview_computes_the_total_and_stores_nothing(client: Any, login: Any, scene: Any, db: Any,
                                                       seed: Any) -> None:
    from evalplat.reviews.rubrics import rubric_of

    row = _criminal(db)
    rubric = rubric_of(row)
    login(client, scene.organiser)
    assert "rubric-items" in client.get(f"/rubrics/{row.id}").get_data(as_text=True)
    response = client.post(f"/rubrics/{row.id}", data=seed.full_marks_form(rubric) | {"submit_review": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-preview-total" in html
    assert "100.0" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
    listing = client.get("/rubrics/").get_data(as_text=True)
    assert "criminal" in listing
    assert "non_litigation" in listing


def test_administrative_case_gets_the_civil_administrative_rubric(make_scene: Any, db: Any) -> None:
    from evalplat.reviews.rubrics import rubric_for_assignment

    scene = make_scene(case_type="administrative", reviewers=1)
    row, rubric = rubric_for_assignment(db.session, scene.assignments[0])
    assert "administrative" in rubric.case_types
    assert row.key == rubric.key
