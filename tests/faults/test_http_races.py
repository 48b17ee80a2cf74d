"""Races over real HTTP on PostgreSQL: two browsers post the same change at the same moment.

Each test builds its state through the real operations (the other folders' set-ups), signs two sessions in
over HTTP, and fires both POSTs from two threads released by one barrier. Inside the server a rendezvous
holds each request just before the operation until both have read the state, so the two transactions
really overlap. Exactly one must win; the other gets a clear flashed message (never a 500 or the
"database unreachable" page); nothing is lost or duplicated.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from faults_support import Rendezvous, Reply, Web, fire_together, form_fields

from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentRun, AssignmentState, RunState
from evalplat.audit.models import AuditEvent
from evalplat.params import opaque_id
from evalplat.results.models import Result, ResultKind
from evalplat.reviews.models import Review, ReviewItem, ReviewState

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(
    not os.environ.get("EVALPLAT_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="races over HTTP need PostgreSQL's row locks (set EVALPLAT_TEST_DATABASE_URL)")]

PASSWORD = "correct-horse-battery"  # noqa: S105 - test data (the factories' and the seeding's password)


def _audit_count(db: Any, action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def _race(monkeypatch: pytest.MonkeyPatch, module: ModuleType, operation: str,
          posts: list[tuple[Web, str, str, Mapping[str, Any]]]) -> list[Reply]:
    """Each browser opens its page, then the POSTs fire together; in the server they meet just before
    ``module.operation``, so that they overlap. Returns the pages they lead to, flashes included."""
    for web, page, _url, _data in posts:
        assert web.get(page).status == 200, page
    meeting = Rendezvous()
    with monkeypatch.context() as patch:
        patch.setattr(module, operation, meeting.wrap(getattr(module, operation)))
        replies = fire_together(*(lambda p=p: p[0].post(p[2], p[3]) for p in posts))
    assert meeting.met, f"the requests did not overlap in the server (at {operation})"
    return _landed([p[0] for p in posts], replies)


def _landed(webs: list[Web], replies: list[Reply]) -> list[Reply]:
    """Every POST answered with a redirect (no 500, no 503) to a page that shows; those pages."""
    for reply in replies:
        assert reply.status == 302, f"a racing POST answered {reply.status}: {reply.body[:500]}"
    pages = [web.follow(reply) for web, reply in zip(webs, replies, strict=True)]
    for page in pages:
        assert page.status == 200, (page.status, page.flashes("error"))
    return pages


def _winner_and_loser(pages: list[Reply], success: str) -> tuple[int, Reply]:
    won = [i for i, page in enumerate(pages) if any(success in m for m in page.flashes("success"))]
    assert len(won) == 1, [(p.flashes("success"), p.flashes("error")) for p in pages]
    loser = pages[1 - won[0]]
    assert not loser.flashes("success")
    return won[0], loser


def _scene_form(db: Any, seeding: ModuleType, assignment: Assignment, fraction: float = 1.0) -> dict[str, str]:
    from evalplat.reviews.rubrics import rubric_for_assignment

    rubric = rubric_for_assignment(db.session, assignment)[1]
    data = seeding.full_marks_form(rubric)
    if fraction < 1.0:
        for item in rubric.items:
            points = round(item.max_points * fraction)
            data[f"{item.code}-points"] = str(points)
            data[f"{item.code}-level"] = next(lv.code for lv in item.levels if lv.contains(points))
    data["submit_review"] = "1"
    return data


@pytest.mark.parametrize("draft_first", [False, True], ids=["first-save", "over-a-draft"])
def test_one_reviewer_submitting_from_two_sessions_at_once(live_server: str, db: Any, seeding: ModuleType,
                                                           monkeypatch: pytest.MonkeyPatch, draft_first: bool) -> None:
    """The same assignment submitted from two windows at once: one review, its items once, a clear message."""
    from evalplat.reviews import operations

    scene = seeding.build_scene(db.session, reviewers=2)
    db.session.commit()
    assignment = scene.assignments[0]
    url = f"/reviews/{opaque_id(assignment.id)}"
    data = _scene_form(db, seeding, assignment)
    webs = [Web(live_server).login(scene.reviewers[0].username, PASSWORD) for _ in range(2)]
    if draft_first:
        draft = {k: v for k, v in data.items() if k != "submit_review"} | {"save_draft": "1"}
        saved = webs[0].follow(webs[0].post(url, draft))
        assert any("Draft saved" in m for m in saved.flashes("success"))
    pages = _race(monkeypatch, operations, "ensure_scorable", [(web, url, url, data) for web in webs])
    _won, loser = _winner_and_loser(pages, "Review submitted")
    assert any("another window at the same time" in m for m in loser.flashes("error")), loser.flashes("error")

    db.session.expire_all()
    reviews = db.session.scalars(sa.select(Review).where(Review.assignment_id == assignment.id)).all()
    assert len(reviews) == 1
    assert reviews[0].state == ReviewState.SUBMITTED
    codes = db.session.scalars(sa.select(ReviewItem.item_code).where(ReviewItem.review_id == reviews[0].id)).all()
    assert codes
    assert max(Counter(codes).values()) == 1, "review items duplicated"
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.SUBMITTED
    assert _audit_count(db, "review.submitted") == 1
    # Both windows now show the review locked.
    for web in webs:
        assert "data-locked" in web.get(url).body


def test_the_last_two_reviewers_submitting_at_once_consolidate_the_case_once(
        live_server: str, db: Any, seeding: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both remaining reviews of a case arrive together: both are kept and the case gets exactly one result."""
    from evalplat.reviews import operations

    scene = seeding.build_scene(db.session, reviewers=2)
    db.session.commit()
    posts = [(Web(live_server).login(user.username, PASSWORD), f"/reviews/{opaque_id(a.id)}", f"/reviews/{opaque_id(a.id)}",
              _scene_form(db, seeding, a, 0.8)) for user, a in zip(scene.reviewers, scene.assignments, strict=True)]
    pages = _race(monkeypatch, operations, "ensure_scorable", posts)
    for page in pages:
        assert any("Review submitted" in m for m in page.flashes("success")), page.flashes("error")

    db.session.expire_all()
    states = db.session.scalars(sa.select(Review.state).join(Assignment).where(
        Assignment.sample_id == scene.sample.id)).all()
    assert sorted(states) == [ReviewState.SUBMITTED] * 2
    results = db.session.scalars(sa.select(Result).where(Result.sample_id == scene.sample.id)).all()
    assert len(results) == 1, "the case was consolidated twice, or never"
    assert results[0].current
    assert results[0].kind == ResultKind.CONSENSUS
    assert _audit_count(db, "result.consensus") == 1


