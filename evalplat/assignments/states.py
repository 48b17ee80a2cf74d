"""The one state machine of an assignment; every change of ``Assignment.state`` goes through it.

::

    offered ──► accepted ──► submitted
       │   └──────────────► submitted   (a decision recorded without a review: adjudication, appeal)
       ├──► declined  ◄── accepted       (its case is re-assigned)
       └──► withdrawn ◄── accepted       (reviewer deactivated, run undone, someone else decided the case)

Submitted, declined and withdrawn are final. New assignments are created ``offered`` (by the operations of
:mod:`evalplat.assignments.operations` and calibration rounds); the callers that check the domain's own
preconditions (the reviewer's own assignment, the campaign's state) keep their specific messages and then
call one of the functions here, which refuses any transition not in :data:`TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from evalplat.assignments.models import Assignment, AssignmentState
from evalplat.errors import InvalidTransition
from evalplat.i18n import lazy_gettext as _l

#: The states in which an assignment is still open (can be scored, declined or withdrawn).
OPEN = (AssignmentState.OFFERED, AssignmentState.ACCEPTED)

#: Every allowed transition: state → the states it may move to.
TRANSITIONS: Mapping[AssignmentState, frozenset[AssignmentState]] = {
    AssignmentState.OFFERED: frozenset({AssignmentState.ACCEPTED, AssignmentState.DECLINED,
                                        AssignmentState.SUBMITTED, AssignmentState.WITHDRAWN}),
    AssignmentState.ACCEPTED: frozenset({AssignmentState.SUBMITTED, AssignmentState.DECLINED,
                                         AssignmentState.WITHDRAWN}),
    AssignmentState.SUBMITTED: frozenset(),
    AssignmentState.DECLINED: frozenset(),
    AssignmentState.WITHDRAWN: frozenset(),
}


def can_move(assignment: Assignment, to: AssignmentState) -> bool:
    """Whether ``assignment`` may move to ``to`` now."""
    return AssignmentState(to) in TRANSITIONS[AssignmentState(assignment.state)]


def move(assignment: Assignment, to: AssignmentState, *, now: datetime | None = None) -> AssignmentState:
    """Move ``assignment`` to state ``to``; returns the state it left.

    Raises
    ------
    InvalidTransition
        ``to`` is not reachable from the assignment's state (see :data:`TRANSITIONS`).
    """
    before = AssignmentState(assignment.state)
    if not can_move(assignment, to):
        raise InvalidTransition(_l("This assignment is %(state)s and cannot become %(target)s.",
                                   state=before.value, target=AssignmentState(to).value),
                                code="assignment_transition")
    assignment.state = AssignmentState(to)
    if now is not None:
        assignment.updated_at = now
    return before


def accept(assignment: Assignment, *, now: datetime) -> AssignmentState:
    """offered → accepted."""
    if assignment.state != AssignmentState.OFFERED:
        raise InvalidTransition(_l("Only an assignment waiting for an answer can be accepted."),
                                code="assignment_not_offered")
    return move(assignment, AssignmentState.ACCEPTED, now=now)


def decline(assignment: Assignment, *, reason: str, conflict_declared: bool, now: datetime) -> AssignmentState:
    """offered or accepted → declined, with the reviewer's reason."""
    before = move(assignment, AssignmentState.DECLINED, now=now)
    assignment.decline_reason = reason[:2000]
    assignment.conflict_declared = conflict_declared
    return before


def submit(assignment: Assignment, *, now: datetime) -> AssignmentState:
    """offered or accepted → submitted (the review is in, or a decision was recorded without one)."""
    return move(assignment, AssignmentState.SUBMITTED, now=now)


def withdraw(assignment: Assignment, *, now: datetime | None = None) -> AssignmentState:
    """offered or accepted → withdrawn."""
    return move(assignment, AssignmentState.WITHDRAWN, now=now)
