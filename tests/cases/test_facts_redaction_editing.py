"""The checker corrects the case facts' redaction by hand, as a document's: add a stretch, keep one, approve."""

from __future__ import annotations

from typing import Any

import pytest
from redaction_scene import CLIENTS, build_scene
from tests_support import csrf_token

from evalplat.audit.models import AuditEvent
from evalplat.cases import operations, queries
from evalplat.cases.models import Case, RedactionStatus


@pytest.fixture
def scene(db: Any, make_region: Any, make_agency: Any, make_firm: Any, make_lawyer: Any, make_case: Any,
          make_reviewer: Any, make_user: Any) -> Any:
    """The campaign with every case redacted and approved."""
    return build_scene(db, make_region, make_agency, make_firm, make_lawyer, make_case, make_reviewer, make_user,
                       approve=True)


def _post(client: Any, case: Case, path: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(f"/cases/{case.id}/redaction").get_data(as_text=True))
    return client.post(f"/cases/{case.id}/facts/{path}", data={"csrf_token": token, **data})


def test_checker_redacts_a_stretch_of_a_case_fact_and_the_case_waits_for_approval_again(
        app: Any, db: Any, scene: Any, login: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    assert queries.is_released(case.id)
    result = case.result.strip()
    start = result.index("有期徒刑")
    client = app.test_client()
    login(client, scene.organiser)
    response = _post(client, case, "result/spans", {"start": start, "end": start + 4, "kind": "number"})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Case, case.id).facts_redaction
    assert "有期徒刑" not in row.fields["result"]
    assert any(s["source"] == "manual" and (s["start"], s["end"]) == (start, start + 4) for s in row.spans["result"])
    assert row.status == RedactionStatus.PENDING
    assert not queries.is_released(case.id)  # reviewers wait until the checker approves again
    page = client.get(f"/cases/{case.id}/redaction").get_data(as_text=True)
    assert row.fields["result"] in page
    assert db.session.query(AuditEvent).filter_by(action="cases.facts_redaction_add", object_id=str(case.id)).count() == 1

    operations.approve_redaction(db.session, actor=scene.organiser, case=db.session.get(Case, case.id))
    db.session.commit()
    assert queries.is_released(case.id)
    assert "有期徒刑" not in queries.reviewer_facts(case.id)["result"]
    # a re-run of the redactor keeps the checker's stretch (and, the facts being approved, proposes nothing new)
    operations.redact_case(db.session, case.id)
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(Case, case.id).facts_redaction
    assert row.proposed is None
    assert "有期徒刑" not in row.fields["result"]


def test_checker_keeps_a_stretch_of_a_case_fact_and_a_re_run_does_not_redact_it_again(
        app: Any, db: Any, scene: Any, login: Any) -> None:
    case = db.session.get(Case, scene.cases[1].id)
    client_name = next(name for name in CLIENTS if name in case.cause)
    span = next(s for s in case.facts_redaction.spans["cause"] if case.cause.strip()[s["start"]:s["end"]] == client_name)
    client = app.test_client()
    login(client, scene.organiser)
    response = _post(client, case, "cause/spans/remove", {"start": span["start"], "end": span["end"]})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Case, case.id).facts_redaction
    assert client_name in row.fields["cause"]
    assert row.status == RedactionStatus.PENDING
    assert any(s["source"] == "removed" for s in row.spans["cause"])
    operations.redact_case(db.session, case.id)  # pending: the re-run replaces, keeping the checker's choice
    db.session.commit()
    db.session.expire_all()
    assert client_name in db.session.get(Case, case.id).facts_redaction.fields["cause"]


def test_text_typed_by_the_checker_is_redacted_wherever_it_occurs_in_the_fact(
        app: Any, db: Any, scene: Any, login: Any) -> None:
    case = db.session.get(Case, scene.cases[2].id)
    client = app.test_client()
    login(client, scene.organiser)
    assert _post(client, case, "stage_reached/spans", {"text": "一审", "kind": "place"}).status_code == 302
    db.session.expire_all()
    fields = db.session.get(Case, case.id).facts_redaction.fields
    assert "一审" not in fields["stage_reached"]
    assert "审查起诉" in fields["stage_reached"]


@pytest.mark.parametrize(("path", "data"), [
    ("result/spans", {"start": 0, "end": 10_000, "kind": "person"}),  # outside the text
    ("result/spans", {"text": "不在其中的字", "kind": "person"}),  # text that does not occur
    ("result/spans/remove", {"start": 0, "end": 1}),  # no such span
])
def test_a_bad_correction_of_a_case_fact_says_why_and_changes_nothing(
        app: Any, db: Any, scene: Any, login: Any, path: str, data: dict[str, Any]) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    before = (dict(case.facts_redaction.fields), case.facts_redaction.status)
    client = app.test_client()
    login(client, scene.organiser)
    response = _post(client, case, path, data)
    assert response.status_code in (302, 400, 409, 422)
    db.session.expire_all()
    row = db.session.get(Case, case.id).facts_redaction
    assert (row.fields, row.status) == before


def test_unknown_fact_is_not_found_and_agency_staff_cannot_correct_facts(
        app: Any, db: Any, scene: Any, login: Any) -> None:
    case = db.session.get(Case, scene.cases[0].id)
    client = app.test_client()
    login(client, scene.organiser)
    assert _post(client, case, "lawyer_name/spans", {"start": 0, "end": 1, "kind": "person"}).status_code == 404
    staff = app.test_client()
    login(staff, scene.staff[0])
    token = csrf_token(staff.get("/cases/").get_data(as_text=True))
    response = staff.post(f"/cases/{case.id}/facts/result/spans",
                          data={"csrf_token": token, "start": 0, "end": 2, "kind": "person"})
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Case, case.id).facts_redaction.status == RedactionStatus.APPROVED
