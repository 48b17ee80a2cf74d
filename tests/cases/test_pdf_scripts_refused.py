"""Case documents that are PDFs with JavaScript are refused with a named error (the rest is imported)."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from files.samplefiles import pdf_with_open_action_javascript

from evalplat.accounts.models import Role
from evalplat.cases.models import Document


def test_case_document_pdf_with_javascript_is_refused_by_name(db: Any, province: Any, client: Any, make_user: Any,
                                                              login: Any, make_case: Any) -> None:
    case = make_case(agency=province["agency"])
    login(client, make_user(Role.AGENCY_STAFF, agency=province["agency"]))
    response = client.post(f"/cases/{case.id}/documents", data={
        "files": [(io.BytesIO(pdf_with_open_action_javascript()), "判决书.pdf"),
                  (io.BytesIO("会见笔录内容".encode()), "会见笔录.txt")],
        "kind": "", "on_bad_file": "skip"}, content_type="multipart/form-data", follow_redirects=True,
        headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert "PDF file &#39;判决书.pdf&#39; contains a script or an automatic action (JavaScript)" in page
    names = db.session.scalars(sa.select(Document.original_filename).where(Document.case_id == case.id)).all()
    assert names == ["会见笔录.txt"]
