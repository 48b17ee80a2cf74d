"""Quality profiles (each source beside the others, with its count) and agencies' leniency."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.cases.models import Case
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.jurisdiction import agencies_within, cases_within, organiser_agency_ids
from evalplat.organisations.models import Agency, Lawyer
from evalplat.quality import queries
from evalplat.security import load_or_404, roles

bp = Blueprint("quality", __name__, url_prefix="/quality", template_folder="templates")

SOURCES = {
    "peer_review": (_l("Peer review (calibrated score)"), "score"),
    "self_evaluation": (_l("Self-evaluation (the agency's own view)"), "score"),
    "followup_contact": (_l("Follow-up contact rate"), "rate"),
    "followup_satisfaction": (_l("Follow-up satisfaction rate"), "rate"),
    "followup_breaches": (_l("Breaches reported in follow-ups (complaints)"), "count"),
    "closing_level_1": (_l("Closing review, first level: share of checks passed"), "rate"),
    "closing_level_2": (_l("Closing review, second level: share of checks passed"), "rate"),
}


@bp.get("/")
@roles(Role.ORGANISER, Role.AGENCY_STAFF)
def index() -> Any:
    scope = organiser_agency_ids(current_user) if current_user.is_organiser else [current_user.agency_id or -1]
    return render_template("quality/index.html", rows=queries.leniency(db.session, agency_ids=scope),
                           level=queries.LEVEL)


@bp.get("/agencies/<int:agency_id>")
@roles(Role.ORGANISER, Role.AGENCY_STAFF)
def agency(agency_id: int) -> Any:
    found = load_or_404(Agency, agency_id, lambda a: current_user.can_view_agency(a.id))
    lenient = queries.leniency(db.session, agency_ids=[found.id])
    return render_template("quality/profile.html", title=found.name, sources=queries.profile(db.session,
                           agency_id=found.id), labels=SOURCES, leniency=lenient[0] if lenient else None,
                           level=queries.LEVEL)


@bp.get("/lawyers/<int:lawyer_id>")
@roles(Role.ORGANISER)
def lawyer(lawyer_id: int) -> Any:
    # a lawyer who handled cases of the jurisdiction's agencies, with the figures of those cases only
    found = load_or_404(Lawyer, lawyer_id, lambda x: bool(db.session.scalar(sa.select(sa.exists().where(
        Case.lawyer_id == x.id, cases_within(current_user))))))
    return render_template("quality/profile.html", title=found.name, sources=queries.profile(
                           db.session, lawyer_id=found.id, within=agencies_within(current_user)), labels=SOURCES, leniency=None, level=queries.LEVEL)
