"""Known names put back into OCR'd text where OCR misread one character of them as a look-alike.

The platform knows the names of a case's people (its parties, lawyer, judges) from the case record. OCR on a
damaged page sometimes reads one character of such a name as a character that looks almost the same —
冼伟东 as 洗伟东 (冫 read as 氵) — and then neither the anonymiser's exact match nor a person searching the
text finds the name. :func:`correct_known_names` replaces a stretch of OCR'd text that differs from a known
name in exactly one character, when the two characters look alike, by the known name.

Whether two characters look alike is measured, not listed: both are drawn in the platform's CJK font
(:func:`reports.fonts.cjk_font_path`) at the same place in a 64-pixel em box, and their likeness is the share of
each one's ink that lies within one pixel of the other's (:func:`glyph_likeness`). 冼/洗 0.95, 王/玉 0.97,
未/末 0.99; unrelated characters mostly 0.5–0.7; characters that share a large component (梅/海) reach 0.8,
the threshold (:data:`LIKENESS`). Without a CJK font nothing is corrected.

Only names of at least three characters are corrected (a two-character name one character away is too
often another word), only to a name the caller passes, and a stretch that is itself a known name is left
alone. Every replacement keeps the length, so offsets into the text stay valid; each is returned, so the
caller can record what was changed.

Examples
--------
>>> text, changes = correct_known_names("委托人洗伟东于2023年申请法律援助", ["冼伟东"])  # doctest: +SKIP
>>> text, [(c.start, c.read, c.name) for c in changes]                                  # doctest: +SKIP
('委托人冼伟东于2023年申请法律援助', [(3, '洗伟东', '冼伟东')])
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["LIKENESS", "MIN_LENGTH", "Correction", "correct_known_names", "glyph_likeness"]

#: the likeness (0–1) from which two characters count as look-alikes
LIKENESS = 0.8
#: the shortest known name that is corrected
MIN_LENGTH = 3

_EM = 64
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·]+")
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Correction:
    """One replacement: ``text[start:start + len(name)]`` was ``read`` and is now ``name``."""

    start: int
    read: str
    name: str


@lru_cache(maxsize=1)
def _font() -> Any:
    from PIL import ImageFont

    from reports.fonts import FontMissing, cjk_font_path

    try:
        path = cjk_font_path()
    except FontMissing:
        return None
    return ImageFont.truetype(str(path), _EM)


@lru_cache(maxsize=8192)
def _ink(char: str) -> Any:
    """The character drawn at a fixed place: (ink mask, ink dilated by one pixel), or None without a font
    or when the font has no glyph for it."""
    import numpy as np
    from PIL import Image, ImageDraw

    font = _font()
    if font is None:
        return None
    with _lock:  # FreeType faces are not safe to share between threads
        image = Image.new("L", (_EM + 8, _EM + 8), 0)
        ImageDraw.Draw(image).text((4, 4), char, fill=255, font=font)
        missing = _missing_glyph()
    mask = np.asarray(image) > 127
    if not mask.any() or (missing is not None and np.array_equal(mask, missing)):
        return None
    grown = mask.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return mask, grown


@lru_cache(maxsize=1)
def _missing_glyph() -> Any:
    """What the font draws for a code point it has no glyph for (its .notdef box)."""
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("L", (_EM + 8, _EM + 8), 0)
    ImageDraw.Draw(image).text((4, 4), "\U000f0000", fill=255, font=_font())
    mask = np.asarray(image) > 127
    return mask if mask.any() else None


def glyph_likeness(a: str, b: str) -> float:
    """How alike two characters look, 0–1: the share of their ink within one pixel of the other's.

    Both are drawn in the platform's CJK font at 64 pixels at the same place; 1.0 for the same character,
    0.0 when either cannot be drawn (no CJK font, no glyph).
    """
    if a == b:
        return 1.0
    first, second = _ink(a), _ink(b)
    if first is None or second is None:
        return 0.0
    (mask_a, grown_a), (mask_b, grown_b) = first, second
    return float(((mask_a & grown_b).sum() + (mask_b & grown_a).sum()) / (mask_a.sum() + mask_b.sum()))


def correct_known_names(text: str, names: Iterable[str]) -> tuple[str, list[Correction]]:
    """Replace every stretch of ``text`` one look-alike character away from a known name by that name.

    Parameters
    ----------
    text : str
        Text as OCR read it.
    names : iterable of str
        Known names (a case's people). Names shorter than :data:`MIN_LENGTH` characters, or not written in
        Chinese characters, are not used.

    Returns
    -------
    (str, list of Correction)
        The text (same length) and the replacements, in text order.
    """
    known = sorted({n.strip() for n in names if len(n.strip()) >= MIN_LENGTH and _NAME.fullmatch(n.strip())},
                   key=len, reverse=True)
    if not known or not text:
        return text, []
    exact = set(known)
    chars = list(text)
    taken = bytearray(len(text))
    for name in known:  # a known name read exactly is not another name's to take
        for found in re.finditer(re.escape(name), text):
            taken[found.start():found.end()] = b"\x01" * len(name)
    changes: list[Correction] = []
    for name in known:  # longer names first: 欧阳伟东 before 阳伟东
        size = len(name)
        # one character differs, so the first or the second one is read right
        starts = {i for i in _positions(text, name[0])} | {i - 1 for i in _positions(text, name[1]) if i}
        for start in sorted(s for s in starts if s + size <= len(text)):
            if any(taken[start:start + size]):
                continue
            window = text[start:start + size]
            differing = [i for i in range(size) if window[i] != name[i]]
            if len(differing) != 1 or window in exact or not _NAME.fullmatch(window):
                continue
            i = differing[0]
            if glyph_likeness(window[i], name[i]) < LIKENESS:
                continue
            chars[start + i] = name[i]
            taken[start:start + size] = b"\x01" * size
            changes.append(Correction(start, window, name))
    changes.sort(key=lambda c: c.start)
    return "".join(chars), changes


def _positions(text: str, char: str) -> list[int]:
    found, i = [], text.find(char)
    while i != -1:
        found.append(i)
        i = text.find(char, i + 1)
    return found
