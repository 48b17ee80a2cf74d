"""Measure a redaction against the identifying strings known to be in a text (ground truth).

Used by the tests and by ``bench/bench_anonymise.py``; pure Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
