"""Operations: submit hooks in the same transaction, concurrency of two submits, calibration rounds."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import Sample
from evalplat.db import utcnow
from evalplat.errors import ConcurrentChange, InvalidTransition, NotAllowed
from evalplat.params import opaque_id
from evalplat.reviews import operations
from evalplat.reviews.models import CalibrationReference, Review, ReviewState
from forms.review import SUBMIT, ItemEntry, ReviewScores


def _scores(rubric: Any, mode: str = SUBMIT, first_points: Any = None) -> ReviewScores:
    entries = {}
    for n, item in enumerate(rubric.items):
        points = item.max_points if n or first_points is None else first_points
        level = next(lv.code for lv in item.levels if lv.contains(points))
        entries[item.code] = ItemEntry(item.code, level, points, False, False, "评语" if level == "D" else "")
    return ReviewScores(mode=mode, entries=entries, points={c: e.points for c, e in entries.items()}, vetoes=())


def test_submit_hooks_run_in_the_transaction_and_can_veto_it(scene: Any, db: Any, rubric_of_scene: Any) -> None:
    assignment = scene.assignments[0]
    rubric = rubric_of_scene(assignment)
    seen: list[tuple[int, str]] = []

    def hook(session: Session, *, review: Review, actor: Any, now: Any) -> None:
        seen.append((review.assignment_id, review.state.value))
        raise RuntimeError("consolidation failed")

    operations.on_review_submitted(hook)
    try:
        with pytest.raises(RuntimeError):
            operations.submit_review(db.session, assignment=assignment, actor=scene.reviewers[0],
                                     data=_scores(rubric), now=utcnow())
        db.session.rollback()
    finally:
        operations.unregister_submit_hook(hook)
    assert seen == [(assignment.id, "submitted")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.ACCEPTED


def test_submit_twice_is_refused_and_draft_of_others_refused(scene: Any, db: Any, rubric_of_scene: Any) -> None:
    first, second = scene.assignments
    rubric = rubric_of_scene(first)
    operations.submit_review(db.session, assignment=first, actor=scene.reviewers[0], data=_scores(rubric),
                             now=utcnow())
    db.session.commit()
    with pytest.raises(InvalidTransition):
        operations.submit_review(db.session, assignment=first, actor=scene.reviewers[0], data=_scores(rubric),
                                 now=utcnow())
    db.session.rollback()
    with pytest.raises(NotAllowed):
        operations.save_draft(db.session, assignment=second, actor=scene.reviewers[0],
                              data=_scores(rubric, mode="draft"), now=utcnow())


def test_two_simultaneous_submits_exactly_one_wins(app: Any, scene: Any, db: Any, rubric_of_scene: Any) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrency of two submits is tested on PostgreSQL (EVALPLAT_TEST_DATABASE_URL)")
    assignment_id = scene.assignments[0].id
    user_id = scene.reviewers[0].id
    rubric = rubric_of_scene(scene.assignments[0])
    operations.save_draft(db.session, assignment=scene.assignments[0], actor=scene.reviewers[0],
                          data=_scores(rubric, mode="draft"), now=utcnow())
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(points: int) -> None:
        from evalplat.accounts.models import User

        with app.app_context(), Session(db.engine) as session:
            assignment = session.get(Assignment, assignment_id)
            actor = session.get(User, user_id)
            assert assignment is not None
            assert assignment.review is not None
            barrier.wait()
            try:
                operations.submit_review(session, assignment=assignment, actor=actor,
                                         data=_scores(rubric, first_points=points), now=utcnow())
                session.commit()
                outcomes.append(f"won:{points}")
            except ConcurrentChange:
                session.rollback()
                outcomes.append("lost")

    threads = [threading.Thread(target=submit, args=(p,)) for p in (0, rubric.items[0].max_points)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["lost", "won"]
    db.session.expire_all()
    review = db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment_id))
    winner = int(next(o for o in outcomes if o.startswith("won")).split(":")[1])
    expected = rubric.evaluate(_scores(rubric, first_points=winner).points)
    assert review.state == ReviewState.SUBMITTED
    assert review.total == expected.total


def test_calibration_round_compares_with_group_and_reference(client: Any, login: Any, make_scene: Any, db: Any,
                                                             make_case: Any, seed: Any) -> None:
    scene = make_scene(reviewers=3)
    for a in scene.assignments:  # these reviewers will score the training case instead
        a.state = AssignmentState.WITHDRAWN
    training_case = make_case(case_type="criminal", first_meeting_on=date(2024, 3, 2))
    db.session.commit()
    login(client, scene.organiser)
    response = client.post(f"/calibration/{scene.campaign.id}",
                           data={"case_ids": f"{training_case.id}", "due_on": "2030-01-31"})
    assert response.status_code == 302
    sample = db.session.scalar(sa.select(Sample).where(Sample.case_id == training_case.id))
    assert sample.is_training
    assert sample.code.endswith("-T001")
    calib = db.session.scalars(sa.select(Assignment).where(Assignment.sample_id == sample.id)).all()
    assert {a.reviewer_id for a in calib} == {a.reviewer_id for a in scene.assignments}
    assert {a.round for a in calib} == {AssignmentRound.CALIBRATION}
    from evalplat.reviews.rubrics import rubric_of, version_for_sample

    rubric = rubric_of(version_for_sample(db.session, sample.id))
    reference = seed.full_marks_form(rubric) | {"submit_review": "1"}
    assert client.post(f"/calibration/samples/{sample.id}/reference", data=reference).status_code == 302
    assert db.session.scalar(sa.select(CalibrationReference.total)) == 100.0
    client.post("/logout")
    first_item = rubric.items[0]
    by_reviewer = {a.reviewer_id: a for a in calib}
    given = []
    for n, user in enumerate(scene.reviewers):
        assignment = by_reviewer[user.reviewer_profile.id]
        login(client, user)
        assert client.post(f"/reviews/{opaque_id(assignment.id)}/accept").status_code == 302
        page = client.get(f"/reviews/{opaque_id(assignment.id)}").get_data(as_text=True)
        assert "calibration-title" not in page  # nothing of the group before submitting
        points = first_item.max_points - n
        given.append(points)
        data = seed.full_marks_form(rubric) | {"submit_review": "1", f"{first_item.code}-points": str(points),
                                               f"{first_item.code}-level": next(
                                                   lv.code for lv in first_item.levels if lv.contains(points))}
        assert client.post(f"/reviews/{opaque_id(assignment.id)}", data=data).status_code == 302
        client.post("/logout")
    login(client, scene.reviewers[0])
    page = client.get(f"/reviews/{opaque_id(by_reviewer[scene.reviewers[0].reviewer_profile.id].id)}").get_data(as_text=True)
    assert "calibration-title" in page
    mean = sum(given) / len(given)
    assert f"{mean:.1f} <small>(n=3)</small>" in page


def test_organiser_picks_training_cases_by_search_not_by_typed_id(client: Any, login: Any, make_scene: Any, db: Any,
                                                                 make_case: Any) -> None:
    scene = make_scene(reviewers=2)
    for a in scene.assignments:
        a.state = AssignmentState.WITHDRAWN
    training_case = make_case(case_type="criminal", number="(2024)粤0703刑初777号")
    db.session.commit()
    login(client, scene.organiser)
    page = client.get(f"/calibration/{scene.campaign.id}?q=刑初777").get_data(as_text=True)
    assert f'name="picked" value="{training_case.id}"' in page
    assert "(2024)粤0703刑初777号" in page
    empty = client.post(f"/calibration/{scene.campaign.id}", data={"case_ids": ""})
    assert empty.status_code == 422
    response = client.post(f"/calibration/{scene.campaign.id}", data={"picked": [str(training_case.id)]})
    assert response.status_code == 302
    sample = db.session.scalar(sa.select(Sample).where(Sample.case_id == training_case.id))
    assert sample is not None
    assert sample.is_training
