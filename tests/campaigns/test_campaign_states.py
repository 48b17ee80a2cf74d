"""The campaign state machine: edges, preconditions, hooks, audit."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.audit.models import AuditEvent
from evalplat.campaigns import operations as ops
from evalplat.campaigns import states
from evalplat.campaigns.models import CampaignState
from evalplat.errors import InvalidTransition
from evalplat.labels import label

ALL = list(CampaignState)


def _draft(db: Any, province: Any) -> Any:
    campaign = ops.create_campaign(db.session, actor=province.organiser, name="测试", year=2024, code_prefix="T2024")
    db.session.commit()
    return campaign


@pytest.mark.parametrize("source", ALL)
def test_every_missing_edge_is_refused_with_the_allowed_moves(db: Any, province: Any, now: Any,
                                                              source: CampaignState) -> None:
    campaign = _draft(db, province)
    campaign.state = source
    db.session.commit()
    for target in ALL:
        if target in states.EDGES[source]:
            continue
        with pytest.raises(InvalidTransition) as caught:
            states.transition(db.session, campaign, target, actor=province.organiser, now=now)
        message = str(caught.value.message)
        # the states are named by their labels, never by their stored codes
        assert label(source) in message
        assert label(target) in message
        db.session.rollback()
        assert db.session.get(type(campaign), campaign.id).state == source


def test_draft_cannot_become_sampled_without_a_draw(db: Any, province: Any, now: Any) -> None:
    campaign = _draft(db, province)
    with pytest.raises(InvalidTransition, match="No cases have been drawn"):
        states.transition(db.session, campaign, CampaignState.SAMPLED, actor=province.organiser, now=now)


def test_sampled_cannot_become_assigned_without_a_committed_run(db: Any, sampled_campaign: Any, province: Any,
                                                                now: Any) -> None:
    with pytest.raises(InvalidTransition, match="No assignment run has been committed"):
        states.transition(db.session, sampled_campaign, CampaignState.ASSIGNED, actor=province.organiser, now=now)


def test_registered_precondition_blocks_and_unblocks(db: Any, province: Any, now: Any) -> None:
    from datetime import timedelta

    campaign = _draft(db, province)
    campaign.state = CampaignState.CONSOLIDATING
    campaign.appeal_closes_at = now + timedelta(days=14)
    db.session.commit()
    missing = {"results": 3}

    def every_sample_has_a_result(session: Any, camp: Any, at: Any) -> str | None:
        return f"{missing['results']} samples have no result" if missing["results"] else None

    states.precondition(CampaignState.PUBLISHED)(every_sample_has_a_result)
    try:
        with pytest.raises(InvalidTransition, match="3 samples have no result"):
            states.transition(db.session, campaign, "published", actor=province.organiser, now=now)
        db.session.rollback()
        missing["results"] = 0
        states.transition(db.session, campaign, "published", actor=province.organiser, now=now)
        db.session.commit()
    finally:
        states.unregister(every_sample_has_a_result)
    assert campaign.state == CampaignState.PUBLISHED
    assert campaign.published_at == now
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "campaign.transition")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.before == {"state": "consolidating"}
    assert event.after == {"state": "published"}
    assert event.actor_id == province.organiser.id


def test_publishing_is_refused_without_an_appeal_window(db: Any, province: Any, now: Any) -> None:
    from datetime import timedelta

    campaign = _draft(db, province)
    campaign.state = CampaignState.CONSOLIDATING
    db.session.commit()
    with pytest.raises(InvalidTransition, match="No appeal window is set"):
        states.transition(db.session, campaign, "published", actor=province.organiser, now=now)
    db.session.rollback()
    campaign.appeal_closes_at = now - timedelta(hours=1)
    db.session.commit()
    with pytest.raises(InvalidTransition, match="The appeal window closed"):
        states.transition(db.session, campaign, "published", actor=province.organiser, now=now)
    db.session.rollback()
    assert db.session.get(type(campaign), campaign.id).state == CampaignState.CONSOLIDATING
    campaign.appeal_closes_at = now + timedelta(days=7)
    db.session.commit()
    states.transition(db.session, campaign, "published", actor=province.organiser, now=now)
    assert campaign.state == CampaignState.PUBLISHED


def test_appeals_cannot_close_while_the_window_is_open(db: Any, province: Any, now: Any) -> None:
    from datetime import timedelta

    campaign = _draft(db, province)
    campaign.state = CampaignState.PUBLISHED
    campaign.appeal_opens_at = now - timedelta(days=1)
    campaign.appeal_closes_at = now + timedelta(days=5)
    db.session.commit()
    with pytest.raises(InvalidTransition, match="appeal window is open"):
        states.transition(db.session, campaign, "appeals_closed", actor=province.organiser, now=now)
    db.session.rollback()
    states.transition(db.session, campaign, "appeals_closed", actor=province.organiser, now=now + timedelta(days=6))
    assert campaign.state == CampaignState.APPEALS_CLOSED


def test_cli_transition_reports_the_refusal_on_one_line(runner: Any, province: Any, db: Any) -> None:
    _draft(db, province)
    result = runner.invoke(args=["campaign", "transition", "T2024", "scoring"])
    assert result.exit_code != 0
    assert "Draft" in result.output
    assert "Scoring" in result.output


def test_refusal_is_in_chinese_for_chinese_users(app: Any, db: Any, province: Any, now: Any) -> None:
    campaign = _draft(db, province)
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_Hans"
    with pytest.raises(InvalidTransition) as caught:
        states.transition(db.session, campaign, CampaignState.FINAL, actor=province.organiser, now=now)
    assert str(caught.value.message).startswith("处于 草稿 状态的评估活动不能转到 已定稿")
