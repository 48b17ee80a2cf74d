"""The stored reliability snapshot: same figures as the live panel, shown while current, marked when stale."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from evalplat import jobs
from evalplat.audit.models import AuditEvent
from evalplat.results import snapshots
from evalplat.results.models import ReliabilitySnapshot
from evalplat.results.queries import panel_from_figures, reliability_panel

FRACTIONS = [0.62, 0.7, 0.8, 0.9, 0.75, 0.68, 0.85, 0.77]


def _score_all_but_last(db: Any, flow: Any, fs: Any) -> Any:
    samples = fs.samples(db, flow.campaign)
    for sample, f in zip(samples[:-1], FRACTIONS, strict=False):
        fs.score(db, sample, [f, f + 0.03])
    return samples[-1]


def _reviewers_of(db: Any, fs: Any, samples: list[Any]) -> int:
    return len({a.reviewer_id for s in samples for a in fs.initial_assignments(db, s)})


def _page(client: Any, flow: Any) -> str:
    response = client.get(f"/results/campaigns/{flow.campaign.id}/reliability")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def large(app: Any) -> Any:
    """Every campaign counts as too large to compute on the page."""
    before = app.config["EVALPLAT_RELIABILITY_LIVE_MAX"]
    app.config["EVALPLAT_RELIABILITY_LIVE_MAX"] = 0
    yield
    app.config["EVALPLAT_RELIABILITY_LIVE_MAX"] = before


def test_stored_figures_give_the_same_panel_as_computing_it_now(db: Any, flow: Any, fs: Any) -> None:
    last = _score_all_but_last(db, flow, fs)
    reviewers = _reviewers_of(db, fs, [s for s in fs.samples(db, flow.campaign) if s.id != last.id])
    live = reliability_panel(flow.campaign, locale="en")
    snapshot = snapshots.compute(db.session, flow.campaign)
    db.session.commit()
    db.session.expire_all()  # read the JSON back from the database
    stored = panel_from_figures(db.session.get(ReliabilitySnapshot, snapshot.id).figures, locale="en")
    assert (stored.cases, stored.reviews, stored.reviewers) == (live.cases, live.reviews, live.reviewers) == (7, 14, reviewers)
    assert stored.alpha == pytest.approx(live.alpha)
    for form in ("icc1", "icc1k"):
        ours, theirs = getattr(stored, form), getattr(live, form)
        assert (ours.value, ours.low, ours.high, ours.n_units) == pytest.approx(
            (theirs.value, theirs.low, theirs.high, theirs.n_units))
    assert stored.items == live.items
    assert [i.label for i in stored.items] != [i.code for i in stored.items]  # rubric labels, in English
    assert stored.effects == live.effects
    assert stored.flagged == live.flagged
    assert len(snapshot.figures["corrected"]) == 7
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "results.reliability_computed")).all()
    assert len(events) == 1


def test_small_campaign_is_computed_on_the_page_and_nothing_is_stored(db: Any, flow: Any, fs: Any, client: Any,
                                                                       login: Any) -> None:
    _score_all_but_last(db, flow, fs)
    login(client, flow.organiser)
    page = _page(client, flow)
    assert "本页数据按当前数据即时计算" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReliabilitySnapshot)) == 0


def test_large_campaign_shows_its_snapshot_without_recomputing_until_the_data_change(
        db: Any, flow: Any, fs: Any, client: Any, login: Any, large: Any, monkeypatch: Any, request: Any) -> None:
    from tests_support import csrf_token

    last = _score_all_but_last(db, flow, fs)
    login(client, flow.organiser)
    request.getfixturevalue("csrf_on")  # from here on every POST needs its token
    page = _page(client, flow)
    assert "无法在页面上即时计算" in page
    assert 'class="stats"' not in page  # no figures at all yet

    response = client.post(f"/results/campaigns/{flow.campaign.id}/reliability/compute",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert jobs.get_backend().wait_idle(timeout=60)  # type: ignore[attr-defined]
    db.session.expire_all()
    snapshot = snapshots.latest(db.session, flow.campaign)
    assert snapshot is not None
    assert snapshot.figures["reviews"] == 14

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the page recomputed the figures")

    monkeypatch.setattr(snapshots, "reliability_figures", refuse)
    page = _page(client, flow)
    assert "此后数据未变" in page
    assert "<strong>14</strong>" in page  # reviews from the snapshot

    fs.score(db, last, [0.5, 0.52])  # new reviews: the snapshot is out of date, still shown
    page = _page(client, flow)
    assert "此后评估或结果已有变动" in page
    assert "<strong>14</strong>" in page

    monkeypatch.undo()
    response = client.post(f"/results/campaigns/{flow.campaign.id}/reliability/compute",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert jobs.get_backend().wait_idle(timeout=60)  # type: ignore[attr-defined]
    page = _page(client, flow)
    assert "此后数据未变" in page
    assert "<strong>16</strong>" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReliabilitySnapshot)) == 1


def test_fingerprint_follows_reviews_adjudications_and_results(db: Any, flow: Any, fs: Any) -> None:
    samples = fs.samples(db, flow.campaign)
    empty = snapshots.data_state(db.session, flow.campaign)
    assert empty.reviews == 0
    fs.score(db, samples[0], [0.8, 0.82])
    one = snapshots.data_state(db.session, flow.campaign)
    assert one.reviews == 2
    assert one.fingerprint != empty.fingerprint
    assert snapshots.data_state(db.session, flow.campaign) == one  # nothing changed: same fingerprint
    fs.score(db, samples[1], [0.95, 0.5])  # far apart: escalated to an adjudicator
    assert fs.decision_assignment(db, samples[1]) is not None
    two = snapshots.data_state(db.session, flow.campaign)
    assert two.reviews == 4
    assert two.fingerprint not in (one.fingerprint, empty.fingerprint)


def test_cli_stores_the_snapshot(db: Any, flow: Any, fs: Any, runner: Any) -> None:
    last = _score_all_but_last(db, flow, fs)
    reviewers = _reviewers_of(db, fs, [s for s in fs.samples(db, flow.campaign) if s.id != last.id])
    out = runner.invoke(args=["results", "reliability", str(flow.campaign.id)])
    assert out.exit_code == 0, out.output
    assert f"14 initial reviews of 7 cases by {reviewers} reviewers" in out.output
    assert snapshots.latest(db.session, flow.campaign) is not None
    missing = runner.invoke(args=["results", "reliability", "999999"])
    assert missing.exit_code != 0
    assert "no campaign with id 999999" in missing.output
