"""The state a pipeline run shares between detectors, and the detector interface."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from evalplat.ocr_text import fold_width

from .lexicon import COMPOUND_SURNAMES, PROTECTED_TERMS, SURNAMES
from .spans import Candidate, CaseMapping

#: full-width ASCII forms folded to half-width, one character for one, so offsets stay valid
#: (the one rule of :mod:`evalplat.ocr_text`, shared with the OCR side)
normalise = fold_width


_NUMERAL = "一二三四五六七八九十百千零〇两0-9"
_PROTECTED_HEAD = "《[^《》\n]{1,40}》|第[" + _NUMERAL + "]+[条款项章节编](?:之[一二三四五六七八九十]+)?|"


@dataclass(slots=True)
class Context:
    """One redaction run: the text, its normalised twin, the case mapping and the candidates so far."""

    text: str
    mapping: CaseMapping
    known: object  # evalplat.anonymise.known.KnownIndex (kept loose to avoid an import cycle)
    norm: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    #: names found elsewhere in this run (on the OCR-closed copy) to search for here, name -> kind
    hints: dict[str, str] = field(default_factory=dict)
    #: what detectors compute once and share (the role words' positions …), by name
    cache: dict[str, object] = field(default_factory=dict)
    _protected: bytearray | None = None

    def __post_init__(self) -> None:
        self.norm = normalise(self.text)

    @property
    def protected(self) -> bytearray:
        """1 for every character inside a legal term, law title or article reference."""
        if self._protected is None:
            mask = bytearray(len(self.text))
            for m in _protected_re().finditer(self.norm):
                mask[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            self._protected = mask
        return self._protected

    def is_protected(self, start: int, end: int) -> bool:
        """True when [start, end) touches a protected legal term."""
        return self.protected.find(1, start, end) != -1


class Detector:
    """A pipeline stage: reads the context, proposes candidates.

    Subclasses set ``name`` and implement :meth:`detect`. Detectors later in the pipeline see the
    candidates of earlier ones in ``ctx.candidates`` (the name propagation stage relies on it).
    """

    name: str = "detector"

    def detect(self, ctx: Context) -> Iterable[Candidate]:
        """Yield candidates for ``ctx.text``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"



def trie_pattern(words: Iterable[str], *, tails: Mapping[str, str] | None = None, flat: bool = False) -> str:
    """A regular expression matching any of ``words``, longest first, factored as a prefix trie.

    Python's ``re`` tries the branches of a plain alternation one by one at every position;
    sharing prefixes (江门市|江海区 → 江(?:门市|海区)) makes a list of hundreds of names cheap.
    The result is an alternation whose branches all begin with a literal character, which lets
    ``re`` skip every position whose character starts no word (its "charset prefix" scan, in C).
    That scan is only used when the *whole* pattern begins with such an alternation, a literal
    or a character class, so detectors put the trie first (see :data:`SURNAME_FIRST`).

    Parameters
    ----------
    words : iterable of str
        The words.
    tails : mapping of str to str, optional
        A regular expression a word must be followed by (usually a lookahead), by word; the
        longer words of the trie are still tried first.
    flat : bool
        Return the bare ``a…|b…`` alternation, without a group, so that a caller can append
        further literal-led branches at the same level (``trie_pattern(w, flat=True) + "|第…"``).
    """
    tails = tails or {}
    trie: dict[str, dict] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {tails.get(word, ""): {}}

    def branches(node: dict[str, dict]) -> list[str]:
        return [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]

    def build(node: dict[str, dict]) -> str:
        alts = branches(node)
        body = "" if not alts else alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" not in node:
            return body
        tail = next(iter(node[""]))
        if not alts:
            return tail
        return f"(?:{body}|{tail})" if tail else f"(?:{body})?"

    if flat:
        return "|".join(branches(trie))
    return "(?:" + build(trie) + ")"


#: characters that begin a single or compound surname; a pattern that starts with this class
#: followed by :data:`SURNAME_REST` matches exactly where ``SURNAME`` does, but lets ``re`` skip
#: every other position in C (see :func:`trie_pattern`).
SURNAME_FIRST = "[" + "".join(sorted(SURNAMES | {s[0] for s in COMPOUND_SURNAMES})) + "]"
#: after :data:`SURNAME_FIRST` has consumed one character: the second character of a compound
#: surname (tried first, as in the plain alternation) or nothing when the first is a surname itself
SURNAME_REST = ("(?:" + "|".join(f"(?<={s[0]}){s[1:]}" for s in COMPOUND_SURNAMES)
                + "|(?<=[" + "".join(sorted(SURNAMES)) + "]))")
#: a single or compound surname, compound forms first
SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "])"


def boundary_after_first(prefixes: str) -> str:
    """The lookbehind "a word may begin at the previous position", checked one character later.

    ``(?:(?<=[P])|(?<![\u4e00-\u9fff]))`` at position *p* is true exactly when this pattern is
    true at *p* + 1 after a character other than a line break has been consumed; placing the
    check after the first character keeps the pattern's start a character class.
    """
    return f"(?:(?<=[{prefixes}].)|(?<![\u4e00-\u9fff].))"


@lru_cache(maxsize=1)
def _protected_re() -> re.Pattern[str]:
    # one flat alternation of literal-led branches: the charset-prefix scan applies
    return re.compile(_PROTECTED_HEAD + trie_pattern(PROTECTED_TERMS, flat=True))
