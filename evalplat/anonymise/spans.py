"""Spans, placeholders and the mapping that keeps placeholders consistent across a case."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

#: Fine kinds of redacted strings and the placeholder label each one gets.
KIND_LABELS: dict[str, str] = {
    "person": "当事人",
    "judge": "法官",
    "prosecutor": "检察官",
    "police_officer": "民警",
    "clerk": "书记员",
    "witness": "证人",
    "victim": "被害人",
    "staff": "工作人员",
    "lawyer": "律师",
    "firm": "律师事务所",
    "agency": "法律援助机构",
    "court": "法院",
    "procuratorate": "检察院",
    "police": "公安机关",
    "org": "单位",
    "place": "地名",
    "address": "地址",
    "id_card": "身份证号",
    "phone": "电话号码",
    "email": "电子邮箱",
    "bank_card": "银行卡号",
    "plate": "车牌号",
    "licence": "执业证号",
    "case_number": "案号",
    "legal_aid_number": "法援文号",
    "doc_number": "文号",
    "number": "号码",
    "credit_code": "统一社会信用代码",
    "wechat": "微信号",
    "qq": "QQ号",
    "passport": "护照号",
    "vessel": "船号",
    "birth_date": "出生日期",
}

#: kinds of natural persons other than lawyers: one person keeps one placeholder whatever role
#: word found them first (the label comes from that first role)
ROLE_KINDS: frozenset[str] = frozenset({"person", "judge", "prosecutor", "police_officer", "clerk", "witness",
                                        "victim", "staff"})

#: Kind → broad category reported on a span.
KIND_CATEGORY: dict[str, str] = {
    **{k: "person" for k in ("person", "judge", "prosecutor", "police_officer", "clerk", "witness", "victim",
                             "staff")},
    "lawyer": "person",
    "firm": "org", "agency": "org", "court": "org", "procuratorate": "org", "police": "org", "org": "org",
    "place": "place",
    **{k: k for k in ("address", "id_card", "phone", "email", "bank_card", "plate", "licence",
                      "case_number", "legal_aid_number", "doc_number", "number", "credit_code", "wechat", "qq",
                      "passport", "vessel", "birth_date")},
}

#: Names callers may use as keys of ``known`` and the kind each one means.
KNOWN_ALIASES: dict[str, str] = {
    "person": "person", "people": "person", "client": "person", "party": "person", "parties": "person",
    "opponent": "person", "opposing": "person", "witness": "witness", "victim": "victim", "judge": "judge",
    "clerk": "clerk", "prosecutor": "prosecutor", "police_officer": "police_officer", "officer": "police_officer",
    "staff": "staff", "relative": "person", "证人": "witness", "被害人": "victim", "法官": "judge",
    "审判员": "judge", "书记员": "clerk", "检察官": "prosecutor", "民警": "police_officer", "工作人员": "staff", "当事人": "person", "人名": "person", "人员": "person",
    "lawyer": "lawyer", "lawyers": "lawyer", "律师": "lawyer",
    "firm": "firm", "law_firm": "firm", "律所": "firm", "律师事务所": "firm",
    "agency": "agency", "legal_aid_agency": "agency", "法律援助机构": "agency",
    "court": "court", "法院": "court",
    "procuratorate": "procuratorate", "检察院": "procuratorate",
    "police": "police", "公安机关": "police",
    "org": "org", "orgs": "org", "organisation": "org", "organization": "org", "company": "org",
    "employer": "org", "单位": "org", "机构": "org",
    "place": "place", "places": "place", "location": "place", "city": "place", "district": "place",
    "county": "place", "region": "place", "地名": "place",
    "address": "address", "地址": "address",
}

PRIORITY_STRUCTURED = 40
PRIORITY_ADDRESS = 30
PRIORITY_KNOWN = 25
PRIORITY_ORG = 20
PRIORITY_NAME = 10
PRIORITY_PLACE = 8


def letters(index: int) -> str:
    """Spreadsheet-style letters for a 0-based index: 0 → A, 25 → Z, 26 → AA."""
    if index < 0:
        raise ValueError(f"index must be non-negative, got {index}")
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def letters_index(code: str) -> int:
    """Inverse of :func:`letters`: A → 0, Z → 25, AA → 26."""
    index = 0
    for ch in code:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


_PLACEHOLDER = re.compile(r"「(.+?)([A-Z]+)」")


@lru_cache(maxsize=4096)
def _parse_placeholder(placeholder: str) -> tuple[str, int] | None:
    """(label, letter index) of a placeholder such as 「当事人B」, or None."""
    m = _PLACEHOLDER.fullmatch(placeholder)
    return (m.group(1), letters_index(m.group(2))) if m else None


def label_for(kind: str, original: str) -> str:
    """Placeholder label for a kind; courts keep their level (中级/高级) since it is legal substance."""
    if kind == "court":
        if "高级" in original or "高院" in original:
            return "高级法院"
        if "中级" in original or "中院" in original:
            return "中级法院"
        return "基层法院"
    return KIND_LABELS[kind]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A detector's proposal, before overlaps are resolved and placeholders assigned."""

    start: int
    end: int
    kind: str
    priority: int
    detector: str
    key: str | None = None  # entity identity; defaults to the original string

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad span [{self.start}, {self.end}) from detector {self.detector}")
        if self.kind not in KIND_LABELS:
            raise ValueError(f"unknown kind {self.kind!r} from detector {self.detector}")


