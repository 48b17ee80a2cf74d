"""Self-evaluation of every closed case (一案一评): the agency's own view, access, the attachment."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from evalplat.accounts.models import Role
from evalplat.audit.models import AuditEvent
from evalplat.db import utcnow
from evalplat.errors import DomainError, NotAllowed
from evalplat.selfeval import operations
from evalplat.selfeval.form import SelfEvaluationFormError, load_form, parse_form
from evalplat.selfeval.models import SelfEvaluation
from forms.rubrics import load_rubrics

CRIMINAL_ALL_B = {"meetings": "B", "file_reading": "B", "defence_opinion": "B", "court": "B", "closing": "B"}


@pytest.fixture
def world(db: Any, make_agency: Any, make_user: Any, make_case: Any) -> Any:
    agency, other = make_agency(), make_agency()

    class World:
        staff = make_user(Role.AGENCY_STAFF, agency=agency)
        other_staff = make_user(Role.AGENCY_STAFF, agency=other)
        organiser = make_user(Role.ORGANISER)
        reviewer = make_user(Role.PEER_REVIEWER)
        case = make_case(agency=agency, case_type="criminal")

    return World


def test_self_score_is_the_form_items_at_their_level_on_100_points(db: Any, world: Any) -> None:
    form = load_form()
    items = form.items("criminal")
    expected = round(sum(float(i.level("B").high) for i in items) / sum(float(i.max_points) for i in items) * 100, 1)
    evaluation = operations.evaluate_case(db.session, actor=world.staff, case=world.case, levels=CRIMINAL_ALL_B,
                                          authority_feedback="法院认为辩护意见充分", now=utcnow())
    db.session.commit()
    stored = db.session.scalar(sa.select(SelfEvaluation))
    assert stored.score == expected == evaluation.score
    assert stored.form_version == form.version
    assert stored.levels == CRIMINAL_ALL_B


def test_revising_a_self_evaluation_keeps_the_earlier_levels_in_the_audit(db: Any, world: Any) -> None:
    operations.evaluate_case(db.session, actor=world.staff, case=world.case, levels=CRIMINAL_ALL_B, now=utcnow())
    operations.evaluate_case(db.session, actor=world.staff, case=world.case,
                             levels={**CRIMINAL_ALL_B, "court": "D"}, now=utcnow())
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(SelfEvaluation.id))) == 1
    revised = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "selfeval.revised"))
    assert revised.before["levels"]["court"] == "B"
    assert revised.after["levels"]["court"] == "D"


def test_incomplete_levels_are_refused_and_nothing_is_written(db: Any, world: Any) -> None:
    with pytest.raises(DomainError) as refused:
        operations.evaluate_case(db.session, actor=world.staff, case=world.case,
                                 levels={"meetings": "A", "court": "E"}, now=utcnow())
    assert refused.value.code == "levels_incomplete"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SelfEvaluation.id))) == 0


def test_staff_of_another_agency_cannot_evaluate(db: Any, world: Any) -> None:
    with pytest.raises(NotAllowed):
        operations.evaluate_case(db.session, actor=world.other_staff, case=world.case, levels=CRIMINAL_ALL_B,
                                 now=utcnow())


def test_form_items_must_be_items_of_the_rubric() -> None:
    with pytest.raises(SelfEvaluationFormError, match="not items of its rubric: hearing_x"):
        parse_form({"version": "1", "title": {"zh": "自评", "en": "Self"},
                    "forms": {"criminal": ["meetings"], "civil": ["hearing_x"], "administrative": ["hearing"],
                              "non_litigation": ["closing"]}}, load_rubrics())


def test_page_is_labelled_as_the_agencys_own_view_and_records_the_evaluation(
        client: Any, login: Any, db: Any, world: Any) -> None:
    login(client, world.staff)
    page = client.get(f"/self-evaluation/cases/{world.case.id}").text
    assert "机构自身意见" in page
    data = {f"level-{code}": level for code, level in CRIMINAL_ALL_B.items()}
    data["authority_feedback"] = "<b>法院</b>意见"
    r = client.post(f"/self-evaluation/cases/{world.case.id}", data=data)
    assert r.status_code == 302
    shown = client.get(f"/self-evaluation/cases/{world.case.id}").text
    assert "&lt;b&gt;法院&lt;/b&gt;意见" in shown
    assert db.session.scalar(sa.select(SelfEvaluation.score)) is not None


def test_agency_cannot_see_another_agencys_self_evaluation(client: Any, login: Any, db: Any, world: Any) -> None:
    operations.evaluate_case(db.session, actor=world.staff, case=world.case, levels=CRIMINAL_ALL_B, now=utcnow())
    db.session.commit()
    login(client, world.other_staff)
    assert client.get(f"/self-evaluation/cases/{world.case.id}").status_code == 404
    assert client.post(f"/self-evaluation/cases/{world.case.id}", data={}).status_code == 404
    assert world.case.case_number not in client.get("/self-evaluation/").text


def test_reviewer_is_refused_every_self_evaluation_route(client: Any, login: Any, db: Any, world: Any) -> None:
    login(client, world.reviewer)
    for url in ("/self-evaluation/", f"/self-evaluation/cases/{world.case.id}",
                f"/self-evaluation/cases/{world.case.id}/feedback"):
        assert client.get(url).status_code == 403
    assert client.post(f"/self-evaluation/cases/{world.case.id}", data={}).status_code == 403
