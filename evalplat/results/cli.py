"""``flask --app wsgi results consolidate CAMPAIGN_ID`` and the ``demo-campaigns`` command."""

from __future__ import annotations

import click
from flask import Flask

from evalplat.db import utcnow
from evalplat.extensions import db


@click.group("results")
def results() -> None:
    """Consolidation of campaign results."""


@results.command("consolidate")
@click.argument("campaign_id", type=int)
@click.option("--full/--complete", default=False,
              help="--full: only cases with every initial review; default: every case whose reviews are in.")
def consolidate(campaign_id: int, full: bool) -> None:
    """Consolidate every case of CAMPAIGN_ID whose initial reviews are in (consensus or adjudication)."""
    from evalplat.campaigns.models import Campaign
    from evalplat.errors import DomainError
    from evalplat.results.operations import consolidate as run

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    try:
        out = run(db.session, campaign=campaign, actor=None, now=utcnow(), require_full=full)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{len(out.consensus)} consensus, {len(out.escalated)} escalated, {out.waiting} waiting")
    if out.unassigned:
        click.echo(f"no adjudicator for: {', '.join(out.unassigned[:20])}: {' '.join(out.problems)}")


@results.command("reliability")
@click.argument("campaign_id", type=int)
def reliability(campaign_id: int) -> None:
    """Compute CAMPAIGN_ID's reliability panel and bias-corrected totals now and store them as its snapshot."""
    from evalplat.campaigns.models import Campaign
    from evalplat.results.snapshots import compute

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    snapshot = compute(db.session, campaign)
    db.session.commit()
    figures = snapshot.figures
    alpha = "—" if figures["alpha"] is None else f"{figures['alpha']:.3f}"
    click.echo(f"{figures['reviews']} initial reviews of {figures['cases']} cases by {figures['reviewers']} reviewers: "
               f"alpha {alpha}, {sum(1 for e in figures['effects'] if e['flags'])} reviewers flagged; "
               f"{snapshot.seconds:.1f} s")


def register(app: Flask) -> None:
    from evalplat.demo.campaigns_cli import demo_campaigns

    app.cli.add_command(results)
    app.cli.add_command(demo_campaigns)
