"""Writing and verifying the audit log. Every operation that changes state calls :func:`record`.

:func:`record` adds the event to the caller's transaction with a placeholder hash; when the transaction
commits, :func:`seal` (a ``before_commit`` hook on every session) takes the chain's lock, gives the events of
the transaction the next positions and chains their hashes. The lock is therefore held only in the last
moment of a transaction, after every row lock it takes, so two operations can never deadlock through it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from evalplat.audit.models import GENESIS_HASH, AuditEvent
from evalplat.db import DbSession, utcnow

# A fixed advisory-lock key that serialises sealing on PostgreSQL (SQLite serialises writers anyway).
_CHAIN_LOCK_KEY = 0x65766C70
_PENDING = "evalplat.audit.pending"
PENDING_PREFIX = "pending:"


def _plain(value: Any) -> Any:
    """Make a value JSON-safe and stable: enums to values, dates to ISO text, sets sorted."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _json_round_trip(value: Any) -> Any:
    """What the database will give back, so the hash covers exactly that."""
    return None if value is None else json.loads(json.dumps(_plain(value), ensure_ascii=False))


def record(
    session: DbSession,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event to the caller's transaction; it is chained when the transaction commits."""
    event = AuditEvent(
        at=at or utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_json_round_trip(before),
        after=_json_round_trip(after),
        prev_hash=PENDING_PREFIX.rstrip(":"),
        hash=PENDING_PREFIX + uuid.uuid4().hex,
    )
    session.add(event)
    session.info.setdefault(_PENDING, []).append(event)
    return event


def seal(session: DbSession) -> None:
    """Chain the transaction's pending events (``before_commit``)."""
    pending: list[AuditEvent] = session.info.pop(_PENDING, [])
    pending = [e for e in pending if e in session]
    if not pending:
        return
    # Events not flushed yet are held back from the first flush and inserted once, already chained (an
    # INSERT instead of an INSERT and an UPDATE). Every flush writes all pending events, so the flushed ones
    # are the first recorded: the order of recording is the order of ids.
    unflushed = [e for e in pending if e in session.new]
    for event in unflushed:
        session.expunge(event)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    last = session.execute(sa.select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    for event in pending:
        seq += 1
        event.seq = seq
        event.prev_hash = prev
        event.hash = event.compute_hash()
        prev = event.hash
    session.add_all(unflushed)
    session.flush()


def forget_pending(session: DbSession, *args: Any) -> None:
    """A rolled-back transaction's events are gone; so is their place in the queue."""
    session.info.pop(_PENDING, None)


sa.event.listen(Session, "before_commit", seal)
sa.event.listen(Session, "after_rollback", forget_pending)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str  # "hash_mismatch" | "prev_mismatch" | "gap" | "unsealed"


def iter_chain_breaks(session: DbSession, *, batch: int = 5000) -> Iterator[ChainBreak]:
    """Walk the log in chain order and yield every place where it is broken."""
    for event_id in session.scalars(sa.select(AuditEvent.id).where(AuditEvent.seq.is_(None))
                                    .order_by(AuditEvent.id)):
        yield ChainBreak(event_id, "unsealed")
    expected_prev, expected_seq, last_seq = GENESIS_HASH, 1, 0
    while True:
        rows = session.execute(
            sa.select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return
        for event in rows:
            assert event.seq is not None
            if event.seq != expected_seq:
                yield ChainBreak(event.id, "gap")
            if event.prev_hash != expected_prev:
                yield ChainBreak(event.id, "prev_mismatch")
            if event.compute_hash() != event.hash:
                yield ChainBreak(event.id, "hash_mismatch")
            expected_prev, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
        session.expunge_all()


def verify_chain(session: DbSession) -> list[ChainBreak]:
    return list(iter_chain_breaks(session))
