"""Write path of the rankings area: the organiser edits a campaign's ranking rules (audited)."""

from __future__ import annotations

from typing import Any

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign
from evalplat.db import DbSession
from evalplat.errors import NotAllowed
from evalplat.rankings.rules import RankingRules, parse_rules


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
