"""The read-only JSON API (/api/v1/…) and the organiser's API-token pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts.models import Role, User
from evalplat.api import openapi, operations
from evalplat.api.auth import authenticate
from evalplat.api.models import LIMIT_DAYS, ApiToken, ApiTokenPolicy
from evalplat.campaigns.models import PUBLISHED_STATES, Campaign
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.organisations.jurisdiction import campaigns_visible_to, is_national_organiser, users_within
from evalplat.params import int_arg, parse_int
from evalplat.rankings import exports, queries
from evalplat.rankings.weights import current_weights
from evalplat.security import api_scope, load_or_404, public, roles
from forms.api_tokens import ApiTokenForm, TokenLifetimeForm

bp = Blueprint("api", __name__, template_folder="templates")
bp.before_request(authenticate)

MAX_LIMIT = 10_000


def _visible(campaign: Campaign) -> bool:
    """Only published results leave the platform, only of the campaigns the token names (if any), and only of
    campaigns its issuer may read (an organiser's jurisdiction and its sub-jurisdictions; a token issued from
    the command line, without an issuer, reads every published campaign)."""
    if campaign.state not in PUBLISHED_STATES or not g.api_token.allows_campaign(campaign.id):
        return False
    issuer = db.session.get(User, g.api_token.created_by_id) if g.api_token.created_by_id is not None else None
    return g.api_token.created_by_id is None or (issuer is not None and issuer.can_read_campaign(campaign))


def _published() -> list[Campaign]:
    return [c for c in queries.campaigns_with_results(db.session) if _visible(c)]


def _scope(scope: str) -> list[Campaign]:
    if scope == "all":
        found = _published()
    elif parse_int(scope) is not None:
        campaign = db.session.get(Campaign, parse_int(scope))
        found = [campaign] if campaign is not None and _visible(campaign) else []
    else:
        found = []
    if not found:
        abort(404)
    return found


def _page(campaigns: list[Campaign], rset: queries.RankingSet, items: list[dict[str, Any]]) -> Any:
    """One page of records, with the scope, the interval level and the source-weights version used."""
    offset = int_arg("offset", 0, high=10**9)
    limit = int_arg("limit", 1000, low=1, high=MAX_LIMIT)
    return jsonify(scope={"campaign_ids": [c.id for c in campaigns], "years": sorted({c.year for c in campaigns})},
                   level=rset.rules.level, weights=(rset.weights or current_weights(db.session, None)).as_dict(),
                   total=len(items), offset=offset, limit=limit, items=items[offset:offset + limit])


@bp.get("/api/v1/openapi.json")
@public
def openapi_document() -> Any:
    return jsonify(openapi.document(request.script_root + "/"))


@bp.get("/api/v1/campaigns")
@api_scope("rankings:read")
def campaigns() -> Any:
    return jsonify(items=[{"id": c.id, "name": c.name, "year": c.year, "state": str(c.state)}
                          for c in _published()])


@bp.get("/api/v1/campaigns/<scope>/rankings/<entity>")
@api_scope("rankings:read")
def rankings(scope: str, entity: str) -> Any:
    if entity not in exports.ENTITY:
        abort(404)
    order = request.args.get("order", "score")
    if order not in ("score", "share"):
        abort(400, description="order must be 'score' or 'share'")
    found = _scope(scope)
    rset = queries.rankings_for(db.session, found)
    ranking = getattr(rset, entity)
    rows = ranking.by_share() if order == "share" else ranking.rows
    return _page(found, rset, [exports.rank_record(r, entity) for r in rows])


@bp.get("/api/v1/campaigns/<scope>/expert-pool")
@api_scope("expert_pool:read")
def expert_pool(scope: str) -> Any:
    only = request.args.get("eligible", "true").lower()
    if only not in ("true", "false", "1", "0"):
        abort(400, description="eligible must be true or false")
    found = _scope(scope)
    rset = queries.rankings_for(db.session, found)
    entries = [e for e in rset.pool if e.eligible or only in ("false", "0")]
    return _page(found, rset, [exports.pool_record(e) for e in entries])


@bp.get("/api/v1/campaigns/<scope>/priorities")
@api_scope("priorities:read")
def priorities(scope: str) -> Any:
    found = _scope(scope)
    rset = queries.rankings_for(db.session, found)
    return _page(found, rset, [exports.priority_record(p) for p in rset.priorities])


# --- organiser pages -----------------------------------------------------------------------------------

def _tokens_of_jurisdiction() -> sa.ColumnElement[bool]:
    """Tokens issued by the accounts the organiser administers (its subtree's organisers); an organiser of the
    nation also those issued from the command line."""
    if is_national_organiser(current_user):
        return sa.true()
    return ApiToken.created_by_id.in_(sa.select(User.id).where(users_within(current_user)))


@bp.route("/settings/api-tokens", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def tokens() -> Any:
    lifetime = operations.token_lifetime(db.session, current_app.config, current_user.jurisdiction_id)
    form = ApiTokenForm(days=lifetime.default_days)
    form.limit_days(lifetime.max_days)
    form.campaigns.choices = [SelectChoice(c.id, f"{c.code_prefix} {c.name}") for c in
                              db.session.scalars(sa.select(Campaign).where(campaigns_visible_to(current_user))
                                                 .order_by(Campaign.year.desc(), Campaign.id))]
    secret = None
    if form.validate_on_submit():
        token, secret = operations.issue_token(db.session, actor=current_user, name=form.name.data,
                                               scopes=list(form.scopes.data),
                                               days=form.days.data or lifetime.default_days,
                                               max_days=lifetime.max_days,
                                               campaign_ids=list(form.campaigns.data) or None)
        db.session.commit()
        form.process(formdata=None, days=lifetime.default_days)
    rows = db.session.scalars(sa.select(ApiToken).where(_tokens_of_jurisdiction())
                              .order_by(ApiToken.revoked_at.is_not(None),
                                                           ApiToken.created_at.desc())).all()
    names = {c.id: c.code_prefix for c in db.session.scalars(sa.select(Campaign))}
    return render_template("api/tokens.html", form=form, tokens=rows, secret=secret, campaign_names=names,
                           now=utcnow(), lifetime=lifetime)


@bp.route("/settings/api-tokens/lifetime", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def lifetime() -> Any:
    """The organiser sets the default and maximum lifetime of its jurisdiction's new API tokens, within the
    maximum the jurisdiction above allows."""
    from evalplat.organisations.models import Region

    current = operations.token_lifetime(db.session, current_app.config, current_user.jurisdiction_id)
    form = TokenLifetimeForm(default_days=current.default_days, max_days=current.max_days)
    form.limit(LIMIT_DAYS)
    editable = ApiTokenPolicy.can_edit(current_user)
    if request.method == "POST" and not editable:
        abort(403)
    if form.validate_on_submit():
        try:
            operations.set_token_lifetime(db.session, actor=current_user, default_days=form.default_days.data,
                                          max_days=form.max_days.data, config=current_app.config)
        except operations.LifetimeAboveParent as error:  # shown at the field, named like the form's own checks
            db.session.rollback()
            form.max_days.errors = [*form.max_days.errors, str(error.message)]
        else:
            db.session.commit()
            flash(_("New API tokens are valid for %(default)d days by default and for at most %(max)d days.",
                    default=form.default_days.data, max=form.max_days.data), "success")
            return redirect(url_for("api.lifetime"))
    editor = db.session.get(User, current.updated_by_id) if current.updated_by_id else None
    source = db.session.get(Region, current.jurisdiction_id) if current.jurisdiction_id else None
    above = db.session.get(Region, current.cap_jurisdiction_id) if current.cap_jurisdiction_id else None
    return render_template("api/lifetime.html", form=form, current=current, editor=editor, limit=LIMIT_DAYS,
                           editable=editable, source=source, above=above)


@bp.post("/settings/api-tokens/<int:token_id>/revoke")
@roles(Role.ORGANISER)
def revoke(token_id: int) -> Any:
    token = load_or_404(ApiToken, token_id, lambda t: bool(db.session.scalar(sa.select(sa.exists().where(
        ApiToken.id == t.id, _tokens_of_jurisdiction())))))
    operations.revoke_token(db.session, actor=current_user, token=token)
    db.session.commit()
    flash(_("The token is revoked; requests with it are refused from now on."), "success")
    return redirect(url_for("api.tokens"))
