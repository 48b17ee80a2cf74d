"""Each user's notifications (unread count in the header) and their e-mail choices."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from evalplat.db import utcnow
from evalplat.extensions import db
from evalplat.i18n import lazy_gettext as _l
from evalplat.notifications import operations
from evalplat.notifications.models import EmailChoice, Kind, Notification
from evalplat.security import login_only

bp = Blueprint("notifications", __name__, template_folder="templates")

LIMIT = 100
KIND_LABELS = {
    Kind.OFFER: _l("A case is offered to me"),
    Kind.DECISION: _l("A decision waits for me (adjudication, appeal re-review)"),
    Kind.DUE_SOON: _l("A deadline is two days away"),
    Kind.OVERDUE: _l("A deadline has passed"),
    Kind.APPEAL_FILED: _l("An appeal is filed"),
    Kind.APPEAL_DECIDED: _l("An appeal of my agency is decided"),
    Kind.PUBLISHED: _l("Results of my agency are published"),
    Kind.CASE_CHANGED: _l("A case I began scoring was changed (its file or its facts)"),
}


@bp.app_context_processor
def unread() -> dict[str, Any]:
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" in g:  # counted with the user on loading (one query per request)
            return int(g.unread_notifications or 0)
        return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None))) or 0

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_only
def index() -> Any:
    rows = list(db.session.scalars(sa.select(Notification).where(Notification.user_id == current_user.id)
                                   .order_by(Notification.id.desc()).limit(LIMIT)))
    items = [(n, operations.text_of(n), operations.link_of(n)) for n in rows]
    return render_template("notifications/index.html", items=items)


@bp.post("/notifications/read")
@login_only
def read() -> Any:
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()] or None
    operations.mark_read(db.session, user=current_user, now=utcnow(), ids=ids)
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/email", methods=["GET", "POST"])
@login_only
def email() -> Any:
    if request.method == "POST":
        wanted = [k for k in Kind if request.form.get(k.value) == "yes"]
        operations.set_email_choices(db.session, user=current_user, wanted=wanted)
        db.session.commit()
        flash(_l("Your e-mail choices are saved."), "success")
        return redirect(url_for("notifications.email"))
    off = set(db.session.scalars(sa.select(EmailChoice.kind).where(EmailChoice.user_id == current_user.id)))
    return render_template("notifications/email.html", kinds=[(k, KIND_LABELS[k], k not in off) for k in Kind])
