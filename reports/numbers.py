"""Numbers for people: the one formatter of scores, intervals, percentages and missing values.

Every page (through evalplat's template filters ``number``, ``percent``, ``interval``) and every report
(``reports.text.fmt`` / ``pct``) formats figures here, so that they read the same everywhere:

- fixed decimals rounded half away from zero, never exponent notation (``1e-05`` is ``0.0000``, not ``1.0e-05``), no ``-0.0``;
- a missing value — ``None``, NaN, an infinity, text that is not a number — is a dash, or the reason given in
  ``missing`` ("too few reviews"); never ``nan``;
- ``sign=True`` writes a plus before a positive figure (leniency, differences);
- ``trim=True`` drops trailing zeros (``95`` for a 95 % level, ``0.5`` for a weight), like ``%g`` but without
  exponents;
- a count is a whole number with thousands separators (``12,345``; a weight sum rounds half up);
- an interval is ``low–high`` with an en dash (``low … high`` when an end is negative or signed, so that a
  minus never sits beside the dash), and a dash when either end is missing.

Plain functions of plain values (no app imports), as the reports package requires.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

DASH = "—"


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        figure = float(Decimal(value) if isinstance(value, str) else value)
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        return None
    return figure if math.isfinite(figure) else None


def _missing(missing: Any) -> str:
    return DASH if missing is None else str(missing)


def _fixed(figure: float, digits: int, sign: bool, trim: bool) -> str:
    digits = max(0, int(digits))
    # Half away from zero, as people round (81.25 → 81.3), on the figure's shortest decimal form.
    text = format(Decimal(repr(figure)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP), "f")
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    if sign and not text.startswith("-") and float(text) != 0:
        text = "+" + text
    return text


def number(value: Any, digits: int = 1, *, sign: bool = False, trim: bool = False, missing: Any = None) -> str:
    """A score or statistic with ``digits`` decimals; ``missing`` (or a dash) when there is none.

    >>> number(86.04), number(None), number(float("nan")), number(0.00001, 4), number(-0.01), number(3.5, sign=True)
    ('86.0', '—', '—', '0.0000', '0.0', '+3.5')
    >>> number(95.0, trim=True), number(0.25, 3, trim=True)
    ('95', '0.25')
    """
    figure = _finite(value)
    return _missing(missing) if figure is None else _fixed(figure, digits, sign, trim)


def count(value: Any, *, missing: Any = None) -> str:
    """A count of cases, people or documents: a whole number with thousands separators.

    >>> count(1234567), count(0), count(None), count(2315.5), count("12")
    ('1,234,567', '0', '—', '2,316', '12')
    """
    figure = _finite(value)
    return _missing(missing) if figure is None else format(int(_fixed(figure, 0, False, False)), ",")


def percent(share: Any, digits: int = 0, *, sign: bool = False, trim: bool = False, missing: Any = None) -> str:
    """A share (0–1) as a percentage: ``percent(0.8125, 1)`` is ``81.3%``.

    >>> percent(0.8125, 1), percent(None), percent(0.5), percent(0.95, 1, trim=True)
    ('81.3%', '—', '50%', '95%')
    """
    figure = _finite(share)
    return _missing(missing) if figure is None else _fixed(100 * figure, digits, sign, trim) + "%"


def interval(low: Any, high: Any, digits: int = 1, *, share: bool = False, sign: bool = False,
             missing: Any = None) -> str:
    """``low–high``; shares (``share=True``) as percentages; a dash (or ``missing``) when an end is missing.

    >>> interval(71.24, 88.5), interval(0.5, 0.75, share=True), interval(None, 3), interval(-2, 1.5, sign=True)
    ('71.2–88.5', '50.0%–75.0%', '—', '-2.0 … +1.5')
    """
    first, last = _finite(low), _finite(high)
    if first is None or last is None:
        return _missing(missing)
    show = percent if share else number
    separator = " … " if sign or min(first, last) < 0 else "–"
    return f"{show(low, digits, sign=sign)}{separator}{show(high, digits, sign=sign)}"
