"""``flask --app wsgi demo-campaigns``: add the demo campaigns (every stage, and one in scoring) to the demo province."""

from __future__ import annotations

import click
from flask import current_app

from evalplat.db import utcnow
from evalplat.extensions import db


@click.command("demo-campaigns")
@click.option("--seed", type=click.IntRange(min=0), default=2024, show_default=True, help="Seed of the score model.")
@click.option("--year", type=click.IntRange(2000, 2100), default=2024, show_default=True,
              help="Year of the cases to sample (as given to flask demo).")
@click.option("--cities", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Cities whose agencies each campaign covers.")
def demo_campaigns(seed: int, year: int, cities: int) -> None:
    """Run a published campaign through every stage and start a second one, with the real operations."""
    from evalplat.campaigns.models import Campaign
    from evalplat.demo.campaigns import build_demo_campaigns

    if current_app.config.get("EVALPLAT_ENV") == "production":
        raise click.ClickException("refusing to touch demo data with EVALPLAT_ENV=production")
    if db.session.scalar(db.select(Campaign.id).where(Campaign.code_prefix == f"GD{year}")) is not None:
        raise click.ClickException(f"campaign GD{year} already exists; the demo campaigns are in this database")
    try:
        made = build_demo_campaigns(db.session, seed=seed, year=year, now=utcnow(), cities=cities,
                                    progress=click.echo)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise click.ClickException(f"demo campaigns failed: {exc}") from exc
    c = made.counts
    click.echo(f"published campaign #{made.published}: {c['samples_published']} cases, {c['reviews']} reviews in all, "
               f"{c['adjudicated']} adjudicated, appeals {c['accepted']} accepted / {c['rejected']} rejected / "
               f"{c['pending']} pending; campaign #{made.scoring} in scoring; {made.seconds:.1f} s")
