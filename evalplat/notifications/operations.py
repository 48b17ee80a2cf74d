"""Finding what to tell whom (one scoped query per kind), storing it once, e-mailing it, marking it read."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from evalplat.accounts.models import Role, User, UserRole
from evalplat.appeals.models import Appeal, AppealState
from evalplat.assignments.models import Assignment, AssignmentRound, AssignmentState
from evalplat.campaigns.models import PUBLISHED_STATES, Campaign, Sample
from evalplat.cases.models import Case, EvidenceChange
from evalplat.cases.queries import offer_visible
from evalplat.db import DbSession, affected_rows
from evalplat.i18n import lazy_gettext as _l  # str() is plain text for e-mails; in HTML arguments are escaped
from evalplat.jobs import task
from evalplat.labels import when
from evalplat.notifications import mail
from evalplat.notifications.models import EmailChoice, Kind, Notification
from evalplat.organisations.jurisdiction import within_column
from evalplat.organisations.models import Agency, ReviewerProfile

log = logging.getLogger(__name__)

DUE_SOON = timedelta(days=2)
OPEN = (AssignmentState.OFFERED, AssignmentState.ACCEPTED)
DECISIONS = (AssignmentRound.ADJUDICATION, AssignmentRound.APPEAL)

# What each kind says (its parameters come from the stored row).
TEXT: dict[Kind, Any] = {
    Kind.OFFER: _l("Case %(code)s is offered to you for review; please accept or decline it (due %(due)s)."),
    Kind.DECISION: _l("Case %(code)s waits for your decision (%(round)s, due %(due)s)."),
    Kind.DUE_SOON: _l("Your review of case %(code)s is due on %(due)s."),
    Kind.OVERDUE: _l("Your review of case %(code)s was due on %(due)s and is overdue."),
    Kind.APPEAL_FILED: _l("An appeal was filed on case %(code)s; it waits for your decision."),
    Kind.APPEAL_DECIDED: _l("The appeal on case %(code)s is decided."),
    Kind.PUBLISHED: _l("The results of %(campaign)s are published; the appeal window closes on %(closes)s."),
    Kind.CASE_CHANGED: _l("The organiser changed case %(code)s after you began scoring it; see what changed and why "
                          "on the case page."),
}


@dataclass(frozen=True)
class Found:
    user_id: int
    kind: Kind
    object_id: int
    params: dict[str, Any]
    endpoint: str


def text_of(n: Notification) -> str:
    """The notification's sentence in the current language."""
    params = dict(n.params or {})
    params.pop("args", None)
    for key in ("due", "closes"):
        if key in params:
            params[key] = when(datetime.fromisoformat(params[key])) if params[key] else "—"
    if "round" in params:
        from evalplat.labels import label

        params["round"] = label(params["round"])
    return str(TEXT[n.kind]) % params


def link_of(n: Notification, *, external: bool = False) -> str | None:
    if not n.endpoint or n.endpoint not in current_app.view_functions:
        return None
    return url_for(n.endpoint, _external=external, **(n.params or {}).get("args", {}))


def _not_yet(kind: Kind, user_col: Any, object_col: Any) -> Any:
    return ~sa.select(Notification.id).where(Notification.user_id == user_col, Notification.kind == kind,
                                             Notification.object_id == object_col).exists()


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _reviewer_in_pools() -> sa.ColumnElement[bool]:
    """For a select joined to ``Campaign`` and ``ReviewerProfile``: the reviewer belongs to a pool the campaign
    may draw on (its jurisdiction's or an ancestor's). A reviewer moved to another pool is told nothing more of
    the campaign's cases."""
    return within_column(Campaign.jurisdiction_id, ReviewerProfile.jurisdiction_id)


def _agency_in_campaign() -> sa.ColumnElement[bool]:
    """For a select joined to ``Campaign`` and ``Agency``: the agency lies in the campaign's jurisdiction."""
    return within_column(Agency.region_id, Campaign.jurisdiction_id)


