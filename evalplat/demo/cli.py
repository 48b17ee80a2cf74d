"""``flask demo`` builds the demo province; ``flask demo-logins`` prints how to sign in to it."""

from __future__ import annotations

import re

import click
from flask import Flask, current_app

from evalplat.extensions import db

from . import command
from .cases import SAMPLED_FIRST
from .province import DEMO_PASSWORD

#: Staff of county agencies outside Jiangmen (agency.<city>.<nn>) and reviewers after the first are
#: summarised by a pattern instead of being listed one by one.
_SUMMARISED = re.compile(r"^(agency\.(?!jiangmen\.)[a-z]+\.\d{2}|(gx\.)?peer(?!001$)\d{3}|(gx\.)?evaluator(?!001$)\d{3}"
                         r"|checker\.(?!jiangmen)[a-z]+(\.\d{2})?)$")


def _refuse_in_production() -> None:
    if current_app.config.get("EVALPLAT_ENV") == "production":
        raise click.ClickException("refusing to touch demo data with EVALPLAT_ENV=production")


@click.command("demo")
@click.option("--cases", type=click.IntRange(1, command.MAX_CASES), default=command.DEFAULT_CASES,
              show_default=True, help="Closed cases to generate.")
@click.option("--seed", type=click.IntRange(min=0), default=command.DEFAULT_SEED, show_default=True,
              help="Seed; the same seed gives the same province.")
@click.option("--year", type=click.IntRange(2000, 2100), default=command.DEFAULT_YEAR, show_default=True,
              help="Year of the closing dates.")
@click.option("--documents", type=click.Choice(["auto", "all", "sampled", "none"]), default="auto",
              show_default=True,
              help=f"Case files to store: all, or (sampled) the first {SAMPLED_FIRST} cases of every agency, year and type "
                   f"plus a random 10 %; auto = all up to {command.ALL_DOCUMENTS_UP_TO:,} cases.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has agencies.")
@click.option("--campaigns/--no-campaigns", default=True, show_default=True,
              help="Also run two campaigns through the real workflow: one published with appeals, one in scoring.")
@click.option("--postcase/--no-postcase", default=True, show_default=True,
              help="Also add closing reviews, self-evaluations and follow-ups (evalplat.demo.postcase).")
def demo(cases: int, seed: int, year: int, documents: str, if_empty: bool, campaigns: bool, postcase: bool) -> None:
    """Generate the demo province (Guangdong) into the configured database, in one transaction."""
    _refuse_in_production()
    existing = command.has_agencies(db.session)
    if existing and if_empty:
        click.echo(f"demo: the database already has {existing} agencies; nothing to do")
        return
    if existing:
        raise click.ClickException(command.not_empty_message(existing))
    try:
        with click.progressbar(length=cases, label="Generating cases", show_pos=True) as bar:
            summary = command.generate(db.session, cases=cases, seed=seed, year=year, documents=documents,
                                       progress=bar.update)
        built = None
        if campaigns:
            from evalplat.db import utcnow
            from evalplat.demo.campaigns import build_demo_campaigns

            built = build_demo_campaigns(db.session, seed=seed, year=year, now=utcnow(),
                                         progress=lambda message: click.echo(f"  {message}", err=True),
                                         collect_files=summary.collect_files)
        if postcase:
            from evalplat.db import utcnow
            from evalplat.demo.postcase import build_demo_postcase

            post = build_demo_postcase(db.session, seed=seed, year=year, now=utcnow(),
                                       progress=lambda message: click.echo(f"  {message}", err=True))
            click.echo(f"  post-case supervision in {post.seconds:.1f} s", err=True)
        db.session.commit()
    except command.DemoError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except BaseException:
        db.session.rollback()
        raise
    c = summary.counts
    click.echo(f"demo province (seed {seed}, year {year}): {c['regions']} regions, {c['agencies']} agencies, "
               f"{c['firms']} firms, {c['lawyers']} lawyers, {c['users']} users, {c['reviewers']} reviewers, "
               f"{c['rubric_versions']} rubric versions")
    click.echo(f"{c['cases']:,} cases, {c['parties']:,} parties, {c['documents']:,} documents "
               f"(files: {summary.documents_policy}) in {summary.seconds:.1f} s "
               f"({summary.cases_per_second:,.0f} cases/s)")
    if built is not None:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(built.counts.items()))
        click.echo(f"demo campaigns: #{built.published} published, #{built.scoring} in scoring ({counts}) "
                   f"in {built.seconds:.1f} s")
    click.echo("sign-in details: flask --app wsgi demo-logins")


