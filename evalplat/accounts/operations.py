"""Every state change of accounts: creating users, passwords, roles, activation, sign-in attempts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from evalplat.accounts import passwords
from evalplat.accounts.models import LoginAttempt, Role, User
from evalplat.audit.operations import record
from evalplat.db import utcnow
from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")

PASSWORD_MESSAGES = {
    "too_short": _l("The password must have at least %(n)d characters.", n=passwords.MIN_LENGTH),
    "contains_username": _l("The password must not contain the username."),
    "too_simple": _l("The password is too simple; use more different characters."),
}


class AccountError(DomainError):
    code = "account_error"
    status = 400


def _check_password(password: str, username: str) -> None:
    problem = passwords.password_problem(password, username)
    if problem:
        raise AccountError(PASSWORD_MESSAGES[problem], code=f"password_{problem}")


def create_user(
    session: Session,
    *,
    actor: User | None,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[Role | str],
    agency: Agency | None = None,
    email: str | None = None,
    must_change_password: bool = False,
    check_password: bool = True,
) -> User:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError(_l("Username %(u)s is not valid: use 2–64 letters, digits, dot, dash or underscore.",
                              u=username), code="bad_username")
    if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == username)):
        raise AccountError(_l("The username %(u)s is already taken.", u=username), code="duplicate_username")
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise AccountError(_l("A user needs at least one role."), code="no_role")
    if Role.AGENCY_STAFF in role_set and agency is None:
        raise AccountError(_l("Agency staff must belong to an agency."), code="agency_required")
    if check_password:
        _check_password(password, username)
    user = User(username=username, display_name=display_name.strip() or username, email=email,
                password_hash=passwords.hash_password(password), agency=agency,
                must_change_password=must_change_password)
    user.set_roles(role_set)
    session.add(user)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="user.created", object_type="user",
           object_id=user.id, after={"username": username, "roles": sorted(role_set),
                                     "agency_id": agency.id if agency else None})
    return user


def set_password(session: Session, *, actor: User | None, user: User, password: str,
                 must_change: bool = False) -> None:
    """Set a new password and end every session of the user (their old cookies stop working)."""
    _check_password(password, user.username)
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = must_change
    user.renew_session_token()
    record(session, actor_id=actor.id if actor else None, action="user.password_set", object_type="user",
           object_id=user.id, after={"by_self": actor is not None and actor.id == user.id,
                                     "must_change": must_change})


def change_own_password(session: Session, *, user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError(_l("The current password is not correct."), code="wrong_current_password")
    set_password(session, actor=user, user=user, password=new, must_change=False)


def set_active(session: Session, *, actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."), code="self_deactivate")
    before = user.active
    user.active = active
    user.renew_session_token()
    record(session, actor_id=actor.id, action="user.activated" if active else "user.deactivated",
           object_type="user", object_id=user.id, before={"active": before}, after={"active": active})


def set_roles(session: Session, *, actor: User, user: User, roles: Iterable[Role | str],
              agency: Agency | None) -> None:
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise AccountError(_l("A user needs at least one role."), code="no_role")
    if Role.AGENCY_STAFF in role_set and agency is None:
        raise AccountError(_l("Agency staff must belong to an agency."), code="agency_required")
    before = {"roles": sorted(user.roles), "agency_id": user.agency_id}
    user.set_roles(role_set)
    user.agency = agency
    user.renew_session_token()
    record(session, actor_id=actor.id, action="user.roles_set", object_type="user", object_id=user.id,
           before=before, after={"roles": sorted(role_set), "agency_id": agency.id if agency else None})


def _recent_failures(session: Session, column: sa.ColumnElement[str], value: str, since: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    ) or 0


def authenticate(session: Session, *, username: str, password: str, address: str, max_failures: int,
                 address_max_failures: int, window: timedelta, now: datetime | None = None,
                 second_factor: Callable[[User], bool] | None = None) -> User | None:
    """The user when the credentials are right and neither the account nor the address is throttled.

    Every outcome costs one Argon2 verification and is recorded, so unknown users, wrong passwords and
    throttled accounts look the same from outside. ``second_factor(user)`` (e.g. the TOTP check) must also
    pass; a wrong code is a failed attempt like a wrong password, so codes cannot be guessed unthrottled.
    """
    now = now or utcnow()
    username = username.strip()[:64]
    since = now - window
    throttled = (_recent_failures(session, LoginAttempt.username, username, since) >= max_failures
                 or _recent_failures(session, LoginAttempt.address, address, since) >= address_max_failures)
    user = session.scalar(sa.select(User).where(User.username == username))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    success = bool(ok and user is not None and user.active and not throttled)
    if success and second_factor is not None and user is not None and not second_factor(user):
        success = False
    session.add(LoginAttempt(username=username, address=address[:64], at=now, success=success))
    if not success or user is None:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    record(session, actor_id=user.id, action="user.login", object_type="user", object_id=user.id)
    return user


def enable_totp(session: Session, *, user: User, secret: str, code: str) -> None:
    """Turn on the second factor once the user proves their app produces the right codes."""
    import pyotp

    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        raise AccountError(_l("The code does not match; check the time on your phone and try again."),
                           code="totp_mismatch")
    user.totp_secret = secret
    user.renew_session_token()
    record(session, actor_id=user.id, action="user.totp_enabled", object_type="user", object_id=user.id)


def disable_totp(session: Session, *, user: User, password: str) -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise AccountError(_l("The current password is not correct."), code="wrong_current_password")
    user.totp_secret = None
    user.renew_session_token()
    record(session, actor_id=user.id, action="user.totp_disabled", object_type="user", object_id=user.id)
