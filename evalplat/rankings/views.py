"""Organiser pages: rankings per campaign and across years, expert pool, priorities, rules, exports, report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.campaigns.models import Campaign
from evalplat.extensions import db
from evalplat.organisations.jurisdiction import campaigns_managed_by, campaigns_visible_to
from evalplat.params import page_arg, parse_int
from evalplat.rankings import exports, operations, queries
from evalplat.rankings.report_data import ReportError, build_report_data
from evalplat.rankings.rules import parse_rules
from evalplat.rankings.weights import SOURCE_LABELS, WeightsError, current_weights, weights_history
from evalplat.security import load_or_404, roles
from forms.rankings import RankingRulesForm, RankingWeightsForm
from reports.html import report_context
from reports.pdf import render_pdf
from reports.text import lang_of
from reports.xlsx import render_xlsx

bp = Blueprint("rankings", __name__, template_folder="templates")

PER_PAGE = 50
#: entities shown in the rankings page's "clearly above" and "clearly below" lists
TOP_LIST = 10
ALL = "all"


class Unpublished(Exception):
    """The campaign's results are not published: rankings count published results only."""

    def __init__(self, campaign: Campaign) -> None:
        super().__init__(campaign.id)
        self.campaign = campaign


@bp.errorhandler(Unpublished)
def unpublished(exc: Unpublished) -> Any:
    return render_template("rankings/unpublished.html", campaign=exc.campaign), 404


def _campaigns(scope: str) -> list[Campaign]:
    """``all`` = every published campaign with results (across years); otherwise one published campaign id."""
    if scope == ALL:
        found = queries.campaigns_with_results(db.session, campaigns_visible_to(current_user))
        if not found:
            abort(404)
        return found
    campaign_id = parse_int(scope)
    if campaign_id is None:
        abort(404)
    campaign = load_or_404(Campaign, campaign_id, lambda c: current_user.can_read_campaign(c))
    if not queries.is_published(campaign):
        raise Unpublished(campaign)
    return [campaign]


def _rankings(scope: str, view: str) -> queries.RankingSet:
    """One campaign's own results (``view="campaign"``) or the pooled record as of it (``"record"``);
    ``all`` pools every published campaign."""
    campaigns = _campaigns(scope)
    if scope != ALL and view == "record":
        return queries.record_for(db.session, campaigns[0])
    return queries.rankings_for(db.session, campaigns)


def _view() -> str:
    view = request.args.get("view", "campaign")
    if view not in ("campaign", "record"):
        abort(404)
    return view


def _lang() -> str:
    return lang_of(get_locale())


@bp.get("/rankings")
@roles(Role.ORGANISER)
def index() -> Any:
    return render_template("rankings/index.html",
                           campaigns=queries.campaigns_with_results(db.session, campaigns_visible_to(current_user)),
                           all_campaigns=db.session.scalars(  # rules of the campaigns the organiser runs
                               db.select(Campaign).where(campaigns_managed_by(current_user))
                               .order_by(Campaign.year.desc(), Campaign.id.desc())).all())


@bp.get("/rankings/<scope>")
@roles(Role.ORGANISER)
def show(scope: str) -> Any:
    view = _view()
    rset = _rankings(scope, view)
    kind = request.args.get("kind", "lawyers")
    if kind not in exports.ENTITY:
        abort(404)
    order = request.args.get("order", "score")
    ranking = getattr(rset, kind)
    rows = ranking.by_share() if order == "share" else list(ranking.rows)
    page = page_arg()
    shown = rows[(page - 1) * PER_PAGE: page * PER_PAGE]
    return render_template("rankings/show.html", scope=scope, rset=rset, kind=kind, order=order, rows=shown,
                           total=len(rows), page=page, per_page=PER_PAGE, view=view, ranking=ranking,
                           labels=SOURCE_LABELS,
                           tops=(ranking.top(TOP_LIST), ranking.bottom(TOP_LIST)))


