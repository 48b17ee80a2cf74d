"""Every state change of accounts: creating users, passwords, roles, activation, sign-in attempts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from evalplat.accounts import passwords, throttle
from evalplat.accounts.models import LoginAttempt, Role, User
from evalplat.audit.operations import record
from evalplat.db import DbSession, affected_rows, utcnow
from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Agency, Region

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")

PASSWORD_MESSAGES = {
    "too_short": _l("The password must have at least %(n)d characters.", n=passwords.MIN_LENGTH),
    "contains_username": _l("The password must not contain the username."),
    "common": _l("This is one of the most common passwords; choose another."),
    "too_weak": _l("The password is too easy to guess: use a longer phrase of several unrelated words, "
                   "and avoid names, dates, keyboard runs and repeated characters."),
}


class AccountError(DomainError):
    code = "account_error"
    status = 400


def _check_password(password: str, username: str, *known: str) -> None:
    problem = passwords.password_problem(password, username, known=tuple(k for k in known if k))
    if problem:
        raise AccountError(PASSWORD_MESSAGES[problem], code=f"password_{problem}")


def create_user(
    session: DbSession,
    *,
    actor: User | None,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[Role | str],
    agency: Agency | None = None,
    jurisdiction: Region | None = None,
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
    jurisdiction = _check_jurisdiction(session, actor, role_set, agency, jurisdiction)
    if check_password:
        _check_password(password, username, display_name)
    user = User(username=username, display_name=display_name.strip() or username, email=email,
                password_hash=passwords.hash_password(password), agency=agency,
                jurisdiction_id=jurisdiction.id if jurisdiction else None,
                must_change_password=must_change_password)
    user.set_roles(role_set)
    session.add(user)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="user.created", object_type="user",
           object_id=user.id, after={"username": username, "roles": sorted(role_set),
                                     "agency_id": agency.id if agency else None,
                                     "jurisdiction_id": user.jurisdiction_id})
    return user


_JURISDICTION_ROLES = frozenset({Role.ORGANISER, Role.MINISTRY})


def needs_jurisdiction(roles: Iterable[Role | str], agency: Agency | None) -> bool:
    """Organisers, the national read-only role and a bureau's second-level closing checker (one without an
    agency: it checks the closing reviews of every agency in its jurisdiction) work for a jurisdiction."""
    role_set = {Role(r) for r in roles}
    return bool(role_set & _JURISDICTION_ROLES) or (Role.SECOND_CHECKER in role_set and agency is None)


def _check_jurisdiction(session: DbSession, actor: User | None, role_set: set[Role], agency: Agency | None,
                        jurisdiction: Region | None) -> Region | None:
    """The jurisdiction a new or changed account gets, checked against the actor's.

    Organisers and the national read-only role have a jurisdiction: the one chosen, else the actor's, else
    (the command line, no actor) the nation. An organiser gives accounts only inside its own subtree: never
    an organiser above itself or in a sibling's, never staff of an agency outside it, and the national role
    only from the nation.
    """
    from evalplat.organisations.jurisdiction import is_within, national_region

    if actor is not None and agency is not None and not actor.manages_agency(agency.id):
        raise AccountError(_l("The agency is outside your jurisdiction."), code="agency_outside_jurisdiction")
    if not needs_jurisdiction(role_set, agency):
        return None
    if Role.MINISTRY in role_set:
        nation = national_region(session)
        if jurisdiction is not None and jurisdiction.id != nation.id:
            raise AccountError(_l("The national read-only role belongs to the nation, not to a region."),
                               code="ministry_not_national")
        jurisdiction = nation
    if jurisdiction is None:
        jurisdiction = actor.jurisdiction if actor is not None else national_region(session)
    if jurisdiction is None:
        raise AccountError(_l("An organiser needs a jurisdiction."), code="jurisdiction_required")
    if actor is not None and not (actor.is_organiser and actor.jurisdiction_id is not None
                                  and is_within(jurisdiction.id, actor.jurisdiction_id, session)):
        raise AccountError(_l("You can give a role of a jurisdiction only inside your own jurisdiction."),
                           code="jurisdiction_outside")
    return jurisdiction


def set_password(session: DbSession, *, actor: User | None, user: User, password: str,
                 must_change: bool = False) -> None:
    """Set a new password and end every session of the user (their old cookies stop working)."""
    _check_password(password, user.username, user.display_name)
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = must_change
    user.renew_session_token()
    record(session, actor_id=actor.id if actor else None, action="user.password_set", object_type="user",
           object_id=user.id, after={"by_self": actor is not None and actor.id == user.id,
                                     "must_change": must_change})


def change_own_password(session: DbSession, *, user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError(_l("The current password is not correct."), code="wrong_current_password")
    if new == current:
        raise AccountError(_l("Choose a new password that differs from the current one."), code="password_unchanged")
    set_password(session, actor=user, user=user, password=new, must_change=False)


def set_active(session: DbSession, *, actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."), code="self_deactivate")
    before = user.active
    user.active = active
    user.renew_session_token()
    record(session, actor_id=actor.id, action="user.activated" if active else "user.deactivated",
           object_type="user", object_id=user.id, before={"active": before}, after={"active": active})


def set_roles(session: DbSession, *, actor: User, user: User, roles: Iterable[Role | str],
              agency: Agency | None, jurisdiction: Region | None = None) -> None:
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise AccountError(_l("A user needs at least one role."), code="no_role")
    if Role.AGENCY_STAFF in role_set and agency is None:
        raise AccountError(_l("Agency staff must belong to an agency."), code="agency_required")
    if jurisdiction is None and user.jurisdiction is not None and needs_jurisdiction(role_set, agency):
        jurisdiction = user.jurisdiction  # keeps its place unless another is chosen
    resolved = _check_jurisdiction(session, actor, role_set, agency, jurisdiction)
    before = {"roles": sorted(user.roles), "agency_id": user.agency_id, "jurisdiction_id": user.jurisdiction_id}
    user.set_roles(role_set)
    user.agency = agency
    user.jurisdiction_id = resolved.id if resolved else None
    user.renew_session_token()
    record(session, actor_id=actor.id, action="user.roles_set", object_type="user", object_id=user.id,
           before=before, after={"roles": sorted(role_set), "agency_id": agency.id if agency else None,
                                 "jurisdiction_id": user.jurisdiction_id})


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user on success; otherwise, whether it came too early."""

    user: User | None
    throttled: bool = False


