"""Follow-up visits (回访): reproducible plans, calls, the questionnaire, complaints, rates, encryption at rest,
who sees clients' contacts, the all-or-nothing import, access."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.accounts.models import Role
from evalplat.db import utcnow
from evalplat.errors import NotAllowed
from evalplat.followups import operations, queries
from evalplat.followups.importer import ImportRefused, import_results
from evalplat.followups.models import (
    FollowupAttempt,
    FollowupComplaint,
    FollowupTarget,
    FollowupVisit,
    TargetState,
)

GOOD = {"preparation": "yes", "evidence": "yes", "on_time": "yes", "money_or_gifts": "no", "meals": "no",
        "private_fees": "no", "opinions_adopted": "yes", "discipline": "yes"}


@pytest.fixture
def world(db: Any, make_agency: Any, make_user: Any, make_case: Any, make_lawyer: Any) -> Any:
    agency, other = make_agency(), make_agency()
    lawyer = make_lawyer()

    class World:
        staff = make_user(Role.AGENCY_STAFF, agency=agency)
        other_staff = make_user(Role.AGENCY_STAFF, agency=other)
        organiser = make_user(Role.ORGANISER)
        reviewer = make_user(Role.PEER_REVIEWER)
        cases = [make_case(agency=agency, case_type="civil", lawyer=lawyer, closed_on=date(2024, 5, 1 + i))
                 for i in range(10)]
        other_cases = [make_case(agency=other, case_type="criminal", closed_on=date(2024, 6, 1 + i))
                       for i in range(10)]

    World.agency, World.other, World.lawyer = agency, other, lawyer
    return World


def _plan(db: Any, world: Any, **kw: Any) -> Any:
    params = {"mode": "count", "count": 4, "seed": "2024-回访"} | kw
    plan = operations.draw_plan(db.session, actor=world.staff, agency=world.agency, year=2024, now=utcnow(), **params)
    db.session.commit()
    return plan


def _targets(db: Any, plan: Any) -> list[FollowupTarget]:
    return list(db.session.scalars(sa.select(FollowupTarget).where(FollowupTarget.plan_id == plan.id)
                                   .order_by(FollowupTarget.position)))


def test_plan_draw_is_reproducible_and_records_inclusion_probabilities(db: Any, world: Any, make_case: Any) -> None:
    plan = _plan(db, world)
    first = [t.case_id for t in _targets(db, plan)]
    assert len(first) == 4
    assert {t.inclusion_probability for t in _targets(db, plan)} == {0.4}
    assert operations.verify_plan(db.session, plan) == (True, plan.population_digest)
    other = make_case(agency=world.agency, case_type="civil", closed_on=date(2024, 12, 1))
    assert operations.verify_plan(db.session, plan)[0] is False  # the population changed: the draw says so
    db.session.delete(other)
    db.session.commit()
    share = operations.draw_plan(db.session, actor=world.organiser, agency=world.other, year=2024, mode="share",
                                 share="30%", seed="s", now=utcnow())
    assert [t.inclusion_probability for t in _targets(db, share)] == [0.3, 0.3, 0.3]


def test_reported_fee_opens_a_complaint_the_organiser_sees_at_once(client: Any, login: Any, db: Any,
                                                                    world: Any) -> None:
    target = _targets(db, _plan(db, world))[0]
    operations.record_visit(db.session, actor=world.staff, target=target,
                            visit=operations.Visit({**GOOD, "private_fees": "yes", "on_time": "no"}, 2, "收了500元"),
                            at=utcnow())
    db.session.commit()
    complaint = db.session.scalar(sa.select(FollowupComplaint))
    assert sorted(complaint.kinds) == ["on_time", "private_fees"]
    assert complaint.lawyer_id == world.lawyer.id
    login(client, world.organiser)
    page = client.get("/followups/complaints?state=open").text
    number = db.session.get(type(world.cases[0]), target.case_id).case_number
    assert number in page
    assert "私自收费" in page


def test_contact_and_satisfaction_rates_count_reached_clients_and_satisfied_visits(db: Any, world: Any) -> None:
    a, b, c, d = _targets(db, _plan(db, world))
    now = utcnow()
    operations.record_visit(db.session, actor=world.staff, target=a, visit=operations.Visit(GOOD, 5), at=now)
    operations.record_visit(db.session, actor=world.staff, target=b, visit=operations.Visit(GOOD, 3), at=now)
    operations.record_attempt(db.session, actor=world.staff, target=c, outcome="no_answer", at=now)
    operations.record_attempt(db.session, actor=world.staff, target=c, outcome="out_of_service", at=now)
    db.session.commit()
    [row] = queries.rates(db.session, by="agency")
    assert (row.called, row.contacted, row.visits, row.satisfied) == (3, 2, 2, 1)
    assert c.state == TargetState.UNREACHABLE
    assert d.state == TargetState.PENDING
    [by_lawyer] = queries.rates(db.session, by="lawyer")
    assert by_lawyer.key == world.lawyer.id
    assert by_lawyer.contact_rate == pytest.approx(2 / 3)


def test_client_phone_and_address_are_encrypted_at_rest(db: Any, world: Any) -> None:
    target = _targets(db, _plan(db, world))[0]
    operations.set_contact(db.session, actor=world.staff, target=target, phone="138 0013 8000",
                           address="江门市蓬江区某路1号", now=utcnow())
    db.session.commit()
    raw = db.session.execute(sa.text("SELECT phone, address FROM followup_targets WHERE id = :i"),
                             {"i": target.id}).one()
    assert "138" not in raw.phone
    assert "江门" not in raw.address
    db.session.expire_all()
    assert db.session.get(FollowupTarget, target.id).phone == "138 0013 8000"
    from evalplat.audit.models import AuditEvent

    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "followup.contact_set")).all()
    assert events
    assert all("138" not in str(e.after) for e in events)


def test_contacts_are_shown_only_to_the_agencys_follow_up_staff(client: Any, login: Any, db: Any,
                                                                world: Any) -> None:
    plan = _plan(db, world)
    target = _targets(db, plan)[0]
    operations.set_contact(db.session, actor=world.staff, target=target, phone="13800138000", address="某路1号",
                           now=utcnow())
    db.session.commit()
    login(client, world.staff)
    assert "13800138000" in client.get(f"/followups/plans/{plan.id}").text
    client.post("/logout")
    login(client, world.organiser)
    assert "13800138000" not in client.get(f"/followups/plans/{plan.id}").text
    assert "13800138000" not in client.get(f"/followups/targets/{target.id}").text
    with pytest.raises(NotAllowed):
        operations.set_contact(db.session, actor=world.organiser, target=target, phone="1", address="", now=utcnow())


def test_call_list_export_carries_contacts_only_for_the_agencys_own_staff(client: Any, login: Any, db: Any,
                                                                          world: Any) -> None:
    plan = _plan(db, world)
    operations.set_contact(db.session, actor=world.staff, target=_targets(db, plan)[0], phone="13800138000",
                           address="某路1号", now=utcnow())
    db.session.commit()
    login(client, world.staff)
    own = client.get(f"/followups/plans/{plan.id}/calls.csv")
    assert own.status_code == 200
    assert "13800138000" in own.get_data(as_text=True)
    client.post("/logout")
    login(client, world.organiser)
    organiser = client.get(f"/followups/plans/{plan.id}/calls.csv").get_data(as_text=True)
    assert "13800138000" not in organiser
    assert "某路1号" not in organiser
    assert len(organiser.strip().splitlines()) == 5  # header and the four clients
    client.post("/logout")
    login(client, world.other_staff)
    assert client.get(f"/followups/plans/{plan.id}/calls.csv").status_code == 404


def test_agency_cannot_see_another_agencys_follow_ups(client: Any, login: Any, db: Any, world: Any) -> None:
    plan = _plan(db, world)
    target = _targets(db, plan)[0]
    login(client, world.other_staff)
    assert client.get(f"/followups/plans/{plan.id}").status_code == 404
    assert client.get(f"/followups/targets/{target.id}").status_code == 404
    assert client.post(f"/followups/targets/{target.id}/attempt", data={"outcome": "no_answer"}).status_code == 404
    assert world.agency.name not in client.get("/followups/").text.split("Draw")[0]
    with pytest.raises(NotAllowed):
        operations.record_attempt(db.session, actor=world.other_staff, target=target, outcome="reached",
                                  at=utcnow())


def test_reviewer_is_refused_every_follow_up_route(client: Any, login: Any, db: Any, world: Any) -> None:
    plan = _plan(db, world)
    target = _targets(db, plan)[0]
    login(client, world.reviewer)
    for url in ("/followups/", f"/followups/plans/{plan.id}", f"/followups/targets/{target.id}",
                f"/followups/plans/{plan.id}/calls.csv",
                "/followups/complaints", "/followups/rates"):
        assert client.get(url).status_code == 403, url
    for url in ("/followups/plans", f"/followups/plans/{plan.id}/import", f"/followups/targets/{target.id}/contact",
                f"/followups/targets/{target.id}/attempt", f"/followups/targets/{target.id}/visit",
                "/followups/complaints/1/handle"):
        assert client.post(url, data={}).status_code == 403, url


def _csv(rows: list[list[str]]) -> bytes:
    head = ["案号", "回访日期", "结果", "准备充分", "调查取证", "按时出庭", "收受财物", "接受吃请", "私自收费", "意见采纳",
            "遵守纪律", "满意度", "备注"]
    out = io.StringIO()
    for row in [head, *rows]:
        out.write(",".join(row) + "\n")
    return out.getvalue().encode("utf-8")


def test_import_with_one_bad_row_writes_nothing(db: Any, world: Any) -> None:
    targets = _targets(db, _plan(db, world))
    numbers = [db.session.get(type(world.cases[0]), t.case_id).case_number for t in targets]
    good = [numbers[0], "2024-10-01", "已接通", "是", "是", "是", "否", "否", "否", "是", "是", "5", "满意"]
    bad = [numbers[1], "2024-13-45", "已接通", "是", "是", "是", "否", "否", "否", "是", "是", "9", ""]
    with pytest.raises(ImportRefused) as refused:
        import_results(db.session, actor=world.staff, agency_id=world.agency.id, source=_csv([good, bad]),
                       filename="calls.csv")
    db.session.rollback()
    where = {(p.row, p.column) for p in refused.value.problems}
    assert (3, "回访日期") in where
    assert (3, "满意度") in where
    assert db.session.scalar(sa.select(sa.func.count(FollowupAttempt.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(FollowupVisit.id))) == 0
    written = import_results(db.session, actor=world.staff, agency_id=world.agency.id,
                             source=_csv([good, [numbers[2], "2024/10/2", "空号", *[""] * 10]]), filename="calls.csv")
    db.session.commit()
    assert written == 2
    assert db.session.scalar(sa.select(FollowupVisit.satisfaction)) == 5


def test_import_page_lists_the_problems_by_row_and_column(client: Any, login: Any, db: Any, world: Any) -> None:
    plan = _plan(db, world)
    login(client, world.staff)
    r = client.post(f"/followups/plans/{plan.id}/import", data={"file": (io.BytesIO(_csv([["无此案", "2024-10-01",
                                                                                             "已接通"]])), "c.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert "not a follow-up target" in r.text or "不是本机构的回访对象" in r.text
    assert db.session.scalar(sa.select(sa.func.count(FollowupAttempt.id))) == 0


def test_follow_up_staff_records_a_visit_through_the_page(client: Any, login: Any, db: Any, world: Any) -> None:
    target = _targets(db, _plan(db, world))[0]
    login(client, world.staff)
    r = client.post(f"/followups/targets/{target.id}/visit", data={**GOOD, "satisfaction": "4",
                                                                   "remarks": "<i>好</i>"})
    assert r.status_code == 302
    page = client.get(f"/followups/targets/{target.id}").text
    assert "&lt;i&gt;好&lt;/i&gt;" in page
    assert db.session.scalar(sa.select(FollowupVisit.satisfaction)) == 4


def test_contact_and_complaint_forms_are_validated_before_anything_is_saved(client: Any, login: Any, db: Any,
                                                                            world: Any) -> None:
    target = _targets(db, _plan(db, world))[0]
    login(client, world.staff)
    refused = client.post(f"/followups/targets/{target.id}/contact", data={"phone": "13800000000", "address": "路" * 201},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "200" in refused.text  # the length rule names its limit
    db.session.expire_all()
    assert db.session.get(FollowupTarget, target.id).address is None
    operations.record_visit(db.session, actor=world.staff, target=target,
                            visit=operations.Visit({**GOOD, "private_fees": "yes"}, 2, "收了500元"), at=utcnow())
    db.session.commit()
    complaint = db.session.scalar(sa.select(FollowupComplaint))
    login(client, world.organiser)
    client.post(f"/followups/complaints/{complaint.id}/handle", data={"note": "理" * 8001})
    db.session.expire_all()
    assert db.session.get(FollowupComplaint, complaint.id).state.value == "open"


def test_call_attempt_with_a_too_long_note_says_why_and_records_nothing(client: Any, login: Any, db: Any,
                                                                        world: Any) -> None:
    target = _targets(db, _plan(db, world))[0]
    login(client, world.staff)
    refused = client.post(f"/followups/targets/{target.id}/attempt", data={"outcome": "no_answer", "note": "记" * 501},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert refused.status_code == 200
    assert "500" in refused.text  # the length rule names its limit on the target's page
    assert db.session.scalar(sa.select(sa.func.count(FollowupAttempt.id))) == 0
