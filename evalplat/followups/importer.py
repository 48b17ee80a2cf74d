"""Import of call-centre results (CSV or XLSX), all or nothing.

Every row is checked first (the case is one of the agency's follow-up targets, the outcome and the date are
valid, a reached call carries the whole questionnaire); a file with any problem writes nothing and the
problems are listed by row and column. Then every row is written through the same operations as the pages.

Columns (Chinese or English headers): 案号 case_number · 回访日期 called_on · 结果 outcome · the eight questions
(是/否/不清楚 or yes/no/unknown) · 满意度 satisfaction (1-5) · 备注 remarks · 后续处理 actions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import User
from evalplat.cases.models import Case
from evalplat.db import DbSession
from evalplat.errors import DomainError, NotAllowed
from evalplat.followups import operations
from evalplat.followups.models import (
    QUESTIONS,
    AttemptOutcome,
    FollowupPlan,
    FollowupTarget,
    TargetState,
    can_see_contacts,
)
from evalplat.i18n import lazy_gettext as _l

HEADERS = {
    "case_number": ("案号", "case_number"), "called_on": ("回访日期", "called_on"), "outcome": ("结果", "outcome"),
    "preparation": ("准备充分", "preparation"), "evidence": ("调查取证", "evidence"),
    "on_time": ("按时出庭", "on_time"), "money_or_gifts": ("收受财物", "money_or_gifts"),
    "meals": ("接受吃请", "meals"), "private_fees": ("私自收费", "private_fees"),
    "opinions_adopted": ("意见采纳", "opinions_adopted"), "discipline": ("遵守纪律", "discipline"),
    "satisfaction": ("满意度", "satisfaction"), "remarks": ("备注", "remarks"), "actions": ("后续处理", "actions"),
}
REQUIRED = ("case_number", "called_on", "outcome")
OUTCOMES = {"已接通": "reached", "接通": "reached", "无人接听": "no_answer", "停机": "out_of_service",
            "空号": "no_such_number", "拒绝": "refused", "拒访": "refused"}
ANSWERS = {"是": "yes", "否": "no", "不清楚": "unknown", "yes": "yes", "no": "no", "unknown": "unknown"}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: Any


class ImportRefused(DomainError):
    """The file has problems; nothing was written. ``problems`` lists them (row, column, message)."""

    status = 400
    code = "followup_import_refused"

    def __init__(self, problems: list[Problem], filename: str) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(_l("%(file)s: %(n)d problems, nothing imported. Row %(row)d, column %(column)s: %(why)s",
                            file=filename, n=len(problems), row=first.row, column=first.column, why=first.message))


def read_table(source: bytes | str | Path, filename: str) -> Iterator[list[str]]:
    """The file's rows as lists of text: the platform's one tabular reader (CSV or XLSX, with its limits)."""
    from evalplat.tabular import read_rows

    return read_rows(source, filename)


def _columns(header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    wanted = {alias.strip().lower(): key for key, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = wanted.get(name.strip().lower())
        if key is not None and key not in found:
            found[key] = index
    missing = [HEADERS[key][0] for key in REQUIRED if key not in found]
    return found, [Problem(1, name, _l("required column missing")) for name in missing]


@dataclass(frozen=True)
class _Row:
    target: FollowupTarget
    at: datetime
    outcome: str
    visit: operations.Visit | None


def import_results(session: DbSession, *, actor: User, agency_id: int, source: bytes | str | Path, filename: str,
                   max_problems: int = 200) -> int:
    """Check the whole file, then write every row (attempts, and visits for reached calls). Returns rows written.

    Raises
    ------
    NotAllowed
        The actor is not the agency's own (follow-up) staff.
    ImportRefused
        Any problem in any row (nothing written).
    TabularError
        The file is not a readable CSV/XLSX or breaks a limit.
    """
    # Checked before the file is read: row problems ("no such case number") would tell anyone else which of the
    # agency's cases are on its call list (the web lets only its staff in; the command line names any user).
    if not can_see_contacts(actor, agency_id):
        raise NotAllowed(_l("Only the agency's own follow-up staff import its calls."),
                         code="followup_import_not_allowed")
    targets = {number: target for number, target in session.execute(
        sa.select(Case.case_number, FollowupTarget).join(Case, Case.id == FollowupTarget.case_id)
        .join(FollowupPlan, FollowupPlan.id == FollowupTarget.plan_id)
        .where(FollowupTarget.agency_id == agency_id).order_by(FollowupPlan.year)).all()}
    rows = read_table(source, filename)
    header = next(rows, None)
    if header is None:
        raise ImportRefused([Problem(1, "", _l("the file is empty"))], filename)
    columns, problems = _columns(header)
    if problems:
        raise ImportRefused(problems, filename)
    checked: list[_Row] = []
    seen: set[str] = set()
    for number, cells in enumerate(rows, start=2):
        if not any(cells):
            continue

        def cell(key: str, cells: list[str] = cells) -> str:
            index = columns.get(key)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        def problem(key: str, message: Any, row: int = number) -> None:
            problems.append(Problem(row, HEADERS[key][0], message))

        case_number = cell("case_number")
        target = targets.get(case_number)
        if target is None:
            problem("case_number", _l("not a follow-up target of the agency"))
            continue
        if case_number in seen:
            problem("case_number", _l("the case appears twice in the file"))
        seen.add(case_number)
        if target.state == TargetState.VISITED:
            problem("case_number", _l("the client has been visited already"))
        from evalplat.tabular import parse_date

        day = parse_date(cell("called_on"))
        if day is None:
            problem("called_on", _l("not a date"))
        raw = cell("outcome")
        outcome = OUTCOMES.get(raw, raw.lower())
        if outcome not in {o.value for o in AttemptOutcome}:
            problem("outcome", _l("not a call outcome (已接通, 无人接听, 停机, 空号, 拒绝)"))
        visit = None
        if outcome == "reached":
            answers = {q: ANSWERS.get(cell(q).lower(), cell(q)) for q in QUESTIONS}
            raw_level = cell("satisfaction")
            visit = operations.Visit(answers=answers, satisfaction=int(raw_level) if raw_level.isdigit() else 0,
                                     remarks=cell("remarks"), actions=cell("actions"))
            for field, message in operations.check_visit(visit):
                problem(field if field in HEADERS else "outcome", message)
        if day is not None and not problems:
            checked.append(_Row(target, datetime.combine(day, time(12), UTC), outcome, visit))
        if len(problems) >= max_problems:
            break
    if problems:
        raise ImportRefused(problems, filename)
    for row in checked:
        if row.visit is not None:
            operations.record_visit(session, actor=actor, target=row.target, visit=row.visit, at=row.at,
                                    source="import")
        else:
            operations.record_attempt(session, actor=actor, target=row.target, outcome=row.outcome, at=row.at,
                                      source="import")
    return len(checked)
