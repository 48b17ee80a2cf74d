"""What OCR gets better at with the page prepared and its output tidied: red ink on grey paper, grey paper,
salt-and-pepper specks, half-width punctuation in Chinese text, and known names misread by one look-alike."""

from __future__ import annotations

import numpy as np
import pytest
from samplefiles import require_cjk_font, scan_image

from evalplat.extract.known_names import correct_known_names, glyph_likeness
from evalplat.extract.ocr import clean_page, drop_red_ink, full_width_punctuation


# --- the page ------------------------------------------------------------------------------------------
def test_a_seal_on_grey_paper_is_lifted_to_the_paper_and_black_ink_under_it_stays_dark() -> None:
    from PIL import Image

    pixels = np.full((20, 20, 3), 211, np.uint8)  # grey paper
    pixels[0, :5] = (176, 54, 59)  # the seal's red, blended into the paper
    pixels[1, :5] = (20, 20, 20)  # a name printed under it
    grey = np.asarray(drop_red_ink(Image.fromarray(pixels, "RGB")))
    assert set(grey[0, :5]) == {211}  # as light as the paper: nothing left to read
    assert set(grey[1, :5]) == {20}
    assert set(grey[5:, :].ravel()) == {211}


def test_grey_paper_becomes_white_and_the_ink_keeps_its_contrast() -> None:
    require_cjk_font()
    from PIL import Image

    page = np.asarray(scan_image(["受援人黄志刚申请法律援助"])).astype(np.float32)
    grey_paper = Image.fromarray((page * 200 / 255).astype(np.uint8), "L")  # paper at 200, ink at 0
    cleaned = np.asarray(clean_page(grey_paper))
    assert np.percentile(cleaned, 50) >= 250
    assert cleaned.min() <= 10


def test_salt_and_pepper_specks_are_removed_and_a_clean_page_is_left_as_it_is() -> None:
    require_cjk_font()
    from PIL import Image

    page = np.asarray(scan_image(["受援人黄志刚申请法律援助", "案号：（2023）粤0703民初1234号"]))
    assert np.array_equal(np.asarray(clean_page(Image.fromarray(page, "L"))), page)
    noisy = page.copy()
    rng = np.random.default_rng(1)
    where = rng.random(page.shape) < 0.015
    noisy[where] = np.where(rng.random(page.shape) < 0.5, 0, 255)[where]
    cleaned = np.asarray(clean_page(Image.fromarray(noisy, "L")))
    import cv2

    paper = cv2.dilate((page < 250).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0  # away from the text
    assert ((noisy < 128) & paper).sum() > 1000
    assert ((cleaned < 128) & paper).sum() < 10
    text = page < 128
    assert (cleaned[text] < 128).mean() > 0.95  # the strokes are still there


# --- the text ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("read", "printed"), [
    ("(2023)粤0703民初1234号", "（2023）粤0703民初1234号"),
    ("1 梁淑仪 李建国 (2023) 粤0703民初2231号", "1 梁淑仪 李建国 （2023） 粤0703民初2231号"),
    ("案号：(2023）粤0705民初907号", "案号：（2023）粤0705民初907号"),
    ("公民身份号码440703198506123515,汉族", "公民身份号码440703198506123515，汉族"),
    ("电话:13800138000", "电话：13800138000"),
    ("公民身份号码440703198506123515,\n汉族", "公民身份号码440703198506123515，\n汉族"),  # wrapped
    ("赔偿1,000元，9:30到庭", "赔偿1,000元，9:30到庭"),  # between digits: as read
    ("Exhibit (a), page 2", "Exhibit (a), page 2"),  # Latin text: as read
])
def test_half_width_punctuation_in_chinese_text_is_made_full_width(read: str, printed: str) -> None:
    assert full_width_punctuation(read) == printed
    assert len(full_width_punctuation(read)) == len(read)  # offsets stay valid