def _starting_points() -> list[tuple[str, str]]:
    """Demo users who have something to look at or do in the demo campaigns, one query each."""
    import sqlalchemy as sa

    from evalplat.accounts.models import User
    from evalplat.appeals.models import Appeal
    from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
    from evalplat.organisations.models import ReviewerProfile

    out: list[tuple[str, str]] = []
    open_states = (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
    for rnd, text in ((AssignmentRound.INITIAL, "has cases to score"),
                      (AssignmentRound.ADJUDICATION, "has disagreements to decide"),
                      (AssignmentRound.APPEAL, "has an appeal to re-review")):
        names = db.session.scalars(
            sa.select(User.username).join(ReviewerProfile, ReviewerProfile.user_id == User.id)
            .join(Assignment, Assignment.reviewer_id == ReviewerProfile.id)
            .where(Assignment.round == rnd, Assignment.state.in_(open_states))
            .group_by(User.username).order_by(User.username).limit(2)).all()
        out += [(name, text) for name in names]
    agencies = db.session.scalars(
        sa.select(User.username).join(Appeal, Appeal.agency_id == User.agency_id)
        .group_by(User.username).order_by(User.username).limit(2)).all()
    out += [(name, "sees published results and appeals") for name in agencies]
    return out


@click.command("demo-logins")
def demo_logins() -> None:
    """Print the demo users to sign in with, and their shared password."""
    _refuse_in_production()
    users = command.demo_users(db.session)
    if not users:
        click.echo("no demo users in this database; run: flask --app wsgi demo")
        return
    click.echo(f"Demo logins (password for every demo user: {DEMO_PASSWORD})")
    starts = _starting_points()
    if starts:
        click.echo("Where to start:")
        for username, text in starts:
            click.echo(f"  {username:<26} {text}")
        click.echo("Everyone:")
    # the bureaus first (every level: province, city, the second province, the national read-only role)
    shown = sorted((u for u in users if not _SUMMARISED.match(u.username)),
                   key=lambda u: (not ({"organiser", "ministry"} & {str(r) for r in u.roles}), u.id))
    width = max(len(u.username) for u in shown)
    for user in shown:
        role = ", ".join(sorted(user.roles))
        profile = user.reviewer_profile
        where = f" · {profile.organisation}" if profile is not None and profile.organisation else ""
        click.echo(f"  {user.username:<{width}}  {role:<14} {user.display_name}{where}")
    counts = {"county agency staff": sum(1 for u in users if u.username.startswith("agency.")
                                         and u.username.count(".") == 2),
              "peer reviewers": sum(1 for u in users if u.username.startswith("peer")),
              "evaluators": sum(1 for u in users if u.username.startswith("evaluator")),
              "gx peers": sum(1 for u in users if u.username.startswith("gx.peer")),
              "gx evaluators": sum(1 for u in users if u.username.startswith("gx.evaluator"))}
    click.echo(f"  … and every county agency: agency.<city>.<nn> (nn as in agency code GD-XX-nn or GX-XX-nn; "
               f"{counts['county agency staff']} in all), peer001–peer{counts['peer reviewers']:03d}, "
               f"evaluator001–evaluator{counts['evaluators']:03d}")
    if counts["gx peers"]:
        click.echo(f"  … Guangxi's pool: gx.peer001–gx.peer{counts['gx peers']:03d}, "
                   f"gx.evaluator001–gx.evaluator{counts['gx evaluators']:03d}")
    checkers = sum(1 for u in users if u.username.startswith("checker."))
    if checkers:
        click.echo(f"  … and a second-level file checker of every agency: checker.<as the agency's staff> ({checkers})")
    click.echo("  demo users carry e-mail addresses @demo.invalid; never load the demo into production")


def register(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(demo_logins)
