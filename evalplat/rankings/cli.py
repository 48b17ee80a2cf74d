"""``flask report CAMPAIGN --format pdf|xlsx|html --out PATH``: the annual report from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from evalplat.campaigns.models import Campaign
from evalplat.extensions import db

STEPS = ("figures", "rankings", "groups", "items", "reliability", "trend", "agencies", "render")


@click.command("report")
@click.argument("campaign_id", metavar="CAMPAIGN", type=int)
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "html"]), default="pdf", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="File to write.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--agency", "agency_id", type=int, default=None, help="Only this agency's section.")
def report(campaign_id: int, fmt: str, out: Path, lang: str, agency_id: int | None) -> None:
    """Build the annual report of CAMPAIGN (its id) and write it to --out."""
    from evalplat.rankings.report_data import ReportError, build_report_data
    from reports.html import render_html
    from reports.pdf import render_pdf
    from reports.xlsx import render_xlsx

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"campaign {campaign_id} does not exist")
    with click.progressbar(length=len(STEPS), label=f"report {campaign_id}", file=sys.stderr,
                           item_show_func=lambda s: s) as bar:
        def progress(step: str) -> None:
            bar.update(1, step)

        try:
            data = build_report_data(db.session, campaign, lang=lang, progress=progress)
        except ReportError as exc:
            raise click.ClickException(str(exc)) from None
        section = None if agency_id is None else str(agency_id)
        if section is not None and data.for_agency(section) is None:
            raise click.ClickException(f"agency {agency_id} has no reviewed case in campaign {campaign_id}")
        if fmt == "pdf":
            out.write_bytes(render_pdf(data, lang, agency=section))
        elif fmt == "xlsx":
            out.write_bytes(render_xlsx(data, lang, agency=section))
        else:
            out.write_text(render_html(data, lang, agency=section), encoding="utf-8")
        bar.update(1, "render")
    click.echo(f"{out} ({fmt}, {data.glance.n_cases} cases, data version {data.data_version})")


def register(app: Flask) -> None:
    app.cli.add_command(report)
