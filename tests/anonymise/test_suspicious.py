"""``suspicious(text, result)``: what the redaction left that the checker should look at."""

from __future__ import annotations

import json

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
