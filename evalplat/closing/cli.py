"""``flask closing …``: the closing-file checklists, a case's closing-review result, figures, overdue returns."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from evalplat.extensions import db

closing = AppGroup("closing", help="Closing review of case files (结案审查, two levels).")


@closing.command("checklists")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def checklists(lang: str) -> None:
    """Print the closing-file checklists (version, lists, items; * marks a required item)."""
    from evalplat.closing.checklist import load_checklists

    book = load_checklists()
    click.echo(f"{book.title.get(lang)} {book.version} ({book.content_hash[:12]})")
    for checklist in book.lists:
        click.echo(f"\n[{checklist.code}] {checklist.title.get(lang)} — {', '.join(checklist.case_types)}")
        for item in checklist.items:
            click.echo(f"  {'*' if item.required else ' '} {item.code:<26} {item.label.get(lang)}")


@closing.command("show")
@click.argument("case_id", type=int)
def show(case_id: int) -> None:
    """Print a case's closing-review result as JSON (what the API answers)."""
    from evalplat.cases.models import Case
    from evalplat.closing.queries import result_document, review_of_case

    case = db.session.get(Case, case_id)
    if case is None:
        raise click.ClickException(f"case {case_id} does not exist")
    click.echo(json.dumps(result_document(review_of_case(case.id), case), ensure_ascii=False, indent=2))


@closing.command("summary")
@click.option("--year", type=int, default=None)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def summary(year: int | None, lang: str) -> None:
    """Pass rates at each level and the most often missing materials."""
    from evalplat.closing.queries import closing_summary, item_label

    found = closing_summary(db.session, year=year)
    click.echo(f"cases: {found.cases}")
    for state, n in found.by_state.items():
        click.echo(f"  {state:<16} {n}")

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate:.1%}"

    click.echo(f"first level:  {found.first_passed}/{found.first_checks} passed ({pct(found.first_pass_rate)})")
    click.echo(f"second level: {found.second_passed}/{found.second_checks} passed ({pct(found.second_pass_rate)})")
    click.echo("most often missing or defective:")
    for code, n in found.top_missing:
        click.echo(f"  {n:>7}  {item_label(code, lang)}")


@closing.command("overdue")
def overdue() -> None:
    """Returned files whose deadline has passed, oldest deadline first."""
    import sqlalchemy as sa

    from evalplat.cases.models import Case
    from evalplat.closing.models import ClosingReview, ClosingState
    from evalplat.db import utcnow
    from evalplat.organisations.models import Agency

    rows = db.session.execute(
        sa.select(ClosingReview.due_on, Case.id, Case.case_number, Agency.name)
        .join(Case, Case.id == ClosingReview.case_id).join(Agency, Agency.id == Case.agency_id)
        .where(ClosingReview.state == ClosingState.RETURNED, ClosingReview.due_on < utcnow().date())
        .order_by(ClosingReview.due_on, Case.id)).all()
    for due_on, case_id, number, agency in rows:
        click.echo(f"{due_on}  {case_id:>8}  {number}  {agency}")
    click.echo(f"{len(rows)} returned files past their deadline")


def register(app: Flask) -> None:
    app.cli.add_command(closing)