def authenticate(session: DbSession, *, username: str, password: str, address: str, rules: throttle.Rules,
                 now: datetime | None = None, second_factor: Callable[[User], bool] | None = None) -> SignIn:
    """Check credentials under the throttling rules of :mod:`evalplat.accounts.throttle`.

    An account still waiting after its own failures is refused unexamined. An address still waiting after
    failures on several accounts is refused only for accounts it has itself failed on: a right password of
    anyone else behind the same address is let in. Every examined outcome costs one Argon2 verification and
    is recorded, so unknown users, wrong passwords and waits look the same from outside. ``second_factor``
    (the TOTP check) must also pass; a wrong code is a failure like a wrong password.
    """
    now = now or utcnow()
    username = username.strip()[:64]
    address = address[:64]
    early = throttle.account_state(session, username, now, rules).waiting(now) or (
        throttle.address_state(session, address, now, rules).waiting(now)
        and throttle.guessed_from(session, username, address, now, rules))
    user = session.scalar(sa.select(User).where(User.username == username))
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if early:
        session.add(LoginAttempt(username=username, address=address, at=now, success=False, throttled=True))
        return SignIn(None, throttled=True)
    success = bool(ok and user is not None and user.active)
    if success and second_factor is not None and user is not None and not second_factor(user):
        success = False
    session.add(LoginAttempt(username=username, address=address, at=now, success=success))
    if not success or user is None:
        return SignIn(None)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    record(session, actor_id=user.id, action="user.login", object_type="user", object_id=user.id)
    return SignIn(user)


def clear_throttle(session: DbSession, *, actor: User, kind: str, key: str, rules: throttle.Rules,
                   now: datetime | None = None) -> int:
    """An organiser forgets the counted failures of an account or an address (audited)."""
    if kind not in ("account", "address"):
        raise AccountError(_l("Unknown kind of throttle."), code="bad_throttle_kind")
    cleared = throttle.clear(session, kind, key[:64], now or utcnow(), rules)
    record(session, actor_id=actor.id, action="login_throttle.cleared", object_type="login_throttle",
           object_id=None, after={"kind": kind, "key": key[:64], "failures": cleared})
    return cleared


# --- second factor (TOTP, RFC 6238: 30-second steps, 6 digits) ----------------------------------------------
TOTP_DRIFT_STEPS = 1  # the current step, and one step either side for a phone clock that is a little off


def totp_step(code: str, secret: str, *, after: int | None, now: datetime | None = None) -> int | None:
    """The step of ``code`` within the current step ± drift, if it is later than ``after``; else None."""
    import hmac

    import pyotp

    code = code.strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_totp_code(session: DbSession, *, user: User, code: str, now: datetime | None = None) -> bool:
    """Accept a code once only: its step must be later than the last accepted one, claimed atomically."""
    if not user.totp_secret:
        return False
    step = totp_step(code, user.totp_secret, after=user.totp_last_step, now=now)
    if step is None:
        return False
    claimed = session.execute(
        sa.update(User).where(User.id == user.id,
                              sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if not affected_rows(claimed):
        return False  # the same code was used a moment ago by a concurrent sign-in
    user.totp_last_step = step
    return True


def pending_totp_secret(session: DbSession, *, user: User) -> str:
    """The secret being set up, kept encrypted on the user's row until a code proves it."""
    import pyotp

    if not user.totp_pending:
        user.totp_pending = pyotp.random_base32()
        session.flush()
    return user.totp_pending


def enable_totp(session: DbSession, *, user: User, code: str, now: datetime | None = None) -> None:
    """Turn on the second factor once the user proves their app produces the right codes."""
    secret = user.totp_pending
    step = totp_step(code, secret, after=None, now=now) if secret else None
    if secret is None or step is None:
        raise AccountError(_l("The code does not match; check the time on your phone and try again."),
                           code="totp_mismatch")
    user.totp_secret = secret
    user.totp_pending = None
    user.totp_last_step = step  # the code that proved the app cannot sign in as well
    user.renew_session_token()
    record(session, actor_id=user.id, action="user.totp_enabled", object_type="user", object_id=user.id)


def disable_totp(session: DbSession, *, user: User, password: str) -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise AccountError(_l("The current password is not correct."), code="wrong_current_password")
    user.totp_secret = None
    user.totp_last_step = None
    user.renew_session_token()
    record(session, actor_id=user.id, action="user.totp_disabled", object_type="user", object_id=user.id)
