"""The landing page, each role's first page after sign-in (its to-do list), and the health check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.main import queries
from evalplat.security import login_only, public

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("accounts.login"))


@bp.get("/home")
@login_only
def dashboard() -> Any:
    roles = current_user.roles
    now = utcnow()
    sections: dict[str, Any] = {}
    if Role.ORGANISER in roles:
        sections["organiser"] = {**queries.organiser_overview(current_user),
                                  **queries.organiser_todo(current_user, now=now)}
    if Role.AGENCY_STAFF in roles:
        sections["agency"] = queries.agency_overview(current_user, now=now)
    if Role.MINISTRY in roles:
        from evalplat.levels.queries import national_overview

        sections["ministry"] = national_overview(db.session)
    if roles & {Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR}:
        sections["reviewer"] = queries.reviewer_overview(current_user, now=now)
    return render_template("main/dashboard.html", sections=sections, now=now,
                           adjudicator=Role.ADJUDICATOR in roles,
                           scorer=bool(roles & {Role.PEER_REVIEWER, Role.EVALUATOR}))


@bp.get("/healthz")
@public
def health() -> Any:
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
