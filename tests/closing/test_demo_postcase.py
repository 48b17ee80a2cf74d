"""The demo province gets closing reviews, self-evaluations and follow-ups that fill every page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from evalplat.cases.models import Case
from evalplat.closing.models import ClosingReview, ClosingState
from evalplat.followups.queries import rates, totals
from evalplat.selfeval.models import SelfEvaluation


def test_demo_fills_closing_review_self_evaluation_and_follow_ups(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["demo", "--cases", "1500", "--seed", "7", "--no-campaigns", "--documents", "none"])
    assert result.exit_code == 0, result.output
    cases = db.session.scalar(sa.select(sa.func.count(Case.id)))
    states = dict(db.session.execute(sa.select(ClosingReview.state, sa.func.count()).group_by(ClosingReview.state))
                  .all())
    assert sum(states.values()) == cases
    assert states[ClosingState.RETURNED] > 0
    assert states[ClosingState.CLOSED] > 0.9 * cases
    evaluated = db.session.scalar(sa.select(sa.func.count(SelfEvaluation.id)))
    assert evaluated == states[ClosingState.CLOSED]
    means = db.session.scalars(sa.select(sa.func.avg(SelfEvaluation.score)).group_by(SelfEvaluation.agency_id)
                               .having(sa.func.count() >= 8)).all()
    assert max(means) - min(means) > 8  # agencies of different leniency
    overall = totals(rates(db.session, by="agency"))
    assert 0.85 <= overall.contact_rate <= 0.98
    assert overall.visits > 0
    assert overall.satisfaction_rate > 0.8
