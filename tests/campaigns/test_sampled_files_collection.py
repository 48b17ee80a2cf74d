"""The files of sampled cases: the organiser collects them after the draw; afterwards they are evidence.

A bureau draws the sample first and then asks for the sampled cases' files (卷宗). Until the campaign offers
a case to a reviewer the organiser's import may add those files; the agency never may once the population is
frozen, and nobody may by import once the campaign has gone on to assignment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from evalplat.accounts.models import Role
from evalplat.campaigns.models import CampaignState, Sample
from evalplat.cases import importer
from evalplat.cases.models import Case, Document
from evalplat.services import get_storage

JUDGMENT = "刑事判决书：被告人犯盗窃罪，判处有期徒刑一年。".encode()


def _sampled_case(db: Any, campaign: Any) -> Case:
    case = db.session.scalar(sa.select(Case).join(Sample, Sample.case_id == Case.id)
                             .where(Sample.campaign_id == campaign.id).order_by(Case.id).limit(1))
    assert case is not None
    assert case.evidence_frozen()
    return case


def _import_files(db: Any, tmp_path: Path, actor: Any, case: Case) -> importer.ImportReport:
    source = tmp_path / "cases.csv"
    header = importer.template_rows()[0]
    source.write_text(",".join(header) + "\n", encoding="utf-8")  # no rows: the zip adds files to existing cases
    archive = tmp_path / "files.zip"
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{case.case_number}/判决书.txt", JUDGMENT)
    return importer.import_cases(db.session, actor=actor, source=source, files_zip=archive, storage=get_storage())


def _documents(db: Any, case_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Document).where(Document.case_id == case_id))


def test_organiser_collects_sampled_cases_files_after_the_draw(db: Any, sampled_campaign: Any, province: Any,
                                                               tmp_path: Path) -> None:
    case = _sampled_case(db, sampled_campaign)
    report = _import_files(db, tmp_path, province.organiser, case)
    assert report.ok, report.errors
    assert not report.file_problems
    db.session.commit()
    assert _documents(db, case.id) == 1


def test_agency_cannot_import_files_of_a_sampled_case(db: Any, sampled_campaign: Any, make_user: Any,
                                                      tmp_path: Path) -> None:
    case = _sampled_case(db, sampled_campaign)
    staff = make_user(Role.AGENCY_STAFF, agency=case.agency)
    report = _import_files(db, tmp_path, staff, case)
    assert [p.code for p in report.file_problems] == ["zip_frozen_case"]
    db.session.rollback()
    assert _documents(db, case.id) == 0


def test_no_import_touches_a_sampled_case_once_the_campaign_has_moved_on(db: Any, sampled_campaign: Any,
                                                                         province: Any, tmp_path: Path) -> None:
    case = _sampled_case(db, sampled_campaign)
    sampled_campaign.state = CampaignState.SCORING
    db.session.commit()
    report = _import_files(db, tmp_path, province.organiser, case)
    assert [p.code for p in report.file_problems] == ["zip_frozen_case"]
    db.session.rollback()
    assert _documents(db, case.id) == 0
