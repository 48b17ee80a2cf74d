"""Per-request hooks: security headers and caching rules."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def register_web_hooks(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        # is_anonymous, not is_authenticated: the loader only returns active users, and reading ``active`` of a
        # user whose attributes a commit has expired would cost a query on every saving request.
        if not current_user.is_anonymous and not (request.endpoint or "").endswith("static"):
            response.headers["Cache-Control"] = "no-store"
        if request.path.startswith("/api/"):  # every API answer, errors included: tokens read personal data
            response.headers["Cache-Control"] = "no-store"
        return response
