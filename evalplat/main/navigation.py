"""The navigation bar: what each role may open. Endpoints that are not registered are left out."""

from __future__ import annotations

from flask import current_app, url_for

from evalplat.accounts.models import Role, User
from evalplat.i18n import lazy_gettext as _l

# (endpoint, label, roles that see it)
NAV = [
    ("main.dashboard", _l("Home"), None),
    ("cases.index", _l("Cases"), {Role.ORGANISER, Role.AGENCY_STAFF}),
    ("campaigns.index", _l("Campaigns"), {Role.ORGANISER}),
    ("organisations.reviewers", _l("Reviewers"), {Role.ORGANISER}),
    ("reviews.rubrics", _l("Rubrics"), {Role.ORGANISER}),
    ("reviews.calibration_campaigns", _l("Calibration"), {Role.ORGANISER}),
    ("reviews.inbox", _l("My reviews"), {Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR}),
    ("results.agency_results", _l("Our results"), {Role.AGENCY_STAFF}),
    ("appeals.index", _l("Appeals"), {Role.ORGANISER, Role.AGENCY_STAFF}),
    ("closing.index", _l("Closing review"), {Role.ORGANISER, Role.AGENCY_STAFF, Role.SECOND_CHECKER}),
    ("selfeval.index", _l("Case self-evaluation"), {Role.ORGANISER, Role.AGENCY_STAFF}),
    ("followups.index", _l("Follow-ups"), {Role.ORGANISER, Role.AGENCY_STAFF}),
    ("quality.index", _l("Self vs peer"), {Role.ORGANISER, Role.AGENCY_STAFF}),
    ("rankings.index", _l("Rankings"), {Role.ORGANISER}),
    ("levels.index", _l("Rankings by level"), {Role.ORGANISER}),
    ("levels.national", _l("National overview"), {Role.MINISTRY}),
    ("audit.index", _l("Audit log"), {Role.ORGANISER}),
    ("accounts.users", _l("Users"), {Role.ORGANISER}),
]


def items_for(user: User) -> list[tuple[str, str]]:
    mine = user.roles
    out = []
    for endpoint, label, allowed in NAV:
        if endpoint not in current_app.view_functions:
            continue
        if allowed is None or mine & allowed:
            out.append((url_for(endpoint), str(label)))
    return out
