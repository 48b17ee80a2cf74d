"""Write path of the rankings area: the organiser edits a campaign's ranking rules and its jurisdiction's source
weights (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign
from evalplat.db import DbSession, utcnow
from evalplat.errors import ConcurrentChange, NotAllowed
from evalplat.rankings.models import RankingWeights
from evalplat.rankings.rules import RankingRules, parse_rules
from evalplat.rankings.weights import WeightsError, WeightsVersion, current_weights, parse_weights


def update_rules(session: DbSession, *, actor: User, campaign: Campaign, rules: dict[str, Any]) -> RankingRules:
    """Validate and store the expert-pool rule and priority weights of ``campaign``; one audit event.

    Raises
    ------
    RulesError
        When a field is invalid (named in the message).
    NotAllowed
        When the actor may not manage the campaign.
    """
    if not campaign.can_manage(actor):
        from evalplat.i18n import lazy_gettext as _l

        raise NotAllowed(_l("Only organisers change ranking rules."))
    parsed = parse_rules(rules)
    before = dict(campaign.ranking_rules or {})
    after = parsed.to_json()
    campaign.ranking_rules = after
    record(session, actor_id=actor.id, action="campaign.ranking_rules", object_type="campaign",
           object_id=campaign.id, before=before, after=after)
    return parsed


def set_weights(session: DbSession, *, actor: User, values: dict[str, Any], now: datetime | None = None
                ) -> WeightsVersion:
    """Store a new version of the source weights of the actor's own jurisdiction; one audit event.

    The previous versions stay (every ranking names the version it used). Setting the weights in force again
    is refused, so that versions mark changes.

    Raises
    ------
    WeightsError
        A weight outside 0-1, a sum other than 1, a peer-review weight of 0 (naming the source), or no change.
    NotAllowed
        When the actor is not an organiser with a jurisdiction.
    """
    from evalplat.i18n import lazy_gettext as _l

    if not actor.is_organiser or actor.jurisdiction_id is None:
        raise NotAllowed(_l("Only an organiser sets the ranking weights of its jurisdiction."))
    parsed = parse_weights(values)
    before = current_weights(session, actor.jurisdiction_id)
    if parsed == before.values:
        raise WeightsError(_l("These weights are already in force (version %(version)d).", version=before.version),
                           code="weights_unchanged")
    row = RankingWeights(jurisdiction_id=actor.jurisdiction_id, version=before.version + 1, weights=parsed,
                         created_by_id=actor.id, created_at=now or utcnow())
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another organiser of the jurisdiction saved a version at the same moment
        raise ConcurrentChange(_l("Someone else changed the ranking weights at the same time; reload the page."),
                               code="weights_race") from None
    record(session, actor_id=actor.id, action="ranking.weights", object_type="region",
           object_id=actor.jurisdiction_id, before=before.as_dict(), after={**before.as_dict(), "version": row.version,
                                                                           "weights": parsed}, at=row.created_at)
    return current_weights(session, actor.jurisdiction_id)
