"""OCR engines behind one interface: RapidOCR by default where installed, Tesseract as the fallback."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from samplefiles import image_bytes, require_cjk_font, scan_image

from evalplat.extract import OcrConfig, OcrUnavailable, extract_text, ocr_available
from evalplat.extract.engines import RapidOcrEngine, cut_long_line, get_engine, join_boxes
from evalplat.extract.ocr import tesseract_status


def require_rapidocr(config: OcrConfig | None = None) -> None:
    status = RapidOcrEngine(config or OcrConfig()).status()
    if not status.available:
        pytest.skip("RapidOCR tests skipped: " + status.message("en"))


def require_tesseract() -> None:
    status = tesseract_status(refresh=True)
    if not status.available:
        pytest.skip("Tesseract tests skipped: " + status.message("en"))


def test_engine_is_chosen_by_evalplat_ocr_engine() -> None:
    assert OcrConfig.from_env({}).engine == "auto"
    assert OcrConfig.from_env({"EVALPLAT_OCR_ENGINE": "Tesseract "}).engine == "tesseract"
    assert get_engine(OcrConfig.from_env({"EVALPLAT_OCR_ENGINE": "tesseract"})).name == "tesseract"
    assert get_engine(OcrConfig.from_env({"EVALPLAT_OCR_ENGINE": "rapidocr"})).name == "rapidocr"


def test_unknown_engine_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="auto, rapidocr, tesseract"):
        get_engine(OcrConfig(engine="paddle"))


def test_auto_prefers_rapidocr_where_it_is_installed() -> None:
    require_rapidocr()
    assert get_engine(OcrConfig(engine="auto")).name == "rapidocr"
    assert ocr_available(OcrConfig()).engine.startswith("rapidocr ")


def test_auto_falls_back_to_tesseract_when_rapidocr_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    require_tesseract()
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import rapidocr now raises ImportError
    config = OcrConfig(dpi=299)  # a configuration no other test built an engine for
    assert get_engine(config).name == "tesseract"


def test_when_no_engine_is_installed_a_scan_gets_the_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)
    config = OcrConfig(tesseract="/nonexistent/tesseract", dpi=298)
    status = ocr_available(config)
    assert status.available is False
    assert "rapidocr (Python package)" in status.missing
    assert "tesseract" in status.missing
    with pytest.raises(OcrUnavailable) as err:
        extract_text(image_bytes(["扫描件"], "PNG"), "扫描判决.png", config=config)
    message = err.value.message("en")
    assert "扫描判决.png" in message
    assert "pip install rapidocr onnxruntime" in message
    assert "tesseract-ocr-chi-sim" in message


def test_rapidocr_reads_a_scan_and_records_its_engine_and_model() -> None:
    require_rapidocr()
    require_cjk_font()
    result = extract_text(image_bytes(["被告人冼国梁于2023年5月", "（2023）粤0703民初1234号"], "PNG"), "扫描.png",
                          config=OcrConfig(engine="rapidocr"))
    assert "冼国梁" in result.text  # Tesseract's chi_sim cannot output 冼
    assert "（2023）" in result.text
    assert "0703民初1234号" in result.text
    assert result.ocr_engine is not None
    assert result.ocr_engine.startswith("rapidocr ")
    assert result.ocr_model is not None
    assert "PP-OCR" in result.ocr_model
    assert "onnxruntime" in result.ocr_model


def test_tesseract_fallback_records_its_engine_and_language_models() -> None:
    require_tesseract()
    require_cjk_font()
    result = extract_text(image_bytes(["判处有期徒刑一年"], "PNG"), "照片.png", config=OcrConfig(engine="tesseract"))
    assert "有期徒刑" in result.text
    assert result.ocr_engine is not None
    assert result.ocr_engine.startswith("tesseract ")
    assert result.ocr_model == "chi_sim+eng"


def test_text_layer_pdf_records_no_ocr_engine() -> None:
    require_cjk_font()
    from samplefiles import text_pdf_bytes

    result = extract_text(text_pdf_bytes([["辩护意见正文内容"]]), "意见.pdf")
    assert (result.ocr_used, result.ocr_engine, result.ocr_model) == (False, None, None)


def test_angle_classifier_is_off_unless_switched_on() -> None:
    require_rapidocr()
    assert OcrConfig.from_env({}).angle_classifier is False
    assert OcrConfig.from_env({"EVALPLAT_OCR_ANGLE_CLASSIFIER": "1"}).angle_classifier is True
    off = RapidOcrEngine(OcrConfig())
    assert off._ocr.use_cls is False
    assert "cls" not in off.describe()[1]
    on = RapidOcrEngine(OcrConfig(angle_classifier=True))
    assert on._ocr.use_cls is True
    assert "cls" in on.describe()[1]


def test_rapidocr_uses_the_models_inside_its_wheel() -> None:
    require_rapidocr()
    engine = RapidOcrEngine(OcrConfig())
    models = engine._models
    assert models is not None
    import rapidocr

    wheel = str(models.det.parent)
    assert wheel.startswith(str(__import__("pathlib").Path(rapidocr.__file__).parent))
    assert engine._ocr.cfg.Det.model_path == str(models.det)
    assert engine._ocr.cfg.Rec.model_path == str(models.rec)


def test_multi_page_tiff_is_read_page_by_page_by_rapidocr() -> None:
    require_rapidocr()
    require_cjk_font()
    frames = [scan_image(["第一页盗窃罪"]), scan_image(["第二页诈骗罪"])]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    result = extract_text(out.getvalue(), "扫描.tiff", config=OcrConfig(engine="rapidocr"))
    assert result.page_count == 2
    assert "盗窃罪" in result.text[result.pages[0].start : result.pages[0].end]
    assert "诈骗罪" in result.text[result.pages[1].start : result.pages[1].end]


# --- memory: long lines cut before recognition ---------------------------------------------------
def test_long_lines_are_cut_in_the_gaps_between_characters() -> None:
    line = np.full((40, 2000), 255, dtype=np.uint8)
    for left in range(10, 1990, 50):  # a "character" of ink every 50 px, gaps between
        line[5:35, left : left + 36] = 0
    pieces = cut_long_line(line, 10.0)
    assert len(pieces) > 1
    assert sum(p.shape[1] for p in pieces) == 2000
    assert all(p.shape[1] <= 400 for p in pieces)
    position = 0
    for piece in pieces[:-1]:
        position += piece.shape[1]
        assert line[:, position].min() == 255  # every cut falls in a blank column


def test_a_short_line_is_not_cut() -> None:
    line = np.zeros((40, 300, 3), dtype=np.uint8)
    assert len(cut_long_line(line, 10.0)) == 1


def test_a_long_line_cut_before_recognition_is_read_whole() -> None:
    require_rapidocr()
    require_cjk_font()
    text = "申请人冼国梁因劳动争议纠纷向本中心申请法律援助经审查符合条件"
    result = extract_text(image_bytes([text], "PNG"), "长行.png", config=OcrConfig(engine="rapidocr", max_line_ratio=6))
    assert text in result.text.replace(" ", "")


def test_boxes_on_one_row_are_joined_left_to_right() -> None:
    boxes = [
        [[300, 12], [400, 12], [400, 40], [300, 40]],
        [[10, 10], [100, 10], [100, 42], [10, 42]],
        [[10, 60], [200, 60], [200, 90], [10, 90]],
    ]
    assert join_boxes(boxes, ["张三", "姓名", "第二行"]) == "姓名 张三\n第二行"


# --- red seals ---------------------------------------------------------------------------------------
def test_red_ink_turns_pale_while_black_and_blue_ink_stay_dark() -> None:
    from PIL import Image

    from evalplat.extract.ocr import drop_red_ink

    page = Image.new("RGB", (3, 1))
    page.putdata([(205, 32, 38), (0, 0, 0), (20, 40, 160)])  # seal red, black print, blue ballpoint
    seal, black, blue = (drop_red_ink(page).getpixel((x, 0)) for x in range(3))
    assert seal >= 200
    assert black == 0
    assert blue <= 40


def _sealed_scan(names: str) -> bytes:
    """A one-page scanned PDF whose signature line is under the bench corpus's red seal."""
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "ocr"))
    from make_corpus import red_seal
    from PIL import Image

    lines = scan_image(["江门市蓬江区法律援助处公函", f"经办人：{names}", "二〇二三年三月八日"])
    page = Image.new("RGB", (lines.width, lines.height + 400), (255, 255, 255))
    page.paste(lines.convert("RGB"), (0, 200))
    pressed = red_seal(page, (330, 400), random.Random(8))
    out = io.BytesIO()
    pressed.save(out, format="PDF", resolution=300)
    return out.getvalue()


def test_names_under_a_red_seal_are_read() -> None:
    require_rapidocr()
    require_cjk_font()
    read = extract_text(_sealed_scan("黄志刚　李建国"), "公函.pdf", config=OcrConfig(engine="rapidocr")).text
    assert "黄志刚" in read
    assert "李建国" in read
