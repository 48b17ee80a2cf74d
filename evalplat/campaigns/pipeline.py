"""The campaign's pipeline as the organiser sees it: each stage, whether it is done, and the pages of each stage.

A stage's pages are listed only once they have something to show (no sampling report before a draw), and only
when their blueprint is registered. The move to the next state names its blockers and the page that fixes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from evalplat.campaigns import states
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.i18n import lazy_gettext as _l

S = CampaignState
ORDER = list(CampaignState)

# Per stage: (label, endpoint, extra url arguments, shown from this state on).
PAGES: dict[CampaignState, list[tuple[Any, str, dict[str, Any], CampaignState]]] = {
    S.DRAFT: [(_l("Settings"), "campaigns.edit", {}, S.DRAFT),
              (_l("Sampling plan, seed and draw"), "campaigns.plan", {}, S.DRAFT)],
    S.SAMPLED: [(_l("Sampling report"), "campaigns.report", {}, S.SAMPLED),
                (_l("Sampled cases and their redaction"), "campaigns.samples", {}, S.SAMPLED),
                (_l("Redaction waiting for approval"), "campaigns.samples", {"redaction": "pending"}, S.SAMPLED),
                (_l("Conflicts of interest"), "assignments.conflicts", {"campaign": None}, S.SAMPLED)],
    S.ASSIGNED: [(_l("Assignment runs"), "campaigns.show", {"_anchor": "runs"}, S.SAMPLED)],
    S.SCORING: [(_l("Scoring progress"), "campaigns.progress", {}, S.ASSIGNED)],
    S.CONSOLIDATING: [(_l("Results and consolidation"), "results.campaign", {}, S.SCORING),
                      (_l("Reliability panel"), "results.reliability", {}, S.SCORING)],
    S.PUBLISHED: [(_l("Circular"), "results.circular", {}, S.PUBLISHED),
                  (_l("Appeals"), "appeals.index", {}, S.PUBLISHED)],
    S.APPEALS_CLOSED: [(_l("Rankings"), "rankings.index", {}, S.PUBLISHED)],
    S.FINAL: [(_l("Annual report"), "rankings.report", {}, S.PUBLISHED)],
}

# Where the blockers of a move into a state are fixed.
FIX_AT: dict[CampaignState, list[tuple[Any, str, dict[str, Any]]]] = {
    S.SAMPLED: [(_l("Sampling plan, seed and draw"), "campaigns.plan", {})],
    S.ASSIGNED: [(_l("Assignment runs"), "campaigns.show", {"_anchor": "runs"}),
                 (_l("Reviewer pool"), "organisations.reviewers", {})],
    S.SCORING: [(_l("Sampled cases and their redaction"), "campaigns.samples", {}),
                (_l("Assignment runs"), "campaigns.show", {"_anchor": "runs"})],
    S.CONSOLIDATING: [(_l("Scoring progress"), "campaigns.progress", {})],
    S.PUBLISHED: [(_l("Results and consolidation"), "results.campaign", {}), (_l("Settings"), "campaigns.edit", {})],
    S.APPEALS_CLOSED: [(_l("Appeals"), "appeals.index", {}), (_l("Settings"), "campaigns.edit", {})],
    S.FINAL: [(_l("Rankings"), "rankings.index", {})],
}


# What a move does, said before it is made.
CONSEQUENCES: dict[CampaignState, Any] = {
    S.SAMPLED: _l("The drawn cases become the campaign's sample. Redaction and the assignment of reviewers can start."),
    S.ASSIGNED: _l("The committed assignment stands; the campaign waits for the move to scoring."),
    S.SCORING: _l("Reviewers can open and score their cases. The sample and the assignment can no longer be drawn again "
                  "or undone; declined cases are re-assigned one by one."),
    S.CONSOLIDATING: _l("Scoring ends: cases whose reviews are in are consolidated, and disagreements go to "
                        "adjudicators."),
    S.PUBLISHED: _l("Every agency sees its own results and may appeal until the appeal window closes. "
                    "Publication cannot be undone."),
    S.APPEALS_CLOSED: _l("No more appeals can be filed; results change only through appeals already accepted."),
    S.FINAL: _l("The results are final: rankings and the annual report use them, and nothing can change them any more."),
}


@dataclass
class Stage:
    state: CampaignState
    status: str  # done, current, ahead
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Move:
    target: CampaignState
    blockers: list[str]
    forward: bool
    fix: list[tuple[str, str]]

    @property
    def consequence(self) -> str:
        if not self.forward:
            return str(_l("The campaign goes back to sampled: the sample may be drawn again. No review has started."))
        return str(CONSEQUENCES[self.target])


def _url(campaign: Campaign, endpoint: str, args: dict[str, Any]) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    values: dict[str, Any] = {k: (campaign.id if v is None else v) for k, v in args.items()}
    if endpoint.startswith(("campaigns.", "results.")) or endpoint in ("rankings.report",):
        values.setdefault("campaign_id", campaign.id)
    return url_for(endpoint, **values)


def stages(campaign: Campaign, *, has_samples: bool) -> list[Stage]:
    """Every state of the machine with its status and the pages open at this point of the campaign."""
    here = ORDER.index(campaign.state)
    out = []
    for index, state in enumerate(ORDER):
        status = "done" if index < here else ("current" if index == here else "ahead")
        links = []
        for text, endpoint, args, shown_from in PAGES[state]:
            if ORDER.index(shown_from) > here or (shown_from == S.SAMPLED and not has_samples):
                continue
            url = _url(campaign, endpoint, args)
            if url is not None:
                links.append((str(text), url))
        out.append(Stage(state, status, links))
    return out


def moves(session: Any, campaign: Campaign, *, now: datetime) -> list[Move]:
    """The moves from the current state, each with what blocks it and where to fix that."""
    out = []
    for target in states.allowed_targets(campaign):
        blockers = states.problems(session, campaign, target, now=now)
        forward = ORDER.index(target) > ORDER.index(campaign.state)
        fix = []
        for text, endpoint, args in FIX_AT.get(target, []) if blockers and forward else []:
            url = _url(campaign, endpoint, args)
            if url:
                fix.append((str(text), url))
        out.append(Move(target, blockers, forward, fix))
    return out
