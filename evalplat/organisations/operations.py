"""The write path of the reviewer pool. Conflicts of interest: :mod:`evalplat.assignments.conflicts`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evalplat.accounts.models import User
from evalplat.audit.operations import record
from evalplat.db import DbSession
from evalplat.errors import DomainError
from evalplat.i18n import lazy_gettext as _l
from evalplat.organisations.models import Region, RegionLevel, ReviewerProfile

EDITABLE = ("city_id", "organisation", "years_of_practice", "case_types", "capacity", "available_from",
            "available_until", "specialties")


class ReviewerError(DomainError):
    code = "reviewer_error"
    status = 400


# --- the pool ---------------------------------------------------------------------------------------------


def update_reviewer(session: DbSession, *, actor: User | None, reviewer: ReviewerProfile, **values: Any
                    ) -> ReviewerProfile:
    """Edit a reviewer's city, case types, capacity, availability and the like."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ReviewerError(_l("These reviewer fields cannot be edited: %(f)s.", f=", ".join(sorted(unknown))))
    if "capacity" in values and (not isinstance(values["capacity"], int) or values["capacity"] < 1):
        raise ReviewerError(_l("Capacity must be a whole number of at least 1."), code="bad_capacity")
    if "years_of_practice" in values and values["years_of_practice"] < 0:
        raise ReviewerError(_l("Years of practice cannot be negative."), code="bad_years")
    if "city_id" in values:
        from evalplat.organisations.jurisdiction import may_hold_city

        city = session.get(Region, values["city_id"])
        if city is None or city.level != RegionLevel.CITY:
            raise ReviewerError(_l("Unknown city."), code="bad_city")
        if actor is not None and city.id != reviewer.city_id and not may_hold_city(actor, city.id):
            raise ReviewerError(_l("The city %(city)s lies outside the province of your jurisdiction: a reviewer of "
                                   "your pools comes from one of its cities.", city=city.name),
                                code="city_outside_jurisdiction")
        values["region_id"] = city.id
    if "case_types" in values and not values["case_types"]:
        raise ReviewerError(_l("Choose at least one case type."), code="no_case_types")
    start = values.get("available_from", reviewer.available_from)
    end = values.get("available_until", reviewer.available_until)
    if start and end and end < start:
        raise ReviewerError(_l("Availability ends before it starts."), code="bad_availability")
    changed = {k: v for k, v in values.items() if getattr(reviewer, k) != v}
    if not changed:
        return reviewer
    before = {k: getattr(reviewer, k) for k in changed}
    for key, value in changed.items():
        setattr(reviewer, key, value)
    session.flush()
    record(session, actor_id=actor.id if actor else None, action="reviewer.updated", object_type="reviewer",
           object_id=reviewer.id, before=before, after=changed)
    return reviewer


def set_reviewer_active(session: DbSession, *, actor: User | None, reviewer: ReviewerProfile, active: bool,
                        now: datetime) -> list[Any]:
    """Activate or deactivate a reviewer. Deactivation withdraws their open assignments and re-assigns only
    those cases (see :func:`evalplat.assignments.operations.reassign_declined`).

    Returns
    -------
    list
        The new assignments made to replace the withdrawn ones.
    """
    from evalplat.assignments.operations import reassign_withdrawn_reviewer

    if reviewer.active == active:
        return []
    reviewer.active = active
    session.flush()
    record(session, actor_id=actor.id if actor else None,
           action="reviewer.activated" if active else "reviewer.deactivated", object_type="reviewer",
           object_id=reviewer.id, before={"active": not active}, after={"active": active}, at=now)
    if active:
        return []
    return reassign_withdrawn_reviewer(session, reviewer=reviewer, actor=actor, now=now)
