"""Per-request hooks: security headers and caching rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

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


class TrustedProxies:
    """WSGI middleware: believe X-Forwarded-For and -Proto only when they come from the listed proxies.

    The client is the right-most address of the X-Forwarded-For chain that is not itself a trusted proxy
    (each proxy appends the address it saw), so a client cannot choose its address by sending the header.
    """

    def __init__(self, app: Callable[..., Any], networks: Iterable[str]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        remote = environ.get("REMOTE_ADDR", "")
        if self._trusted(remote):
            client = remote
            for hop in reversed([h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]):
                try:
                    ipaddress.ip_address(hop)
                except ValueError:
                    break
                client = hop
                if not self._trusted(hop):
                    break
            environ["REMOTE_ADDR"] = client
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)


def install_proxy_fix(app: Flask) -> None:
    """Honour X-Forwarded-For/-Proto from EVALPLAT_TRUSTED_PROXIES only: a number of hops (werkzeug's
    ProxyFix) or the proxies' addresses/networks. Nothing is trusted by default."""
    from evalplat.config import trusted_proxies

    trusted = app.config.get("EVALPLAT_TRUSTED_PROXIES") or 0
    if isinstance(trusted, str):
        trusted = trusted_proxies("EVALPLAT_TRUSTED_PROXIES", trusted)
    if isinstance(trusted, int):
        if trusted > 0:
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)  # type: ignore[method-assign]
    elif trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)  # type: ignore[method-assign]


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
