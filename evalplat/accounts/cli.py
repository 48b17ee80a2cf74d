"""``flask users …``: create users and reset passwords from the command line."""

from __future__ import annotations

import secrets

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from evalplat.accounts import operations
from evalplat.accounts.models import Role, User
from evalplat.errors import DomainError
from evalplat.extensions import db
from evalplat.organisations.models import Agency, Region

users = AppGroup("users", help="Create and manage user accounts.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(str(exc.message))


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]),
              help="Role (repeat for several).")
@click.option("--agency", "agency_code", default=None, help="Agency code, for agency staff.")
@click.option("--jurisdiction", "region_code", default=None,
              help="Region code of an organiser's jurisdiction (default: the --as organiser's, else the nation).")
@click.option("--as", "actor_name", default=None,
              help="Act for this organiser: the account must lie in its jurisdiction, as on the web.")
@click.option("--password", default=None, help="Password; generated and printed when omitted.")
def create(username: str, display_name: str, roles: tuple[str, ...], agency_code: str | None,
           region_code: str | None, actor_name: str | None, password: str | None) -> None:
    """Create a user."""
    agency = None
    if agency_code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.ClickException(f"unknown agency code {agency_code!r}")
    region = None
    if region_code:
        region = db.session.scalar(sa.select(Region).where(Region.code == region_code))
        if region is None:
            raise click.ClickException(f"unknown region code {region_code!r}")
    actor = None
    if actor_name:
        actor = db.session.scalar(sa.select(User).where(User.username == actor_name))
        if actor is None or not actor.is_organiser:
            raise click.ClickException(f"no organiser named {actor_name!r}")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        operations.create_user(db.session, actor=actor, username=username, display_name=display_name or username,
                               password=password, roles=roles, agency=agency, jurisdiction=region,
                               must_change_password=generated)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"created {username}" + (f" with password {password}" if generated else ""))


@users.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="New password; generated and printed when omitted.")
def reset_password(username: str, password: str | None) -> None:
    """Set a new password and sign the user out everywhere."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        operations.set_password(db.session, actor=None, user=user, password=password, must_change=generated)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"password of {username} reset" + (f" to {password}" if generated else ""))


@users.command("list")
def list_users() -> None:
    """List users with their roles."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "" if user.active else " (inactive)"
        click.echo(f"{user.username}\t{','.join(sorted(user.roles))}{state}")


def register(app: Flask) -> None:
    app.cli.add_command(users)
