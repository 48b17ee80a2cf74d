"""``flask followups …``: draw a plan, import call-centre results, print rates and open complaints."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from evalplat.extensions import db

followups = AppGroup("followups", help="Follow-up visits to clients (回访).")


def _user(username: str) -> object:
    from evalplat.accounts.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


def _agency(code: str) -> object:
    from evalplat.organisations.models import Agency

    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
    if agency is None:
        raise click.ClickException(f"no agency with code {code!r}")
    return agency


@followups.command("draw")
@click.argument("agency_code")
@click.argument("year", type=int)
@click.option("--mode", type=click.Choice(["all", "share", "count"]), default="share", show_default=True)
@click.option("--share", default="30%", show_default=True)
@click.option("--count", type=int, default=None)
@click.option("--seed", required=True)
@click.option("--user", "username", required=True, help="Who draws (organiser or the agency's staff).")
def draw_command(agency_code: str, year: int, mode: str, share: str, count: int | None, seed: str,
                 username: str) -> None:
    """Draw an agency's follow-up plan for a year (reproducible from the seed)."""
    from evalplat.db import utcnow
    from evalplat.errors import DomainError
    from evalplat.followups.operations import draw_plan

    try:
        plan = draw_plan(db.session, actor=_user(username), agency=_agency(agency_code), year=year,  # type: ignore[arg-type]
                         mode=mode, share=share, count=count, seed=seed, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"plan {plan.id}: {plan.population} closed cases, digest {plan.population_digest[:16]}")


@followups.command("verify")
@click.argument("plan_id", type=int)
def verify_command(plan_id: int) -> None:
    """Draw a plan again from its seed and today's closed cases; exit 1 when the targets differ."""
    from evalplat.followups.models import FollowupPlan
    from evalplat.followups.operations import verify_plan

    plan = db.session.get(FollowupPlan, plan_id)
    if plan is None:
        raise click.ClickException(f"no follow-up plan {plan_id}")
    same, digest = verify_plan(db.session, plan)
    click.echo(f"plan {plan_id}: {'reproduced' if same else 'DIFFERS'} (population digest now {digest[:16]}, "
               f"recorded {plan.population_digest[:16]})")
    if not same:
        raise SystemExit(1)


@followups.command("import")
@click.argument("agency_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="The agency's follow-up staff member importing.")
def import_command(agency_code: str, path: Path, username: str) -> None:
    """Import call-centre results (CSV or XLSX) for an agency; all or nothing."""
    from evalplat.errors import DomainError
    from evalplat.followups.importer import ImportRefused, import_results

    agency = _agency(agency_code)
    try:
        written = import_results(db.session, actor=_user(username), agency_id=agency.id, source=path,  # type: ignore[arg-type, attr-defined]
                                 filename=path.name)
    except ImportRefused as refused:
        db.session.rollback()
        for p in refused.problems:
            click.echo(f"row {p.row}, column {p.column}: {p.message}", err=True)
        raise click.ClickException(f"{len(refused.problems)} problems; nothing imported") from refused
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"{written} calls imported")


@followups.command("rates")
@click.option("--by", type=click.Choice(["agency", "lawyer"]), default="agency", show_default=True)
@click.option("--top", type=int, default=30, show_default=True)
def rates_command(by: str, top: int) -> None:
    """Contact and satisfaction rates per agency or lawyer."""
    from evalplat.followups.queries import rates, totals

    items = rates(db.session, by=by)

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.1%}"

    total = totals(items)
    click.echo(f"all: called {total.called}, contact {pct(total.contact_rate)}, visits {total.visits}, "
               f"satisfaction {pct(total.satisfaction_rate)}, complaints {total.complaints}")
    for r in items[:top]:
        click.echo(f"  {r.name[:30]:<30} {r.called:>6} {pct(r.contact_rate):>7} {r.visits:>6} "
                   f"{pct(r.satisfaction_rate):>7} {r.complaints:>3}")


@followups.command("complaints")
def complaints_command() -> None:
    """Open complaints from follow-ups (fees, gifts, meals, absences), newest first."""
    from evalplat.cases.models import Case
    from evalplat.followups.models import ComplaintState, FollowupComplaint

    rows = db.session.execute(sa.select(FollowupComplaint.opened_at, Case.case_number, FollowupComplaint.kinds)
                              .join(Case, Case.id == FollowupComplaint.case_id)
                              .where(FollowupComplaint.state == ComplaintState.OPEN)
                              .order_by(FollowupComplaint.opened_at.desc())).all()
    for at, number, kinds in rows:
        click.echo(f"{at:%Y-%m-%d}  {number}  {', '.join(kinds)}")
    click.echo(f"{len(rows)} open complaints")


def register(app: Flask) -> None:
    app.cli.add_command(followups)
