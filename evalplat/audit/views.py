"""The organiser's view of the audit log, with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request

from evalplat.accounts.models import Role
from evalplat.audit import queries
from evalplat.security import roles

bp = Blueprint("audit", __name__, template_folder="templates")


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.get("/audit")
@roles(Role.ORGANISER)
def index() -> Any:
    args = request.args
    page = max(args.get("page", 1, type=int), 1)
    until = _day(args.get("until", ""))
    filters = {k: args.get(k, "").strip() for k in ("action", "object_type", "object_id", "actor", "since", "until")}
    rows, total = queries.events_page(
        action=filters["action"], object_type=filters["object_type"], object_id=filters["object_id"],
        actor=filters["actor"], since=_day(filters["since"]), until=until + timedelta(days=1) if until else None,
        page=page, per_page=50)
    return render_template("audit/index.html", rows=rows, total=total, page=page, per_page=50, filters=filters,
                           object_types=queries.object_types())
