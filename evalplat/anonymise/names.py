"""Detectors for names of people the metadata does not know.

Cues, cheapest first: a role word before the name (证人王某、妻子刘芳、审判长黄卫国), a title after
it (陈志强律师、王法官), a party header (张三，男，…), the 某-form (李某、李某某), and finally
jieba's person-name tag — run only on short windows that a surname-and-context prefilter picks.
Every name found is then searched for everywhere else in the text (and the case's later documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import tagger
from .context import (
    SURNAME,
    SURNAME_FIRST,
    SURNAME_REST,
    Context,
    Detector,
    boundary_after_first,
    trie_pattern,
)
from .gazetteer import GUANGDONG
from .lexicon import COMPOUND_SURNAMES, ROLE_WORDS, STOP_CHARS, TITLE_WORDS
from .spans import PRIORITY_NAME, Candidate

_SURNAME = SURNAME
_GIVEN = "[^\\W\\d_A-Za-z" + "".join(sorted(STOP_CHARS)) + "]"
_GIVEN_RE = re.compile(_GIVEN)
#: characters after which a name may begin without a role word
_PRE = "、：:与和及同向对被把将由经给叫让找据跟替帮请令派见称诉问"
#: the same boundary, checked after the first character of the name (see boundary_after_first)
_BOUNDARY_1 = boundary_after_first(_PRE)
_NAME_FLAGS = ("nr", "nrfg", "nrt")
_PLACE_PREFIXES = tuple({n[:2] for c in GUANGDONG for n in (c.name, *(k.name for k in c.counties))})
_NOT_AFTER_MOU = "日月年时种些处地天次个项段物人一方部单公医机"


def _is_place_start(text: str) -> bool:
    return text.startswith(_PLACE_PREFIXES)


def _surname_len(text: str, pos: int) -> int:
    return 2 if text[pos:pos + 2] in COMPOUND_SURNAMES else 1


def _choose_lengths(ctx: Context, starts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Decide 2- or 3-character names where the text allows both.

    ``starts`` holds (start, longest possible end). The name is two characters when its last
    candidate character starts a dictionary word with what follows (王明作证: 作证), a plain
    dictionary look-up instead of a tagger run.
    """
    norm = ctx.norm
    out = []
    for s, e in starts:
        if e - s - _surname_len(norm, s) == 2 and (
                tagger.word_freq(norm[e - 1:e + 1]) >= 30 or tagger.word_freq(norm[e - 1:e + 2]) >= 30):
            e -= 1
        out.append((s, e))
    return out


def _extent(norm: str, pos: int) -> int | None:
    """Longest plausible end of a name starting at ``pos`` (surname + up to two given characters)."""
    sl = _surname_len(norm, pos)
    end = pos + sl
    for _ in range(2):
        if end < len(norm) and _GIVEN_RE.match(norm, end):
            end += 1
        else:
            break
    if end - pos == sl:
        return None
    if _is_place_start(norm[pos:pos + 2]) and norm[pos:end + 1][-1:] in "市区县镇":
        return None
    return end


class RoleNameDetector(Detector):
    """Names right after a role or kinship word: 证人王小明、被害人李某、其妻子刘芳、审判长 黄卫国."""

    name = "role"
    _pattern = re.compile(
        "(?:" + trie_pattern(ROLE_WORDS, flat=True) + "|人(?<=[\u4e00-\u9fff]人)(?=[:：]))"
        r"[:：\s]*(?:名叫|叫|是|为)?\s*(?=" + _SURNAME + ")"
    )
    _more = re.compile(r"\s*[、和及与,，]\s*(?=" + _SURNAME + ")")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        starts: list[tuple[int, int]] = []
        for m in self._pattern.finditer(norm):
            pos = m.end()
            while True:
                end = _extent(norm, pos)
                if end is None:
                    break
                starts.append((pos, end))
                nxt = self._more.match(norm, end)
                if nxt is None:
                    break
                pos = nxt.end()
        for s, e in _choose_lengths(ctx, starts):
            if not ctx.is_protected(s, e) and tagger.word_freq(norm[s:e]) < 500:
                yield Candidate(s, e, "person", PRIORITY_NAME, self.name)


