"""Reviewers learn nothing from identifiers: their pages carry per-page indices and opaque tokens, no ids."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from evalplat.assignments.models import AssignmentState
from evalplat.cases.models import Document
from evalplat.params import opaque_id, reveal_id

URL_ATTR = re.compile(r'(?:href|action|src|formaction)="([^"]*)"')
ID_ATTR = re.compile(r'\bid="([^"]*)"')


def _pages(client: Any, assignment: Any) -> list[str]:
    token = opaque_id(assignment.id)
    pages = []
    for url in ("/reviews/", f"/reviews/{token}", f"/reviews/{token}/decline", "/home"):
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.get_data(as_text=True))
    return pages


def test_reviewer_pages_carry_no_document_case_sample_or_assignment_ids(client: Any, db: Any, make_scene: Any,
                                                                       login: Any, seed: Any) -> None:
    make_scene()  # the first scene takes the low ids: the second's cannot pass for page indices
    scene = make_scene(state=AssignmentState.OFFERED)
    assignment = scene.assignments[0]
    documents = db.session.scalars(sa.select(Document.id).where(Document.case_id == scene.case.id)).all()
    raw = {str(i) for i in (scene.case.id, scene.sample.id, assignment.id, *documents)}
    assert min(int(i) for i in documents) > 3
    login(client, scene.reviewers[0], seed.PASSWORD)
    inbox, case, decline, home = _pages(client, assignment)
    assert f"/reviews/{opaque_id(assignment.id)}" in inbox
    for page in (inbox, case, decline, home):
        for url in URL_ATTR.findall(page):
            parts = re.split(r"[/?&=#.]", url.split("/static/")[0])
            assert not raw & set(parts), url
        for ident in ID_ATTR.findall(page):
            assert not raw & set(re.findall(r"\d+", ident)) or re.fullmatch(r"doc-\d+(-title)?", ident), ident
    # documents are numbered on the page: doc-1, doc-2, whatever their ids
    assert sorted(set(re.findall(r'id="(doc-\d+)"', case))) == ["doc-1", "doc-2"]
    assert not any(f'"doc-{d}"' in case or f"#doc-{d}" in case for d in documents if d > 2)


def test_opaque_ids_round_trip_and_forged_tokens_are_404(client: Any, db: Any, scene: Any, login: Any,
                                                         seed: Any) -> None:
    assignment = scene.assignments[0]
    token = opaque_id(assignment.id)
    assert re.fullmatch(r"[a-z2-7]{26}", token)
    assert reveal_id(token) == assignment.id
    assert opaque_id(assignment.id + 1)[:6] != token[:6]  # neighbouring ids share nothing visible
    login(client, scene.reviewers[0], seed.PASSWORD)
    assert client.get(f"/reviews/{token}").status_code == 200
    assert client.get(f"/reviews/{assignment.id}").status_code == 404
    forged = ("a" if token[0] != "a" else "b") + token[1:]
    assert client.get(f"/reviews/{forged}").status_code == 404
