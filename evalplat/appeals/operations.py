"""Appeals (异议/复核): an agency objects to a published result; the organiser accepts or rejects it.

    filed → accepted → decided (a re-reviewer who has never seen the case decides; final)
    filed → rejected (with reasons)

Deadlines and states are enforced here, server-side: nothing is filed outside the campaign's appeal window
or after the campaign left the published state; one appeal per case. Every step is audited in the caller's
transaction. The re-review decision itself is recorded by :func:`evalplat.results.operations.decide`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.appeals.models import Appeal, AppealAttachment, AppealState
from evalplat.assignments.models import AssignmentRound
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign, CampaignState, Sample
from evalplat.cases.operations import redact_for_case
from evalplat.db import DbSession
from evalplat.errors import DomainError, InvalidTransition, NotAllowed
from evalplat.files import CodedError, FileRejected, Storage, sniff
from evalplat.i18n import lazy_gettext as _l
from evalplat.results.models import Result

__all__ = ["AppealError", "accept_appeal", "accepted_appeal", "appeal_window", "decide_appeal", "file_appeal",
           "reject_appeal"]

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
OPEN_STATES = (AppealState.FILED, AppealState.ACCEPTED)


class AppealError(DomainError):
    code = "appeal_error"


def appeal_window(campaign: Campaign) -> tuple[datetime | None, datetime | None]:
    """When appeals may be filed: from ``appeal_opens_at`` (else publication) until ``appeal_closes_at``."""
    return campaign.appeal_opens_at or campaign.published_at, campaign.appeal_closes_at


def window_problem(campaign: Campaign, now: datetime) -> Any:
    """None when an appeal may be filed now, else the message saying why not."""
    if campaign.state != CampaignState.PUBLISHED:
        return _l("Appeals can be filed only while the campaign's results are published and the window is open.")
    opens, closes = appeal_window(campaign)
    if closes is None:
        return _l("The organiser has not set an appeal window for this campaign.")
    if opens is not None and now < opens:
        return _l("The appeal window opens at %(at)s.", at=opens.isoformat(timespec="minutes"))
    if now > closes:
        return _l("The appeal window closed at %(at)s; no appeal can be filed any more.",
                  at=closes.isoformat(timespec="minutes"))
    return None


def _checked_attachments(files: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes, str]]:
    if len(files) > MAX_ATTACHMENTS:
        raise AppealError(_l("At most %(n)d attachments per appeal.", n=MAX_ATTACHMENTS), code="too_many_files")
    out = []
    for name, data in files:
        try:
            found = sniff(data, name, max_bytes=MAX_ATTACHMENT_BYTES)
        except FileRejected as error:
            raise AppealError(_l("Attachment %(name)s refused: %(why)s", name=name, why=error.message(_lang())),
                              code="attachment_refused") from error
        out.append((name, data, found.mime))
    return out


def _lang() -> str:
    from forms.review import current_language

    return current_language()


def _attachment_text(case: Any, data: bytes, name: str) -> str | None:
    """The attachment's text as re-reviewers read it (redacted like the case's documents); None when the file
    holds no readable text."""
    from evalplat.extract.core import extract_text

    try:
        text = extract_text(data, name, ocr="never").text  # a scan is not OCR'd while the agency waits
    except CodedError:
        return None
    return redact_for_case(case, text) if text and text.strip() else None


def file_appeal(session: DbSession, *, actor: User, sample: Sample, reason: str, contested_items: Iterable[str],
                attachments: Sequence[tuple[str, bytes]], storage: Storage | None, now: datetime) -> Appeal:
    """Agency staff object to the published result of one of their agency's cases.

    Parameters
    ----------
    sample : Sample
        The sampled case; it must belong to the actor's agency.
    reason : str
        Why the result is contested (required).
    contested_items : iterable of str
        Item codes of the result contested (at least one; must be items of the case's result).
    attachments : sequence of (filename, bytes)
        Supporting files, checked by content and stored through the storage layer.

    The reason and each attachment's text are also kept redacted with the case's known names: that is
    what re-reviewers read (the organiser sees it before accepting the appeal).

    Raises
    ------
    NotAllowed
        The case is not the actor's agency's.
    AppealError, InvalidTransition
        Missing reason or items, unknown items, a refused file, outside the window, already appealed.
    """
    case = sample.case
    if actor.agency_id is None or case.agency_id != actor.agency_id:
        raise NotAllowed(_l("Only staff of the case's own agency may appeal its result."), code="not_own_case")
    text = (reason or "").strip()
    if not text:
        raise AppealError(_l("Give the reason for the appeal."), code="reason_required")
    problem = window_problem(sample.campaign, now)
    if problem:
        raise InvalidTransition(problem, code="appeal_window")
    result = session.scalar(sa.select(Result).where(Result.sample_id == sample.id, Result.current.is_(True)))
    if result is None:
        raise AppealError(_l("Case %(code)s has no published result to appeal.", code=sample.code), code="no_result")
    existing = session.scalar(sa.select(Appeal.id).where(Appeal.sample_id == sample.id))
    if existing is not None:
        raise InvalidTransition(_l("An appeal on this case has already been filed; one appeal per case."),
                                code="already_appealed")
    items = list(dict.fromkeys(str(i) for i in contested_items))
    if not items:
        raise AppealError(_l("Choose the items you contest."), code="items_required")
    known = set(result.item_points or {}) | {"total"}
    unknown = [i for i in items if i not in known]
    if unknown:
        raise AppealError(_l("Not items of this case's result: %(items)s.", items=", ".join(unknown)),
                          code="unknown_items")
    checked = _checked_attachments(attachments)
    if checked and storage is None:
        raise AppealError(_l("File storage is not configured; attachments cannot be kept."), code="no_storage")
    appeal = Appeal(sample_id=sample.id, agency_id=case.agency_id, filed_by_id=actor.id, filed_at=now,
                    contested_items=items, reason=text[:8000], state=AppealState.FILED,
                    reason_redacted=redact_for_case(case, text[:8000]))
    for name, data, mime in checked:
        assert storage is not None
        key = storage.put(data)
        appeal.attachments.append(AppealAttachment(original_filename=name[:256], storage_key=key,
                                                   content_type=mime[:64], size=len(data),
                                                   redacted_text=_attachment_text(case, data, name)))
    session.add(appeal)
    session.flush()
    record(session, actor_id=actor.id, action="appeal.filed", object_type="appeal", object_id=appeal.id, at=now,
           after={"sample_id": sample.id, "agency_id": case.agency_id, "contested_items": items,
                  "attachments": [a.storage_key for a in appeal.attachments], "result_id": result.id})
    return appeal


def _organiser(actor: User, appeal: Appeal | None = None) -> None:
    if not actor.is_organiser or (appeal is not None and not appeal.can_view(actor)):
        raise NotAllowed(_l("Only the organiser decides on appeals."), code="not_organiser")


def _decidable(appeal: Appeal) -> Campaign:
    if appeal.state != AppealState.FILED:
        raise InvalidTransition(_l("This appeal is %(state)s; only a filed appeal can be accepted or rejected.",
                                   state=appeal.state.value), code="appeal_not_filed")
    sample = appeal_sample(appeal)
    campaign = sample.campaign
    if campaign.state not in (CampaignState.PUBLISHED, CampaignState.APPEALS_CLOSED):
        raise InvalidTransition(_l("Appeals are decided while the campaign is published or its appeals closed."),
                                code="appeal_wrong_state")
    return campaign


def appeal_sample(appeal: Appeal) -> Sample:
    from evalplat.extensions import db

    sample = db.session.get(Sample, appeal.sample_id)
    assert sample is not None  # foreign key
    return sample


def accept_appeal(session: DbSession, *, actor: User, appeal: Appeal, note: str, now: datetime) -> Appeal:
    """Accept an appeal for re-review: a reviewer who has never seen the case (same conflict rules) gets it.

    Raises
    ------
    AssignmentError
        No eligible re-reviewer (nothing changes; the message says why).
    """
    from evalplat.assignments.operations import create_adjudication_assignment

    _organiser(actor, appeal)
    _decidable(appeal)
    sample = appeal_sample(appeal)
    appeal.state = AppealState.ACCEPTED
    appeal.decided_by_id = actor.id
    session.flush()
    assignment = create_adjudication_assignment(session, sample=sample, round=AssignmentRound.APPEAL, actor=actor,
                                                now=now)
    record(session, actor_id=actor.id, action="appeal.accepted", object_type="appeal", object_id=appeal.id, at=now,
           before={"state": "filed"}, after={"state": "accepted", "note": (note or "").strip()[:2000],
                                             "assignment_id": assignment.id})
    return appeal


def reject_appeal(session: DbSession, *, actor: User, appeal: Appeal, reasons: str, now: datetime) -> Appeal:
    """Reject an appeal; the reasons are required and shown to the agency."""
    _organiser(actor, appeal)
    text = (reasons or "").strip()
    if not text:
        raise AppealError(_l("Give the reasons for rejecting the appeal."), code="reasons_required")
    _decidable(appeal)
    appeal.state = AppealState.REJECTED
    appeal.decision = "rejected"
    appeal.decision_reason = text[:8000]
    appeal.decided_by_id = actor.id
    appeal.decided_at = now
    session.flush()
    record(session, actor_id=actor.id, action="appeal.rejected", object_type="appeal", object_id=appeal.id, at=now,
           before={"state": "filed"}, after={"state": "rejected", "reasons": text[:2000]})
    return appeal


def accepted_appeal(session: DbSession, sample_id: int) -> Appeal | None:
    """The sample's accepted appeal that waits for its re-review decision (read afresh: a concurrent decision
    may have closed it)."""
    return session.scalar(sa.select(Appeal).where(Appeal.sample_id == sample_id, Appeal.state == AppealState.ACCEPTED)
                          .execution_options(populate_existing=True))


def decide_appeal(session: DbSession, *, appeal: Appeal, result: Result, previous: Result | None, reasons: str,
                  actor: User, now: datetime) -> Appeal:
    """accepted → decided, by the re-review's new ``result`` (recorded by
    :func:`evalplat.results.operations.decide`): ``changed`` when it differs from ``previous``, else ``upheld``."""
    if appeal.state != AppealState.ACCEPTED:
        raise InvalidTransition(_l("Only an accepted appeal can be decided."), code="appeal_not_accepted")
    changed = previous is None or abs(previous.total - result.total) > 1e-9 or previous.grade != result.grade
    appeal.state = AppealState.DECIDED
    appeal.decision = "changed" if changed else "upheld"
    appeal.decision_reason = reasons[:8000]
    appeal.decided_by_id = actor.id
    appeal.decided_at = now
    session.flush()
    record(session, actor_id=actor.id, action="appeal.decided", object_type="appeal", object_id=appeal.id,
           at=now, before={"state": "accepted"}, after={"state": "decided", "decision": appeal.decision,
                                                        "result_id": result.id})
    return appeal


def no_open_appeals(session: DbSession, campaign: Campaign, now: datetime) -> Any:
    """A campaign becomes final only when every appeal is rejected or decided."""
    open_codes = list(session.scalars(
        sa.select(Sample.code).join(Appeal, Appeal.sample_id == Sample.id)
        .where(Sample.campaign_id == campaign.id, Appeal.state.in_(OPEN_STATES)).order_by(Sample.code)))
    if open_codes:
        return _l("%(n)d appeals are still open: %(codes)s.", n=len(open_codes), codes=", ".join(open_codes[:20]))
    return None
