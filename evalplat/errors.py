"""Domain errors and the error pages.

Operations raise :class:`DomainError` (or a subclass) with a translatable message; one handler turns it into
a flashed message and a redirect back (for forms) or an error page, so views stay free of try/except.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, g, jsonify, redirect, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.security import back_to


class DomainError(Exception):
    """A request that the domain rules refuse; the message is shown to the user as it is."""

    status = 409
    code = "domain_error"

    def __init__(self, message: Any, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class InvalidTransition(DomainError):
    code = "invalid_transition"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"


class ConcurrentChange(DomainError):
    code = "concurrent_change"


#: SQLSTATEs of a transaction that PostgreSQL aborted in favour of a concurrent one (serialization_failure,
#: deadlock_detected): a lost race to report like a stale version, not an unreachable database.
LOST_RACE_SQLSTATES = frozenset({"40001", "40P01"})

ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    401: (_l("Sign-in required"), _l("Please sign in to continue.")),
    403: (_l("Access denied"), _l("Your account may not open this page.")),
    404: (_l("Not found"), _l("The page or object does not exist, or is not yours to see.")),
    405: (_l("Method not allowed"), _l("This page does not accept that kind of request.")),
    409: (_l("Conflict"), _l("The request conflicts with the current state.")),
    413: (_l("Too large"), _l("The upload is larger than the platform accepts.")),
    429: (_l("Too many requests"), _l("Please wait a little and try again.")),
    500: (_l("Server error"), _l("Something went wrong on our side; it has been logged.")),
    503: (_l("Service unavailable"), _l("The database is unreachable right now; please try again shortly.")),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(status: int, detail: Any = None) -> Any:
    title, text = ERROR_TEXT.get(status, ERROR_TEXT[500])
    if _wants_json():
        return jsonify(error=str(title), detail=str(detail or text)), status
    return render_template("error.html", status=status, title=title, text=detail or text), status


def flash_form_errors(form: Any) -> None:
    """Flash every validation message of a form that did not validate (each names its field's problem)."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if _wants_json():
            return jsonify(error=exc.code, detail=str(exc.message)), exc.status
        if request.method == "POST" and exc.status != 403:
            flash(str(exc.message), "error")
            # back to the page the form came from, or else to the GET view of the same URL
            return redirect(back_to(request.full_path.rstrip("?")))
        return render_error(exc.status, exc.message)

    def lost_race() -> Any:
        db.session.rollback()
        return domain_error(ConcurrentChange(_l("Someone else changed this at the same time; "
                                                "reload the page to see the current state.")))

    @app.errorhandler(StaleDataError)
    def stale(exc: StaleDataError) -> Any:
        return lost_race()

    @app.errorhandler(OperationalError)
    def db_down(exc: OperationalError) -> Any:
        if getattr(exc.orig, "sqlstate", None) in LOST_RACE_SQLSTATES:
            # PostgreSQL aborted this transaction so that a concurrent one could finish (a deadlock, or a
            # serialization failure): nothing of it was written, and the database is up.
            app.logger.warning("transaction aborted by a concurrent one: %s", exc.orig)
            return lost_race()
        db.session.rollback()
        app.logger.error("database error: %s", exc.orig)
        # The page must not need the database: render it as for a signed-out visitor (loading the user
        # for the navigation would raise again and turn the 503 into a 500).
        from evalplat.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        return render_error(503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status in ERROR_TEXT:
            # keep a description given with abort(code, description=…); Werkzeug's stock text is replaced
            default = type(exc).description
            detail = exc.description if exc.description and exc.description != default else None
            return render_error(status, detail)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.testing or app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        return render_error(500)
