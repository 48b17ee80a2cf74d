"""Number fields that accept only what people mean by a number.

WTForms' ``DecimalField`` takes ``NaN``, ``sNaN`` and ``Infinity`` (``decimal.Decimal`` parses them), and a
``NumberRange`` validator then raises ``decimal.InvalidOperation`` comparing NaN: a 500 instead of a field
error. :class:`FiniteDecimalField` refuses them as not a number.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField

__all__ = ["FiniteDecimalField"]


class FiniteDecimalField(DecimalField):
    """A ``DecimalField`` whose value is a finite number written in ASCII digits, or a field error."""

    data: Any  # a Decimal or None (WTForms has no type information)

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Not a valid decimal value."))
