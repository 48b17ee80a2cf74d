"""Campaign-wide redaction on several processes: the same rows as the sequential path, batch by batch."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import sqlalchemy as sa
from cases_support import CORRUPT_PDF, make_zip, row, write_csv

from evalplat.accounts.models import Role
from evalplat.cases import batch_redaction, importer, operations
from evalplat.cases.models import Case, Document, DocumentStatus, Redaction, RedactionStatus
from evalplat.demo.textgen import generate_case, random_facts
from evalplat.errors import InvalidTransition
from evalplat.services import get_storage

STATE_COLUMNS = ("status", "extracted_ciphertext", "redacted_text", "error_code", "error_detail", "ocr_used",
                 "page_count")


def _import(db: Any, province: dict[str, Any], tmp_path: Any, cases: int) -> list[int]:
    """``cases`` cases of generated documents (names, ID numbers, phones …), two of them sharing a person."""
    numbers = [f"P-{i}" for i in range(cases)]
    path = write_csv(tmp_path / "cases.csv", [row(province, n) for n in numbers])
    entries = {}
    for i, number in enumerate(numbers):
        rng = random.Random(i)
        for document in generate_case(rng, random_facts(rng, case_type="criminal")).documents[:3]:
            entries[f"{number}/{document.kind}.txt"] = document.text.encode()
    archive = make_zip(tmp_path / "files.zip", entries)
    report = importer.import_cases(db.session, actor=None, source=path, files_zip=archive, storage=get_storage())
    assert report.ok, report.errors
    db.session.commit()
    return sorted(db.session.scalars(sa.select(Case.id)).all())


def _add_bad_file(db: Any, case_id: int) -> int:
    bad = Document(case_id=case_id, original_filename="坏.pdf", storage_key=get_storage().put(CORRUPT_PDF),
                   position=2)  # between the case's readable files
    db.session.add(bad)
    db.session.commit()
    return bad.id


def _state(db: Any) -> dict[int, dict[str, Any]]:
    """Every document's stored columns and its redaction, plaintext included (to compare the paths)."""
    db.session.expire_all()
    out = {}
    for document in db.session.scalars(sa.select(Document).order_by(Document.id)):
        values = {c: getattr(document, c) for c in STATE_COLUMNS if c != "extracted_ciphertext"}
        values["text"] = document.extracted_text  # ciphertexts differ (random nonces); the plaintext must not
        redaction = document.redaction
        values["redaction"] = None if redaction is None else (redaction.spans, redaction.status,
                                                              redaction.approved_by_id, redaction.approved_at)
        out[document.id] = values
    return out


