"""``suspicious(text, result)``: what the redaction left that the checker should look at."""

from __future__ import annotations

import json

import pytest

from evalplat.anonymise import redact, suspicious

TEXT = "证人甄子丹称，被告人于2023年5月借款5000元，账号 62220212345 ，此后邹晓彤也在场。"


def test_unredacted_name_and_identifier_number_are_flagged_with_reasons():
    flags = suspicious(TEXT, [])
    found = {(f["text"], f["reason"]) for f in flags}
    assert ("甄子丹", "name_like") in found
    assert ("邹晓彤", "name_like") in found
    assert ("62220212345", "identifier_number") in found
    for f in flags:
        assert TEXT[f["start"]:f["end"]] == f["text"]


def test_amounts_and_dates_are_not_flagged_as_identifiers():
    flags = suspicious("2023年5月12日借款500000元，占比12.5%。", [])
    assert [f for f in flags if f["reason"] == "identifier_number"] == []


def test_what_the_redaction_covered_is_not_flagged():
    r = redact(TEXT)
    flagged = {f["text"] for f in suspicious(TEXT, r)}
    for span in r.spans:
        assert span.original not in flagged


def test_spans_as_stored_dicts_are_accepted_and_result_is_plain_json():
    r = redact(TEXT)
    flags = suspicious(TEXT, [s.as_dict() for s in r.spans])
    assert flags == suspicious(TEXT, r)
    assert json.loads(json.dumps(flags, ensure_ascii=False)) == flags


def test_rare_characters_after_role_word_are_flagged_when_left():
    text = "审判员冼甄 宣读判决。"
    flags = suspicious(text, [])
    assert any(f["start"] == 3 and f["reason"] in ("after_role_word", "name_like") for f in flags)


# Words cut out of legal phrases are not names: 理查明 in 经审理查明 (a window of the model starting at 理
# tagged it PER). Hand-written sentences, each placing the phrase at every offset of the model's windows.
_OPENING = "本院于二〇二三年五月十日立案受理，依法组成合议庭，公开开庭审理了本案，现已审理终结。"
_PHRASES = [
    "经审理查明，被告人于2023年5月在某商场盗窃财物，价值人民币三千元。",
    "经审查明确，上诉人的主张缺乏事实依据，本院不予支持。",
    "经依法审查认定，申请人符合法律援助的经济困难标准。",
    "本院审理查明的事实与一审法院认定的事实一致。",
]


@pytest.mark.parametrize("phrase", _PHRASES)
def test_words_straddling_legal_phrases_are_not_flagged_at_any_window_offset(phrase: str) -> None:
    for cut in range(0, 20):
        text = _OPENING[:len(_OPENING) - cut] + phrase
        flagged = [f["text"] for f in suspicious(text, redact(text)) if f["reason"] == "name_like"]
        assert flagged == [], (cut, flagged)


@pytest.mark.parametrize(("text", "name"), [
    ("经审理查明，被告人次仁多吉于2023年5月在拉萨市盗窃财物。", "次仁多吉"),
    ("原告方秀英与被告程建国于2010年登记结婚。", "秀英"),
    ("母亲王丽芬当天下午到派出所报案。", "王丽芬"),
])
def test_names_beside_words_that_take_their_surname_are_still_flagged(text: str, name: str) -> None:
    start = text.index(name)
    flagged = [f for f in suspicious(text, []) if f["reason"] == "name_like"]
    assert any(f["start"] < start + len(name) and start < f["end"] for f in flagged), flagged


def test_flags_read_the_redaction_and_run_no_model_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flags come from what the redaction computed (its leads), not from a second pass of the
    named-entity model over every sentence."""
    from evalplat.anonymise import ner

    text = TEXT + "经审理查明，被告人次仁多吉于2023年5月在拉萨市盗窃财物。" * 3
    r = redact(text)
    assert r.leads is not None
    calls: list[int] = []
    real = ner.tag_windows
    monkeypatch.setattr(ner, "tag_windows", lambda windows: calls.append(len(windows)) or real(windows))
    flags = suspicious(text, [])
    assert calls, "without leads the text is run through the redactor once"
    calls.clear()
    assert suspicious(text, [], leads=r.leads) == flags
    assert suspicious(text, r) == suspicious(text, r.spans, leads=r.leads)
    assert calls == []


def test_leads_hold_what_the_redaction_took_for_a_person() -> None:
    r = redact(TEXT)
    assert all(0 <= a < b <= len(TEXT) for a, b in r.leads)
    for span in r.spans:
        if span.kind in ("person", "witness"):
            assert (span.start, span.end) in r.leads