@dataclass(frozen=True, slots=True)
class Span:
    """One redacted stretch of the original text.

    ``start`` and ``end`` are offsets into the original text (``original == text[start:end]``).
    """

    start: int
    end: int
    category: str
    original: str
    placeholder: str
    kind: str
    detector: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        """Rebuild a span stored with :meth:`as_dict`."""
        return cls(**{k: data[k] for k in ("start", "end", "category", "original", "placeholder",
                                           "kind", "detector")})


@dataclass(slots=True)
class CaseMapping:
    """Placeholder assignments shared by all documents of one case.

    Pass the same object to every :func:`~evalplat.anonymise.redact` call of a case so that
    the same person is 「当事人A」 in the application form and in the judgment. Names the
    heuristics discover in one document are remembered and searched for in the next.
    The object round-trips through :meth:`to_dict` / :meth:`from_dict` (JSON-ready).
    """

    placeholders: dict[str, str] = field(default_factory=dict)  # "kind\tkey" -> placeholder
    counters: dict[str, int] = field(default_factory=dict)  # label -> next index
    learned: dict[str, str] = field(default_factory=dict)  # discovered name -> kind

    def placeholder(self, kind: str, key: str, original: str) -> str:
        """The placeholder of an entity, assigning the next free letter on first sight."""
        slot = f"{'person' if kind in ROLE_KINDS else kind}\t{key}"
        found = self.placeholders.get(slot)
        if found is None:
            label = label_for(kind, original)
            n = self.counters.get(label, 0)
            self.counters[label] = n + 1
            found = f"「{label}{letters(n)}」"
            self.placeholders[slot] = found
        return found

    def observe(self, kind: str, key: str, placeholder: str) -> None:
        """Record an existing assignment (from stored spans) so new letters do not collide with it."""
        self.placeholders.setdefault(f"{'person' if kind in ROLE_KINDS else kind}\t{key}", placeholder)
        parsed = _parse_placeholder(placeholder)
        if parsed is not None:
            label, index = parsed
            if self.counters.get(label, 0) <= index:
                self.counters[label] = index + 1

    def learn(self, names: Iterable[tuple[str, str]]) -> None:
        """Remember discovered (name, kind) pairs for the case's later documents."""
        for name, kind in names:
            self.learned.setdefault(name, kind)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"placeholders": dict(self.placeholders), "counters": dict(self.counters),
                "learned": dict(self.learned)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseMapping:
        """Rebuild a mapping stored with :meth:`to_dict`."""
        return cls(dict(data.get("placeholders", {})), dict(data.get("counters", {})),
                   dict(data.get("learned", {})))


def resolve(candidates: Iterable[Candidate], length: int) -> list[Candidate]:
    """Choose non-overlapping candidates: higher priority first, then longer, then earlier.

    An address that collides with a higher-priority span keeps its longest uncovered part,
    so that a phone number inside an address line does not let the street through.
    """
    covered = bytearray(length)
    chosen: list[Candidate] = []
    for cand in sorted(candidates, key=lambda c: (-c.priority, c.start - c.end, c.start)):
        if covered.find(1, cand.start, cand.end) == -1:
            chosen.append(cand)
            covered[cand.start:cand.end] = b"\x01" * (cand.end - cand.start)
            continue
        if cand.kind != "address":
            continue
        best: tuple[int, int] | None = None
        i = cand.start
        while i < cand.end:
            if covered[i]:
                i += 1
                continue
            j = covered.find(1, i, cand.end)
            j = cand.end if j == -1 else j
            if j - i >= 4 and (best is None or j - i > best[1] - best[0]):
                best = (i, j)
            i = j
        if best is not None:
            chosen.append(Candidate(best[0], best[1], cand.kind, cand.priority, cand.detector, None))
            covered[best[0]:best[1]] = b"\x01" * (best[1] - best[0])
    chosen.sort(key=lambda c: c.start)
    return chosen


def render(text: str, spans: Iterable[Span]) -> str:
    """Replace every span of ``text`` by its placeholder (spans must not overlap)."""
    parts: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            raise ValueError(f"spans overlap at offset {span.start}")
        if text[span.start:span.end] != span.original:
            raise ValueError(f"span [{span.start}, {span.end}) does not match the text: "
                             f"expected {span.original!r}, found {text[span.start:span.end]!r}")
        parts.append(text[pos:span.start])
        parts.append(span.placeholder)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)
