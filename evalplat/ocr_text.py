"""OCR-tolerant matching: what OCR and scanning do to text, and how matching sees through it.

One module for the anonymiser's detectors (:mod:`evalplat.anonymise`) and for anyone who matches
identifiers in OCR'd text (:mod:`evalplat.extract`, ``bench/bench_ocr.py``), so that both fold the
same damage by the same rules:

- :func:`fold_width` — full-width ASCII forms (``２０２３``, ``ＡＢ``, ``（``, ``－``, ``＠``), the
  ideographic space and dashes become half-width, one character for one;
- :func:`repair_digits` — inside number-shaped tokens (mostly digits: ID numbers, phone numbers, case
  numbers) the letters OCR confuses with digits are repaired: ``O``/``o`` → ``0``, ``l``/``I``/``|`` →
  ``1`` (an ID number's final ``X`` stays), one character for one;
- :func:`ocr_gaps` — spaces between the single characters of a word (梁 伟 强, 江 门 市 蓬 江 区 人
  民 法 院) and line breaks that wrap a line inside a word, told apart from layout (审判长 黄卫国,
  刑 事 判 决 书, a line that ends a sentence or a field that starts with a label);
- :func:`collapse_spacing` — excerpts around those gaps with the gaps closed and a map back: the
  anonymiser detects again on them;
- :func:`normalise_for_matching` — all of the above at once on a whole text, plus the year brackets of
  case and document numbers (``【2023】``, ``[2023]``, ``〔 2023 〕`` → ``〔2023〕``; ``(2023)`` →
  ``（2023）``) and the spaces inside numbers, with a map back to the text as read
  (:func:`original_span`).

Pure functions of strings; no Flask, no database, nothing heavy imported.

Examples
--------
>>> text, offsets = normalise_for_matching("案号【2023】粤O7O3民初l234号，电话 138 0013 8000")
>>> text
'案号〔2023〕粤0703民初1234号，电话 13800138000'
>>> start = text.index("1380")
>>> original_span(offsets, start, start + 11)
(24, 37)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = [
    "collapse_spacing", "fold_width", "normalise_for_matching", "ocr_gaps", "original_span", "repair_digits",
]

# --- width ----------------------------------------------------------------------------------------

#: full-width ASCII forms, the ideographic space and dashes, each to one half-width character
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH.update({0x3000: 0x20, 0x2014: ord("-"), 0x2013: ord("-"), 0x2212: ord("-")})
_WIDTH_TABLE = str.maketrans({chr(k): chr(v) for k, v in _WIDTH.items()})
#: the same table for digits, Latin letters and the space only (Chinese punctuation stays as read)
_ALNUM_WIDTH_TABLE = str.maketrans({chr(k): chr(v) for k, v in _WIDTH.items() if chr(v).isalnum() or v == 0x20})


def fold_width(text: str) -> str:
    """Fold full-width ASCII forms (０-９, Ａ-Ｚ, （）, －, ＠ …), the ideographic space and dashes to
    half-width; the length is preserved.

    >>> fold_width("电话：１３８－００１３")
    '电话:138-0013'
    """
    return text.translate(_WIDTH_TABLE)


# --- letters for digits ---------------------------------------------------------------------------

_CONFUSED = "OolI|"
_CONFUSED_TABLE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_NUMBERISH = "0-9OolI|"
_SPACE = r"[ \t\u00a0\u2009\u202f]"
#: a run of digits and look-alike letters, single spaces allowed inside, an ID number's X at the end
_NUMBER_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9])[{_NUMBERISH}](?:{_SPACE}?[{_NUMBERISH}])*[Xx]?(?![A-Za-z0-9])"
)


def _is_number(token: str) -> bool:
    """A token mostly of digits, each space-separated group holding one: a number OCR misread, not a
    word (Oil, lol, I/O) or a short code beside one (第l0条)."""
    digits = sum(ch.isdigit() for ch in token)
    confused = sum(ch in _CONFUSED for ch in token)
    return (digits >= 2 and digits + confused >= 3 and confused <= digits
            and all(any(c.isdigit() for c in group) for group in token.split()))


def repair_digits(text: str) -> str:
    """``text`` with OCR's letters for digits repaired inside number-shaped tokens; the length is
    preserved (spaces stay).

    >>> repair_digits("身份证号44O7O3l988O1O11234X，Oil 10 l")
    '身份证号440703198801011234X，Oil 10 l'
    """
    if not any(ch in text for ch in _CONFUSED):
        return text
    return _NUMBER_TOKEN.sub(lambda m: m.group().translate(_CONFUSED_TABLE) if _is_number(m.group()) else m.group(),
                             text)


# --- gaps inside words ----------------------------------------------------------------------------

_CJK = "\u4e00-\u9fff"
_GAP = " \u3000\u00a0"
#: three or more characters separated by spaces, the inner ones single (梁 伟 强, 普 梅 芳律师);
#: two-character words between spaces are ordinary layout (审判长 黄卫国) and stay
_SPACED_RUN = re.compile(f"[{_CJK}](?:[{_GAP}]{{1,2}}[{_CJK}](?![{_CJK}]))+[{_GAP}]{{1,2}}[{_CJK}]")
#: a line break between two characters after a line that does not end a sentence is a wrap
_WRAP = re.compile(f"(?<=[{_CJK}])\r?\n(?=[{_CJK}])")
#: where a spaced run may start: two gaps around a single character (梁 伟 强); one gap is layout
_TWO_GAPS = re.compile(f"(?<=[{_CJK}])[{_GAP}]{{1,2}}[{_CJK}][{_GAP}]{{1,2}}(?=[{_CJK}])")
#: a line that starts with a label (联系电话：…) begins a new field, not the rest of a wrapped line
_LABEL = re.compile(r"[^\n，。：:]{1,8}[：:]")
#: headings and role words that documents space out on purpose
_LAYOUT = re.compile("(?:[\u4e00-\u9fff]{0,4}(?:判决书|裁定书|调解书|决定书|起诉书|通知书|申请书|意见书|辩护词|代理词|笔录|报告|"
                     "申请表|指派函|上诉状|起诉状|答辩状))|审判长|审判员|书记员|人民陪审员|代理审判员|法官助理|检察员|附[:：]?")
_SENTENCE_END = "。！？；：:;!?）)」』》"


def ocr_gaps(text: str) -> bytearray:
    """1 for every character of ``text`` that is OCR's gap inside a word (a space between the single
    characters of a spaced-out name, a line break that wraps a line), 0 elsewhere.

    >>> list(ocr_gaps("证人梁 伟 强到庭"))
    [0, 0, 0, 1, 0, 1, 0, 0, 0]
    """
    drop = bytearray(len(text))
    # the scans start at a space or a line break (a literal or a class, which re skips to in C)
    for m in _TWO_GAPS.finditer(text):
        start = m.start() - 1
        if drop[m.start()]:
            continue
        run = _SPACED_RUN.match(text, start)
        if run is None or _LAYOUT.fullmatch("".join(run.group().split())):
            continue  # 刑 事 判 决 书、审 判 员: spaced-out headings and roles, a layout habit, not damage
        for i in range(run.start(), run.end()):
            if text[i] in _GAP:
                drop[i] = 1
    for m in _WRAP.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()].rstrip("\r")
        if len(line) >= 15 and line[-1] not in _SENTENCE_END and not _LABEL.match(text, m.end()):
            drop[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return drop


def collapse_spacing(text: str, margin: int = 24) -> tuple[str, list[int]] | None:
    """Excerpts of the text around OCR's gaps inside words (:func:`ocr_gaps`), the gaps closed, and
    where each of their characters came from.

    Only the neighbourhood of each gap (``margin`` characters either side) is returned, excerpts
    separated by a blank line whose characters come from nowhere (origin -1), so that detecting
    again costs in proportion to the damage, not to the document. Returns None when there is no
    such gap (the usual case).
    """
    drop = ocr_gaps(text)
    first = drop.find(1)
    if first == -1:
        return None
    regions: list[list[int]] = []
    i = first
    while i != -1:
        j = i
        while j < len(text) and drop[j]:
            j += 1
        a, b = max(0, i - margin), min(len(text), j + margin)
        if regions and a <= regions[-1][1]:
            regions[-1][1] = b
        else:
            regions.append([a, b])
        i = drop.find(1, j)
    chars: list[str] = []
    origin: list[int] = []
    for a, b in regions:
        if origin:
            chars.append("\n\n")
            origin.extend((-1, -1))
        for k in range(a, b):
            if not drop[k]:
                chars.append(text[k])
                origin.append(k)
    return "".join(chars), origin


# --- the whole text at once, with a map back -------------------------------------------------------

#: a year in brackets, followed by the rest of a case or document number: "粤0703民初1234号", "12号"
_YEAR_BRACKETS = re.compile(
    rf"(?P<open>[【\[［〖〔(（]){_SPACE}*(?P<year>(?:19|20)\d\d){_SPACE}*(?P<close>[】\]］〗〕)）])"
    rf"(?=[\u4e00-\u9fff0-9 \t]{{0,30}}?[0-9]+{_SPACE}*号)"
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

    def drop(self, mask: bytearray) -> None:
        """Remove the characters whose mask entry (by current position) is set."""
        keep = [i for i, flag in enumerate(mask) if not flag]
        self.chars = [self.chars[i] for i in keep]
        self.sources = [self.sources[i] for i in keep]


def _fold_year(match: re.Match[str]) -> list[str | None]:
    round_brackets = match["open"] in "(（" and match["close"] in ")）"
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


def _squeeze_number(match: re.Match[str]) -> list[str | None]:
    token = match.group(0)
    if not _is_number(token):
        return list(token)
    return [None if ch.isspace() else ch for ch in token]


def normalise_for_matching(text: str) -> tuple[str, list[int]]:
    """Fold OCR'd text to the forms the anonymiser matches, keeping where each character came from.

    Full-width digits, Latin letters and the ideographic space become ASCII (Chinese punctuation stays
    as read), letters confused with digits are repaired and spaces removed inside numbers
    (:func:`repair_digits`), the year brackets of case and document numbers fold to one form, and OCR's
    gaps inside words are closed (:func:`ocr_gaps`); spaces that are layout (between two-character
    words, before a number) stay.

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
    work = _Text(repair_digits(text.translate(_ALNUM_WIDTH_TABLE)))
    work.drop(ocr_gaps(str(work)))
    work.edit(_NUMBER_TOKEN, _squeeze_number)
    work.edit(_YEAR_BRACKETS, _fold_year)
    return str(work), [*work.sources, len(text)]


def original_span(offset_map: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The span of the original text that the normalised span ``[start, end)`` was made from.

    An empty span maps to an empty span at the position of the next character.
    """
    if end <= start:
        return offset_map[start], offset_map[start]
    return offset_map[start], offset_map[end - 1] + 1
