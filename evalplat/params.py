"""One way of reading numbers and dates from requests: URL parts, query arguments and form fields.

Only ASCII digits count (``str.isdigit`` accepts ``²``, which ``int`` then refuses) and every number is
bounded: ids by :data:`MAX_ID`, the largest value of PostgreSQL's INTEGER primary keys (a larger value is an
error there, and above 2**63 - 1 an OverflowError in SQLite's driver). In a URL, the ``int``
converter of every route is :class:`BoundedIntConverter`, so an id out of range is a 404 like any missing
object; a query argument that is not a number in range is a 400 naming the argument.

>>> parse_int("42"), parse_int("²"), parse_int(str(2**31)), parse_int("-1")
(42, None, None, None)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

__all__ = ["MAX_ID", "MAX_PAGE", "BoundedIntConverter", "OpaqueIdConverter", "date_arg", "int_arg", "opaque_id",
           "page_arg", "parse_int", "reveal_id"]

#: the largest id: PostgreSQL's INTEGER columns hold 32-bit signed values (SQLite's hold 64 bits)
MAX_ID = 2**31 - 1
#: the largest page number a list accepts (its offset must still fit in a 64-bit integer)
MAX_PAGE = 10**9
_INT = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
#: dates a filter accepts: far enough for any case, near enough that a day more or less still exists
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def parse_int(text: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``text`` as a whole number in [low, high] (ASCII digits, optional minus), else None."""
    if text is None:
        return None
    text = text.strip()
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def int_arg(name: str, default: Any = None, *, low: int = 0, high: int = MAX_ID, source: Any = None) -> Any:
    """The query argument (or ``source`` mapping, e.g. ``request.form``) ``name`` as a bounded whole number.

    Absent or empty: ``default``. Anything else that is not a whole number in [low, high]: 400 naming it.
    """
    raw = (request.args if source is None else source).get(name)
    if raw is None or not raw.strip():
        return default
    value = parse_int(raw, low=low, high=high)
    if value is None:
        abort(400, description=_("%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low,
                                 high=high))
    return value


def page_arg(name: str = "page") -> int:
    """The page number of a list: 1 when absent, 400 when not a number from 1 to :data:`MAX_PAGE` (0 is 1)."""
    return max(int_arg(name, 1, high=MAX_PAGE), 1)


def date_arg(name: str, source: Any = None) -> date | None:
    """The argument ``name`` as a date written YYYY-MM-DD (None when absent or empty, else 400 naming it)."""
    raw = (request.args if source is None else source).get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        abort(400, description=_("%(name)s must be a date written YYYY-MM-DD, from %(first)s to %(last)s.",
                                 name=name, first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter for ASCII digits only, at most :data:`MAX_ID` unless a route says less."""

    regex = r"[0-9]+"  # werkzeug's is \d+, which matches other scripts' digits too

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# --- opaque ids ------------------------------------------------------------------------------------------
# Pages a reviewer opens must not carry database ids: they are allotted in import order, so each agency's
# cases (and the samples and assignments made from them) occupy a contiguous range. An opaque id is the id
# encrypted as one AES block under a key derived from the secret key: a keyed permutation, so every id has
# exactly one token, a token reveals nothing about the order of ids, and a forged token decodes to a value
# with its high bytes set, which is refused.
_TOKEN = re.compile(r"[a-z2-7]{26}", re.ASCII)


def _cipher() -> Cipher[Any]:
    secret = current_app.config["SECRET_KEY"]
    key = hmac.new(secret.encode() if isinstance(secret, str) else secret, b"evalplat opaque ids v1",
                   hashlib.sha256).digest()[:16]
    # ECB over a single block is the block cipher itself: a deterministic keyed permutation, as wanted here.
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def opaque_id(value: int) -> str:
    """The token standing for the id ``value`` in URLs (26 lower-case letters and digits)."""
    if not 0 <= int(value) <= MAX_ID:
        raise ValueError(f"id out of range: {value}")
    block = _cipher().encryptor().update(int(value).to_bytes(16, "big"))
    return base64.b32encode(block).decode("ascii").rstrip("=").lower()


def reveal_id(token: str) -> int | None:
    """The id behind a token of :func:`opaque_id`; None for anything that is not one."""
    if not _TOKEN.fullmatch(token):
        return None
    try:
        block = base64.b32decode(token.upper() + "======")
    except ValueError:
        return None
    value = int.from_bytes(_cipher().decryptor().update(block), "big")
    return value if value <= MAX_ID else None


class OpaqueIdConverter(BaseConverter):
    """``<oid:assignment_id>``: the view receives the id, URLs carry :func:`opaque_id` tokens."""

    regex = r"[a-z2-7]{26}"

    def to_python(self, value: str) -> int:
        found = reveal_id(value)
        if found is None:
            raise ValidationError()
        return found

    def to_url(self, value: Any) -> str:
        return opaque_id(int(value))


def init_app(app: Flask) -> None:
    """Every ``<int:…>`` of the app's routes becomes bounded, and ``<oid:…>`` opaque (before any route)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["oid"] = OpaqueIdConverter