def _assignment_events(session: DbSession, now: datetime) -> list[Found]:
    out: list[Found] = []
    base = (sa.select(Assignment.id, ReviewerProfile.user_id, Sample.code, Assignment.round, Assignment.due_at)
            .join(Sample, Sample.id == Assignment.sample_id)
            .join(ReviewerProfile, ReviewerProfile.id == Assignment.reviewer_id)
            .join(Campaign, Campaign.id == Sample.campaign_id)
            .where(Sample.is_training.is_(False), _reviewer_in_pools(),
                   offer_visible()))  # an offer waits (unannounced) until its case's redaction is approved
    checks: list[tuple[Kind, list[sa.ColumnElement[bool]]]] = [
        (Kind.OFFER, [Assignment.state == AssignmentState.OFFERED, Assignment.round.not_in(DECISIONS)]),
        (Kind.DECISION, [Assignment.state.in_(OPEN), Assignment.round.in_(DECISIONS)]),
        (Kind.DUE_SOON, [Assignment.state.in_(OPEN), Assignment.due_at >= now, Assignment.due_at < now + DUE_SOON]),
        (Kind.OVERDUE, [Assignment.state.in_(OPEN), Assignment.due_at < now]),
    ]
    for kind, where in checks:
        for aid, user_id, code, rnd, due in session.execute(
                base.where(*where, _not_yet(kind, ReviewerProfile.user_id, Assignment.id))):
            decision = rnd in DECISIONS
            out.append(Found(user_id, kind, aid, {"code": code, "due": _iso(due), "round": str(rnd),
                                                  "args": {"assignment_id": aid}},
                             "results.decide" if decision else "reviews.case"))
    return out


def _appeal_events(session: DbSession) -> list[Found]:
    out: list[Found] = []
    organisers = sa.select(UserRole.user_id).where(UserRole.role == Role.ORGANISER).subquery()
    for appeal_id, user_id, code in session.execute(
            sa.select(Appeal.id, User.id, Sample.code).join(Sample, Sample.id == Appeal.sample_id)
            .join(Campaign, Campaign.id == Sample.campaign_id)  # to the organisers who run the campaign
            .join(User, sa.and_(User.id.in_(sa.select(organisers.c.user_id)),
                                User.jurisdiction_id == Campaign.jurisdiction_id))
            .where(Appeal.state == AppealState.FILED, User.active.is_(True),
                   _not_yet(Kind.APPEAL_FILED, User.id, Appeal.id))):
        out.append(Found(user_id, Kind.APPEAL_FILED, appeal_id, {"code": code, "args": {"appeal_id": appeal_id}},
                         "appeals.detail"))
    for appeal_id, user_id, code in session.execute(
            sa.select(Appeal.id, User.id, Sample.code).join(Sample, Sample.id == Appeal.sample_id)
            .join(Campaign, Campaign.id == Sample.campaign_id).join(Agency, Agency.id == Appeal.agency_id)
            .join(User, User.agency_id == Appeal.agency_id)  # the appealing agency, if the campaign's own
            .where(Appeal.state.in_([AppealState.DECIDED, AppealState.REJECTED]), User.active.is_(True),
                   _agency_in_campaign(),
                   _not_yet(Kind.APPEAL_DECIDED, User.id, Appeal.id))):
        out.append(Found(user_id, Kind.APPEAL_DECIDED, appeal_id, {"code": code, "args": {"appeal_id": appeal_id}},
                         "appeals.detail"))
    return out


def _published_events(session: DbSession) -> list[Found]:
    agencies = (sa.select(Sample.campaign_id, Case.agency_id).join(Case, Case.id == Sample.case_id)
                .where(Sample.is_training.is_(False)).distinct().subquery())
    rows = session.execute(
        sa.select(Campaign.id, Campaign.name, Campaign.appeal_closes_at, User.id)
        .join(agencies, agencies.c.campaign_id == Campaign.id).join(Agency, Agency.id == agencies.c.agency_id)
        .join(User, User.agency_id == agencies.c.agency_id)  # staff of the campaign's agencies in its jurisdiction
        .where(Campaign.state.in_(PUBLISHED_STATES), User.active.is_(True), _agency_in_campaign(),
               _not_yet(Kind.PUBLISHED, User.id, Campaign.id)))
    return [Found(user_id, Kind.PUBLISHED, cid, {"campaign": name, "closes": _iso(closes),
                                                 "args": {"campaign": cid}}, "results.agency_results")
            for cid, name, closes, user_id in rows]


