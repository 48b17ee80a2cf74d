"""Campaign pages for organisers: list, settings, sampling, report, states. Assignment runs: evalplat.assignments.views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from evalplat import labels
from evalplat.accounts.models import Role
from evalplat.campaigns import exports, operations, pipeline, queries
from evalplat.campaigns.models import Campaign, CampaignState, SamplingMode, ScopeKind
from evalplat.confirm import require_confirmation
from evalplat.db import utcnow
from evalplat.errors import DomainError
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.labels import label
from evalplat.organisations.jurisdiction import agencies_within, regions_within
from evalplat.organisations.models import Agency, Region, RegionLevel
from evalplat.params import int_arg, page_arg
from evalplat.security import load_or_404, roles
from evalplat.signals import events_committed
from forms.campaigns import CampaignForm, PlanForm, SeedForm

bp = Blueprint("campaigns", __name__, template_folder="templates")

PER_PAGE = 50


def _campaign(campaign_id: int) -> Campaign:
    return load_or_404(Campaign, campaign_id, lambda c: c.can_manage(current_user))


def _utc(value: datetime | None) -> datetime | None:
    """A time typed in the form (the display zone, Beijing time by default) as the UTC time it is stored as."""
    if value is None:
        return None
    return (value.replace(tzinfo=labels.timezone()) if value.tzinfo is None else value).astimezone(UTC)


def _local(value: datetime | None) -> datetime | None:
    """A stored time as the form shows it: naive, in the display zone."""
    return None if value is None else labels.local(value).replace(tzinfo=None)


def _city_choices() -> list[SelectChoice]:
    """The cities of the organiser's jurisdiction (a campaign's scope lies inside it)."""
    cities = db.session.scalars(sa.select(Region).where(Region.level == RegionLevel.CITY,
                                                        regions_within(current_user)).order_by(Region.code))
    return [SelectChoice(0, "—")] + [SelectChoice(c.id, c.name) for c in cities]


def _agency_choices() -> dict[str, list[tuple[int, str]]]:
    """The jurisdiction's agencies grouped by their city (the picker's option groups), in code order."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for agency_id, name, city in db.session.execute(
            sa.select(Agency.id, Agency.name, Region.name).join(Region, Region.id == Agency.city_id)
            .where(Agency.id.in_(agencies_within(current_user))).order_by(Region.code, Agency.code)):
        groups.setdefault(city, []).append((agency_id, name))
    return groups


def _settings_from(form: CampaignForm) -> dict[str, Any]:
    agency_ids = sorted(set(form.scope_agency_ids.data or []))
    cap = (form.max_pair_probability.data or "").strip()
    try:
        probability = float(cap) if cap else None
    except ValueError:
        raise operations.CampaignError(_l("The pair probability must be a number such as 0.5.")) from None
    if probability is not None and not 0 < probability <= 1:
        raise operations.CampaignError(_l("The pair probability must be above 0 and at most 1."))
    rules = {"regional_avoidance": bool(form.regional_avoidance.data), "case_type_match": form.case_type_match.data}
    if probability is not None:
        rules["max_pair_probability"] = probability
    return {
        "name": form.name.data, "year": form.year.data, "code_prefix": (form.code_prefix.data or "").strip().upper(),
        "scope_kind": ScopeKind(form.scope_kind.data), "scope_region_id": form.scope_region_id.data or None,
        "scope_agency_ids": agency_ids, "reviewers_per_case": form.reviewers_per_case.data,
        "min_evaluators": form.min_evaluators.data, "assignment_rules": rules, "due_days": form.due_days.data,
        "grade_bands": {"excellent": form.band_excellent.data, "good": form.band_good.data,
                        "pass": form.band_pass.data},
        "appeal_opens_at": _utc(form.appeal_opens_at.data), "appeal_closes_at": _utc(form.appeal_closes_at.data),
    }


@bp.get("/campaigns")
@roles(Role.ORGANISER)
def index() -> Any:
    return render_template("campaigns/index.html", rows=queries.campaign_rows(current_user))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def create() -> Any:
    form = CampaignForm()
    form.scope_region_id.choices = _city_choices()
    form.scope_agency_ids.choices = _agency_choices()
    if request.method == "GET":
        form.year.data = utcnow().year - 1
        form.code_prefix.data = f"GD{form.year.data}"
    if form.validate_on_submit():
        values = _settings_from(form)
        name, year, prefix = values.pop("name"), values.pop("year"), values.pop("code_prefix")
        values["disagreement_rules"] = {**_default_disagreement(), "max_spread": form.max_spread.data}
        campaign = operations.create_campaign(db.session, actor=current_user, name=name, year=year,
                                              code_prefix=prefix, **values)
        operations.pin_rubrics(db.session, actor=current_user, campaign=campaign)
        db.session.commit()
        flash(_l("Campaign %(p)s created.", p=campaign.code_prefix), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None)


