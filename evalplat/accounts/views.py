"""Sign-in, sign-out, language, own account, and user administration for organisers."""

from __future__ import annotations

from typing import Any

import pyotp
import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from evalplat.accounts import operations, queries, throttle
from evalplat.accounts.models import Role, User
from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.i18n import LOCALES
from evalplat.i18n import lazy_gettext as _l
from evalplat.params import page_arg
from evalplat.security import is_safe_next, load_or_404, login_only, public, roles
from forms.accounts import (
    ChangePasswordForm,
    ClearThrottleForm,
    ConfirmForm,
    LoginForm,
    ResetPasswordForm,
    TotpDisableForm,
    TotpEnableForm,
    UserForm,
)

bp = Blueprint("accounts", __name__, template_folder="templates")

LOGIN_FAILED = _l("Sign-in failed: the username or password is wrong, or there were several failed attempts "
                  "and the next one must wait a little (the wait grows with every failure).")


def _rules() -> throttle.Rules:
    return throttle.Rules.from_config(current_app.config)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = operations.authenticate(
            db.session, username=form.username.data, password=form.password.data,
            address=request.remote_addr or "unknown", rules=_rules(),
            second_factor=lambda u: not u.totp_secret or operations.use_totp_code(
                db.session, user=u, code=form.totp.data or ""))
        db.session.commit()
        user = outcome.user
        if user is None:
            flash(LOGIN_FAILED, "error")
            return render_template("accounts/login.html", form=form), 200
        locale = session.get("locale")
        session.clear()  # a fresh session on sign-in (no fixation)
        if locale:
            session["locale"] = locale
        login_user(user)
        target = request.args.get("next")
        if user.must_change_password:
            return redirect(url_for("accounts.password"))
        return redirect(target if is_safe_next(target) else url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_only
def logout() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        # Sessions live in signed cookies: renewing the token is what makes a copied cookie stop working.
        current_user.renew_session_token()
        db.session.commit()
        logout_user()
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_l("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/language/<code>")
@public
def language(code: str) -> Any:
    form = ConfirmForm()
    if form.validate_on_submit() and code in LOCALES.values():
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_only
def password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        operations.change_own_password(db.session, user=current_user, current=form.current.data,
                                       new=form.new.data)
        db.session.commit()
        login_user(current_user._get_current_object())  # the session token changed: carry this session over, end the others
        flash(_l("Your password has been changed; other sessions have been signed out."), "success")
        return redirect(url_for("main.dashboard"))
    return render_template("accounts/password.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def two_factor() -> Any:
    """Optional TOTP second factor for organisers (their accounts can publish and decide appeals)."""
    user = current_user._get_current_object()
    if user.totp_secret:
        form = TotpDisableForm()
        if form.validate_on_submit():
            operations.disable_totp(db.session, user=user, password=form.password.data)
            db.session.commit()
            login_user(user)
            flash(_l("Two-factor sign-in is off."), "success")
            return redirect(url_for("accounts.two_factor"))
        return render_template("accounts/two_factor.html", form=form, enabled=True)
    form = TotpEnableForm()
    if user.totp_pending and form.validate_on_submit():
        operations.enable_totp(db.session, user=user, code=form.code.data)
        db.session.commit()
        login_user(user)
        flash(_l("Two-factor sign-in is on; you will be asked for a code at every sign-in."), "success")
        return redirect(url_for("main.dashboard"))
    secret = user.totp_pending
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="evalplat") if secret else None
    return render_template("accounts/two_factor.html", form=form, enabled=False, secret=secret, uri=uri,
                           start=ConfirmForm())


@bp.post("/account/two-factor/start")
@roles(Role.ORGANISER)
def two_factor_start() -> Any:
    """Make a key to set up (kept encrypted on the server until a code proves it); a GET never writes."""
    if ConfirmForm().validate_on_submit() and not current_user.totp_secret:
        operations.pending_totp_secret(db.session, user=current_user._get_current_object())
        db.session.commit()
    return redirect(url_for("accounts.two_factor"))


# --- administration -------------------------------------------------------------------------------------


def _agency_choices() -> list[SelectChoice]:
    return [SelectChoice(0, "—")] + [SelectChoice(a.id, a.name) for a in queries.agencies(current_user)]


def _jurisdiction_choices() -> list[SelectChoice]:
    # the nation by its translated label (its stored name is Chinese data)
    return [SelectChoice(r.id, r.display_name) for r in queries.regions(current_user)]


@bp.get("/admin/users")
@roles(Role.ORGANISER)
def users() -> Any:
    page = page_arg()
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    rows, total = queries.users_page(current_user, q=q, role=role, page=page, per_page=50)
    return render_template("accounts/users.html", users=rows, total=total, page=page, q=q, role=role,
                           per_page=50, confirm=ConfirmForm())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def create_user() -> Any:
    form = UserForm()
    form.agency_id.choices = _agency_choices()
    form.jurisdiction_id.choices = _jurisdiction_choices()
    if request.method == "GET" or "jurisdiction_id" not in request.form:
        form.jurisdiction_id.data = current_user.jurisdiction_id  # by default the creator's own
    if form.validate_on_submit():
        agency = queries.agency(form.agency_id.data, current_user) if form.agency_id.data else None
        organising = operations.needs_jurisdiction(form.roles.data, agency)
        jurisdiction = queries.region(form.jurisdiction_id.data, current_user) if organising else None
        user = operations.create_user(
            db.session, actor=current_user, username=form.username.data, display_name=form.display_name.data,
            password=form.password.data, roles=form.roles.data, agency=agency, jurisdiction=jurisdiction,
            email=form.email.data or None, must_change_password=True)
        db.session.commit()
        flash(_l("User %(u)s created.", u=user.username), "success")
        return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form)


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@roles(Role.ORGANISER)
def reset_password(user_id: int) -> Any:
    user = load_or_404(User, user_id, lambda u: queries.can_manage_user(current_user, u))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        operations.set_password(db.session, actor=current_user, user=user, password=form.password.data,
                                must_change=form.must_change.data)
        db.session.commit()
        flash(_l("Password of %(u)s reset; their sessions were signed out.", u=user.username), "success")
        return redirect(url_for("accounts.users"))
    return render_template("accounts/reset_password.html", form=form, user=user)


