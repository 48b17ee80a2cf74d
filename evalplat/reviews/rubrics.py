"""Rubric versions in the database: reading them as :class:`forms.rubrics.Rubric`, editing them, and finding
the version an assignment is scored under.

A :class:`~evalplat.reviews.models.RubricVersion` row holds a rubric definition (the plain data of
:meth:`Rubric.to_dict`) and its content hash. Once a review exists under a version the row is *frozen*: its
definition can never change again (a mapper guard in :mod:`evalplat.reviews.models` refuses it), and editing
makes a new version of the same key. A version no review uses yet may be revised in place.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import yaml

from evalplat.accounts.models import User
from evalplat.assignments.models import Assignment
from evalplat.audit.operations import record
from evalplat.campaigns.models import Campaign, CampaignRubric, Sample, SamplingPlan
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.errors import DomainError, InvalidTransition
from evalplat.i18n import lazy_gettext as _l
from evalplat.reviews.models import Review, RubricVersion
from forms.rubrics import Problem, Rubric, RubricDefinitionError, parse_rubric

__all__ = [
    "RubricMissing",
    "SavedVersion",
    "definition_text",
    "parse_definition_text",
    "rubric_for_assignment",
    "rubric_of",
    "save_rubric_version",
    "version_for_assignment",
    "version_for_sample",
]


class RubricMissing(DomainError):
    """No rubric version is pinned for the case type of an assignment."""

    code = "rubric_missing"


_CACHE: dict[tuple[int, str], Rubric] = {}
_CACHE_LOCK = threading.Lock()


def rubric_of(row: RubricVersion) -> Rubric:
    """The :class:`Rubric` of a stored version (parsed once per process and content hash).

    Raises
    ------
    RubricDefinitionError
        When the stored definition is no longer valid.
    DomainError
        When the stored definition does not match the stored content hash (the row was tampered with).
    """
    key = (row.id, row.content_hash)
    rubric = _CACHE.get(key)
    if rubric is None:
        rubric = parse_rubric(row.definition, source=f"rubric {row.key} v{row.version}")
        if rubric.content_hash != row.content_hash:
            raise DomainError(_l("The stored rubric %(key)s version %(v)s does not match its content hash.",
                                 key=row.key, v=row.version), code="rubric_hash_mismatch", status=500)
        with _CACHE_LOCK:
            if len(_CACHE) > 256:
                _CACHE.clear()
            _CACHE[key] = rubric
    return rubric


def definition_text(row: RubricVersion) -> str:
    """The definition as YAML for the edit page (keys in the usual order, Chinese kept readable)."""
    return yaml.safe_dump(row.definition, allow_unicode=True, sort_keys=False, width=110)


def parse_definition_text(text: str, *, source: str) -> Any:
    """Read a rubric definition typed as YAML or JSON (JSON is YAML too).

    Raises
    ------
    RubricDefinitionError
        With one problem naming ``source``, the line and the column when the text cannot be parsed.
    """
    if not text.strip():
        raise RubricDefinitionError([Problem(source, None, "the definition is empty")])
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        raise RubricDefinitionError([Problem(source, None, f"cannot read the text{where}: {reason}")]) from error


def _without_version(data: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in data.items() if k != "version"}, sort_keys=True, ensure_ascii=False)


def reviews_under(session: DbSession, row: RubricVersion) -> int:
    """How many reviews (draft or submitted) use a version."""
    return session.scalar(sa.select(sa.func.count()).select_from(Review)
                          .where(Review.rubric_version_id == row.id)) or 0


@dataclass(frozen=True)
class SavedVersion:
    """Outcome of :func:`save_rubric_version`."""

    row: RubricVersion
    created: bool  # a new version (True) or the base revised in place (False)


def save_rubric_version(session: DbSession, *, actor: User, base: RubricVersion, data: Any, new_version: bool,
                        now: datetime) -> SavedVersion:
    """Store an edited definition of ``base``'s rubric, as a new version or by revising ``base`` in place.

    Parameters
    ----------
    base : RubricVersion
        The version that was edited; the new definition must keep its key.
    data : object
        The parsed definition (see :func:`parse_definition_text`). Its ``version`` is set by the platform.
    new_version : bool
        Make a new version; forced when ``base`` is frozen (a review uses it), is not the owner's newest
        version, or belongs to another jurisdiction (an ancestor's version is never revised by a lower one: the
        edit becomes the actor's jurisdiction's own version, numbered after the highest it can see).

    Raises
    ------
    RubricDefinitionError
        Listing every problem of the definition, each naming the item.
    DomainError
        When the key changed or nothing changed; ``rubric_outside_jurisdiction`` when the actor may not use
        ``base`` (a sibling's or a child's version).
    """
    from evalplat.organisations.jurisdiction import rubric_versions_for_region

    if not actor.can_use_rubric(base):
        raise DomainError(_l("This rubric version belongs to another jurisdiction."),
                          code="rubric_outside_jurisdiction", status=404)
    if isinstance(data, Mapping) and data.get("key") != base.key:
        raise DomainError(_l("The key of a rubric cannot change (it is %(key)s); start from another rubric to "
                             "edit it.", key=base.key), code="rubric_key_changed")
    if isinstance(data, Mapping) and _without_version(data) == _without_version(base.definition):
        raise DomainError(_l("Nothing changed: the definition is the same as version %(v)s.", v=base.version),
                          code="rubric_unchanged")
    owner = actor.jurisdiction_id
    seen = session.scalar(sa.select(sa.func.max(RubricVersion.version))
                          .where(RubricVersion.key == base.key, rubric_versions_for_region(owner)))
    own_newest = session.scalar(sa.select(sa.func.max(RubricVersion.version))
                                .where(RubricVersion.key == base.key, RubricVersion.jurisdiction_id == owner))
    frozen = base.frozen or reviews_under(session, base) > 0
    revise = (not new_version and not frozen and actor.can_manage_rubric(base) and own_newest == base.version)
    number = base.version if revise else (seen or 0) + 1
    if isinstance(data, Mapping):
        data = {**data, "version": str(number)}
    rubric = parse_rubric(data, source=f"{base.key} v{number}")
    definition = rubric.to_dict()
    if revise:
        before = {"content_hash": base.content_hash}
        base.definition = definition
        base.case_types = list(rubric.case_types)
        base.content_hash = rubric.content_hash
        session.flush()
        record(session, actor_id=actor.id, action="rubric.version_revised", object_type="rubric_version",
               object_id=base.id, before=before,
               after={"key": base.key, "version": number, "content_hash": rubric.content_hash}, at=now)
        return SavedVersion(base, created=False)
    row = RubricVersion(key=base.key, version=number, case_types=list(rubric.case_types), definition=definition,
                        content_hash=rubric.content_hash, created_by_id=actor.id, created_at=now,
                        jurisdiction_id=owner)
    session.add(row)
    session.flush()
    record(session, actor_id=actor.id, action="rubric.version_created", object_type="rubric_version",
           object_id=row.id, before={"from_version": base.version, "from_id": base.id,
                                     "from_jurisdiction_id": base.jurisdiction_id},
           after={"key": row.key, "version": number, "content_hash": row.content_hash, "jurisdiction_id": owner},
           at=now)
    return SavedVersion(row, created=True)


def freeze(session: DbSession, row: RubricVersion, *, actor: User, now: datetime) -> None:
    """Freeze a version (a review now uses it); its definition can never change again."""
    if row.frozen:
        return
    row.frozen = True
    session.flush()
    record(session, actor_id=actor.id, action="rubric.version_frozen", object_type="rubric_version",
           object_id=row.id, after={"key": row.key, "version": row.version, "content_hash": row.content_hash},
           at=now)


def version_for_assignment(session: DbSession, assignment: Assignment) -> RubricVersion:
    """The rubric version an assignment is scored under.

    The version of its review when one exists (a review keeps its version for ever), otherwise the version
    the campaign pins for the case type; administrative cases use the civil pin when the sampling plan folds
    them into civil.

    Raises
    ------
    RubricMissing
        When the campaign pins no version for the case type.
    """
    review = assignment.review
    if review is not None:
        row: RubricVersion | None = review.rubric_version  # joined by the case page's query; None while the review is pending
        if row is None or row.id != review.rubric_version_id:
            row = session.get(RubricVersion, review.rubric_version_id)
            assert row is not None  # foreign key
        return row
    return version_for_sample(session, assignment.sample_id)


def version_for_sample(session: DbSession, sample_id: int) -> RubricVersion:
    """The version the sample's campaign pins for the sample's case type (civil for folded administrative).

    Raises
    ------
    RubricMissing
        When the campaign pins no version for the case type.
    """
    case_type, campaign_id, folded = session.execute(
        sa.select(Case.case_type, Sample.campaign_id, sa.func.coalesce(SamplingPlan.fold_administrative, True))
        .select_from(Sample).join(Case, Case.id == Sample.case_id)
        .outerjoin(SamplingPlan, SamplingPlan.campaign_id == Sample.campaign_id)
        .where(Sample.id == sample_id)).one()
    wanted = [case_type.value]
    if case_type.value == "administrative" and folded:
        wanted.append("civil")
    pins = dict(session.execute(sa.select(CampaignRubric.case_type, CampaignRubric.rubric_version_id)
                                .where(CampaignRubric.campaign_id == campaign_id,
                                       CampaignRubric.case_type.in_(wanted))).all())
    for case_type_code in wanted:
        if case_type_code in pins:
            row = session.get(RubricVersion, pins[case_type_code])
            assert row is not None  # foreign key
            return row
    campaign = session.get(Campaign, campaign_id)
    raise RubricMissing(_l("Campaign %(name)s pins no rubric for %(type)s cases yet; the organiser must pin one.",
                           name=campaign.name if campaign else campaign_id, type=case_type.value))


def rubric_for_assignment(session: DbSession, assignment: Assignment) -> tuple[RubricVersion, Rubric]:
    """The version row and its :class:`Rubric` for an assignment (see :func:`version_for_assignment`)."""
    row = version_for_assignment(session, assignment)
    return row, rubric_of(row)


def refuse_frozen_change(row: RubricVersion) -> None:
    """Raise when a frozen version's definition is about to change (used by the mapper guard)."""
    raise InvalidTransition(_l("Rubric %(key)s version %(v)s is used by reviews and can never change; save the "
                               "edit as a new version.", key=row.key, v=row.version), code="rubric_frozen")


@sa.event.listens_for(RubricVersion, "before_update")
def _guard_frozen(mapper: Any, connection: Any, target: RubricVersion) -> None:
    """A frozen version never changes its definition, whoever tries (view, CLI or another domain's code)."""
    state = sa.inspect(target)
    was_frozen = state.attrs.frozen.history.deleted
    frozen_before = bool(was_frozen[0]) if was_frozen else bool(target.frozen and not state.attrs.frozen.history.added)
    if not frozen_before:
        return
    for name in ("definition", "content_hash", "case_types", "key", "version"):
        if state.attrs[name].history.has_changes():
            refuse_frozen_change(target)
