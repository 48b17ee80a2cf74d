"""Closing review in two levels: the rules of the operations, the pages, the API and access."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.accounts.models import Role
from evalplat.api.models import ApiToken
from evalplat.audit.models import AuditEvent
from evalplat.closing import operations
from evalplat.closing.checklist import ChecklistDefinitionError, load_checklists, parse_checklists
from evalplat.closing.models import ClosingCheck, ClosingMark, ClosingReview, ClosingState
from evalplat.db import utcnow
from evalplat.errors import DomainError, InvalidTransition, NotAllowed


def all_present(case: Any) -> dict[str, str]:
    checklist = load_checklists().for_case(case.case_type.value, case.stage_reached)
    return {item.code: "present" for item in checklist.items}


@pytest.fixture
def people(db: Any, make_agency: Any, make_user: Any, make_case: Any) -> Any:
    agency, other = make_agency(), make_agency()

    class People:
        staff = make_user(Role.AGENCY_STAFF, agency=agency)
        staff2 = make_user([Role.AGENCY_STAFF, Role.SECOND_CHECKER], agency=agency)
        checker_other = make_user(Role.SECOND_CHECKER, agency=other)
        other_staff = make_user(Role.AGENCY_STAFF, agency=other)
        bureau = make_user(Role.SECOND_CHECKER)
        organiser = make_user(Role.ORGANISER)
        reviewer = make_user(Role.PEER_REVIEWER)
        case = make_case(agency=agency, case_type="criminal", stage_reached="一审")
        other_case = make_case(agency=other, case_type="civil")

    People.agency, People.other = agency, other
    return People


def test_case_is_not_closed_until_both_levels_pass(db: Any, people: Any) -> None:
    now = utcnow()
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks=all_present(people.case), now=now)
    db.session.commit()
    assert review.state == ClosingState.AWAITING_SECOND
    assert not review.is_closed
    assert review.closed_at is None
    operations.check_second_level(db.session, actor=people.staff2, review=review, confirm=True, now=now)
    db.session.commit()
    stored = db.session.scalar(sa.select(ClosingReview).where(ClosingReview.case_id == people.case.id))
    assert stored.state == ClosingState.CLOSED
    assert stored.closed_at is not None
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "closing_review")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["closing.first_level", "closing.confirmed"]


def test_second_level_must_be_a_different_person_from_the_first(db: Any, people: Any) -> None:
    review = operations.check_first_level(db.session, actor=people.staff2, case=people.case,
                                          marks=all_present(people.case), now=utcnow())
    db.session.commit()
    with pytest.raises(NotAllowed) as refused:
        operations.check_second_level(db.session, actor=people.staff2, review=review, confirm=True, now=utcnow())
    assert refused.value.code == "same_checker"
    db.session.rollback()
    assert db.session.get(ClosingReview, review.id).state == ClosingState.AWAITING_SECOND


def test_second_level_checker_of_another_agency_cannot_confirm(db: Any, people: Any) -> None:
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks=all_present(people.case), now=utcnow())
    with pytest.raises(NotAllowed):
        operations.check_second_level(db.session, actor=people.checker_other, review=review, confirm=True,
                                      now=utcnow())
    # the bureau's checker (no agency) may
    operations.check_second_level(db.session, actor=people.bureau, review=review, confirm=True, now=utcnow())
    assert review.state == ClosingState.CLOSED


def test_returned_file_lists_what_is_missing_with_a_deadline_and_keeps_its_history(db: Any, people: Any) -> None:
    now = utcnow()
    marks = all_present(people.case)
    marks["judgment"] = ("missing", "判决书未归档")
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case, marks=marks, now=now)
    db.session.commit()
    assert review.state == ClosingState.RETURNED
    assert review.due_on == now.date() + timedelta(days=operations.DEFAULT_RETURN_DAYS)
    # the file comes back complete; the second level still finds a defect and returns it with its own deadline
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks=all_present(people.case), now=now)
    due = now.date() + timedelta(days=7)
    operations.check_second_level(db.session, actor=people.bureau, review=review, confirm=False,
                                  marks={"defence_opinion": ("defective", "未签名")}, due_on=due, now=now)
    db.session.commit()
    assert (review.state, review.round, review.returns, review.due_on) == (ClosingState.RETURNED, 2, 2, due)
    from evalplat.closing.queries import open_problems, review_of_case

    problems = open_problems(review_of_case(people.case.id))
    assert [(m.item_code, m.status.value, m.note) for m in problems] == [("defence_opinion", "defective", "未签名")]
    checks = db.session.execute(sa.select(ClosingCheck.round, ClosingCheck.level, ClosingCheck.outcome)
                                .where(ClosingCheck.review_id == review.id).order_by(ClosingCheck.id)).all()
    assert [(r, lv, o.value) for r, lv, o in checks] == [(1, 1, "returned"), (2, 1, "passed"), (2, 2, "returned")]
    missing = db.session.scalars(sa.select(ClosingMark.item_code).where(ClosingMark.status == "missing")).all()
    assert missing == ["judgment"]


def test_first_level_refuses_unmarked_items_and_not_applicable_for_a_required_item(db: Any, people: Any) -> None:
    marks = all_present(people.case)
    del marks["agreement"]
    with pytest.raises(DomainError) as refused:
        operations.check_first_level(db.session, actor=people.staff, case=people.case, marks=marks, now=utcnow())
    assert refused.value.code == "unmarked_items"
    assert "agreement" in str(refused.value)
    db.session.rollback()
    marks = {**all_present(people.case), "agreement": "not_applicable"}
    with pytest.raises(DomainError) as refused:
        operations.check_first_level(db.session, actor=people.staff, case=people.case, marks=marks, now=utcnow())
    assert refused.value.code == "required_item"
    db.session.rollback()
    marks = {**all_present(people.case), "hardship": "not_applicable"}  # optional item
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case, marks=marks,
                                          now=utcnow())
    assert review.state == ClosingState.AWAITING_SECOND


def test_second_level_return_needs_the_missing_items(db: Any, people: Any) -> None:
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks=all_present(people.case), now=utcnow())
    with pytest.raises(DomainError) as refused:
        operations.check_second_level(db.session, actor=people.bureau, review=review, confirm=False, marks={},
                                      now=utcnow())
    assert refused.value.code == "return_without_items"


def test_closed_file_cannot_be_checked_again(db: Any, people: Any) -> None:
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks=all_present(people.case), now=utcnow())
    operations.check_second_level(db.session, actor=people.bureau, review=review, confirm=True, now=utcnow())
    with pytest.raises(InvalidTransition):
        operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                     marks=all_present(people.case), now=utcnow())


def test_staff_of_another_agency_cannot_check_the_first_level(db: Any, people: Any) -> None:
    with pytest.raises(NotAllowed):
        operations.check_first_level(db.session, actor=people.other_staff, case=people.case,
                                     marks=all_present(people.case), now=utcnow())


def test_checklist_is_chosen_by_case_type_and_stage() -> None:
    book = load_checklists()
    assert book.for_case("criminal", "侦查阶段").code == "criminal_investigation"
    assert book.for_case("criminal", "审查起诉").code == "criminal_prosecution_review"
    assert book.for_case("criminal", "").code == "criminal_trial"
    assert book.for_case("administrative", "二审").code == "civil_administrative"
    assert book.for_case("non_litigation", None).code == "non_litigation"
    for checklist in book.lists:
        assert all(item.label.zh and item.label.en for item in checklist.items)


def test_invalid_checklist_definition_names_every_problem() -> None:
    with pytest.raises(ChecklistDefinitionError) as error:
        parse_checklists({"key": "x", "version": "1", "title": {"zh": "清单", "en": "List"},
                          "lists": [{"code": "a", "case_types": ["criminal", "tax"], "title": {"zh": "甲"},
                                     "items": [{"code": "cover", "label": {"zh": "封面", "en": "Cover"},
                                                "required": "yes"}]}]}, source="bad.yaml")
    text = str(error.value)
    assert "bad.yaml" in text
    assert "case_types" in text
    assert "title" in text
    assert "required must be true" in text
    good_list = {"code": "a", "case_types": ["criminal"], "default": True, "title": {"zh": "甲", "en": "A"},
                 "items": [{"code": "cover", "label": {"zh": "封面", "en": "Cover"}}]}
    with pytest.raises(ChecklistDefinitionError, match="'civil' needs exactly one default list"):
        parse_checklists({"key": "x", "version": "1", "title": {"zh": "清单", "en": "List"}, "lists": [good_list]})


# --- pages --------------------------------------------------------------------------------------------------

def test_agency_staff_checks_a_file_through_the_page_and_another_person_closes_it(
        client: Any, login: Any, db: Any, people: Any) -> None:
    login(client, people.staff)
    page = client.get(f"/closing/cases/{people.case.id}")
    assert page.status_code == 200
    assert "辩护词" in page.text
    form = {f"mark-{code}": status for code, status in all_present(people.case).items()}
    form["mark-meeting_notes"] = "missing"
    form["note-meeting_notes"] = "<script>x</script>"
    r = client.post(f"/closing/cases/{people.case.id}/first", data=form)
    assert r.status_code == 302
    detail = client.get(f"/closing/cases/{people.case.id}").text
    assert "&lt;script&gt;x&lt;/script&gt;" in detail
    assert "<script>x</script>" not in detail
    form["mark-meeting_notes"] = "present"
    client.post(f"/closing/cases/{people.case.id}/first", data=form)
    client.post("/logout")
    login(client, people.staff2)
    r = client.post(f"/closing/cases/{people.case.id}/second", data={"decision": "confirm"})
    assert r.status_code == 302, r.text
    assert db.session.scalar(sa.select(ClosingReview.state)) == ClosingState.CLOSED


def test_agency_cannot_see_another_agencys_closing_review(client: Any, login: Any, db: Any, people: Any) -> None:
    login(client, people.other_staff)
    assert client.get(f"/closing/cases/{people.case.id}").status_code == 404
    r = client.post(f"/closing/cases/{people.case.id}/first", data=all_present(people.case))
    assert r.status_code == 404
    listing = client.get("/closing/").text
    assert people.case.case_number not in listing
    assert people.other_case.case_number in listing


def test_reviewer_is_refused_every_closing_route(client: Any, login: Any, db: Any, people: Any) -> None:
    login(client, people.reviewer)
    for url in ("/closing/", f"/closing/cases/{people.case.id}"):
        assert client.get(url).status_code == 403
    for url in (f"/closing/cases/{people.case.id}/first", f"/closing/cases/{people.case.id}/second"):
        assert client.post(url, data={"decision": "confirm"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(ClosingReview.id))) == 0


# --- API ----------------------------------------------------------------------------------------------------

def _secret(db: Any, scopes: list[str]) -> str:
    token, secret = ApiToken.issue("subsidy payment", scopes, None)
    db.session.add(token)
    db.session.commit()
    return secret


def test_api_reads_the_closing_result_with_the_closing_scope_only(client: Any, db: Any, people: Any) -> None:
    review = operations.check_first_level(db.session, actor=people.staff, case=people.case,
                                          marks={**all_present(people.case), "judgment": "missing"},
                                          due_on=date(2099, 1, 31), now=utcnow())
    db.session.commit()
    url = f"/api/v1/closing/cases/{people.case.id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {_secret(db, ['rankings:read'])}"}).status_code == 403
    secret = _secret(db, ["closing:read"])
    body = client.get(url, headers={"Authorization": f"Bearer {secret}"}).json
    assert body["state"] == "returned"
    assert body["closed"] is False
    assert body["due_on"] == "2099-01-31"
    assert [m["item"] for m in body["missing"]] == ["judgment"]
    operations.check_first_level(db.session, actor=people.staff, case=people.case, marks=all_present(people.case),
                                 now=utcnow())
    operations.check_second_level(db.session, actor=people.bureau, review=review, confirm=True, now=utcnow())
    db.session.commit()
    listing = client.get(f"/api/v1/closing/closed?agency={people.agency.code}",
                         headers={"Authorization": f"Bearer {secret}"}).json
    assert listing["total"] == 1
    assert listing["items"][0]["case_number"] == people.case.case_number
    assert listing["items"][0]["closed"] is True
    from api.test_api import _check

    doc = client.get("/api/v1/openapi.json").json
    _check(body, {"$ref": "#/components/schemas/ClosingResult"}, doc, "case")
    _check(listing, {"$ref": "#/components/schemas/ClosedPage"}, doc, "closed")
    bad = client.get("/api/v1/closing/closed?agency=nope", headers={"Authorization": f"Bearer {secret}"})
    assert bad.status_code == 404
    assert bad.is_json
