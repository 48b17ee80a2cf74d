"""Names the case metadata already knows, expanded to the short forms files use for them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

from . import tagger
from .context import Context, Detector, normalise
from .divisions import divisions, strip_admin_suffix
from .lexicon import COMPOUND_SURNAMES, TITLE_WORDS
from .spans import KNOWN_ALIASES, PRIORITY_KNOWN, ROLE_KINDS, Candidate

_INSTITUTION_SHORT = (
    ("中级人民法院", "中院"), ("中级人民法院", "中级法院"), ("高级人民法院", "高院"), ("人民法院", "法院"),
    ("人民检察院", "检察院"), ("人民检察院", "检"), ("法律援助处", "法援处"), ("法律援助中心", "法援中心"),
    ("法律援助中心", "法援"), ("法律援助处", "法援"), ("公安局", "公安"),
)
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
#: bare institution words that identify nothing on their own
_BARE_INSTITUTIONS = frozenset(w for pair in _INSTITUTION_SHORT for w in pair)


def _by_first_char(items: Iterable[tuple[str, str]]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Group (name, value) pairs by the name's first character, keeping their order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, value in items:
        groups.setdefault(name[0], []).append((name, value))
    return {ch: tuple(group) for ch, group in groups.items()}


@lru_cache(maxsize=1)
def _place_tables() -> tuple[dict[str, tuple[tuple[str, str], ...]], dict[str, tuple[tuple[str, str], ...]]]:
    """National place names and (name, short form) pairs, grouped by first character: only names
    whose first character occurs in a string can occur in it, so those are looked up alone."""
    d = divisions()
    places = sorted(d.full_names | d.short_forms, key=len, reverse=True)
    prefixes = _by_first_char((p, p) for p in places)
    stems = _by_first_char((p, strip_admin_suffix(p)) for p in places if strip_admin_suffix(p) != p)
    return prefixes, stems


_FIRM_SHORT = ("律师事务所", "律师所", "律所", "事务所", "所")


def split_name(name: str) -> tuple[str, str]:
    """Split a Chinese personal name into surname and given name (欧阳晓峰 → 欧阳, 晓峰)."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def person_variants(name: str) -> set[str]:
    """Forms a file may use for a person: full name, 陈某, 陈某某, 老陈, 小陈, a distinctive given name."""
    variants = {name}
    if len(name) < 2:
        return variants
    parts = [p for p in re.split(r"[·•・.\s]+", name) if p]
    if len(parts) > 1 or not re.fullmatch(r"[\u4e00-\u9fff]+", name):
        # transliterated (阿卜杜热合曼·买买提) and Latin (Zhang Wei) names: each part of two
        # characters or more stands for the person; no 某-forms
        variants.update(p for p in parts if len(p) >= 2)
        return variants
    surname, given = split_name(name)
    variants.update({surname + "某", surname + "某某"})
    if len(surname) == 1:
        variants.update({"老" + surname, "小" + surname, "阿" + surname})
    if len(given) == 2 and tagger.word_freq(given) < 50:
        variants.add(given)
    return variants


def _strip_places(name: str) -> list[str]:
    """The name with leading province and place names removed step by step (each step kept)."""
    out = [name]
    rest = name
    changed = True
    while changed:
        changed = False
        for prefix, _ in _place_tables()[0].get(rest[:1], ()):
            if rest.startswith(prefix) and len(rest) > len(prefix) + 1:
                rest = rest[len(prefix):]
                out.append(rest)
                changed = True
                break
    return out


def org_variants(name: str, kind: str) -> set[str]:
    """Forms a file may use for an organisation (广东江海律师事务所 → 江海所、江海律所 …)."""
    variants: set[str] = set()
    for form in _strip_places(name):
        variants.add(form)
        for ch in set(form):
            for place, stem in _place_tables()[1].get(ch, ()):
                if place in form:
                    variants.add(form.replace(place, stem))
    for form in list(variants):
        for long, short in _INSTITUTION_SHORT:
            if form.endswith(long):
                variants.add(form[: -len(long)] + short)
        if kind == "firm" and form.endswith("律师事务所"):
            core = form[:-5]
            cores = {core, re.sub(r"[（(][^）)]*[）)]$", "", core)}
            for c in cores:
                if len(c) >= 2:
                    variants.update(c + s for s in _FIRM_SHORT)
        for suffix in _COMPANY_SUFFIXES:
            if form.endswith(suffix):
                core = form[: -len(suffix)]
                if len(core) >= 2:
                    variants.add(core + "公司")
                if len(core) >= 4:
                    variants.add(core[:2] + "公司")
                break
    # a bare institution word (法院, 检察院) or a one-word remainder identifies nothing
    return {v for v in variants if len(v) >= 3 and v not in _BARE_INSTITUTIONS}