def test_two_adjudicators_deciding_the_same_case_at_once(live_server: str, db: Any, scoring_flow: Any,
                                                         flow_support: ModuleType,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two adjudicators post their decisions together: one adjudicated result, the other told it was decided."""
    from evalplat.assignments.operations import create_adjudication_assignment
    from evalplat.results import operations

    fs = flow_support
    sample = fs.samples(db, scoring_flow.campaign)[0]
    fs.score(db, sample, [0.55, 0.9])  # a disagreement: the consolidation asks an adjudicator
    first = fs.decision_assignment(db, sample)
    assert first is not None, "the disagreement was not escalated"
    second = create_adjudication_assignment(db.session, sample=sample, round=AssignmentRound.ADJUDICATION,
                                            actor=scoring_flow.organiser, now=fs.NOW)
    db.session.commit()
    deciders = [first, second]
    posts = [(Web(live_server).login(a.reviewer.user.username, PASSWORD), f"/results/decisions/{opaque_id(a.id)}",
              f"/results/decisions/{opaque_id(a.id)}", {"total": total, "reasons": f"裁定{total}"})
             for a, total in zip(deciders, ("70", "90"), strict=True)]
    pages = _race(monkeypatch, operations, "decide", posts)
    won, loser = _winner_and_loser(pages, f"Your decision on case {sample.code} is recorded")
    assert any(f"Case {sample.code} has already been decided by someone else" in m for m in loser.flashes("error")), \
        loser.flashes("error")

    db.session.expire_all()
    results = db.session.scalars(sa.select(Result).where(Result.sample_id == sample.id)).all()
    assert [(r.kind, r.current) for r in results] == [(ResultKind.ADJUDICATED, True)]
    assert results[0].total == (70.0, 90.0)[won]
    assert results[0].decided_by_id == deciders[won].reviewer.user_id
    states = {a.id: db.session.get(Assignment, a.id).state for a in deciders}
    assert states == {deciders[won].id: AssignmentState.SUBMITTED, deciders[1 - won].id: AssignmentState.WITHDRAWN}
    assert _audit_count(db, "result.adjudicated") == 1


def test_two_organisers_committing_the_same_run_at_once(live_server: str, db: Any, sampled_campaign: Any,
                                                        province: Any, now: Any, make_user: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two organisers commit the same preview: its assignments are inserted once, the other is told."""
    from evalplat.assignments import operations as assigning

    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    db.session.commit()
    proposed = sorted(tuple(p) for p in run.proposed)
    assert proposed
    organisers = [province.organiser, make_user("organiser")]
    webs = [Web(live_server).login(user.username, PASSWORD) for user in organisers]
    url = f"/campaigns/{sampled_campaign.id}/runs/{run.id}/commit"
    pages = _race(monkeypatch, assigning, "commit_run",
                  [(web, f"/campaigns/{sampled_campaign.id}/runs/{run.id}", url, {"confirmed": "yes"}) for web in webs])
    _won, loser = _winner_and_loser(pages, f"{len(proposed)} assignments offered to reviewers")
    assert any("no longer a preview" in m for m in loser.flashes("error")), loser.flashes("error")

    db.session.expire_all()
    rows = db.session.execute(sa.select(Assignment.sample_id, Assignment.reviewer_id).where(
        Assignment.round == AssignmentRound.INITIAL)).all()
    assert sorted(tuple(r) for r in rows) == proposed, "assignments lost or inserted twice"
    assert db.session.get(AssignmentRun, run.id).state == RunState.COMMITTED
    assert _audit_count(db, "assignment.committed") == 1


def test_two_organisers_drawing_the_sample_at_once(live_server: str, db: Any, sampled_campaign: Any, province: Any,
                                                   make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two organisers draw (again) at once: the sample stays one set of rows, the other is told clearly."""
    from evalplat.campaigns import operations
    from evalplat.campaigns.models import Sample

    drawn = sorted(db.session.execute(sa.select(Sample.case_id, Sample.code).where(
        Sample.campaign_id == sampled_campaign.id)).all())
    assert drawn
    webs = [Web(live_server).login(user.username, PASSWORD) for user in (province.organiser, make_user("organiser"))]
    url = f"/campaigns/{sampled_campaign.id}/draw"
    pages = _race(monkeypatch, operations, "draw_sample",
                  [(web, f"/campaigns/{sampled_campaign.id}/plan", url, {"confirmed": "yes"}) for web in webs])
    _won, loser = _winner_and_loser(pages, f"{len(drawn)} cases drawn")
    assert any("at the same time" in m for m in loser.flashes("error")), loser.flashes("error")

    db.session.expire_all()
    after = sorted(db.session.execute(sa.select(Sample.case_id, Sample.code).where(
        Sample.campaign_id == sampled_campaign.id)).all())
    assert after == drawn  # the deterministic draw, once


def test_saving_settings_while_another_organiser_commits_the_run(live_server: str, db: Any, sampled_campaign: Any,
                                                                 province: Any, now: Any, make_user: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two different changes that cross locks: one of them is told to retry, and nothing is half done.

    Committing the run appends its audit event (taking the audit chain's lock) and then moves the campaign;
    saving the settings updates the campaign row and then appends its audit event. Made to interleave, the
    two wait for each other and PostgreSQL aborts one (deadlock). Its user must get the "someone else changed
    this" message, not the "database unreachable" page.
    """
    from evalplat.assignments import operations as assigning
    from evalplat.audit.operations import verify_chain
    from evalplat.campaigns import operations
    from evalplat.campaigns.models import Campaign

    run = assigning.preview_run(db.session, campaign=sampled_campaign, actor=province.organiser, now=now)
    db.session.commit()
    proposed = sorted(tuple(p) for p in run.proposed)
    name = sampled_campaign.name
    webs = [Web(live_server).login(user.username, PASSWORD) for user in (province.organiser, make_user("organiser"))]
    commit_url = f"/campaigns/{sampled_campaign.id}/runs/{run.id}/commit"
    edit_url = f"/campaigns/{sampled_campaign.id}/edit"
    assert webs[0].get(f"/campaigns/{sampled_campaign.id}/runs/{run.id}").status == 200
    fields = form_fields(webs[1].get(edit_url).body)
    fields["name"] = [f"{name}（修订）"]
    holds_audit_lock, campaign_updated = threading.Event(), threading.Event()
    crossed: list[bool] = []
    append_for_commit, append_for_settings = assigning.record, operations.record

    def commit_appends(*args: Any, **kwargs: Any) -> Any:
        event = append_for_commit(*args, **kwargs)  # the audit chain's lock is held from here to the commit
        if kwargs.get("action") == "assignment.committed":
            holds_audit_lock.set()
            crossed.append(campaign_updated.wait(10))
        return event

    def settings_append(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("action") == "campaign.settings_changed":  # the campaign row is updated (locked) by now
            crossed.append(holds_audit_lock.wait(10))
            campaign_updated.set()
        return append_for_settings(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(assigning, "record", commit_appends)
        patch.setattr(operations, "record", settings_append)
        replies = fire_together(lambda: webs[0].post(commit_url, {"confirmed": "yes"}), lambda: webs[1].post(edit_url, fields))
    assert crossed == [True, True], "the two requests did not interleave as intended"
    pages = _landed(webs, replies)
    won = [i for i, page in enumerate(pages) if page.flashes("success")]
    assert len(won) == 1, [(p.flashes("success"), p.flashes("error")) for p in pages]
    loser = pages[1 - won[0]]
    assert any("at the same time" in m for m in loser.flashes("error")), loser.flashes("error")

    db.session.expire_all()
    assignments = sorted(tuple(r) for r in db.session.execute(sa.select(Assignment.sample_id, Assignment.reviewer_id)))
    campaign = db.session.get(Campaign, sampled_campaign.id)
    if won == [0]:  # the run is committed in full and the settings are untouched
        assert (assignments, campaign.name, db.session.get(AssignmentRun, run.id).state) == \
            (proposed, name, RunState.COMMITTED)
    else:  # the settings are saved and the run is still a preview with nothing assigned
        assert (assignments, campaign.name, db.session.get(AssignmentRun, run.id).state) == \
            ([], f"{name}（修订）", RunState.PREVIEW)
    assert verify_chain(db.session) == []
