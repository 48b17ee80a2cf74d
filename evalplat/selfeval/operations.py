"""Self-evaluation of closed cases (一案一评): the agency scores a case on the short form at closing.

One evaluation per case; a later submission revises it (the audit event keeps the levels before and after).
The handling authority's feedback may be attached (a file checked by its content, kept through the storage).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.errors import DomainError, NotAllowed
from evalplat.files import FileRejected, Storage, sniff
from evalplat.i18n import lazy_gettext as _l
from evalplat.selfeval.form import load_form
from evalplat.selfeval.models import SelfEvaluation, can_evaluate

__all__ = ["MAX_FEEDBACK_BYTES", "SelfEvaluationError", "evaluate_case"]

MAX_FEEDBACK_BYTES = 20 * 1024 * 1024


class SelfEvaluationError(DomainError):
    code = "self_evaluation_error"


def _lang() -> str:
    from forms.review import current_language

    return current_language()


def evaluate_case(session: DbSession, *, actor: User, case: Case, levels: Mapping[str, str], remarks: str = "",
                  authority_feedback: str = "", attachment: tuple[str, bytes] | None = None,
                  storage: Storage | None = None, now: datetime) -> SelfEvaluation:
    """Record (or revise) the agency's own evaluation of one of its closed cases.

    Raises
    ------
    NotAllowed
        The actor is not staff of the case's agency.
    SelfEvaluationError
        An item without a level A-D, an item not on the form, a refused attachment.
    """
    if not can_evaluate(actor, case.agency_id):
        raise NotAllowed(_l("Only staff of the case's own agency evaluate it."), code="not_own_agency")
    form = load_form()
    case_type = case.case_type.value
    try:
        score = form.score(case_type, levels)
    except ValueError:
        missing = [item.code for item in form.items(case_type) if levels.get(item.code) not in ("A", "B", "C", "D")]
        raise SelfEvaluationError(_l("Give a level A, B, C or D for every item; missing or invalid: %(items)s.",
                                     items=", ".join(missing) or ", ".join(sorted(levels))),
                                  code="levels_incomplete") from None
    evaluation = session.scalar(sa.select(SelfEvaluation).where(SelfEvaluation.case_id == case.id))
    before = None
    if evaluation is None:
        evaluation = SelfEvaluation(case_id=case.id, agency_id=case.agency_id)
        session.add(evaluation)
    else:
        before = {"levels": dict(evaluation.levels), "score": evaluation.score}
    evaluation.form_version = form.version
    evaluation.levels = {k: levels[k] for k in form.codes[case_type]}
    evaluation.score = score
    evaluation.remarks = (remarks or "").strip()[:4000]
    evaluation.authority_feedback = (authority_feedback or "").strip()[:8000]
    evaluation.evaluated_by_id = actor.id
    evaluation.evaluated_at = now
    if attachment is not None:
        name, data = attachment
        try:
            found = sniff(data, name, max_bytes=MAX_FEEDBACK_BYTES)
        except FileRejected as error:
            raise SelfEvaluationError(_l("Attachment %(name)s refused: %(why)s", name=name,
                                         why=error.message(_lang())), code="attachment_refused") from error
        if storage is None:
            raise SelfEvaluationError(_l("File storage is not configured; attachments cannot be kept."),
                                      code="no_storage")
        evaluation.feedback_storage_key = storage.put(data)
        evaluation.feedback_filename = name[:256]
        evaluation.feedback_content_type = found.mime[:128]
    session.flush()
    record(session, actor_id=actor.id, action="selfeval.revised" if before else "selfeval.recorded",
           object_type="self_evaluation", object_id=evaluation.id, at=now, before=before,
           after={"case_id": case.id, "levels": evaluation.levels, "score": score,
                  "feedback_file": evaluation.feedback_storage_key})
    return evaluation