@bp.get("/rankings/<scope>/pool")
@roles(Role.ORGANISER)
def pool(scope: str) -> Any:
    rset = _rankings(scope, "record")
    return render_template("rankings/pool.html", scope=scope, rset=rset, lang=_lang(), labels=SOURCE_LABELS,
                           entries=list(zip(rset.pool, rset.priorities, strict=True)))


@bp.get("/rankings/<scope>/export/<table>.<fmt>")
@roles(Role.ORGANISER)
def export(scope: str, table: str, fmt: str) -> Any:
    if table not in exports.TABLES or fmt not in ("csv", "xlsx"):
        abort(404)
    rset = _rankings(scope, "record" if table in ("pool", "priorities") else _view())
    recs = exports.records(rset, table)
    name = f"rankings-{scope}-{table}.{fmt}"
    if fmt == "csv":
        return Response(exports.to_csv(recs, _lang()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    return Response(exports.to_xlsx(recs, table, _lang()),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/rankings/<int:campaign_id>/rules", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def rules(campaign_id: int) -> Any:
    campaign = load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))
    current = parse_rules(campaign.ranking_rules)
    form = RankingRulesForm(data={**current.to_json(), **current.to_json()["priority"]})
    if form.validate_on_submit():
        operations.update_rules(db.session, actor=current_user, campaign=campaign, rules=form.to_rules())
        db.session.commit()
        flash(_("Ranking rules saved."), "success")
        return redirect(url_for("rankings.pool", scope=campaign.id))
    return render_template("rankings/rules.html", campaign=campaign, form=form)


@bp.route("/rankings/weights", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def weights() -> Any:
    """The source weights of the organiser's own jurisdiction: the version in force, a form for a new one,
    every earlier version, and how the sources are combined."""
    current = current_weights(db.session, current_user.jurisdiction_id)
    form = RankingWeightsForm(data={name: Decimal(str(value)) for name, value in current.values.items()})
    if form.validate_on_submit():
        try:
            saved = operations.set_weights(db.session, actor=current_user, values=form.to_values())
        except WeightsError as exc:
            target = getattr(form, exc.source) if exc.source in SOURCE_LABELS else None
            (target.errors if target is not None else form.form_errors).append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Ranking weights saved as version %(version)d.", version=saved.version), "success")
            return redirect(url_for("rankings.weights"))
    return render_template("rankings/weights.html", form=form, current=current, labels=SOURCE_LABELS,
                           history=weights_history(db.session, current_user.jurisdiction_id)
                           if current_user.jurisdiction_id is not None else [])


def _report(campaign_id: int) -> tuple[Any, str | None]:
    campaign = load_or_404(Campaign, campaign_id,
                           lambda c: queries.report_visible(c, current_user))
    section = queries.report_section(current_user)
    if not queries.is_published(campaign):
        raise Unpublished(campaign)
    try:
        data = build_report_data(db.session, campaign, lang=_lang())
    except ReportError:
        abort(404)
    if section is not None and data.for_agency(section) is None:
        abort(404)
    return data, section


@bp.get("/rankings/<int:campaign_id>/report")
@roles(Role.ORGANISER, Role.AGENCY_STAFF)
def report(campaign_id: int) -> Any:
    data, section = _report(campaign_id)
    return render_template("rankings/report.html", **report_context(data, _lang(), agency=section))


@bp.get("/rankings/<int:campaign_id>/report.<fmt>")
@roles(Role.ORGANISER, Role.AGENCY_STAFF)
def report_download(campaign_id: int, fmt: str) -> Any:
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    data, section = _report(campaign_id)
    name = f"report-{data.year}-{campaign_id}" + (f"-agency-{section}" if section else "") + f".{fmt}"
    if fmt == "pdf":
        body, mime = render_pdf(data, _lang(), agency=section), "application/pdf"
    else:
        body = render_xlsx(data, _lang(), agency=section)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f"attachment; filename={name}"})
