"""The level page of an organiser's jurisdiction, and the national read-only role's overview of provinces."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.extensions import db
from evalplat.levels import queries
from evalplat.organisations.models import Region, RegionLevel
from evalplat.security import load_or_404, roles
from reports.spreadsheet import csv_bytes

bp = Blueprint("levels", __name__, template_folder="templates")

#: lawyers of the expert pool listed on the level page (the whole pool is on each campaign's pool page)
POOL_SHOWN = 20


@bp.get("/levels")
@roles(Role.ORGANISER)
def index() -> Any:
    region = current_user.jurisdiction
    if region is None:
        abort(404)
    view = queries.level_view(db.session, region)
    pool = [e for e in view.pool if e.eligible]
    return render_template("levels/index.html", view=view, pool=pool[:POOL_SHOWN], pool_total=len(pool))


@bp.get("/national")
@roles(Role.MINISTRY)
def national() -> Any:
    return render_template("levels/national.html", overview=queries.national_overview(db.session))


def _cell(row: Any, attr: str, scale: float = 1.0) -> str:
    return "" if row is None else f"{scale * getattr(row, attr):.1f}"


@bp.get("/national.csv")
@roles(Role.MINISTRY)
def national_csv() -> Any:
    overview = queries.national_overview(db.session)
    header = [_("Province"), _("Campaigns published by the province"), _("Campaigns published by its cities"),
              _("Reviewed cases"), _("Mean score"), _("Shrunk mean"), _("Interval low"), _("Interval high"),
              _("Excellent-or-good share (%)"), _("Legal-aid agencies"), _("Agencies with reviewed cases")]
    rows = [[p.region.name, p.campaigns, p.city_campaigns, p.cases, _cell(p.row, "mean"), _cell(p.row, "estimate"),
             _cell(p.row, "low"), _cell(p.row, "high"), _cell(p.row, "share", 100.0), p.agencies,
             p.agencies_reviewed] for p in overview.provinces]
    return Response(csv_bytes([header, *rows]), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=national-overview.csv"})


@bp.get("/national/<int:region_id>")
@roles(Role.MINISTRY)
def province(region_id: int) -> Any:
    region = load_or_404(Region, region_id, lambda r: r.level == RegionLevel.PROVINCE)
    return render_template("levels/province.html", detail=queries.province_detail(db.session, region))
