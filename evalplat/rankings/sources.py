"""The post-case sources of a ranking, per lawyer, agency or city, in one aggregate query each.

Each source gives an entity an estimate with its sampling variance and count, the input of
:func:`scoring.ranking.combine_sources`:

- ``self_evaluation``: the mean self-score of the entity's cases; variance σ²/n with σ² the pooled
  within-entity variance of the self-scores.
- ``followup``: the share of completed follow-up visits whose client was satisfied (level 4 or 5 of 5) and
  reported no breach (no fee, gift or absence: no complaint opened); variance p̄(1 − p̄)/n with p̄ the share over
  all entities (the binomial variance at the common share, as in empirical-Bayes estimation of proportions:
  an entity with every visit good is not given a variance of 0). The breaches are counted beside it.
- ``closing``: the share of closing-review checks passed, both levels; variance as for follow-ups.

Cases count when their agency lies in the ranking's jurisdiction (the campaign's, and below) and their year is
one of the ranking's campaign years. Older years are not down-weighted here (every closed case passes through
these checks, so recent years alone already carry many observations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from evalplat.cases.models import Case
from evalplat.closing.models import CheckOutcome, ClosingCheck, ClosingReview
from evalplat.db import DbSession
from evalplat.followups.models import SATISFIED, FollowupComplaint, FollowupTarget, FollowupVisit
from evalplat.organisations.jurisdiction import in_subtree
from evalplat.organisations.models import Agency
from evalplat.rankings.engine import SourceData

ENTITY_COLUMNS = {"lawyers": Case.lawyer_id, "agencies": Case.agency_id, "cities": Agency.city_id}


def _scope(region_id: int, years: Sequence[int], session: DbSession) -> list[Any]:
    return [Agency.id == Case.agency_id, in_subtree(Agency.region_id, region_id, session),
            Case.year.in_(sorted(set(years)))]


def _empty(name: str) -> SourceData:
    return SourceData(name, np.array([], dtype=np.int64), np.array([]), np.array([]), np.array([], dtype=np.int64))


def _scores(name: str, rows: Sequence[Any]) -> SourceData:
    """Mean per entity with variance σ²/n (σ² pooled within entities; the overall variance when no entity
    has two observations)."""
    rows = [r for r in rows if r[0] is not None and r[1]]
    if not rows:
        return _empty(name)
    keys = np.array([r[0] for r in rows], dtype=np.int64)
    n = np.array([r[1] for r in rows], dtype=np.int64)
    total = np.array([float(r[2]) for r in rows])
    squares = np.array([float(r[3]) for r in rows])
    mean = total / n
    within = float(np.maximum(squares - total * mean, 0.0).sum())
    df = int(n.sum() - n.size)
    if df > 0 and within > 0:
        sigma2 = within / df
    else:
        grand = total.sum() / n.sum()
        overall = float(squares.sum() - n.sum() * grand**2)
        sigma2 = overall / (n.sum() - 1) if n.sum() > 1 and overall > 0 else float("nan")
    return SourceData(name, keys, mean, sigma2 / n, n)


def _shares(name: str, rows: Sequence[Any], detail: dict[Any, dict[str, int]] | None = None) -> SourceData:
    """Share per entity with the binomial variance at the common share (nan when every entity's share is 0 or
    1: no spread to scale)."""
    rows = [r for r in rows if r[0] is not None and r[1]]
    if not rows:
        return _empty(name)
    keys = np.array([r[0] for r in rows], dtype=np.int64)
    n = np.array([r[1] for r in rows], dtype=np.int64)
    good = np.array([float(r[2] or 0) for r in rows])
    common = good.sum() / n.sum()
    variance = common * (1 - common) / n if 0 < common < 1 else np.full(n.size, np.nan)
    return SourceData(name, keys, good / n, variance, n, detail or {})


def post_case_sources(session: DbSession, kind: str, *, region_id: int, years: Sequence[int]) -> list[SourceData]:
    """Self-evaluation, follow-up and closing-review evidence per entity of ``kind`` (``lawyers``, ``agencies``,
    ``cities``) from the cases of ``region_id``'s agencies closed in ``years``."""
    from evalplat.selfeval.models import SelfEvaluation

    key = ENTITY_COLUMNS[kind]
    scope = _scope(region_id, years, session)
    self_rows = session.execute(
        sa.select(key, sa.func.count(), sa.func.sum(SelfEvaluation.score),
                  sa.func.sum(SelfEvaluation.score * SelfEvaluation.score))
        .select_from(SelfEvaluation).join(Case, Case.id == SelfEvaluation.case_id).join(Agency, scope[0])
        .where(*scope[1:]).group_by(key)).all()
    breach = FollowupComplaint.id.is_not(None)
    good = sa.and_(FollowupVisit.satisfaction >= SATISFIED, sa.not_(breach))
    visit_rows = session.execute(
        sa.select(key, sa.func.count(), sa.func.sum(sa.case((good, 1), else_=0)),
                  sa.func.sum(sa.case((breach, 1), else_=0)))
        .select_from(FollowupVisit).join(FollowupTarget, FollowupTarget.id == FollowupVisit.target_id)
        .outerjoin(FollowupComplaint, FollowupComplaint.visit_id == FollowupVisit.id)
        .join(Case, Case.id == FollowupTarget.case_id).join(Agency, scope[0])
        .where(*scope[1:]).group_by(key)).all()
    check_rows = session.execute(
        sa.select(key, sa.func.count(), sa.func.sum(sa.case((ClosingCheck.outcome == CheckOutcome.PASSED, 1),
                                                            else_=0)))
        .select_from(ClosingCheck).join(ClosingReview, ClosingReview.id == ClosingCheck.review_id)
        .join(Case, Case.id == ClosingReview.case_id).join(Agency, scope[0])
        .where(*scope[1:]).group_by(key)).all()
    return [
        _scores("self_evaluation", self_rows),
        _shares("followup", visit_rows, {r[0]: {"breaches": int(r[3] or 0)} for r in visit_rows if r[0] is not None}),
        _shares("closing", check_rows),
    ]
