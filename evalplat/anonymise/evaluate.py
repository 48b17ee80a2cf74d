"""Measure a redaction against the identifying strings known to be in a text (ground truth).

Used by the tests and by ``bench/bench_anonymise.py``; pure Python.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .spans import Span


@dataclass(slots=True)
class Tally:
    """Counts per category: planted occurrences found/missed, spans right/wrong, terms damaged."""

    found: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    span_true: Counter[str] = field(default_factory=Counter)
    span_false: Counter[str] = field(default_factory=Counter)
    terms_kept: int = 0
    terms_damaged: int = 0
    missed_examples: list[tuple[str, str]] = field(default_factory=list)
    false_examples: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, category: str) -> float:
        """Share of planted occurrences of the category that the spans cover completely."""
        total = self.found[category] + self.missed[category]
        return self.found[category] / total if total else float("nan")

    def precision(self, category: str) -> float:
        """Share of spans of the category that overlap a planted identifying string."""
        total = self.span_true[category] + self.span_false[category]
        return self.span_true[category] / total if total else float("nan")


def score(text: str, spans: Sequence[Span], planted: Iterable[tuple[str, str]], tally: Tally,
          legal_terms: Iterable[str] = (), redacted: str | None = None) -> Tally:
    """Add one document's figures to ``tally``.

    Parameters
    ----------
    text : str
        The original text.
    spans : sequence of Span
        The redaction's spans.
    planted : iterable of (string, category)
        Every identifying string written into the text; each occurrence must be covered.
    tally : Tally
        Accumulator, returned.
    legal_terms : iterable of str
        Terms that must appear in the redacted text as often as in the original.
    redacted : str, optional
        The redacted text (needed for ``legal_terms``).
    """
    covered = bytearray(len(text))
    for s in spans:
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
    truth = bytearray(len(text))
    for needle, category in planted:
        start = text.find(needle)
        while start != -1:
            end = start + len(needle)
            truth[start:end] = b"\x01" * len(needle)
            if covered.find(0, start, end) == -1:
                tally.found[category] += 1
            else:
                tally.missed[category] += 1
                if len(tally.missed_examples) < 200:
                    tally.missed_examples.append((category, needle))
            start = text.find(needle, end)
    for s in spans:
        if truth.find(1, s.start, s.end) != -1:
            tally.span_true[s.category] += 1
        else:
            tally.span_false[s.category] += 1
            if len(tally.false_examples) < 200:
                tally.false_examples.append((s.category, s.original))
    if redacted is not None:
        for term in legal_terms:
            if redacted.count(term) >= text.count(term):
                tally.terms_kept += 1
            else:
                tally.terms_damaged += 1
    return tally


# --- hand-marked documents ---------------------------------------------------------------------------
#: markup letter → category reported by the evaluation
MARK_CATEGORIES: dict[str, str] = {
    "i": "structured ids", "c": "case numbers", "k": "known names", "p": "unknown person names",
    "o": "organisations", "l": "places", "b": "birth dates",
}
_MARK = re.compile(r"\[\[([a-z]):(.+?)\]\]|\{\{(.+?)\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class MarkedDocument:
    """A hand-written document with its identifying strings and traps marked at offset level.

    The source file holds header lines (``#genre: …``, ``#known: person=甲,乙; firm=…``, optionally
    ``#set: written later``) and the text
    with inline marks: ``[[p:龙佳怡]]`` an unknown person (letters in :data:`MARK_CATEGORIES`),
    ``{{盗窃罪}}`` legal substance that must stay. The loader removes the marks and keeps offsets.
    """

    name: str
    genre: str
    known: dict[str, list[str]]
    text: str
    marks: tuple[tuple[int, int, str], ...]  # (start, end, category)
    traps: tuple[tuple[int, int], ...]
    subset: str = "development"  # from the header "#set: …", e.g. "written later"


def parse_marked(name: str, source: str) -> MarkedDocument:
    """Parse one marked document; raises ValueError naming the file, line and problem."""
    genre = ""
    subset = "development"
    known: dict[str, list[str]] = {}
    body_lines = []
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        if line.startswith("#genre:"):
            genre = line.split(":", 1)[1].strip()
        elif line.startswith("#set:"):
            subset = line.split(":", 1)[1].strip()
        elif line.startswith("#known:"):
            for part in line.split(":", 1)[1].split(";"):
                if not part.strip():
                    continue
                if "=" not in part:
                    raise ValueError(f"{name}, line {number}: known names need category=name,name ({part.strip()!r})")
                category, names = part.split("=", 1)
                known.setdefault(category.strip(), []).extend(n.strip() for n in names.split(",") if n.strip())
        elif line.startswith("#"):
            raise ValueError(f"{name}, line {number}: unknown header {line.strip()!r}")
        else:
            body_lines.append(line)
    body = "".join(body_lines)
    text: list[str] = []
    marks: list[tuple[int, int, str]] = []
    traps: list[tuple[int, int]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(body):
        text.append(body[pos:m.start()])
        length += m.start() - pos
        inner = m.group(2) if m.group(1) else m.group(3)
        if "[[" in inner or "{{" in inner or "]]" in inner or "}}" in inner:
            raise ValueError(f"{name}: nested or unclosed mark near {body[m.start():m.start() + 30]!r}")
        if m.group(1):
            if m.group(1) not in MARK_CATEGORIES:
                raise ValueError(f"{name}: unknown mark letter {m.group(1)!r} in {m.group()!r}")
            marks.append((length, length + len(inner), MARK_CATEGORIES[m.group(1)]))
        else:
            traps.append((length, length + len(inner)))
        text.append(inner)
        length += len(inner)
        pos = m.end()
    rest = body[pos:]
    if "[[" in rest or "{{" in rest:
        raise ValueError(f"{name}: unclosed mark near {rest[rest.find('[[') if '[[' in rest else rest.find('{{'):][:30]!r}")
    text.append(rest)
    return MarkedDocument(name, genre, known, "".join(text), tuple(marks), tuple(traps), subset)


def load_marked(folder: str | Path) -> list[MarkedDocument]:
    """Every ``*.txt`` document of a folder, in name order."""
    paths = sorted(Path(folder).glob("*.txt"))
    if not paths:
        raise ValueError(f"no marked documents (*.txt) in {folder}")
    return [parse_marked(p.name, p.read_text(encoding="utf-8")) for p in paths]


@dataclass(slots=True)
class MarkedTally:
    """Recall per category over marked documents, traps kept, and spans that hit nothing marked."""

    found: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    traps_kept: int = 0
    traps_damaged: int = 0
    spans_total: int = 0
    spans_unmarked: int = 0
    missed_examples: list[tuple[str, str, str]] = field(default_factory=list)
    damaged_examples: list[tuple[str, str]] = field(default_factory=list)
    unmarked_examples: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, category: str) -> float:
        """Share of marked strings of the category whose every non-space character is redacted."""
        total = self.found[category] + self.missed[category]
        return self.found[category] / total if total else float("nan")

    def trap_precision(self) -> float:
        """Share of traps (legal substance) that no span touches."""
        total = self.traps_kept + self.traps_damaged
        return self.traps_kept / total if total else float("nan")


def score_marked(doc: MarkedDocument, spans: Sequence[Span], tally: MarkedTally) -> MarkedTally:
    """Add one marked document's figures to ``tally``."""
    covered = bytearray(len(doc.text))
    for s in spans:
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
    marked = bytearray(len(doc.text))
    for start, end, category in doc.marks:
        marked[start:end] = b"\x01" * (end - start)
        if all(covered[i] or doc.text[i].isspace() for i in range(start, end)):
            tally.found[category] += 1
        else:
            tally.missed[category] += 1
            tally.missed_examples.append((doc.name, category, doc.text[start:end]))
    for start, end in doc.traps:
        if covered.find(1, start, end) == -1:
            tally.traps_kept += 1
        else:
            tally.traps_damaged += 1
            tally.damaged_examples.append((doc.name, doc.text[start:end]))
    for s in spans:
        tally.spans_total += 1
        if marked.find(1, s.start, s.end) == -1:
            tally.spans_unmarked += 1
            tally.unmarked_examples.append((doc.name, s.original))
    return tally
