"""Languages: Chinese (zh_Hans) by default, English selectable.

The browser's Accept-Language is matched against the *language* codes ``zh`` and ``en`` (not against
``zh_Hans``, which Werkzeug's ``best_match`` would never pick for ``zh-CN``) and mapped to our locales.
Each domain package keeps its own catalogue in ``<package>/translations``; Flask-Babel merges them.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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
    if chosen in LOCALES.values():
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES.values():
        return current_user.locale
    best = request.accept_languages.best_match(list(LOCALES)) if request else None
    if best:
        return LOCALES[best]
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