def _case_change_events(session: DbSession) -> list[Found]:
    """Reviewers who had begun scoring a case when the organiser changed its file or fields (one notice per
    change: the rows of one change share their time, the first row's id stands for it)."""
    from evalplat.reviews.models import Review

    first = (sa.select(sa.func.min(EvidenceChange.id).label("id"), EvidenceChange.case_id, EvidenceChange.at)
             .group_by(EvidenceChange.case_id, EvidenceChange.at).subquery())
    rows = session.execute(
        sa.select(first.c.id, ReviewerProfile.user_id, Assignment.id, Sample.code)
        .join(Sample, Sample.case_id == first.c.case_id)
        .join(Assignment, Assignment.sample_id == Sample.id)
        .join(Review, Review.assignment_id == Assignment.id)
        .join(ReviewerProfile, ReviewerProfile.id == Assignment.reviewer_id)
        .join(Campaign, Campaign.id == Sample.campaign_id)
        .join(User, User.id == ReviewerProfile.user_id)
        .where(Review.started_at < first.c.at, User.active.is_(True), _reviewer_in_pools(),
               Assignment.state.in_([AssignmentState.ACCEPTED, AssignmentState.SUBMITTED]),
               _not_yet(Kind.CASE_CHANGED, ReviewerProfile.user_id, first.c.id))
        .order_by(first.c.id, Assignment.id.desc()))
    out: dict[tuple[int, int], Found] = {}
    for change_id, user_id, aid, code in rows:  # a reviewer with two assignments on the case: the latest one
        out.setdefault((user_id, change_id), Found(user_id, Kind.CASE_CHANGED, change_id,
                                                   {"code": code, "args": {"assignment_id": aid}}, "reviews.case"))
    return list(out.values())


def sync(session: DbSession, *, now: datetime, send_mail: bool = True) -> Counter[str]:
    """Store every notification not yet given, and e-mail those the user has not opted out of.

    Returns the number stored per kind. The caller commits.
    """
    found = [*_assignment_events(session, now), *_appeal_events(session), *_published_events(session),
             *_case_change_events(session)]
    if not found:
        return Counter()
    rows = [Notification(user_id=f.user_id, kind=f.kind, object_id=f.object_id, params=f.params, endpoint=f.endpoint,
                         created_at=now) for f in found]
    session.add_all(rows)
    session.flush()
    if send_mail:
        _mail(session, rows, now=now)
    return Counter(str(r.kind) for r in rows)


def _mail(session: DbSession, rows: list[Notification], *, now: datetime) -> None:
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({r.user_id for r in rows})))}
    opted_out = set(session.execute(sa.select(EmailChoice.user_id, EmailChoice.kind)
                                    .where(EmailChoice.user_id.in_(list(users)))).all())
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
    base = (current_app.config.get("EVALPLAT_BASE_URL") or "").rstrip("/")
    for row in rows:
        user = users.get(row.user_id)
        if user is None or not user.email or (row.user_id, row.kind) in opted_out:
            continue
        with force_locale(user.locale or default):
            text = text_of(row)
            subject = _("Legal-aid case quality peer review: %(text)s", text=text)[:180]
            link = ""
            if base and row.endpoint in current_app.view_functions:
                with current_app.test_request_context(base_url=base):
                    link = "\n\n" + (link_of(row, external=True) or "")
            body = text + link
        try:
            if mail.send(user.email, subject, body):
                row.emailed_at = now
        except mail.MailError as exc:
            log.warning("notification %s not e-mailed: %s", row.id, exc)


def mark_read(session: DbSession, *, user: User, now: datetime, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (``ids``: only those); returns how many changed."""
    stmt = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    return affected_rows(session.execute(stmt.values(read_at=now))) or 0


def set_email_choices(session: DbSession, *, user: User, wanted: Iterable[Kind | str]) -> None:
    """E-mail the user the kinds in ``wanted`` only (every kind is still listed in the platform)."""
    keep = {Kind(k) for k in wanted}
    session.execute(sa.delete(EmailChoice).where(EmailChoice.user_id == user.id))
    session.add_all(EmailChoice(user_id=user.id, kind=k) for k in Kind if k not in keep)


@task("notifications.sync")
def sync_job() -> dict[str, int]:
    """The periodic reminder (and the catch-up after pages that cause events), on the job backend."""
    from evalplat.db import utcnow
    from evalplat.extensions import db

    counts = sync(db.session, now=utcnow())
    db.session.commit()
    return dict(counts)
