"""Who sees which case pages, what reviewers can never see, the RQ job path and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import DATA_KEYS, make_zip, row, write_csv
from tests_support import fill_rule

from evalplat import jobs
from evalplat.accounts.models import Role
from evalplat.cases import importer, operations, queries
from evalplat.cases.models import Case, CaseParty, Document, DocumentStatus
from evalplat.jobs.models import JobRecord, JobState
from evalplat.security import policy_for
from evalplat.services import get_storage

SECRET = "欧阳秘密人"
TEXT = f"受援人{SECRET}，电话13912345678，住江门市江海区东海路8号。法院判处缓刑。"


def _case_with_document(db: Any, province: dict[str, Any], number: str = "P-1") -> tuple[Case, Document]:
    case = Case(agency=province["agency"], case_number=number, year=2024, case_type="criminal",
                lawyer=province["lawyer"], firm_id=province["firm"].id)
    case.parties.append(CaseParty(role="client", name=SECRET))
    db.session.add(case)
    db.session.flush()
    document = Document(case_id=case.id, original_filename=f"{SECRET}的判决书.txt",
                        storage_key=get_storage().put(TEXT.encode()), position=1)
    db.session.add(document)
    db.session.commit()
    return case, document


def test_agency_staff_see_only_their_own_cases(db, province, client, make_user, login):
    own, _ = _case_with_document(db, province, "OWN-1")
    other = Case(agency=province["other_agency"], case_number="OTHER-1", year=2024, case_type="civil")
    db.session.add(other)
    db.session.commit()
    login(client, make_user(Role.AGENCY_STAFF, agency=province["agency"]))
    listing = client.get("/cases/").get_data(as_text=True)
    assert "OWN-1" in listing
    assert "OTHER-1" not in listing
    assert client.get(f"/cases/{own.id}").status_code == 200
    assert SECRET in client.get(f"/cases/{own.id}").get_data(as_text=True)  # parties, for the own agency
    assert client.get(f"/cases/{other.id}").status_code == 404
    assert client.post(f"/cases/{other.id}/process").status_code == 404
    assert client.get(f"/cases/{own.id}/redaction").status_code == 403  # the review is the organiser's
    rows, total = queries.case_list(db.session.get(type(own.agency), own.agency_id) and
                                    make_user(Role.AGENCY_STAFF, agency=province["other_agency"]))
    assert [r.case_number for r in rows] == ["OTHER-1"]
    assert total == 1


def test_organiser_filters_the_case_list(db, province, client, make_user, login):
    _case_with_document(db, province, "ORG-1")
    db.session.add(Case(agency=province["other_agency"], case_number="ORG-2", year=2023, case_type="civil"))
    db.session.commit()
    login(client, make_user(Role.ORGANISER))
    assert "ORG-2" in client.get("/cases/").get_data(as_text=True)
    page = client.get(f"/cases/?agency={province['agency'].id}&year=2024").get_data(as_text=True)
    assert "ORG-1" in page
    assert "ORG-2" not in page
    assert "ORG-1" not in client.get("/cases/?type=civil").get_data(as_text=True)


def _every_get_url(app: Any, ints: list[int], text: str) -> list[str]:
    """Every GET route, with integer arguments set to each of ``ints`` and other arguments to ``text``."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for value in ints:
            urls.add(fill_rule(rule, value, text))
    return sorted(urls)


@pytest.mark.parametrize("role", [Role.PEER_REVIEWER, Role.EVALUATOR, Role.ADJUDICATOR])
def test_reviewers_never_see_cases_pages_nor_original_text(app, db, province, client, make_user, login, role):
    case, document = _case_with_document(db, province)
    operations.process_document(db.session, document.id)
    job = JobRecord(id=uuid.uuid4().hex, task="cases.process_document", object_type="document",
                    object_id=document.id)
    db.session.add(job)
    db.session.commit()
    login(client, make_user(role))
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("cases.") and "GET" in rule.methods:
            url = fill_rule(rule, case.id, job.id)
            assert client.get(url).status_code == 403, url
    ids = sorted({case.id, document.id})
    for url in _every_get_url(app, ids, job.id):
        policy = policy_for(app, app.url_map.bind("localhost").match(url)[0])
        if policy is None or policy.kind == "api":
            continue
        try:
            body = client.get(url).get_data(as_text=True)
        except Exception:  # noqa: BLE001, S112 - another area's page that is still being built
            continue
        assert SECRET not in body, url
        assert "13912345678" not in body, url


@pytest.mark.redis
def test_document_job_runs_on_a_real_rq_worker(app, db, province, redis_url, tmp_path):
    from evalplat.jobs.rq_backend import RQBackend

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("sqlite:///:memory:"):
        pytest.skip("the worker needs a database it can reach")
    case, document = _case_with_document(db, province, "RQ-1")
    queue = f"evalplat-test-{uuid.uuid4().hex[:8]}"
    previous = jobs.set_backend(RQBackend(redis_url, queue_name=queue))
    try:
        (job_id,) = operations.process_documents(actor_id=None, document_ids=[document.id])
        env = {**os.environ, "EVALPLAT_DATABASE_URL": database, "EVALPLAT_DATA_KEYS": DATA_KEYS,
               "EVALPLAT_STORAGE_URL": app.config["EVALPLAT_STORAGE_URL"], "EVALPLAT_ENV": "testing",
               "EVALPLAT_SECRET_KEY": app.config["SECRET_KEY"], "EVALPLAT_JOBS_URL": redis_url}
        done = subprocess.run([sys.executable, "-m", "evalplat.jobs.worker", "--url", redis_url, "--queue", queue,
                               "--burst"], env=env, cwd=Path(__file__).resolve().parents[2], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        db.session.expire_all()
        record = db.session.get(JobRecord, job_id)
        assert (record.state, record.progress) == (JobState.DONE, 1.0), record.error
        redacted = db.session.get(Document, document.id)
        assert redacted.status == DocumentStatus.REDACTED
        assert SECRET not in redacted.redacted_text
    finally:
        jobs.set_backend(previous)


def test_cli_import_with_files_and_progress(db, province, runner, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [row(province, "CLI-1"), row(province, "CLI-2")])
    archive = make_zip(tmp_path / "files.zip", {"CLI-1/判决书.txt": "被告人陈志强犯盗窃罪。".encode(),
                                                 "../evil.txt": b"x"})
    result = runner.invoke(args=["cases", "import", str(path), "--files", str(archive)])
    assert result.exit_code == 0, result.output
    assert "2 cases imported" in result.output
    assert "../evil.txt" in result.output
    assert "1 extracted" in result.output
    document = db.session.execute(sa.select(Document)).scalar_one()
    assert document.status == DocumentStatus.REDACTED
    again = runner.invoke(args=["cases", "import", str(path)])
    assert "0 cases imported, 2 already present" in again.output


def test_cli_import_refuses_a_bad_file_naming_row_and_column(db, province, runner, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [row(province, "B-1"), row(province, "B-2", 案件类型="家事")])
    result = runner.invoke(args=["cases", "import", str(path), "--lang", "en"])
    assert result.exit_code == 1
    assert "row 3 [case_type]: Unknown case type “家事”" in result.output
    assert "nothing was imported" in result.output
    assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == 0


def test_import_rows_stream_without_loading_the_file(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("案号,结案日期\n" + "".join(f"N{i},2024-01-01\n" for i in range(1000)), encoding="utf-8")
    rows = importer.iter_rows(path)
    assert next(rows) == ["案号", "结案日期"]
    assert next(rows) == ["N0", "2024-01-01"]  # a generator: rows come one at a time
