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
#: three or more characters separated by spaces, the inner ones single (梁 伟 强, 普 梅 芳律师);
#: two-character words between spaces are ordinary layout (审判长 黄卫国) and stay
_SPACED_RUN = re.compile(f"[{_CJK}](?:[ \u3000\u00a0]{{1,2}}[{_CJK}](?![{_CJK}]))+[ \u3000\u00a0]{{1,2}}[{_CJK}]")
#: a line break between two characters after a line that does not end a sentence is a wrap
_WRAP = re.compile(f"(?<=[{_CJK}])\r?\n(?=[{_CJK}])")
#: where a spaced run may start: two gaps around a single character (梁 伟 强); one gap is layout
_TWO_GAPS = re.compile(f"(?<=[{_CJK}])[ \u3000\u00a0]{{1,2}}[{_CJK}][ \u3000\u00a0]{{1,2}}(?=[{_CJK}])")
#: a line that starts with a label (联系电话：…) begins a new field, not the rest of a wrapped line
_LABEL = re.compile(r"[^\n，。：:]{1,8}[：:]")
#: headings and role words that documents space out on purpose
_LAYOUT = re.compile("(?:[\u4e00-\u9fff]{0,4}(?:判决书|裁定书|调解书|决定书|起诉书|通知书|申请书|意见书|辩护词|代理词|笔录|报告|"
                     "申请表|指派函|上诉状|起诉状|答辩状))|审判长|审判员|书记员|人民陪审员|代理审判员|法官助理|检察员|附[:：]?")
_SENTENCE_END = "。！？；：:;!?）)」』》"


def collapse_spacing(text: str, margin: int = 24) -> tuple[str, list[int]] | None:
    """Excerpts of the text around OCR's gaps inside words, the gaps closed, and where each of
    their characters came from.

    Only the neighbourhood of each gap (``margin`` characters either side) is returned, excerpts
    separated by a blank line whose characters come from nowhere (origin -1), so that detecting
    again costs in proportion to the damage, not to the document. Returns None when there is no
    such gap (the usual case).
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
            if text[i] in " \u3000\u00a0":
                drop[i] = 1
    for m in _WRAP.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()].rstrip("\r")
        if len(line) >= 15 and line[-1] not in _SENTENCE_END and not _LABEL.match(text, m.end()):
            drop[m.start():m.end()] = b"\x01" * (m.end() - m.start())
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