def _raw(db: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The documents' and redactions' rows as stored, to put back after one path has run."""
    docs = [dict(r._mapping) for r in db.session.execute(
        sa.select(Document.id, *(getattr(Document, c) for c in STATE_COLUMNS)))]
    reds = [dict(r._mapping) for r in db.session.execute(sa.select(Redaction.__table__))]
    return docs, reds


def _restore(db: Any, raw: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    docs, reds = raw
    db.session.execute(sa.delete(Redaction))
    if reds:
        db.session.execute(sa.insert(Redaction.__table__), reds)
    for values in docs:
        db.session.execute(sa.update(Document).where(Document.id == values["id"])
                           .values(**{k: v for k, v in values.items() if k != "id"}))
    db.session.commit()
    db.session.expire_all()


def _both_paths(db: Any, case_ids: list[int], **parallel: Any) -> tuple[Any, Any, Any, Any]:
    """(counts, state) of the sequential path and of the parallel one, each from the same starting rows."""
    start = _raw(db)
    sequential = operations.process_case_documents(db.session, case_ids,
                                                   retry_failed=parallel.get("retry_failed", False))
    expected = _state(db)
    _restore(db, start)
    counts = batch_redaction.redact_cases(db.session, case_ids, **parallel)
    return sequential, expected, counts, _state(db)


def test_two_processes_store_exactly_what_the_sequential_path_stores(db, province, tmp_path, make_user):
    case_ids = _import(db, province, tmp_path, 5)
    bad_id = _add_bad_file(db, case_ids[2])
    sequential, expected, counts, got = _both_paths(db, case_ids, workers=2, batch_size=2)
    assert counts == sequential == {"extracted": 15, "failed": 1, "paged": 0, "pages": 0, "redacted": 15}
    assert got == expected
    assert sum(len(v["redaction"][0]) for v in got.values() if v["redaction"]) > 100  # real spans compared
    # the bad file failed as before, with its named error, and its case's other documents were redacted
    assert got[bad_id]["status"] == DocumentStatus.FAILED
    assert got[bad_id]["error_code"] == "corrupt_pdf"
    assert set(json.loads(got[bad_id]["error_detail"])) == {"zh", "en"}
    same_case = db.session.scalars(sa.select(Document.id).where(Document.case_id == case_ids[2])).all()
    assert {got[i]["status"] for i in same_case if i != bad_id} == {DocumentStatus.REDACTED}

    # an organiser's corrections, an approval and a new file: re-redaction keeps them, on both paths alike
    organiser = make_user(Role.ORGANISER)
    first = db.session.scalars(sa.select(Document).where(Document.case_id == case_ids[0])
                               .order_by(Document.position)).first()
    operations.add_span(db.session, actor=organiser, document=first, start=0, end=4, kind="org")
    span = next(s for s in first.redaction.spans if s["source"] == "auto")
    operations.remove_span(db.session, actor=organiser, document=first, start=span["start"], end=span["end"])
    operations.approve_redaction(db.session, actor=organiser, case=db.session.get(Case, case_ids[1]))
    operations.upload_documents(db.session, actor=organiser, case=db.session.get(Case, case_ids[1]),
                                storage=get_storage(), files=[("补充.txt", "补充材料：证人王小明，电话13900001111。".encode())])
    db.session.commit()
    sequential, expected, counts, got = _both_paths(db, case_ids, workers=2, batch_size=2, retry_failed=True)
    assert counts == sequential
    assert (counts["extracted"], counts["failed"]) == (1, 1)
    assert got == expected
    approved = [v for v in got.values() if v["redaction"] and v["redaction"][1] == RedactionStatus.APPROVED]
    assert approved  # the approved case's unchanged documents stay approved


def test_a_bad_file_fails_alone_and_its_batch_is_stored(db, province, tmp_path, make_user):
    case_ids = _import(db, province, tmp_path, 3)
    bad_id = _add_bad_file(db, case_ids[1])
    counts = batch_redaction.redact_cases(db.session, case_ids, workers=2, batch_size=3)  # one batch for all
    assert counts == {"extracted": 9, "failed": 1, "paged": 0, "pages": 0, "redacted": 9}
    db.session.expire_all()
    bad = db.session.get(Document, bad_id)
    assert (bad.status, bad.error_code, bad.redaction) == (DocumentStatus.FAILED, "corrupt_pdf", None)
    others = db.session.scalars(sa.select(Document).where(Document.id != bad_id)).all()
    assert {d.status for d in others} == {DocumentStatus.REDACTED}
    assert all(d.redacted_text and "「" in d.redacted_text for d in others)
    assert all(d.extracted_ciphertext != d.extracted_text for d in others)  # encrypted at rest
    with pytest.raises(InvalidTransition) as refused:  # its case cannot be approved until it is dealt with
        operations.approve_redaction(db.session, actor=make_user(Role.ORGANISER), case=db.session.get(Case, case_ids[1]))
    assert refused.value.code == "not_all_redacted"


def test_a_case_changed_while_its_batch_was_computed_is_redone(db, province, tmp_path, make_user, monkeypatch):
    case_ids = _import(db, province, tmp_path, 2)
    organiser = make_user(Role.ORGANISER)
    real_read = batch_redaction._read_batch
    changed: list[int] = []

    def read_then_change(session: Any, ids: Any, wanted: Any) -> Any:
        works = real_read(session, ids, wanted)
        if not changed:  # an upload lands after the inputs were read, before the results are stored
            operations.upload_documents(session, actor=organiser, case=session.get(Case, ids[0]),
                                        storage=get_storage(), files=[("迟到.txt", "证人李小红的证言。".encode())])
            session.commit()
            changed.append(ids[0])
        return works

    monkeypatch.setattr(batch_redaction, "_read_batch", read_then_change)
    counts = batch_redaction.redact_cases(db.session, case_ids, workers=1, batch_size=2)
    assert counts == {"extracted": 7, "failed": 0, "paged": 0, "pages": 0, "redacted": 7}
    db.session.expire_all()
    late = db.session.scalars(sa.select(Document).where(Document.original_filename == "迟到.txt")).one()
    assert late.status == DocumentStatus.REDACTED
    assert "李小红" not in late.redacted_text


def test_a_worker_that_cannot_start_fails_the_run_instead_of_hanging(db, province, tmp_path, monkeypatch):
    case_ids = _import(db, province, tmp_path, 2)
    monkeypatch.setattr(batch_redaction.WorkerSetup, "from_app",
                        classmethod(lambda cls, app: cls("not a key ring", {}, str(tmp_path))))
    with pytest.raises(RuntimeError, match="could not start"):
        batch_redaction.redact_cases(db.session, case_ids, workers=2, batch_size=1)
    db.session.expire_all()
    assert {d.status for d in db.session.scalars(sa.select(Document))} == {DocumentStatus.UPLOADED}


def test_redacting_without_corrections_gives_what_apply_corrections_gives():
    """redact_texts skips apply_corrections when there is nothing to correct: same spans, text and mapping."""
    from evalplat.anonymise import CaseMapping, apply_corrections, redact

    for seed in range(12):
        rng = random.Random(seed)
        case = generate_case(rng, random_facts(rng))
        texts = [d.text for d in case.documents]
        known = case.known
        mapping = CaseMapping()
        expected = []
        for text in texts:  # the former per-document code, always through apply_corrections
            automatic = redact(text, known, mapping=mapping)
            result = apply_corrections(text, automatic.spans, mapping=mapping, propagate=False)
            expected.append((operations._stored(result.spans), result.text))
        assert operations.redact_texts(known, [(t, ()) for t in texts]) == expected
