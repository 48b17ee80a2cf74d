"""The organiser's view of the audit log, with filters."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.audit import queries
from evalplat.audit.actions import action_choices, action_label
from evalplat.params import date_arg, page_arg
from evalplat.security import roles

bp = Blueprint("audit", __name__, template_folder="templates")


def _day(name: str) -> datetime | None:
    """The filter ``name`` (YYYY-MM-DD) as the start of that day in UTC; 400 naming it when not a date."""
    day = date_arg(name)
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


@bp.get("/audit")
@roles(Role.ORGANISER)
def index() -> Any:
    args = request.args
    page = page_arg()
    until = _day("until")
    filters = {k: args.get(k, "").strip() for k in ("action", "object_type", "object_id", "actor", "since", "until")}
    rows, total = queries.events_page(
        current_user, action=filters["action"], object_type=filters["object_type"], object_id=filters["object_id"],
        actor=filters["actor"], since=_day("since"), until=until + timedelta(days=1) if until else None,
        page=page, per_page=50)
    return render_template("audit/index.html", rows=rows, total=total, page=page, per_page=50, filters=filters,
                           object_types=queries.object_types(), action_groups=action_choices(),
                           action_label=action_label, domain_prefixes=_domain_prefixes())


def _domain_prefixes() -> dict[str, str]:
    """Each filter group's "all actions of …" option: its label → the codes' prefixes, comma-separated."""
    return {name: ",".join(sorted({code.split(".", 1)[0] + "." for code, _ in items}))
            for name, items in action_choices()}
