"""Languages: Chinese (zh_Hans) by default, English selectable.

The browser's Accept-Language is matched against the *language* codes ``zh`` and ``en`` (not against
``zh_Hans``, which Werkzeug's ``best_match`` would never pick for ``zh-CN``) and mapped to our locales.
Each domain package keeps its own catalogue in ``<package>/translations``; Flask-Babel merges them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup

LOCALES = {"zh": "zh_Hans", "en": "en"}
ROOT = Path(__file__).resolve().parent.parent


def translation_directories() -> list[str]:
    dirs = sorted(str(p) for p in ROOT.glob("*/translations") if p.is_dir())
    dirs += sorted(str(p) for p in ROOT.glob("evalplat/*/translations") if p.is_dir())
    return dirs


def select_locale() -> str:
    if not has_request_context():  # CLI and background jobs
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in LOCALES.values():
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES.values():
        return current_user.locale
    best = request.accept_languages.best_match(list(LOCALES)) if request else None
    if best:
        return LOCALES[best]
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")


class SafeLazyString(LazyString):
    """A lazily translated message that escapes its arguments when it is put into HTML.

    flask_babel's ``LazyString`` declares ``__html__`` and returns the formatted text, so Jinja and
    ``flash`` (whose session serialiser keeps anything with ``__html__`` as markup) treat a message carrying a
    file name, an imported cell or a firm name as trusted HTML. Here the translation is the trusted part and
    every argument is escaped (``Markup % mapping`` escapes the values); ``str()`` stays the plain text.
    """

    def __init__(self, msgid: str, **variables: Any) -> None:
        super().__init__(gettext, msgid, **variables)
        self.msgid = msgid
        self.variables = variables

    def __html__(self) -> Markup:
        text = Markup(gettext(self.msgid))  # noqa: S704 - the translation catalogue is trusted
        return text % self.variables if self.variables else text

    def bind(self, **variables: Any) -> SafeLazyString:
        """The same message with (more) arguments."""
        return SafeLazyString(self.msgid, **{**self.variables, **variables})


def lazy_gettext(msgid: str, **variables: Any) -> SafeLazyString:
    """Mark ``msgid`` for translation, translated when shown; arguments escaped in HTML (use as ``_l``)."""
    return SafeLazyString(msgid, **variables)