class TitleNameDetector(Detector):
    """Names before a title (陈志强律师、王法官、李先生) or a party header (张三，男，…)."""

    name = "title"
    _pattern = re.compile(
        "(" + SURNAME_FIRST + _BOUNDARY_1 + SURNAME_REST + _GIVEN + "{0,2}?)(?=(?:"
        + "|".join(sorted(TITLE_WORDS, key=len, reverse=True)) + ")(?!事务所)|[,，]\\s*[男女][,，。]|[（(][男女][,，）)])"
    )

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._pattern.finditer(norm):
            s, e = m.span(1)
            if _is_place_start(norm[s:s + 2]) or ctx.is_protected(s, e):
                continue
            if e - s >= 2 and tagger.word_freq(norm[s:e]) >= 500:
                continue
            yield Candidate(s, e, "person", PRIORITY_NAME, self.name)


class MouFormDetector(Detector):
    """Surname + 某 forms (李某、李某某、李某甲) that court rules leave but peer review removes."""

    name = "mou"
    _pattern = re.compile("(" + SURNAME_FIRST + SURNAME_REST + ")某{1,2}[甲乙丙丁戊]?(?![" + _NOT_AFTER_MOU + "])")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        for m in self._pattern.finditer(ctx.norm):
            yield Candidate(m.start(), m.end(), "person", PRIORITY_NAME, self.name)


class TaggerNameDetector(Detector):
    """jieba person-name tags, on small windows a surname-and-context prefilter selects.

    The prefilter keeps a surname only when it starts a word (after punctuation or a
    function word such as 与、向、被), is followed by plausible given-name characters, is not
    already covered by another candidate, and its first two characters are not a common
    dictionary word that is not a name (高度、方面、程序).
    """

    name = "tagger"
    # consumes the surname's first character only, so that every start position is tried
    _pattern = re.compile(SURNAME_FIRST + _BOUNDARY_1 + "(?=" + SURNAME_REST + _GIVEN + ")")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        covered = bytearray(len(norm))
        for c in ctx.candidates:
            covered[c.start:c.end] = b"\x01" * (c.end - c.start)
        picks: list[tuple[int, int]] = []
        for m in self._pattern.finditer(norm):
            pos = m.start()
            if covered[pos] or covered[pos + 1]:
                continue
            end = _extent(norm, pos)
            if end is None or ctx.is_protected(pos, end):
                continue
            given = norm[pos + 1:pos + 3]
            if tagger.word_freq(given) > 300 and not (tagger.word_tag(given) or "").startswith("nr"):
                continue  # 于接到、向法院: the next characters make a common word
            head = norm[pos:pos + 2]
            tag = tagger.word_tag(head)
            if tag is not None and not tag.startswith("nr") and tagger.word_freq(head) > 20:
                continue
            picks.append((pos, end))
        windows = [norm[max(0, s - 2):e + 2] for s, e in picks]
        for (s, e), tokens in zip(picks, tagger.tag_windows(windows), strict=True):
            offset = s - max(0, s - 2)
            for i, (ts, te, flag) in enumerate(tokens):
                if ts != offset:
                    continue
                if flag in _NAME_FLAGS and 2 <= te - ts <= 4:
                    yield Candidate(s, s + min(te - ts, e - s), "person", PRIORITY_NAME, self.name)
                elif (te - ts == 1 and i + 1 < len(tokens) and tokens[i + 1][2] in _NAME_FLAGS
                      and 1 <= tokens[i + 1][1] - tokens[i + 1][0] <= 2):
                    yield Candidate(s, s + min(tokens[i + 1][1] - ts, e - s), "person", PRIORITY_NAME, self.name)
                break


class PropagationDetector(Detector):
    """Every other occurrence of a name found by the heuristics, here or in the case's earlier documents."""

    name = "propagate"
    sources = frozenset({"role", "title", "tagger"})

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        names = {ctx.text[c.start:c.end] for c in ctx.candidates
                 if c.kind == "person" and c.detector in self.sources and c.end - c.start >= 2}
        names.update(n for n, k in ctx.mapping.learned.items() if k == "person")
        if not names:
            return
        norm = ctx.norm
        for name in names:
            i = norm.find(name)
            while i != -1:
                if not ctx.is_protected(i, i + len(name)):
                    yield Candidate(i, i + len(name), "person", PRIORITY_NAME - 1, self.name)
                i = norm.find(name, i + len(name))
