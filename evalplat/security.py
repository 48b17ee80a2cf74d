"""Access policy: every route declares who may enter; anything undeclared is denied.

Views are tagged with one of the decorators below; a single ``before_request`` hook enforces the tag, so
that no handler tests roles inline. Object-level checks stay in model methods (``obj.can_view(user)``) and
are applied by :func:`load_or_404`.

    @bp.get("/campaigns/<int:campaign_id>")
    @roles(Role.ORGANISER)
    def show(campaign_id): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from evalplat.accounts.models import Role
from evalplat.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

POLICY_ATTR = "_evalplat_policy"
# What a signed-in user whose password must change may still open (public pages aside).
WHILE_PASSWORD_MUST_CHANGE = frozenset({"accounts.password", "accounts.logout", "accounts.language"})


@dataclass(frozen=True)
class Policy:
    kind: str  # "public" | "login" | "roles" | "api"
    roles: frozenset[Role] = frozenset()
    scope: str | None = None

    def describe(self) -> str:
        if self.kind == "roles":
            return "roles:" + ",".join(sorted(self.roles))
        if self.kind == "api":
            return f"api:{self.scope}"
        return self.kind


def _tag(policy: Policy) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, POLICY_ATTR, policy)
        return view
    return decorate


def public(view: F) -> F:
    """Anyone, signed in or not (login page, static files, health check)."""
    return _tag(Policy("public"))(view)


def login_only(view: F) -> F:
    """Any signed-in user, whatever the role (dashboard, own account, language)."""
    return _tag(Policy("login"))(view)


def roles(*allowed: Role) -> Callable[[F], F]:
    """Signed-in users holding at least one of the roles."""
    if not allowed:
        raise ValueError("roles() needs at least one role")
    return _tag(Policy("roles", frozenset(allowed)))


def api_scope(scope: str) -> Callable[[F], F]:
    """Bearer-token API: the token must carry the scope (checked by the API blueprint itself)."""
    return _tag(Policy("api", scope=scope))


def policy_for(app: Flask, endpoint: str | None) -> Policy | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return Policy("public")  # packaged CSS, JS and fonts
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    return getattr(view, POLICY_ATTR, None)


def enforce() -> Any:
    """``before_request`` hook: deny by default."""
    if request.endpoint is None:  # 404 and 405 are produced by routing itself
        return None
    policy = policy_for(current_app, request.endpoint)
    if policy is None:
        current_app.logger.error("route %s has no access policy; denied", request.endpoint)
        abort(403)
    if policy.kind in ("public", "api"):
        return None
    if not current_user.is_authenticated:
        if request.accept_mimetypes.best == "application/json":
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and request.endpoint not in WHILE_PASSWORD_MUST_CHANGE:
        # a password set by someone else (a new account, a reset) is changed before anything else is done
        return redirect(url_for("accounts.password"))
    if policy.kind == "roles" and not (current_user.roles & policy.roles):
        abort(403)
    return None


def load_or_404(model: type[T], ident: Any, check: Callable[[T], bool] | None = None) -> T:
    """Load an object by primary key; 404 when missing *or* when the check refuses it (ids can't be probed)."""
    return allowed_or_404(db.session.get(model, ident), check)


def allowed_or_404(obj: T | None, check: Callable[[T], bool] | None = None) -> T:
    """:func:`load_or_404` for an object loaded another way (e.g. with its relations in one query)."""
    if obj is None or (check is not None and not check(obj)):
        abort(404)
    return obj


def filter_id(name: str, allowed: Callable[[int], bool]) -> int | None:
    """A list filter that names an object by id (``?agency=12``): the id, when the user may see that object.

    Absent, empty or 0 ("all"): None. An id the user may not see — another jurisdiction's agency, a campaign it
    does not run — is refused with a 404 naming the filter, worded alike for a missing object so that ids cannot
    be probed; a list never answers such a filter silently with nothing.
    """
    from flask_babel import gettext as _

    from evalplat.params import int_arg

    value = int_arg(name)
    if not value:
        return None
    if not allowed(value):
        abort(404, description=_("The filter %(name)s=%(value)d names nothing you may see: no such object, or it "
                                 "lies outside your jurisdiction.", name=name, value=value))
    return int(value)


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """Only local absolute paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    return not any(ch in target for ch in "\r\n\t")


def back_to(default: str) -> str:
    """Where to send the user back to: the referring page when it is on this site, else ``default``."""
    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    local = referrer[len(host):] if referrer.startswith(host + "/") else referrer
    return local if is_safe_next(local) else default