@bp.post("/admin/users/<int:user_id>/active/<int:active>")
@roles(Role.ORGANISER)
def set_active(user_id: int, active: int) -> Any:
    user = load_or_404(User, user_id, lambda u: queries.can_manage_user(current_user, u))
    if ConfirmForm().validate_on_submit():
        operations.set_active(db.session, actor=current_user, user=user, active=bool(active))
        db.session.commit()
        flash(_l("Account %(u)s updated.", u=user.username), "success")
    return redirect(url_for("accounts.users"))


def _may_clear(kind: str, key: str) -> bool:
    """An organiser sees and clears the waits of its subtree's accounts; an address (shared by anyone signing in
    from it) only an organiser of the nation."""
    if kind == "account":
        named = db.session.scalar(sa.select(User).where(User.username == key))
        return named is not None and queries.can_manage_user(current_user, named)
    jurisdiction = current_user.jurisdiction
    return current_user.is_organiser and jurisdiction is not None and jurisdiction.is_nation


@bp.get("/admin/sign-in-throttles")
@roles(Role.ORGANISER)
def throttles() -> Any:
    """Accounts and addresses with failed sign-ins in the window, and how long each must still wait."""
    now = utcnow()
    rows = [t for t in throttle.current(db.session, now, _rules()) if _may_clear(t.kind, t.key)]
    return render_template("accounts/throttles.html", rows=rows, now=now,
                           rules=_rules(), form=ClearThrottleForm())


@bp.post("/admin/sign-in-throttles/clear")
@roles(Role.ORGANISER)
def clear_throttle() -> Any:
    form = ClearThrottleForm()
    if form.validate_on_submit() and _may_clear(form.kind.data, form.key.data):
        cleared = operations.clear_throttle(db.session, actor=current_user, kind=form.kind.data, key=form.key.data,
                                            rules=_rules())
        db.session.commit()
        flash(_l("%(n)d failed sign-in(s) of %(key)s no longer count.", n=cleared, key=form.key.data), "success")
    return redirect(url_for("accounts.throttles"))
