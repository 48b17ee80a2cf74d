"""Normalisation of OCR'd text for matching, with a map back to the text as it was read.

What OCR reads differently from what the anonymiser's patterns expect, folded to one form:

- full-width digits and Latin letters (``２０２３``, ``ＡＢ``) become ASCII, the ideographic space a space;
- the year brackets of a case or document number (``【2023】``, ``[2023]``, ``［2023］``, ``〖2023〗``,
  ``〔 2023 〕``) become ``〔2023〕`` when a number with 号 follows (``【2023】粤0703民初1234号``,
  ``粤司发[2023]12号``); half-width ``(2023)`` there becomes ``（2023）``;
- inside number-shaped tokens (mostly digits: ID numbers, phone numbers, case numbers) the letters OCR
  confuses with digits are repaired: ``O``/``o`` → ``0``, ``l``/``I``/``|`` → ``1`` (an ID number's final
  ``X`` stays);
- spaces inside numbers (``138 0013 8000``) and between Chinese characters or between a Chinese character
  and a digit (``冼 国 梁``) are removed.

Every step only replaces or removes characters, so each character of the result comes from exactly one
character of the input: ``offset_map[i]`` is the index in the original text of the normalised character
``i`` (plus one last entry, the original length). The text shown to the checker stays as read; a span found
in the normalised text is shown with :func:`original_span`.

Examples
--------
>>> text, offsets = normalise_for_matching("案号【2023】粤O7O3民初l234号，电话 138 0013 8000")
>>> text
'案号〔2023〕粤0703民初1234号，电话13800138000'
>>> start = text.index("1380")
>>> original_span(offsets, start, start + 11)
(24, 37)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .ocr import _CJK_GAP

__all__ = ["normalise_for_matching", "original_span"]

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}  # ０-９
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FULL_WIDTH[0x3000] = 0x20  # ideographic space

_SPACE = r"[ \t\u00a0\u2009\u202f]"
# A year in brackets, followed by the rest of a case or document number: "粤0703民初1234号", "12号".
_YEAR_BRACKETS = re.compile(
    rf"(?P<open>[【\[［〖〔(（]){_SPACE}*(?P<year>(?:19|20)\d\d){_SPACE}*(?P<close>[】\]］〗〕)）])"
    rf"(?=[\u4e00-\u9fff0-9 \t]{{0,30}}?[0-9]+{_SPACE}*号)"
)
_ROUND = {"(": "（", "（": "（"}
_CONFUSED = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_NUMBERISH = "0-9OolI|"
_NUMBER_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9])[{_NUMBERISH}](?:{_SPACE}?[{_NUMBERISH}])*[Xx]?(?![A-Za-z0-9])"
)


class _Text:
    """Characters with the index each came from in the original; edits only replace or remove."""

    def __init__(self, text: str) -> None:
        self.chars = list(text)
        self.sources = list(range(len(text)))

    def __str__(self) -> str:
        return "".join(self.chars)

    def edit(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], Sequence[str | None]]) -> None:
        """For each match, ``replace`` gives one entry per matched character: its new form, or None to drop it."""
        current = str(self)
        chars: list[str] = []
        sources: list[int] = []
        position = 0
        for match in pattern.finditer(current):
            chars += self.chars[position : match.start()]
            sources += self.sources[position : match.start()]
            for offset, new in enumerate(replace(match)):
                if new is not None:
                    chars.append(new)
                    sources.append(self.sources[match.start() + offset])
            position = match.end()
        chars += self.chars[position:]
        sources += self.sources[position:]
        self.chars, self.sources = chars, sources


def _fold_year(match: re.Match[str]) -> list[str | None]:
    round_brackets = match["open"] in _ROUND and match["close"] in ")）"
    opening, closing = ("（", "）") if round_brackets else ("〔", "〕")
    out: list[str | None] = []
    for offset, char in enumerate(match.group(0)):
        index = match.start() + offset
        if index == match.start("open"):
            out.append(opening)
        elif index == match.start("close"):
            out.append(closing)
        elif char.isdigit():
            out.append(char)
        else:
            out.append(None)  # spaces inside the brackets
    return out


def _repair_number(match: re.Match[str]) -> list[str | None]:
    token = match.group(0)
    digits = sum(ch.isdigit() for ch in token)
    confused = sum(ch in "OolI|" for ch in token)
    groups = token.split()
    if digits < 2 or digits + confused < 3 or confused > digits or not all(any(c.isdigit() for c in g) for g in groups):
        return list(token)  # a word, a short code or a letter beside a number, not a number
    return [None if ch.isspace() else ch.translate(_CONFUSED) for ch in token]


def normalise_for_matching(text: str) -> tuple[str, list[int]]:
    """Fold OCR'd text to the forms the anonymiser matches, keeping where each character came from.

    Parameters
    ----------
    text : str
        Text as OCR read it (what the checker sees).

    Returns
    -------
    normalised : str
    offset_map : list of int
        ``len(normalised) + 1`` entries: ``offset_map[i]`` is the index in ``text`` of ``normalised[i]``;
        the last entry is ``len(text)``.
    """
    work = _Text(text.translate(_FULL_WIDTH))
    work.edit(_NUMBER_TOKEN, _repair_number)
    work.edit(_YEAR_BRACKETS, _fold_year)
    work.edit(_CJK_GAP, lambda match: [None] * len(match.group(0)))
    return str(work), [*work.sources, len(text)]


def original_span(offset_map: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The span of the original text that the normalised span ``[start, end)`` was made from.

    An empty span maps to an empty span at the position of the next character.
    """
    if end <= start:
        return offset_map[start], offset_map[start]
    return offset_map[start], offset_map[end - 1] + 1
