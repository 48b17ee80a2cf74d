"""Source weights of the rankings and the expert-pool rule, per jurisdiction and versioned.

The peer review is the reference: every ranking rests on it and its scale (0-100 points) is the common scale.
A jurisdiction's organiser may give weight to the post-case sources too — the agency's self-evaluation (一案一评),
follow-up visits (回访: the share of visits with a satisfied client and no breach reported) and the closing
review (结案审查: the share of checks passed at both levels). How they are combined, with the interval kept
honest, is :func:`scoring.ranking.combine_sources`; the per-entity figures come from
:mod:`evalplat.rankings.sources`.

Rules: each weight lies between 0 and 1, they sum to 1, and the peer review's is positive (the entities ranked
and the scale are the peer review's). Each setting is a new version (:class:`RankingWeights`), never an edit;
without one a jurisdiction uses version 0, the peer review alone — the rankings as they were before weights.
The rankings of a campaign (and the record and expert pool as of it) use the weights of the campaign's
jurisdiction, like its ranking rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from evalplat.db import DbSession
from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l
from evalplat.rankings.engine import PEER
from evalplat.rankings.models import RankingWeights

SOURCES = (PEER, "self_evaluation", "followup", "closing")
SOURCE_LABELS: dict[str, Any] = {
    PEER: _l("Peer review"),
    "self_evaluation": _l("Self-evaluation (the agency's own view)"),
    "followup": _l("Follow-up visits: satisfied, no breach"),
    "closing": _l("Closing review: checks passed"),
}
DEFAULT: dict[str, float] = {name: float(name == PEER) for name in SOURCES}
#: how far the sum of the weights may be from 1 (input is decimal text; 0.1 + 0.2 is not 0.3 in binary)
SUM_TOLERANCE = 1e-9


class WeightsError(DomainError):
    """A refused weight setting; ``source`` names the weight at fault (None for the sum)."""

    status = 400
    code = "invalid_ranking_weights"

    def __init__(self, message: Any, *, code: str, source: str | None = None) -> None:
        super().__init__(message, code=code)
        self.source = source


@dataclass(frozen=True)
class WeightsVersion:
    """The weights in force: ``version`` 0 is the default (peer review only, no row stored)."""

    jurisdiction_id: int | None
    version: int
    values: dict[str, float]
    created_at: datetime | None = None
    created_by_id: int | None = None

    @property
    def post_case(self) -> bool:
        """Whether any post-case source has weight (otherwise the rankings are the peer review's alone)."""
        return any(self.values.get(name, 0.0) > 0 for name in SOURCES if name != PEER)

    def as_dict(self) -> dict[str, Any]:
        return {"jurisdiction_id": self.jurisdiction_id, "version": self.version, "weights": dict(self.values)}


def parse_weights(raw: dict[str, Any]) -> dict[str, float]:
    """Validate one weight per source (missing sources: 0).

    Raises
    ------
    WeightsError
        ``weight_unknown`` (a source that does not exist), ``weight_number`` (not a number), ``weight_range``
        (outside 0-1), ``weight_peer`` (the peer review's is 0) or ``weight_sum`` (the weights do not sum to 1),
        the message naming the source and the value.
    """
    unknown = sorted(set(raw) - set(SOURCES))
    if unknown:
        raise WeightsError(_l("Unknown source(s): %(names)s.", names=", ".join(unknown)), code="weight_unknown",
                           source=unknown[0])
    values: dict[str, float] = {}
    for name in SOURCES:
        value = raw.get(name, 0.0)
        label = SOURCE_LABELS[name]
        if value is None or value == "":
            value = 0.0
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise WeightsError(_l("The weight of %(source)s must be a number, got %(value)s.", source=label,
                                  value=repr(value)), code="weight_number", source=name) from None
        if not math.isfinite(number) or not 0.0 <= number <= 1.0:
            raise WeightsError(_l("The weight of %(source)s must lie between 0 and 1, got %(value)s.", source=label,
                                  value=value), code="weight_range", source=name)
        values[name] = number
    if values[PEER] <= 0:
        raise WeightsError(_l("The weight of %(source)s must be above 0: every ranking rests on the peer review.",
                              source=SOURCE_LABELS[PEER]), code="weight_peer", source=PEER)
    total = math.fsum(values.values())
    if not math.isclose(total, 1.0, rel_tol=0.0, abs_tol=SUM_TOLERANCE):
        shown = format(total, ".6g")
        raise WeightsError(_l("The weights must sum to 1, they sum to %(total)s.", total=shown), code="weight_sum")
    return values


def _version(row: RankingWeights) -> WeightsVersion:
    return WeightsVersion(row.jurisdiction_id, row.version, {name: float(row.weights.get(name, 0.0))
                                                             for name in SOURCES}, row.created_at, row.created_by_id)


def current_weights(session: DbSession, jurisdiction_id: int | None) -> WeightsVersion:
    """The newest version of the jurisdiction's weights; version 0 (peer review only) when it set none."""
    if jurisdiction_id is not None:
        row = session.scalar(sa.select(RankingWeights).where(RankingWeights.jurisdiction_id == jurisdiction_id)
                             .order_by(RankingWeights.version.desc()).limit(1))
        if row is not None:
            return _version(row)
    return WeightsVersion(jurisdiction_id, 0, dict(DEFAULT))


def weights_history(session: DbSession, jurisdiction_id: int) -> list[WeightsVersion]:
    """Every version the jurisdiction set, newest first (version 0, the default, is not stored)."""
    return [_version(row) for row in session.scalars(
        sa.select(RankingWeights).where(RankingWeights.jurisdiction_id == jurisdiction_id)
        .order_by(RankingWeights.version.desc()))]