def _default_disagreement() -> dict[str, Any]:
    from evalplat.campaigns.models import DEFAULT_DISAGREEMENT_RULES

    return dict(DEFAULT_DISAGREEMENT_RULES)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def edit(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    form = CampaignForm()
    form.scope_region_id.choices = _city_choices()
    form.scope_agency_ids.choices = _agency_choices()
    if request.method == "GET":
        rules = campaign.assignment_rules or {}
        chosen = list(campaign.scope_agency_ids or [])
        form.process(obj=campaign, scope_kind=campaign.scope_kind.value,
                     scope_region_id=campaign.scope_region_id or 0, scope_agency_ids=chosen,
                     regional_avoidance=rules.get("regional_avoidance", True),
                     case_type_match=rules.get("case_type_match", "preferred"),
                     max_pair_probability=str(rules.get("max_pair_probability") or ""),
                     max_spread=(campaign.disagreement_rules or {}).get("max_spread", 15),
                     band_excellent=campaign.grade_bands.get("excellent", 90),
                     band_good=campaign.grade_bands.get("good", 80), band_pass=campaign.grade_bands.get("pass", 60))
        # process() prefers the campaign's own attributes over the keywords: set the translated fields here.
        form.scope_kind.data = campaign.scope_kind.value
        form.scope_region_id.data = campaign.scope_region_id or 0
        form.scope_agency_ids.data = chosen
        form.appeal_opens_at.data = _local(campaign.appeal_opens_at)
        form.appeal_closes_at.data = _local(campaign.appeal_closes_at)
    if form.validate_on_submit():
        values = _settings_from(form)
        values["disagreement_rules"] = {**(campaign.disagreement_rules or {}), "max_spread": form.max_spread.data}
        operations.update_settings(db.session, actor=current_user, campaign=campaign, **values)
        db.session.commit()
        flash(_l("Settings saved."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign)


@bp.get("/campaigns/<int:campaign_id>")
@roles(Role.ORGANISER)
def show(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    overview = queries.overview(campaign)
    from evalplat.reviews.queries import pinnable_versions

    pin = operations.rubrics_to_pin(db.session, campaign)
    pinnable = pinnable_versions(db.session, campaign) if pin else []
    return render_template("campaigns/show.html", campaign=campaign, overview=overview, pin=pin, pinnable=pinnable,
                           moves=pipeline.moves(db.session, campaign, now=utcnow()),
                           stages=pipeline.stages(campaign, has_samples=bool(overview["samples"])),
                           runs=queries.runs(campaign), draw=queries.published_draw(campaign),
                           waiting=queries.waiting(campaign) if overview["samples"] else {})


@bp.get("/campaigns/<int:campaign_id>/progress")
@roles(Role.ORGANISER)
def progress(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    return render_template("campaigns/progress.html", campaign=campaign,
                           progress=queries.progress(campaign, now=utcnow()))


@bp.post("/campaigns/<int:campaign_id>/transition/<to_state>")
@roles(Role.ORGANISER)
def transition(campaign_id: int, to_state: str) -> Any:
    campaign = _campaign(campaign_id)
    require_confirmation()
    if to_state not in {s.value for s in CampaignState}:
        raise DomainError(_l("Unknown state %(s)s.", s=to_state), status=400)
    operations.transition(db.session, actor=current_user, campaign=campaign, to_state=to_state, now=utcnow())
    db.session.commit()
    events_committed.send()
    flash(_l("The campaign is now %(s)s.", s=label(campaign.state)), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/rubrics")
@roles(Role.ORGANISER)
def pin_rubrics(campaign_id: int) -> Any:
    """Pin the newest versions the campaign's jurisdiction may use, or (``version_id``) one chosen version for
    every case type it covers."""
    from evalplat.reviews.models import RubricVersion

    campaign = _campaign(campaign_id)
    version_id = int_arg("version_id", source=request.form)
    if version_id is None:
        operations.pin_rubrics(db.session, actor=current_user, campaign=campaign)
        message = _l("The newest rubric versions are pinned.")
    else:
        row = db.session.get(RubricVersion, version_id)
        case_types = list(row.case_types) if row is not None and current_user.can_use_rubric(row) else ["?"]
        operations.pin_rubrics(db.session, actor=current_user, campaign=campaign,
                               versions=dict.fromkeys(case_types, version_id))
        message = _l("Rubric version %(v)s is pinned.", v=row.version if row is not None else version_id)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


# --- sampling -------------------------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/plan", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def plan(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    form = PlanForm()
    current = (campaign.plan.params or {}).get("engine") if campaign.plan is not None else None
    if request.method == "GET" and current:
        form.process(mode=current["mode"], strata=",".join(current["strata"]),
                     fold_administrative=current["fold_administrative"], per_stratum=current.get("per_stratum"),
                     rate=current.get("rate") or "", minimum=current.get("minimum", 0), maximum=current.get("maximum"),
                     sequence_numbers=", ".join(map(str, current.get("sequence_numbers", []))),
                     take_all=current.get("take_all", False), boost=current.get("boost"))
    if form.validate_on_submit():
        try:
            numbers = [int(n) for n in (form.sequence_numbers.data or "").replace("，", ",").split(",") if n.strip()]
        except ValueError:
            raise operations.CampaignError(_l("Sequence numbers must be whole numbers separated by commas.")) from None
        data: dict[str, Any] = {"mode": form.mode.data, "strata": form.strata.data.split(","),
                                "fold_administrative": form.fold_administrative.data, "take_all": form.take_all.data,
                                "minimum": form.minimum.data or 0, "maximum": form.maximum.data}
        if form.mode.data == "fixed" or (form.mode.data == "risk" and not form.rate.data):
            data["per_stratum"] = form.per_stratum.data
        if form.mode.data in ("proportion", "risk"):
            data["rate"] = form.rate.data or None
        if form.mode.data == "risk" and form.boost.data is not None:
            data["boost"] = float(form.boost.data)
        if form.mode.data == "designated":
            data["sequence_numbers"] = numbers
        operations.set_plan(db.session, actor=current_user, campaign=campaign, plan=data)
        db.session.commit()
        flash(_l("Sampling plan saved."), "success")
        return redirect(url_for("campaigns.plan", campaign_id=campaign.id))
    return render_template("campaigns/plan.html", campaign=campaign, form=form, seed_form=SeedForm(),
                           draw=queries.published_draw(campaign))


@bp.post("/campaigns/<int:campaign_id>/seed")
@roles(Role.ORGANISER)
def seed(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    form = SeedForm()
    if form.validate_on_submit():
        operations.fix_seed(db.session, actor=current_user, campaign=campaign, seed=form.seed.data or None,
                            source=form.source.data or "", now=utcnow())
        db.session.commit()
        flash(_l("The seed is fixed."), "success")
    return redirect(url_for("campaigns.plan", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/freeze")
@roles(Role.ORGANISER)
def freeze(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    require_confirmation()
    frozen = operations.freeze_population(db.session, actor=current_user, campaign=campaign, now=utcnow())
    db.session.commit()
    flash(_l("Population frozen: %(n)d cases.", n=frozen.size), "success")
    return redirect(url_for("campaigns.plan", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/draw")
@roles(Role.ORGANISER)
def draw(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    require_confirmation()
    result = operations.draw_sample(db.session, actor=current_user, campaign=campaign, now=utcnow())
    db.session.commit()
    flash(_l("%(n)d cases drawn.", n=len(result.selected)), "success")
    return redirect(url_for("campaigns.report", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/report")
@roles(Role.ORGANISER)
def report(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    published = queries.published_draw(campaign)
    codes = [str(r.get("agency")) for r in published["report"] if r.get("agency")]
    return render_template("campaigns/report.html", campaign=campaign, draw=published,
                           agencies=queries.agency_names(codes))


@bp.get("/campaigns/<int:campaign_id>/samples")
@roles(Role.ORGANISER)
def samples(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    page = page_arg()
    redaction = request.args.get("redaction", "")
    rows, total = queries.samples_page(campaign, page=page, per_page=PER_PAGE, redaction=redaction)
    return render_template("campaigns/samples.html", campaign=campaign, rows=rows, total=total, page=page,
                           per_page=PER_PAGE, redaction=redaction if redaction in queries.REDACTION_FILTERS else "",
                           risk=campaign.plan is not None and campaign.plan.mode == SamplingMode.RISK)


@bp.get("/campaigns/<int:campaign_id>/export/<what>.<fmt>")
@roles(Role.ORGANISER)
def export(campaign_id: int, what: str, fmt: str) -> Any:
    campaign = _campaign(campaign_id)
    if what not in exports.TABLES or fmt not in exports.FORMATS or not exports.available(campaign, what):
        abort(404)
    content, mimetype, name = exports.export(campaign, what, fmt)
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
