"""Confirmation of irreversible steps, on the server: the form carries a required checkbox, and the view refuses
(and does nothing) when it is not ticked, so the step cannot happen by a stray click, with or without JavaScript.

Templates use the ``confirm_form`` macro of ``_macros.html``; views call :func:`require_confirmation` first.
"""

from __future__ import annotations

from flask import request

from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l

FIELD = "confirmed"


class NotConfirmed(DomainError):
    status = 400


def require_confirmation() -> None:
    """Raise unless the submitted form ticked the confirmation box (nothing has been changed yet)."""
    if request.form.get(FIELD) != "yes":
        raise NotConfirmed(_l("Nothing was done: tick the box to confirm that you understand what will happen."),
                           code="not_confirmed", status=400)