def test_characters_that_look_alike_are_told_from_those_that_do_not() -> None:
    require_cjk_font()
    assert glyph_likeness("冼", "洗") >= 0.8
    assert glyph_likeness("未", "末") >= 0.8
    assert glyph_likeness("张", "李") < 0.8
    assert glyph_likeness("国", "梁") < 0.8
    assert glyph_likeness("冼", "冼") == 1.0


def test_a_known_name_misread_by_one_look_alike_character_is_put_back() -> None:
    require_cjk_font()
    text = "申请人洗伟东，委托代理人冼国梁。洗伟东称"
    corrected, changes = correct_known_names(text, ["冼伟东", "冼国梁"])
    assert corrected == "申请人冼伟东，委托代理人冼国梁。冼伟东称"
    assert [(c.start, c.read, c.name) for c in changes] == [(3, "洗伟东", "冼伟东"), (16, "洗伟东", "冼伟东")]


@pytest.mark.parametrize(("text", "names"), [
    ("申请人张伟东到场", ["冼伟东"]),  # 张 does not look like 冼: another person
    ("申请人洗伟华到场", ["冼伟东"]),  # two characters differ
    ("申请人洗东到场", ["冼东"]),  # two-character names are never corrected
    ("证人洗伟东与申请人冼伟东", ["冼伟东", "洗伟东"]),  # both are known people
    ("申请人洗伟东到场", []),  # the caller knows no names
])
def test_text_that_is_not_a_misread_known_name_is_left_as_read(text: str, names: list[str]) -> None:
    require_cjk_font()
    assert correct_known_names(text, names) == (text, [])


def test_without_a_cjk_font_nothing_is_corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalplat.extract import known_names

    monkeypatch.setenv("EVALPLAT_CJK_FONT", "/nonexistent/font.ttc")
    known_names._font.cache_clear()
    known_names._ink.cache_clear()
    known_names._missing_glyph.cache_clear()
    try:
        assert correct_known_names("申请人洗伟东", ["冼伟东"]) == ("申请人洗伟东", [])
    finally:
        monkeypatch.delenv("EVALPLAT_CJK_FONT")
        known_names._font.cache_clear()
        known_names._ink.cache_clear()
        known_names._missing_glyph.cache_clear()


@pytest.mark.parametrize(("value", "expected"), [(None, "申请人冼伟东"), ("1", "申请人冼伟东"), ("0", "申请人洗伟东"),
                                                 ("off", "申请人洗伟东")])
def test_the_known_name_correction_follows_its_switch(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                                       expected: str) -> None:
    require_cjk_font()
    from evalplat.cases.operations import correct_ocr_pages

    if value is None:
        monkeypatch.delenv("EVALPLAT_OCR_KNOWN_NAMES", raising=False)
    else:
        monkeypatch.setenv("EVALPLAT_OCR_KNOWN_NAMES", value)
    text = "申请人洗伟东"
    assert correct_ocr_pages(text, [(0, len(text))], ["冼伟东"])[0] == expected


def test_a_known_names_switch_that_is_not_a_boolean_is_a_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalplat.config import ConfigError, from_environment
    from evalplat.extract.ocr import OcrConfig

    with pytest.raises(ConfigError, match="EVALPLAT_OCR_KNOWN_NAMES='maybe' is not a boolean"):
        from_environment({"EVALPLAT_OCR_KNOWN_NAMES": "maybe"})  # the start-up stops, naming it
    with pytest.raises(ConfigError, match="EVALPLAT_OCR_KNOWN_NAMES='maybe' is not a boolean"):
        OcrConfig.from_env({"EVALPLAT_OCR_KNOWN_NAMES": "maybe"})  # and so does a worker that reads it
    assert OcrConfig.from_env({"EVALPLAT_OCR_KNOWN_NAMES": ""}).known_names is True
    assert OcrConfig.from_env({"EVALPLAT_OCR_KNOWN_NAMES": "no"}).known_names is False
