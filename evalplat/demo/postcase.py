"""The demo province's post-case supervision: closing reviews in two levels (some files returned), a
self-evaluation of every closed case (agencies of different leniency), follow-up plans drawn through the real
operation, calls with a contact rate of about 92 % and a few reported breaches.

Written with bulk inserts in the caller's transaction, like the rest of the demo (one audit event says what
was generated); the follow-up plans are drawn by :func:`evalplat.followups.operations.draw_plan`. Deterministic
for a seed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import Role, User, UserRole
from evalplat.audit.operations import record
from evalplat.campaigns.models import Sample
from evalplat.cases.models import Case, encrypt_column
from evalplat.closing.checklist import load_checklists
from evalplat.closing.models import ClosingCheck, ClosingMark, ClosingReview
from evalplat.db import DbSession
from evalplat.followups.models import (
    ADDRESS_CONTEXT,
    BREACHES,
    PHONE_CONTEXT,
    QUESTIONS,
    FollowupAttempt,
    FollowupComplaint,
    FollowupTarget,
    FollowupVisit,
)
from evalplat.followups.operations import draw_plan
from evalplat.organisations.models import Agency
from evalplat.results.models import Result
from evalplat.selfeval.form import load_form
from evalplat.selfeval.models import SelfEvaluation

CHUNK = 10_000
#: Items most often missing from closed files (weights), after what file inspections report.
OFTEN_MISSING = {"closing_report": 6, "hearing_record": 5, "meeting_notes": 4, "agreement": 4, "supervision": 3,
                 "file_reading_notes": 3, "evidence": 3, "identity": 2, "hardship": 2, "judgment": 2}
STREETS = ("建设路", "人民路", "中山路", "解放路", "新华路", "东华路", "江华路", "胜利路")


@dataclass
class DemoPostcase:
    counts: dict[str, int]
    seconds: float


def _next_id(session: DbSession, model: Any) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))) or 0) + 1


def _insert(session: DbSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(sa.insert(model.__table__), rows[start:start + CHUNK])


def _checkers(session: DbSession, now: datetime) -> tuple[dict[int, int], dict[int, int], int, set[int]]:
    """Agency staff per agency (first level), a second-level checker per agency and one at the bureau: the
    provincial department of the first agency's province, checking that province's agencies (returned last)."""
    from evalplat.organisations.jurisdiction import agency_region_id, in_subtree, national_region, province_of

    staff = {agency_id: user_id for agency_id, user_id in session.execute(
        sa.select(User.agency_id, sa.func.min(User.id)).join(UserRole)
        .where(UserRole.role == Role.AGENCY_STAFF).group_by(User.agency_id)) if agency_id is not None}
    template = session.scalar(sa.select(User).where(User.id == min(staff.values())))
    assert template is not None
    next_user = _next_id(session, User)
    users: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    checkers: dict[int, int] = {}
    names = {agency_id: username for agency_id, username in session.execute(
        sa.select(User.agency_id, User.username).where(User.id.in_(staff.values()))) if agency_id is not None}
    for n, (agency_id, username) in enumerate(sorted(names.items())):
        user_id = next_user + n
        checkers[agency_id] = user_id
        name = "checker." + username.removeprefix("agency.")
        users.append({"id": user_id, "username": name, "display_name": f"二级审查员（{name}）",
                      "email": f"{name}@{template.email.split('@')[1]}", "password_hash": template.password_hash,
                      "agency_id": agency_id, "jurisdiction_id": None, "active": True, "must_change_password": False,
                      "created_at": now,
                      "session_token": f"demo-{user_id}"})
        roles.append({"user_id": user_id, "role": Role.SECOND_CHECKER.value})
    bureau = next_user + len(users)
    region = agency_region_id(template.agency_id, session) if template.agency_id is not None else None
    province = (province_of(region, session) if region is not None else None) or national_region(session).id
    bureau_agencies = set(session.scalars(sa.select(Agency.id)
                                          .where(in_subtree(Agency.region_id, province, session))))
    users.append({"id": bureau, "username": "bureau.checker", "display_name": "档案二级审查（省司法厅）",
                  "jurisdiction_id": province,
                  "email": f"bureau.checker@{template.email.split('@')[1]}", "password_hash": template.password_hash,
                  "agency_id": None, "active": True, "must_change_password": False, "created_at": now,
                  "session_token": f"demo-{bureau}"})
    roles.append({"user_id": bureau, "role": Role.SECOND_CHECKER.value})
    _insert(session, User, users)
    _insert(session, UserRole, roles)
    return staff, checkers, bureau, bureau_agencies


def build_demo_postcase(session: DbSession, *, seed: int = 2024, year: int = 2024, now: datetime,
                        progress: Callable[[str], None] | None = None) -> DemoPostcase:
    """Add closing reviews, self-evaluations and follow-ups to a demo province (not committed)."""
    started = time.perf_counter()
    rng = random.Random(f"{seed}-postcase")
    say = progress or (lambda message: None)
    staff, checkers, bureau, bureau_agencies = _checkers(session, now)
    cases = session.execute(sa.select(Case.id, Case.agency_id, Case.case_type, Case.stage_reached, Case.closed_on,
                                      Case.lawyer_id).where(Case.closed_on.is_not(None)).order_by(Case.id)).all()
    counts = _closing(session, rng, cases, staff, checkers, bureau, bureau_agencies, now)
    say(f"closing reviews: {counts['closing_reviews']:,} ({counts['returned_now']:,} returned now)")
    counts.update(_self_evaluations(session, rng, cases, staff, now))
    say(f"self-evaluations: {counts['self_evaluations']:,}")
    counts.update(_followups(session, rng, year, staff, now))
    say(f"follow-ups: {counts['targets']:,} clients drawn, {counts['visits']:,} visits, "
        f"{counts['complaints']} complaints")
    record(session, actor_id=None, action="demo.postcase", object_type="demo", object_id=str(seed), at=now,
           after=counts)
    session.flush()
    return DemoPostcase(counts, time.perf_counter() - started)


def _closing(session: DbSession, rng: random.Random, cases: Sequence[Any], staff: dict[int, int],
             checkers: dict[int, int], bureau: int, bureau_agencies: set[int], now: datetime) -> dict[str, int]:
    book = load_checklists()
    review_id, check_id = _next_id(session, ClosingReview), _next_id(session, ClosingCheck)
    reviews: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    returned_now = 0

    def check(rid: int, level: int, rnd: int, outcome: str, who: int, at: datetime, problems: list[str],
              items: tuple[str, ...] | None, due: Any = None) -> None:
        nonlocal check_id
        checks.append({"id": check_id, "review_id": rid, "level": level, "round": rnd, "outcome": outcome,
                       "checker_id": who, "checked_at": at, "note": "材料不齐，退回补充" if problems else "",
                       "due_on": due})
        for code in items or problems:
            status = "present" if code not in problems else rng.choice(("missing", "missing", "defective"))
            marks.append({"check_id": check_id, "item_code": code, "status": status,
                          "note": "" if status == "present" else ("未归档" if status == "missing" else "未签名或日期缺失")})
        check_id += 1

    for case in cases:
        checklist = book.for_case(case.case_type.value, case.stage_reached)
        codes = checklist.codes
        weights = [OFTEN_MISSING.get(c, 1) for c in codes]
        first, second = staff[case.agency_id], checkers[case.agency_id] if rng.random() < 0.8 else bureau
        if case.agency_id not in bureau_agencies:  # another province's files: its agency's own checker
            second = checkers[case.agency_id]
        base = datetime.combine(case.closed_on, datetime.min.time(), now.tzinfo) + timedelta(days=rng.randint(2, 20))
        fate = rng.random()
        rid = review_id
        review_id += 1
        rnd, returns, state, due, closed_at = 1, 0, "closed", None, None

        def gaps(codes: tuple[str, ...] = codes, weights: list[int] = weights) -> list[str]:
            return sorted(set(rng.choices(codes, weights=weights, k=rng.choice((1, 1, 2)))))

        if fate < 0.07:          # first level finds gaps; the lawyer supplies them; then both pass
            check(rid, 1, 1, "returned", first, base, gaps(), codes, base.date() + timedelta(days=15))
            rnd, returns = 2, 1
            base += timedelta(days=rng.randint(3, 14))
        elif fate < 0.10:        # the second level returns the file; later both pass
            check(rid, 1, 1, "passed", first, base, [], codes)
            check(rid, 2, 1, "returned", second, base + timedelta(days=2), gaps(), None,
                  base.date() + timedelta(days=17))
            rnd, returns = 2, 1
            base += timedelta(days=rng.randint(5, 15))
        if fate < 0.975 or fate >= 0.99:
            check(rid, 1, rnd, "passed", first, base, [], codes)
        if fate < 0.975:
            closed_at = base + timedelta(days=rng.randint(1, 5))
            check(rid, 2, rnd, "passed", second, closed_at, [], None)
        elif fate < 0.99:        # returned now, waiting for the missing materials (some past the deadline)
            due = (now - timedelta(days=rng.randint(-20, 10))).date()
            check(rid, 1, rnd, "returned", first, base, gaps(), codes, due)
            state, returns, returned_now = "returned", returns + 1, returned_now + 1
        else:                    # waits for the second level
            state = "awaiting_second"
        reviews.append({"id": rid, "case_id": case.id, "agency_id": case.agency_id, "state": state,
                        "checklist_code": checklist.code, "checklist_version": book.version, "round": rnd,
                        "returns": returns, "due_on": due, "first_checker_id": first, "closed_at": closed_at,
                        "created_at": base, "updated_at": closed_at or base, "version": 1})
    _insert(session, ClosingReview, reviews)
    _insert(session, ClosingCheck, checks)
    _insert(session, ClosingMark, marks)
    return {"closing_reviews": len(reviews), "closing_checks": len(checks), "closing_marks": len(marks),
            "returned_now": returned_now}


def _self_evaluations(session: DbSession, rng: random.Random, cases: Sequence[Any], staff: dict[int, int],
                      now: datetime) -> dict[str, int]:
    """Every closed case gets the agency's own evaluation: the case's quality (its peer result when it has one)
    plus the agency's leniency plus noise, turned into levels of the form's items."""
    form = load_form()
    peer = dict(session.execute(sa.select(Sample.case_id, sa.func.coalesce(Result.calibrated_total, Result.total))
                                .join(Result, Result.sample_id == Sample.id)
                                .where(Result.current.is_(True))).all())
    closed = set(session.scalars(sa.select(ClosingReview.case_id).where(ClosingReview.state == "closed")))
    agencies = sorted({c.agency_id for c in cases})
    leniency = {a: rng.gauss(6.0, 5.0) for a in agencies}
    rows = []
    for case in cases:
        if case.id not in closed:
            continue
        quality = peer.get(case.id, rng.gauss(78, 9))
        target = max(0.0, min(100.0, quality + leniency[case.agency_id] + rng.gauss(0, 4)))
        levels = {}
        for item in form.items(case.case_type.value):
            share = max(0.0, min(1.0, target / 100 + rng.gauss(0, 0.08)))
            levels[item.code] = "A" if share >= 0.9 else "B" if share >= 0.75 else "C" if share >= 0.55 else "D"
        rows.append({"case_id": case.id, "agency_id": case.agency_id, "form_version": form.version,
                     "levels": levels, "score": form.score(case.case_type.value, levels), "remarks": "",
                     "authority_feedback": "法院认为辩护意见有理有据，部分采纳。" if rng.random() < 0.15 else "",
                     "evaluated_by_id": staff[case.agency_id], "evaluated_at": now, "version": 1})
    _insert(session, SelfEvaluation, rows)
    return {"self_evaluations": len(rows)}


def _followups(session: DbSession, rng: random.Random, year: int, staff: dict[int, int],
               now: datetime) -> dict[str, int]:
    agencies = session.scalars(sa.select(Agency).order_by(Agency.code)).all()
    with_cases = set(session.scalars(sa.select(Case.agency_id).where(Case.year == year).distinct()))
    for agency in agencies:
        if agency.id not in with_cases:
            continue
        kind = rng.random()
        mode, share, count = ("share", "30%", None) if kind < 0.6 else ("count", None, 50) if kind < 0.9 \
            else ("all", None, None)
        # each agency draws its own plan (an organiser may draw only inside its jurisdiction)
        actor = session.get(User, staff[agency.id])
        assert actor is not None
        draw_plan(session, actor=actor, agency=agency, year=year, mode=mode, share=share, count=count,
                  seed=f"{year}-回访-{agency.code}", now=now)
    targets = session.execute(sa.select(FollowupTarget.id, FollowupTarget.case_id, FollowupTarget.agency_id,
                                        FollowupTarget.lawyer_id, Case.closed_on)
                              .join(Case, Case.id == FollowupTarget.case_id).order_by(FollowupTarget.id)).all()
    attempt_id, visit_id = _next_id(session, FollowupAttempt), _next_id(session, FollowupVisit)
    attempts, visits, complaints, updates = [], [], [], []
    for target in targets:
        caller = staff[target.agency_id]
        at = datetime.combine(target.closed_on, datetime.min.time(), now.tzinfo) + timedelta(
            days=rng.randint(20, 60), hours=rng.randint(9, 17))
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
        address = f"{rng.choice(STREETS)}{rng.randint(1, 300)}号"
        fate = rng.random()
        n = 0
        if fate < 0.02:          # not called yet
            updates.append({"id": target.id, "state": "pending", "attempts": 0, "phone": phone, "address": address})
            continue
        if rng.random() < 0.25:  # a first call nobody answered
            attempts.append({"id": attempt_id, "target_id": target.id, "at": at, "outcome": "no_answer",
                             "caller_id": caller, "source": "manual", "note": ""})
            attempt_id, n, at = attempt_id + 1, n + 1, at + timedelta(days=1)
        outcome = ("reached" if fate < 0.92 else "out_of_service" if fate < 0.955 else "no_such_number"
                   if fate < 0.98 else "refused")
        attempts.append({"id": attempt_id, "target_id": target.id, "at": at, "outcome": outcome,
                         "caller_id": caller, "source": "import" if rng.random() < 0.4 else "manual", "note": ""})
        n += 1
        state = {"reached": "visited", "refused": "refused"}.get(outcome, "unreachable")
        if outcome == "reached":
            answers = {q: "yes" for q in QUESTIONS} | {"money_or_gifts": "no", "meals": "no", "private_fees": "no"}
            if rng.random() < 0.08:
                answers["opinions_adopted"] = "no"
            if rng.random() < 0.05:
                answers["evidence"] = "unknown"
            if rng.random() < 0.006:  # a reported breach: a fee, a gift, a meal or an absence
                breach = rng.choice(sorted(BREACHES))
                answers[breach] = BREACHES[breach]
            kinds = [q for q, bad in BREACHES.items() if answers[q] == bad]
            satisfaction = rng.choices((5, 4, 3, 2, 1), weights=(62, 30, 5, 2, 1))[0] if not kinds else \
                rng.choice((1, 2, 3))
            visits.append({"id": visit_id, "target_id": target.id, "attempt_id": attempt_id, "answers": answers,
                           "satisfaction": satisfaction, "remarks": "对律师的工作表示满意。" if satisfaction >= 4 else
                           "希望律师多沟通案件进展。", "actions": "", "at": at, "caller_id": caller})
            if kinds:
                complaints.append({"visit_id": visit_id, "case_id": target.case_id, "agency_id": target.agency_id,
                                   "lawyer_id": target.lawyer_id, "kinds": kinds, "state": "open", "opened_at": at,
                                   "handling_note": ""})
            visit_id += 1
        attempt_id += 1
        updates.append({"id": target.id, "state": state, "attempts": n, "phone": phone, "address": address})
    _insert(session, FollowupAttempt, attempts)
    _insert(session, FollowupVisit, visits)
    _insert(session, FollowupComplaint, complaints)
    table = FollowupTarget.__table__
    statement = (sa.update(table).where(table.c.id == sa.bindparam("target_id"))
                 .values(state=sa.bindparam("new_state"), attempts=sa.bindparam("n"),
                         phone=sa.bindparam("enc_phone"), address=sa.bindparam("enc_address")))
    params = [{"target_id": u["id"], "new_state": u["state"], "n": u["attempts"],
               "enc_phone": encrypt_column(u["phone"], PHONE_CONTEXT),
               "enc_address": encrypt_column(u["address"], ADDRESS_CONTEXT)} for u in updates]
    for start in range(0, len(params), CHUNK):
        session.connection().execute(statement, params[start:start + CHUNK])
    return {"targets": len(targets), "attempts": len(attempts), "visits": len(visits), "complaints": len(complaints)}