_CJK_CHAR = re.compile("[\u4e00-\u9fffA-Za-z]")
_JOINING = frozenset("的了在和与及或等是因于向对被把将到已也都并又系为从由经给叫让找据跟说称之所而但")


def stands_alone(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is not glued to a further name character after it: what follows is
    not a letter, a function character, or the start of a dictionary word (买买提 is not in 买买提江,
    but is in 买买提受伤)."""
    if end >= len(text) or not _CJK_CHAR.match(text, end) or text[end] in _JOINING:
        return True
    return tagger.word_freq(text[end:end + 2]) >= 5


def canonical_kind(category: str) -> str:
    """The kind a ``known`` key stands for (firm → firm, judge → person …)."""
    kind = KNOWN_ALIASES.get(category.strip().lower()) or KNOWN_ALIASES.get(category.strip())
    if kind is None:
        raise ValueError(
            f"unknown category {category!r} in known names; use one of {sorted(set(KNOWN_ALIASES))} "
            f"(未知的已知名称类别 {category!r})"
        )
    return kind


def known_index(known: Mapping[str, Iterable[str]] | None) -> KnownIndex:
    """A :class:`KnownIndex`, reused while the same names come back (all documents of a case)."""
    return _cached_index(tuple(sorted((k, tuple([v] if isinstance(v, str) else v)) for k, v in (known or {}).items())))


@lru_cache(maxsize=256)
def _cached_index(known: tuple[tuple[str, tuple[str, ...]], ...]) -> KnownIndex:
    return KnownIndex(dict(known))


class KnownIndex:
    """All variants of the known names of a case, compiled into one regular expression."""

    def __init__(self, known: Mapping[str, Iterable[str]] | None = None,
                 learned: Mapping[str, str] | None = None) -> None:
        self.variants: dict[str, tuple[str, str]] = {}  # variant -> (kind, key)
        self.surnames: dict[str, tuple[str, str]] = {}  # surname -> (kind, key) of the first person
        self.persons: dict[str, str] = {}  # full person name -> kind
        self.bounded: set[str] = set()  # part and given-name variants, matched only as a word
        entries: list[tuple[str, str, str]] = []
        for category, names in (known or {}).items():
            if isinstance(names, str):
                names = [names]
            kind = canonical_kind(category)
            for raw in names:
                name = normalise(str(raw).strip())
                if name:
                    entries.append((kind, name, name))
        for name, kind in (learned or {}).items():
            entries.append((kind, name, name))
        # longer, more specific names claim shared variants first
        for kind, name, key in sorted(entries, key=lambda e: -len(e[1])):
            if kind in ROLE_KINDS or kind == "lawyer":
                self.persons.setdefault(name, kind)
                surname, _ = split_name(name)
                self.surnames.setdefault(surname, (kind, key))
                forms = person_variants(name)
            elif kind in ("place", "address"):
                forms = {name, strip_admin_suffix(name)} if kind == "place" else {name}
                forms = {f for f in forms if len(f) >= 2}
            else:
                forms = org_variants(name, kind) | {name}
            for form in forms:
                self.variants.setdefault(form, (kind, key))
                if form != name and kind in ROLE_KINDS | {"lawyer"} and not form.endswith("某") and len(form) >= 2 \
                        and form[0] not in "老小阿":
                    self.bounded.add(form)  # 买买提 (of 阿卜杜热合曼·买买提) is not in 买买提江
        self.titles = tuple(TITLE_WORDS)

    def finditer(self, text: str) -> Iterator[tuple[int, int, str, str]]:
        """Every occurrence of every variant as (start, end, kind, key); overlaps are left to the resolver.

        Plain ``str.find`` loops: for the few dozen variants of a case this beats compiling a
        regular expression per case by an order of magnitude.
        """
        for variant, (kind, key) in self.variants.items():
            i = text.find(variant)
            while i != -1:
                if variant not in self.bounded or stands_alone(text, i, i + len(variant)):
                    yield i, i + len(variant), kind, key
                i = text.find(variant, i + 1)
        for surname, (kind, key) in self.surnames.items():
            i = text.find(surname)
            while i != -1:
                j = i + len(surname)
                if text.startswith(self.titles, j) and not text.startswith("律师事务所", j):
                    yield i, j, kind, key
                i = text.find(surname, j)

    def surname_owner(self, surname: str) -> tuple[str, str] | None:
        """(kind, key) of the known person with this surname, if any."""
        return self.surnames.get(surname)


class KnownDetector(Detector):
    """Every known name and its short forms."""

    name = "known"

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        index: KnownIndex = ctx.known  # type: ignore[assignment]
        for start, end, kind, key in index.finditer(ctx.norm):
            yield Candidate(start, end, kind, PRIORITY_KNOWN, self.name, key)
