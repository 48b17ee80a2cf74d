"""Normalisation of OCR'd text for the anonymiser: folded forms, repaired digits, a map back to what was read."""

from __future__ import annotations

import pytest

from evalplat.extract.normalise import normalise_for_matching, original_span


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


def test_spaces_inside_numbers_and_between_chinese_characters_are_removed() -> None:
    assert _normalised("冼 国 梁，电话 138 0013 8000") == "冼国梁，电话13800138000"
    assert _normalised("Legal aid 案 件") == "Legal aid 案件"


def test_full_width_digits_and_letters_become_ascii() -> None:
    assert _normalised("２０２３年　５月ＡＢ") == "2023年5月AB"


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
