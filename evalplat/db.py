"""Declarative base, column types and small helpers shared by every domain's models.

All datetimes are stored and returned as timezone-aware UTC; enums are stored as short strings with a
CHECK constraint (no native database enum types, so migrations stay portable between SQLite and
PostgreSQL); constraint names follow one naming convention so that migrations can refer to them.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVarTuple, cast

import flask_sqlalchemy.session
import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Session, registry, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# What operations and queries take as their session: a plain ORM session (scripts, workers, tests) or
# Flask-SQLAlchemy's app-context-scoped `db.session`, a `scoped_session` that forwards every Session method.
DbSession: TypeAlias = Session | scoped_session[flask_sqlalchemy.session.Session]

# The column types of a select, for helpers that add conditions to a select and return it with the same row shape
# (`def scoped(stmt: sa.Select[*Cols], ...) -> sa.Select[*Cols]`).
Cols = TypeVarTuple("Cols")


def affected_rows(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE run through a session matched.

    ``Session.execute`` is typed to return a ``Result``; for these statements it is a ``CursorResult``, which
    has the count (the cast SQLAlchemy's documentation gives for type checkers).
    """
    return cast(CursorResult[Any], result).rowcount


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite keeps no zone; PostgreSQL uses ``timestamptz``. Naive values are refused on the way in so that
    a local time can never be stored by mistake.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; evalplat stores timezone-aware UTC datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], **kwargs: Any) -> sa.Enum:
    """A portable enum type: a VARCHAR of the enum's values with a named CHECK constraint."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda e: [m.value for m in e],
        name=enum_cls.__name__.lower(),
        validate_strings=True,
        **kwargs,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            date: sa.Date(),
            dict[str, Any]: sa.JSON(),
            list[Any]: sa.JSON(),
            list[str]: sa.JSON(),
            list[int]: sa.JSON(),
        },
    )

    if TYPE_CHECKING:
        # Every model maps a table (DeclarativeBase types __table__ as the wider FromClause).
        __table__: ClassVar[sa.Table]

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        return f"<{type(self).__name__} id={ident!r}>"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic hook: write our column types as plain SQLAlchemy types, so migrations never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
