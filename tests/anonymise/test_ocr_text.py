"""OCR-tolerant matching (evalplat.ocr_text): folded forms, repaired digits, closed gaps, a map back to what was read;
the anonymiser's detectors and normalise_for_matching share every rule."""

from __future__ import annotations

import pytest

from evalplat.anonymise import redact
from evalplat.ocr_text import collapse_spacing, normalise_for_matching, ocr_gaps, original_span, repair_digits


def _normalised(text: str) -> str:
    return normalise_for_matching(text)[0]


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("【2023】粤0703民初1234号", "〔2023〕粤0703民初1234号"),
        ("[2023]粤0703民初1234号", "〔2023〕粤0703民初1234号"),
        ("［2023］粤0703民初1234号", "〔2023〕粤0703民初1234号"),
        ("粤司发[ 2023 ]12号", "粤司发〔2023〕12号"),
        ("(2023)粤0703民初1234号", "（2023）粤0703民初1234号"),
    ],
)
def test_year_brackets_of_case_and_document_numbers_fold_to_one_form(read: str, expected: str) -> None:
    assert _normalised(read) == expected


def test_brackets_that_are_not_a_case_number_stay_as_read() -> None:
    assert _normalised("【重要】2023年度报告") == "【重要】2023年度报告"
    assert _normalised("见附件[2023]") == "见附件[2023]"


def test_letters_confused_with_digits_are_repaired_inside_number_shaped_tokens() -> None:
    assert _normalised("身份证号44O7O3l988O1O11234X") == "身份证号440703198801011234X"
    assert _normalised("（2023）粤O7O3民初l234号") == "（2023）粤0703民初1234号"
    assert _normalised("电话l3800138OOO") == "电话13800138000"


def test_words_and_letters_beside_numbers_are_not_turned_into_digits() -> None:
    assert _normalised("Oil and lol, I/O 10 people") == "Oil and lol, I/O 10 people"
    assert _normalised("第l0条") == "第l0条"  # too short to tell


def test_spaces_inside_numbers_and_ocr_gaps_inside_words_are_removed_layout_spaces_stay() -> None:
    assert _normalised("冼 国 梁，电话 138 0013 8000") == "冼国梁，电话 13800138000"
    # two-character words between spaces and spaced-out headings are layout, not OCR damage
    assert _normalised("审判长 黄卫国") == "审判长 黄卫国"
    assert _normalised("刑 事 判 决 书") == "刑 事 判 决 书"
    assert _normalised("Legal aid 案 件") == "Legal aid 案 件"


def test_a_line_wrapped_inside_a_name_is_joined_a_line_ending_a_sentence_is_not() -> None:
    wrapped = "本院受理原告与被告民间借贷纠纷一案，原告委托代理人欧\n阳建华到庭参加诉讼。"
    assert "欧阳建华" in _normalised(wrapped)
    ended = "本院受理原告与被告民间借贷纠纷一案已经审理终结。\n阳光公司未到庭。"
    assert _normalised(ended) == ended


def test_the_anonymiser_and_normalise_for_matching_close_the_same_gaps() -> None:
    read = "证人梁 伟 强到庭作证，审判长 黄卫国，刑 事 判 决 书"
    closed = [i for i, flag in enumerate(ocr_gaps(read)) if flag]
    normalised, offsets = normalise_for_matching(read)
    dropped = sorted(set(range(len(read))) - set(offsets[:-1]))
    assert dropped == closed == [read.index(" 伟"), read.index(" 强")]
    collapsed = collapse_spacing(read)
    assert collapsed is not None
    assert "证人梁伟强到庭" in collapsed[0]
    assert "审判长 黄卫国" in collapsed[0]
    redacted = redact(read).text  # the anonymiser detects on the closed-up excerpt and removes the spaced name
    assert "伟" not in redacted
    assert "梁" not in redacted


def test_the_anonymiser_repairs_the_digits_normalise_for_matching_repairs() -> None:
    read = "身份证号44O7O3l988O1O11232，电话l3800138OOO"  # a valid check digit
    assert repair_digits(read) == _normalised(read) == "身份证号440703198801011232，电话13800138000"
    text = redact(read).text
    assert "44O7" not in text
    assert "l3800" not in text


def test_full_width_digits_and_letters_become_ascii() -> None:
    assert _normalised("２０２３年　５月ＡＢ") == "2023年 5月AB"  # the ideographic space is a space


def test_spans_found_in_the_normalised_text_map_back_to_the_text_as_read() -> None:
    read = "被告人冼 国 梁，身份证号44O7O3 l988O1O1 1234X，案号【2023】粤0703民初1234号"
    normalised, offsets = normalise_for_matching(read)
    assert len(offsets) == len(normalised) + 1
    for needle, shown in [
        ("冼国梁", "冼 国 梁"),
        ("440703198801011234X", "44O7O3 l988O1O1 1234X"),
        ("〔2023〕粤0703民初1234号", "【2023】粤0703民初1234号"),
    ]:
        start = normalised.index(needle)
        begin, end = original_span(offsets, start, start + len(needle))
        assert read[begin:end] == shown


def test_text_without_anything_to_fold_is_unchanged_and_maps_one_to_one() -> None:
    read = "法律援助案件质量评估：辩护意见书。"
    normalised, offsets = normalise_for_matching(read)
    assert normalised == read
    assert offsets == list(range(len(read) + 1))
