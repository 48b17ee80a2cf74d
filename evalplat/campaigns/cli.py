"""``flask campaign …``: run a campaign from the command line with the same operations as the web.

    flask --app wsgi campaign create GD2024 --name "2024 年度评估" --year 2024 --per-case 3
    flask --app wsgi campaign plan GD2024 --mode fixed --per-stratum 1 --fold-administrative
    flask --app wsgi campaign seed GD2024 [--value 20240101 --source "lottery of 1 Jan"]
    flask --app wsgi campaign freeze GD2024
    flask --app wsgi campaign sample GD2024
    flask --app wsgi campaign report GD2024
    flask --app wsgi campaign verify-draw GD2024 --seed … --plan plan.json --digest …
    flask --app wsgi campaign assign preview|commit|undo|discard GD2024 [--run ID]
    flask --app wsgi campaign transition GD2024 scoring
    flask --app wsgi campaign list | show GD2024
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from evalplat.accounts.models import User
from evalplat.assignments import operations as assigning
from evalplat.assignments.models import AssignmentRun, RunState
from evalplat.campaigns import operations, queries
from evalplat.campaigns.models import Campaign, CampaignState
from evalplat.db import utcnow
from evalplat.errors import DomainError
from evalplat.extensions import db

campaign_cli = AppGroup("campaign", help="Run assessment campaigns: settings, sampling, assignment, states.")
assign_cli = AppGroup("assign", help="Preview, commit, undo or discard reviewer assignment runs.")
campaign_cli.add_command(assign_cli)

actor_option = click.option("--as", "actor_name", default=None, help="Username recorded as the actor.")


def _actor(username: str | None, campaign: Campaign | None = None) -> User | None:
    """The organiser named by ``--as`` (None without it: the operator acts as the platform). With a campaign,
    the organiser must run it, as on the web: a campaign of another jurisdiction is refused by name."""
    if not username:
        return None
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.is_organiser:
        raise click.ClickException(f"no organiser named {username!r}")
    if campaign is not None and not user.can_manage_campaign(campaign):
        owner = campaign.jurisdiction.name if campaign.jurisdiction else "?"
        mine = user.jurisdiction.name if user.jurisdiction else "none"
        raise click.ClickException(f"{username} does not run campaign {campaign.code_prefix}: it belongs to "
                                   f"{owner}, {username}'s jurisdiction is {mine}")
    return user


def _campaign(prefix: str) -> Campaign:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code_prefix == prefix.upper()))
    if campaign is None:
        raise click.ClickException(f"no campaign with code prefix {prefix!r}")
    return campaign


def _run(action: Callable[[], Any]) -> Any:
    """Run one operation and commit, or roll back and print its message on one line."""
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message).replace("\n", " ")) from None
    db.session.commit()
    return result


@campaign_cli.command("create")
@click.argument("code_prefix")
@click.option("--name", required=True)
@click.option("--year", type=int, required=True)
@click.option("--per-case", "reviewers_per_case", type=int, default=2, show_default=True)
@click.option("--min-evaluators", type=int, default=0, show_default=True)
@click.option("--city", "city_code", default=None, help="Region code of a city (city-wide campaign).")
@click.option("--due-days", type=int, default=21, show_default=True)
@actor_option
def create(code_prefix: str, name: str, year: int, reviewers_per_case: int, min_evaluators: int,
           city_code: str | None, due_days: int, actor_name: str | None) -> None:
    """Create a draft campaign and pin the current rubric versions."""
    from evalplat.campaigns.models import ScopeKind
    from evalplat.organisations.models import Region

    scope: dict[str, Any] = {}
    if city_code:
        region = db.session.scalar(sa.select(Region).where(Region.code == city_code))
        if region is None:
            raise click.ClickException(f"unknown region code {city_code!r}")
        scope = {"scope_kind": ScopeKind.CITY, "scope_region_id": region.id}
    actor = _actor(actor_name)

    def act() -> Campaign:
        campaign = operations.create_campaign(db.session, actor=actor, name=name, year=year, code_prefix=code_prefix,
                                              reviewers_per_case=reviewers_per_case, min_evaluators=min_evaluators,
                                              due_days=due_days, **scope)
        operations.pin_rubrics(db.session, actor=actor, campaign=campaign)
        return campaign

    campaign = _run(act)
    click.echo(f"created campaign {campaign.code_prefix} (id {campaign.id}), state {campaign.state.value}")


@campaign_cli.command("plan")
@click.argument("code_prefix")
@click.option("--mode", type=click.Choice(["fixed", "proportion", "designated", "census"]), required=True)
@click.option("--per-stratum", type=int, default=None)
@click.option("--rate", default=None, help="Proportion, e.g. 0.1 or 10%.")
@click.option("--min", "minimum", type=int, default=0)
@click.option("--max", "maximum", type=int, default=None)
@click.option("--numbers", default="", help="Designated sequence numbers, comma separated (e.g. 11,12).")
@click.option("--strata", default="agency,case_type", show_default=True)
@click.option("--fold-administrative/--no-fold-administrative", default=True, show_default=True)
@click.option("--take-all", is_flag=True, help="Take a whole stratum when it is smaller than asked.")
@actor_option
def plan(code_prefix: str, mode: str, per_stratum: int | None, rate: str | None, minimum: int,
         maximum: int | None, numbers: str, strata: str, fold_administrative: bool, take_all: bool,
         actor_name: str | None) -> None:
    """Set the sampling plan (before the population is frozen)."""
    campaign = _campaign(code_prefix)
    try:
        sequence = [int(n) for n in numbers.split(",") if n.strip()]
    except ValueError:
        raise click.ClickException(f"--numbers must be whole numbers, got {numbers!r}") from None
    data: dict[str, Any] = {"mode": mode, "strata": [s.strip() for s in strata.split(",") if s.strip()],
                            "fold_administrative": fold_administrative, "take_all": take_all, "minimum": minimum,
                            "maximum": maximum, "sequence_numbers": sequence}
    if per_stratum is not None:
        data["per_stratum"] = per_stratum
    if rate is not None:
        data["rate"] = rate
    actor = _actor(actor_name, campaign)
    _run(lambda: operations.set_plan(db.session, actor=actor, campaign=campaign, plan=data))
    assert campaign.plan is not None  # set_plan stored it
    click.echo(json.dumps(campaign.plan.params["engine"], ensure_ascii=False))


@campaign_cli.command("seed")
@click.argument("code_prefix")
@click.option("--value", default=None, help="A seed from a public source; generated when omitted.")
@click.option("--source", default="", help="Where --value comes from.")
@actor_option
def seed(code_prefix: str, value: str | None, source: str, actor_name: str | None) -> None:
    """Fix the seed (before the population is frozen)."""
    campaign = _campaign(code_prefix)
    actor = _actor(actor_name, campaign)
    fixed = _run(lambda: operations.fix_seed(db.session, actor=actor, campaign=campaign, seed=value, source=source,
                                             now=utcnow()))
    click.echo(f"seed {fixed}")


@campaign_cli.command("freeze")
@click.argument("code_prefix")
@actor_option
def freeze(code_prefix: str, actor_name: str | None) -> None:
    """Freeze the population: print its SHA-256 digest and size."""
    campaign = _campaign(code_prefix)
    actor = _actor(actor_name, campaign)
    frozen = _run(lambda: operations.freeze_population(db.session, actor=actor, campaign=campaign, now=utcnow()))
    click.echo(f"population {frozen.size} cases, sha256 {frozen.digest}")


@campaign_cli.command("sample")
@click.argument("code_prefix")
@actor_option
def sample(code_prefix: str, actor_name: str | None) -> None:
    """Draw the sample from the frozen population."""
    campaign = _campaign(code_prefix)
    actor = _actor(actor_name, campaign)
    result = _run(lambda: operations.draw_sample(db.session, actor=actor, campaign=campaign, now=utcnow()))
    click.echo(f"drew {len(result.selected)} of {result.population_size} cases; selection sha256 "
               f"{operations.selection_digest(result)}")


@campaign_cli.command("report")
@click.argument("code_prefix")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report(code_prefix: str, as_json: bool) -> None:
    """Print the sampling report: per stratum, population, sample and rate."""
    campaign = _campaign(code_prefix)
    published = queries.published_draw(campaign)
    if as_json:
        click.echo(json.dumps(published, ensure_ascii=False, indent=1))
        return
    for key in ("seed", "seed_source", "population_digest", "population_size", "algorithm"):
        click.echo(f"{key}: {published.get(key)}")
    click.echo("plan: " + json.dumps(published.get("plan"), ensure_ascii=False))
    rows = published.get("report") or []
    if not rows:
        click.echo("no draw yet")
        return
    click.echo("stratum\tpopulation\tsample\trate")
    for row in rows:
        click.echo(f"{row['label']}\t{row['population']}\t{row['sample']}\t{row['rate']:.4f}")


@campaign_cli.command("verify-draw")
@click.argument("code_prefix")
@click.option("--seed", default=None, help="The published seed (default: the campaign's).")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON file of the published plan (default: the campaign's).")
@click.option("--digest", default=None, help="The published population digest (default: the campaign's).")
def verify_draw(code_prefix: str, seed: str | None, plan_file: Path | None, digest: str | None) -> None:
    """Re-run the draw from the published seed, plan and digest and compare it with the stored sample."""
    campaign = _campaign(code_prefix)
    plan_data = None
    if plan_file is not None:
        try:
            plan_data = json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{plan_file}: not a JSON plan ({exc})") from None
    try:
        check = operations.verify_draw(db.session, campaign, seed=seed, plan=plan_data, digest=digest)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"population digest {check.population_digest} "
               f"{'matches' if check.digest_matches else 'DIFFERS from'} the published {check.published_digest}")
    click.echo(f"draw: {check.drawn} cases; stored sample: {check.stored} cases; "
               f"{'identical' if check.selection_matches else 'DIFFERENT'}")
    if not check.ok:
        if check.missing or check.extra:
            click.echo(f"drawn but not stored: {check.missing}; stored but not drawn: {check.extra}")
        raise click.ClickException("verification failed")
    click.echo("verified")


def _preview_run(campaign: Campaign, run_id: int | None) -> AssignmentRun:
    if run_id is not None:
        run = db.session.get(AssignmentRun, run_id)
        if run is None or run.campaign_id != campaign.id:
            raise click.ClickException(f"no assignment run {run_id} in campaign {campaign.code_prefix}")
        return run
    run = queries.latest_run(campaign, RunState.PREVIEW)
    if run is None:
        raise click.ClickException("no preview run; run `campaign assign preview` first")
    return run


@assign_cli.command("preview")
@click.argument("code_prefix")
@click.option("--seed", type=int, default=None, help="Seed of the randomised mode and of tie-breaking.")
@actor_option
def assign_preview(code_prefix: str, seed: int | None, actor_name: str | None) -> None:
    """Run the assignment engine and store a preview run."""
    campaign = _campaign(code_prefix)
    actor = _actor(actor_name, campaign)
    run = _run(lambda: assigning.preview_run(db.session, campaign=campaign, actor=actor, now=utcnow(), seed=seed))
    summary = run.summary
    if summary.get("problems"):
        click.echo(f"run {run.id}: no assignment obeys the rules:")
        for problem in summary["problems"]:
            click.echo(f"- {problem['en']} / {problem['zh']}")
        raise click.ClickException("infeasible")
    click.echo(f"run {run.id}: {summary['pairs']} pairs, {summary['mismatches']:g} type mismatches, "
               f"optimality gap {summary['gap']:.2e}, solved in {summary['seconds']['solve']} s")


@assign_cli.command("commit")
@click.argument("code_prefix")
@click.option("--run", "run_id", type=int, default=None, help="Run id (default: the newest preview).")
@actor_option
def assign_commit(code_prefix: str, run_id: int | None, actor_name: str | None) -> None:
    """Commit a preview run: create the assignments and move the campaign to assigned."""
    campaign = _campaign(code_prefix)
    run = _preview_run(campaign, run_id)
    actor = _actor(actor_name, campaign)
    count = _run(lambda: assigning.commit_run(db.session, run=run, actor=actor, now=utcnow()))
    click.echo(f"committed run {run.id}: {count} assignments")


@assign_cli.command("undo")
@click.argument("code_prefix")
@actor_option
def assign_undo(code_prefix: str, actor_name: str | None) -> None:
    """Undo the committed run while no review has started."""
    campaign = _campaign(code_prefix)
    run = queries.latest_run(campaign, RunState.COMMITTED)
    if run is None:
        raise click.ClickException("no committed run")
    actor = _actor(actor_name, campaign)
    count = _run(lambda: assigning.undo_run(db.session, run=run, actor=actor, now=utcnow()))
    click.echo(f"undid run {run.id}: {count} assignments removed; campaign back to sampled")


@assign_cli.command("discard")
@click.argument("code_prefix")
@click.option("--run", "run_id", type=int, default=None)
@actor_option
def assign_discard(code_prefix: str, run_id: int | None, actor_name: str | None) -> None:
    """Discard a preview run."""
    campaign = _campaign(code_prefix)
    run = _preview_run(campaign, run_id)
    actor = _actor(actor_name, campaign)
    _run(lambda: assigning.discard_run(db.session, run=run, actor=actor, now=utcnow()))
    click.echo(f"discarded run {run.id}")


@campaign_cli.command("transition")
@click.argument("code_prefix")
@click.argument("to_state", type=click.Choice([s.value for s in CampaignState]))
@actor_option
def transition(code_prefix: str, to_state: str, actor_name: str | None) -> None:
    """Move the campaign to another state (every precondition is checked)."""
    campaign = _campaign(code_prefix)
    actor = _actor(actor_name, campaign)
    before = campaign.state.value
    _run(lambda: operations.transition(db.session, actor=actor, campaign=campaign, to_state=to_state, now=utcnow()))
    click.echo(f"{campaign.code_prefix}: {before} → {campaign.state.value}")


@campaign_cli.command("list")
def list_campaigns() -> None:
    """List campaigns."""
    for row in queries.campaign_rows():
        click.echo(f"{row.campaign.code_prefix}\t{row.campaign.year}\t{row.campaign.state.value}\t"
                   f"{row.samples} samples\t{row.assignments} assignments\t{row.campaign.name}")


@campaign_cli.command("show")
@click.argument("code_prefix")
def show(code_prefix: str) -> None:
    """Show a campaign's settings, published draw and counts."""
    campaign = _campaign(code_prefix)
    overview = queries.overview(campaign)
    click.echo(json.dumps(overview, ensure_ascii=False, indent=1, default=str))


def register(app: Flask) -> None:
    app.cli.add_command(campaign_cli)
