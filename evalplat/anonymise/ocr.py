"""OCR damage the detectors must see through: spaces between the characters of a word, line breaks
inside a word.

Scanned files come back as 梁 伟 强 or 江 门 市 蓬 江 区 人 民 法 院, and a line wrap can fall inside a
name. :func:`collapse_spacing` closes such gaps and returns the closed-up text with, for each of its
characters, the offset it came from; the pipeline detects again on that text and maps the finds
back, so that a span covers the spaces between the characters it hides.
"""

from __future__ import annotations

import re

_CJK = "\u4e00-\u9fff"
#: three or more single characters separated by spaces (梁 伟 强); two-character words between
#: spaces are ordinary layout (审判长 黄卫国) and stay
_SPACED_RUN = re.compile(f"[{_CJK}](?:[ \u3000\u00a0]{{1,2}}[{_CJK}](?![{_CJK}])){{2,}}")
#: a line break between two characters after a line that does not end a sentence: a wrap
_WRAP = re.compile(f"(?<=[{_CJK}])\r?\n(?=[{_CJK}])")
_SENTENCE_END = "。！？；：:;!?）)」』》"


def collapse_spacing(text: str) -> tuple[str, list[int]] | None:
    """The text with OCR's gaps inside words closed, and where each of its characters came from.

    Returns None when there is no such gap (the usual case), so callers pay nothing for clean text.
    """
    drop = bytearray(len(text))
    for m in _SPACED_RUN.finditer(text):
        for i in range(m.start(), m.end()):
            if text[i] in " \u3000\u00a0":
                drop[i] = 1
    for m in _WRAP.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()].rstrip("\r")
        if len(line) >= 8 and line[-1] not in _SENTENCE_END:
            drop[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    if drop.find(1) == -1:
        return None
    origin = [i for i in range(len(text)) if not drop[i]]
    return "".join(text[i] for i in origin), origin
