"""``flask quality …``: agencies' leniency, and a risk-weighted sample of a year's closed cases."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from evalplat.extensions import db

quality = AppGroup("quality", help="What the post-case checks feed into the peer review.")


@quality.command("leniency")
def leniency_command() -> None:
    """Each agency's mean self-score minus calibrated peer score, with its 95 % interval."""
    from evalplat.quality.queries import leniency

    for r in leniency(db.session):
        interval = f"{r.low:+.1f} … {r.high:+.1f}" if r.low is not None and r.high is not None else "—"
        click.echo(f"{r.agency[:30]:<30} n={r.n:<4} self {r.mean_self:5.1f} peer {r.mean_peer:5.1f} "
                   f"leniency {r.difference:+5.1f} ({interval})")


@quality.command("risk-sample")
@click.argument("year", type=int)
@click.option("--size", type=click.IntRange(1), required=True, help="Cases to draw.")
@click.option("--seed", required=True, help="The published seed.")
@click.option("--boost", type=click.FloatRange(0), default=3.0, show_default=True,
              help="How much one risk signal raises a case's chance (0: simple random sample).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV to write.")
def risk_sample(year: int, size: int, seed: str, boost: float, out: Path) -> None:
    """Draw a risk-weighted sample of YEAR's closed cases; write each case with its inclusion probability.

    The draw is the sampling engine's ``risk`` mode (as a campaign's plan draws it) over one stratum."""
    from evalplat.cases.models import Case
    from evalplat.organisations.models import Agency
    from evalplat.quality.queries import risk_signals
    from evalplat.sampling import PopulationRecord, SamplingPlan, draw
    from reports.spreadsheet import csv_bytes

    rows = db.session.execute(sa.select(Case.id, Case.case_number, Case.case_type, Case.sequence_no, Case.closed_on,
                                        Agency.code).join(Agency, Agency.id == Case.agency_id)
                              .where(Case.year == year, Case.closed_on.is_not(None))).all()
    if not rows:
        raise click.ClickException(f"no closed cases in {year}")
    records = [PopulationRecord(str(r.id), (r.code, r.case_number), r.code, r.case_type.value, r.sequence_no,
                                r.closed_on) for r in rows]
    signals = risk_signals(db.session, year=year)
    result = draw(records, SamplingPlan("risk", per_stratum=size, strata=(), boost=boost, take_all=True), seed,
                  signals=signals)
    by_id = {str(r.id): r for r in rows}
    table: list[tuple[object, ...]] = [("case_id", "agency", "case_number", "case_type", "risk_signals", "inclusion_probability")]
    table += [(int(c), by_id[c].code, by_id[c].case_number, by_id[c].case_type.value, signals.get(c, 0),
               round(result.probabilities[c], 6)) for c in result.case_ids]
    out.write_bytes(csv_bytes(table))
    risky = sum(1 for c in result.case_ids if signals.get(c))
    click.echo(f"{len(result.case_ids)} of {len(records)} cases drawn ({risky} with risk signals, "
               f"{sum(1 for s in signals.values() if s)} in the population; signals digest "
               f"{result.signals_digest}) -> {out}")


def register(app: Flask) -> None:
    app.cli.add_command(quality)
