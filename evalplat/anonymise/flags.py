"""What is still suspicious after a redaction: where the person checking it should look.

:func:`suspicious` lists stretches of the original text that no span covers but that look like
something identifying — a name-like token, rare characters after a role word, a number shaped like
an identifier — each with a reason code. Name-like tokens come from the redaction's own work
(``Redaction.leads``), so the flags cost a small part of the redaction, not a second model pass. The result is plain data (a list of dicts), so that the
redaction review can show it and store it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from evalplat.ocr_text import repair_digits

from . import ner, tagger
from .context import normalise, trie_pattern
from .lexicon import ROLE_WORDS
from .names import ALL_SURNAMES, is_word_at

#: reason codes (the review translates them)
NAME_LIKE = "name_like"
AFTER_ROLE_WORD = "after_role_word"
IDENTIFIER_NUMBER = "identifier_number"
REASONS = (NAME_LIKE, AFTER_ROLE_WORD, IDENTIFIER_NUMBER)

_CJK = re.compile("[\u4e00-\u9fff]")
_ROLE = re.compile("(?:" + trie_pattern(ROLE_WORDS, flat=True) + r")[:：\s]*")
#: long digit strings (OCR letters and separators allowed) or letter-digit codes
_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:[0-9][0-9 \-]{4,}[0-9Xx]|[A-Za-z]{1,3}[0-9]{5,}|[0-9]{3,}[A-Za-z][0-9A-Za-z]{3,})"
                     r"(?![0-9A-Za-z])")
#: what follows a number that is an amount, a date, a quantity or an article — legal substance
_SUBSTANCE_AFTER = re.compile(r"\s*(?:年|月|日|元|万|亿|%|％|平方|米|公里|千克|克|吨|小时|天|个|人|次|条|号令|股|台|件|份)")


def _covered(length: int, spans: Iterable[Any]) -> bytearray:
    mask = bytearray(length)
    for s in spans:
        start, end = (s["start"], s["end"]) if isinstance(s, dict) else (s.start, s.end)
        mask[start:end] = b"\x01" * (end - start)
    return mask


def _rare(ch: str) -> bool:
    """A character that seldom stands as a word of its own: likely part of a name."""
    return bool(_CJK.match(ch)) and tagger.word_freq(ch) < 2000


def suspicious(text: str, result: Any, *, leads: Iterable[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Stretches of ``text`` the redaction left that look identifying.

    Parameters
    ----------
    text : str
        The original text that was redacted.
    result : Redaction or iterable of spans
        The redaction (``.spans``), or its spans as :class:`~evalplat.anonymise.Span` objects or
        their dicts (``Span.as_dict``).
    leads : iterable of (start, end), optional
        What the redactor took for a person, kept or not (``Redaction.leads``); taken from ``result``
        when it is a redaction that has them, otherwise the text is run through the redactor once
        to get them (the checker's corrections of stored spans).

    Name-like tokens are read from what the redaction already computed — the people the
    named-entity model tagged in the windows the redactor gave it and the rules' person
    candidates — not from a second pass of the model over every sentence.

    Returns
    -------
    list of dict
        ``{"start", "end", "text", "reason"}`` in order of position; ``reason`` is one of
        ``name_like`` (a token a name tagger or a surname pattern takes for a name),
        ``after_role_word`` (rare characters right after 证人、审判长 … that were not redacted) and
        ``identifier_number`` (a digit string shaped like an identifier, not an amount or a date).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__} (文本必须是字符串)")
    spans = getattr(result, "spans", result)
    if leads is None:
        leads = getattr(result, "leads", None)
    if leads is None:
        from .pipeline import redact

        leads = redact(text).leads or ()
    norm = normalise(text)
    covered = _covered(len(text), spans)
    flags: dict[tuple[int, int], str] = {}

    def open_(start: int, end: int) -> bool:
        return end > start and covered.find(1, start, end) == -1

    # numbers shaped like identifiers
    view = repair_digits(norm)
    for m in _NUMBER.finditer(view):
        digits = sum(ch.isdigit() for ch in m.group())
        if digits < 6 or not open_(m.start(), m.end()) or _SUBSTANCE_AFTER.match(view, m.end()):
            continue
        flags[m.span()] = IDENTIFIER_NUMBER
    # rare characters after a role word
    for m in _ROLE.finditer(norm):
        pos = m.end()
        end = pos
        while end < len(norm) and end - pos < 4 and _CJK.match(norm, end) and not covered[end]:
            end += 1
        if end - pos >= 2 and open_(pos, end) and _rare(norm[pos]) and _rare(norm[pos + 1]) \
                and tagger.word_freq(norm[pos:pos + 2]) < 50:
            flags[(pos, min(end, pos + 3))] = AFTER_ROLE_WORD
    # name-like tokens: what the redactor took for a person (or a surname pattern) left uncovered
    for start, end in _name_like(norm, covered, leads):
        if (start, end) not in flags and open_(start, end):
            flags[(start, end)] = NAME_LIKE
    out: list[dict[str, Any]] = []
    last_end = -1
    for (s, e), reason in sorted(flags.items(), key=lambda item: (item[0][0], -item[0][1])):
        while e > s and text[e - 1].isspace():
            e -= 1
        if s >= last_end and e > s:
            out.append({"start": s, "end": e, "text": text[s:e], "reason": reason})
            last_end = e
    return out


#: how often a word must occur in jieba's dictionary corpus to count as a common word (审理 1029, 人次 575;
#: 原告方 5, a rare compound that happens to take a surname: 原告方秀英)
_COMMON_WORD = 100


def straddles_word(norm: str, start: int, end: int, *, context: int = 4) -> bool:
    """True when ``norm[start:end]`` is cut out of ordinary words: a common word that is not a name
    runs across one of its edges and every character of it belongs to a word of two or more
    characters (理查明 in 经审理查明, which cuts as 经/审理/查明). A name's characters are mostly unknown
    to the dictionary and stand alone, or make a name word (被告人/次仁多吉), and the words that take
    a surname from a name are rare (原告方/秀英), so a name is not taken for such a piece.
    """
    a = max(0, start - context)
    piece = norm[a:min(len(norm), end + context)]
    words = tagger.dictionary_words(piece)
    first, last = start - a, end - a
    crossing = [piece[s:e] for s, e in words if s < first < e or s < last < e]
    if not crossing or any(tagger.word_freq(w) < _COMMON_WORD or (tagger.word_tag(w) or "").startswith("nr")
                           for w in crossing):
        return False
    return all(e - s >= 2 for s, e in words if s < last and e > first)


def _name_like(norm: str, covered: bytearray, leads: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The redactor's person leads that stand as words and are not cut out of ordinary words
    (:func:`straddles_word`: 理查明 in 经审理查明), and, when the model is missing, surname-led tokens
    jieba does not know as words."""
    found: list[tuple[int, int]] = []
    for a, b in leads:
        if b - a >= 2 and not covered[a] and _CJK.search(norm[a:b]) and is_word_at(norm, a, b) \
                and not straddles_word(norm, a, b):
            found.append((a, b))
    if not ner.available():
        for m in re.finditer("[" + "".join(sorted(ALL_SURNAMES)) + "][\u4e00-\u9fff]{1,2}", norm):
            a, b = m.span()
            if not covered[a] and tagger.word_freq(norm[a:b]) == 0 and tagger.word_freq(norm[a:a + 2]) == 0 \
                    and not straddles_word(norm, a, b):
                found.append((a, b))
    return found
