"""Appeal attachments that are PDFs with JavaScript are refused with a named error; no appeal is filed."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from files.samplefiles import pdf_with_open_action_javascript


def test_appeal_attachment_pdf_with_javascript_is_refused_and_no_appeal_is_filed(db: Any, app: Any, login: Any,
                                                                                flow: Any, fs: Any) -> None:
    from evalplat.appeals.models import Appeal

    fs.finish_and_publish(db, flow, closes=fs.NOW + timedelta(days=3650))
    sample = next(s for s in fs.samples(db, flow.campaign) if s.case.agency_id == flow.agencies[0].id)
    agency = app.test_client()
    login(agency, flow.staff[0])
    response = agency.post(f"/appeals/new/{sample.id}", data={
        "items": ["total"], "reason": "补充材料",
        "attachments": [(io.BytesIO(pdf_with_open_action_javascript()), "补充.pdf")]},
        content_type="multipart/form-data", follow_redirects=True, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert "补充.pdf" in page
    assert "contains a script or an automatic action (JavaScript)" in page
    assert db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(Appeal.sample_id == sample.id)) == 0
