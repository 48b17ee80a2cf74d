"""Sign-in throttling: growing delays per account and per address, counted in the database.

Nobody is locked out. After ``free`` failed sign-ins in the window, a key (an account name or a client
address) must wait before its next attempt is looked at: ``first_delay`` seconds after the last failure,
doubling with every further failure up to ``max_delay``. Failures are rows of ``login_attempts`` (so every
worker process sees them); attempts refused for coming too early are recorded as throttled and do not
count, so hammering does not make the wait grow.

The two keys are not alike. Waiting on the *account* is the defence against guessing one account's
password, and it applies to that account only. Waiting on the *address* slows down one address trying many
accounts, but behind a reverse proxy or a shared office gateway many honest users share an address: a
correct password is therefore never refused because of failures on other accounts. An address in its
delay still signs in an account that has no failure from that address in the window; it gets nothing for
an account it has been guessing at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import LoginAttempt
from evalplat.db import DbSession, affected_rows


@dataclass(frozen=True)
class Rules:
    """How many failures are free within the window, and the delays after them."""

    account_free: int = 5
    address_free: int = 50
    window: timedelta = timedelta(minutes=15)
    first_delay: float = 15.0
    max_delay: float = 900.0

    @classmethod
    def from_config(cls, config: Any) -> Rules:
        return cls(account_free=int(config["EVALPLAT_LOGIN_MAX_FAILURES"]),
                   address_free=int(config["EVALPLAT_ADDRESS_MAX_FAILURES"]),
                   window=timedelta(minutes=int(config["EVALPLAT_LOGIN_WINDOW_MINUTES"])),
                   first_delay=float(config["EVALPLAT_LOGIN_DELAY_SECONDS"]),
                   max_delay=float(config["EVALPLAT_LOGIN_MAX_DELAY_SECONDS"]))


def delay_after(failures: int, free: int, rules: Rules) -> float:
    """Seconds to wait after the last failure, given the failures in the window (0 while they are free)."""
    if failures < free:
        return 0.0
    return min(rules.first_delay * 2.0 ** min(failures - free, 40), rules.max_delay)


@dataclass(frozen=True)
class State:
    """Failures of one key in the window and when it may try again."""

    failures: int
    last_failure: datetime | None
    wait_until: datetime | None

    def waiting(self, now: datetime) -> bool:
        return self.wait_until is not None and now < self.wait_until


def _counted(now: datetime, rules: Rules) -> sa.ColumnElement[bool]:
    return sa.and_(LoginAttempt.at >= now - rules.window, LoginAttempt.success.is_(False),
                   LoginAttempt.throttled.is_(False), LoginAttempt.cleared.is_(False))


def state(session: DbSession, column: sa.orm.InstrumentedAttribute[str], value: str, free: int, now: datetime,
          rules: Rules) -> State:
    count, last = session.execute(sa.select(sa.func.count(), sa.func.max(LoginAttempt.at))
                                  .where(column == value, _counted(now, rules))).one()
    if not count:
        return State(0, None, None)
    delay = delay_after(count, free, rules)
    return State(count, last, last + timedelta(seconds=delay) if delay else None)


def account_state(session: DbSession, username: str, now: datetime, rules: Rules) -> State:
    return state(session, LoginAttempt.username, username, rules.account_free, now, rules)


def address_state(session: DbSession, address: str, now: datetime, rules: Rules) -> State:
    return state(session, LoginAttempt.address, address, rules.address_free, now, rules)


def guessed_from(session: DbSession, username: str, address: str, now: datetime, rules: Rules) -> bool:
    """Whether this address has failed on this account within the window."""
    return bool(session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.address == address, _counted(now, rules))))


@dataclass(frozen=True)
class Throttle:
    """One row of the organiser's throttle page."""

    kind: str  # "account" | "address"
    key: str
    failures: int
    last_failure: datetime
    wait_until: datetime | None


def current(session: DbSession, now: datetime, rules: Rules) -> list[Throttle]:
    """Every account and address with counted failures in the window, the ones waiting first."""
    rows: list[Throttle] = []
    for kind, column, free in (("account", LoginAttempt.username, rules.account_free),
                               ("address", LoginAttempt.address, rules.address_free)):
        query = (sa.select(column, sa.func.count(), sa.func.max(LoginAttempt.at))
                 .where(_counted(now, rules)).group_by(column))
        for key, count, last in session.execute(query):
            delay = delay_after(count, free, rules)
            rows.append(Throttle(kind, key, count, last, last + timedelta(seconds=delay) if delay else None))
    return sorted(rows, key=lambda t: (t.wait_until is None or t.wait_until <= now, -t.failures, t.kind, t.key))


def clear(session: DbSession, kind: str, key: str, now: datetime, rules: Rules) -> int:
    """Forget the counted failures of an account or address (the attempts stay on record). Returns how many."""
    column = LoginAttempt.username if kind == "account" else LoginAttempt.address
    result = session.execute(sa.update(LoginAttempt).where(column == key, _counted(now, rules))
                             .values(cleared=True).execution_options(synchronize_session=False))
    return affected_rows(result) or 0
