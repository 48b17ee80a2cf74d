"""Detectors for places that reveal the region and for organisations named after them or by name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .context import Context, Detector, trie_pattern
from .gazetteer import AMBIGUOUS_STEMS, all_place_names
from .spans import PRIORITY_ORG, PRIORITY_PLACE, Candidate

_INSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("中级人民法院", "court"), ("人民法院", "court"), ("中院", "court"), ("法院", "court"),
    ("人民检察院", "procuratorate"), ("检察院", "procuratorate"),
    ("公安局[\\u4e00-\\u9fff]{2,4}?(?:分局|派出所)", "police"), ("公安局", "police"), ("公安分局", "police"),
    ("分局", "police"), ("派出所", "police"), ("看守所", "police"), ("拘留所", "police"),
    ("交通警察支队", "police"), ("交通警察大队", "police"), ("交警支队", "police"), ("交警大队", "police"),
    ("法律援助处", "agency"), ("法律援助中心", "agency"), ("法律援助局", "agency"), ("法援处", "agency"),
    ("法援中心", "agency"), ("司法局", "org"), ("人力资源和社会保障局", "org"), ("人社局", "org"),
    ("劳动人事争议仲裁委员会", "org"), ("劳动争议仲裁委员会", "org"), ("仲裁委员会", "org"), ("人民政府", "org"),
    ("民政局", "org"), ("人民医院", "org"), ("中心医院", "org"), ("医院", "org"), ("妇幼保健院", "org"),
)
_INST_ALT = "(?:第[一二三四五六七八九十](?:市区)?)?(?:" + "|".join(p for p, _ in _INSTITUTIONS) + ")"
_INST_KIND = [(re.compile(p), k) for p, k in _INSTITUTIONS]


def place_words() -> tuple[set[str], set[str]]:
    """Place names found anywhere, and the ambiguous ones found only before an institution word."""
    names: set[str] = set()
    guarded: set[str] = set()
    for city_name, name, stem in all_place_names():
        (guarded if name in AMBIGUOUS_STEMS else names).add(name)
        if name in AMBIGUOUS_STEMS and city_name != name:
            names.add(city_name + name)  # 汕尾市城区
        if stem != name and len(stem) >= 2:
            (guarded if stem in AMBIGUOUS_STEMS else names).add(stem)
    return names, guarded


def _place_alternation() -> str:
    names, guarded = place_words()
    # one trie: the ambiguous stems carry their condition (an institution word follows)
    inst = f"(?=(?:{_INST_ALT}))"
    return trie_pattern(names | guarded, tails={word: inst for word in guarded - names})


_PLACE = _place_alternation()
#: a town or sub-district after a place (蓬江区白沙街道、台山市大江镇)
_TOWN = r"[^\W\d_]{2}(?:街道办事处|街道|镇|乡)"
_NOT_TOWNS = frozenset({"城乡", "乡镇", "城镇", "村镇", "集镇", "小镇", "本镇", "该镇", "全镇", "各镇", "所在", "当地",
                        "附近", "我镇", "本乡", "该乡", "居住", "户籍"})


class PlaceDetector(Detector):
    """Guangdong cities, districts, counties and towns; with an institution word after them
    (蓬江区人民法院、江门市公安局蓬江分局、台山市法律援助处) the whole name is one organisation."""

    name = "place"
    # the chain starts with the bare trie so that ``re`` can skip non-initial characters in C
    _pattern = re.compile(f"(?P<chain>{_PLACE}(?:{_PLACE})*)(?:(?P<inst>{_INST_ALT})|(?P<town>{_TOWN}))?")
    _single = re.compile(_PLACE)
    _town = re.compile(f"(?<=[在于到住至、，,：:])(?P<town>{_TOWN})")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        for m in self._pattern.finditer(ctx.norm):
            inst = m.group("inst")
            if inst:
                kind = next(k for p, k in _INST_KIND if p.search(inst))
                yield Candidate(m.start(), m.end(), kind, PRIORITY_ORG, self.name)
                continue
            base = m.start()
            for piece in self._single.finditer(m.group("chain")):
                yield Candidate(base + piece.start(), base + piece.end(), "place", PRIORITY_PLACE, self.name)
            if m.group("town") and m.group("town")[:2] not in _NOT_TOWNS:
                yield Candidate(m.start("town"), m.end(), "place", PRIORITY_PLACE, self.name)
        for m in self._town.finditer(ctx.norm):
            if m.group("town")[:2] not in _NOT_TOWNS:
                yield Candidate(m.start(), m.end(), "place", PRIORITY_PLACE - 1, self.name)


_LEAD = re.compile(
    r".*(?:指派|委托|聘请|指定|安排|通知|任职于|就职于|受雇于|所在|经|由|向|在|系|为|是|与|和|及|的|到|受|属|本|该|致|"
    r"现|我|其|从|给|对|被|将|把|据|于|、|：|:|原告|被告|第三人|申请人|入职|供职)"
)


class OrgNameDetector(Detector):
    """Law firms and companies named in the text (广东华商律师事务所、江门市恒达五金制品有限公司).

    Finds the suffix first, then walks back over name characters (at most 16) and cuts at the
    last cue word (指派、委托、与 …) so that the verb before a name is not taken with it.
    """

    name = "org"
    _suffix = re.compile("律师事务所|股份有限公司|有限责任公司|有限公司")
    _name_char = re.compile(r"[^\W\d_]|[()（）]")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._suffix.finditer(norm):
            start = m.start()
            while start > 0 and m.start() - start < 16 and self._name_char.match(norm, start - 1):
                start -= 1
            lead = _LEAD.match(norm, start, m.start())
            if lead is not None:
                start = lead.end()
            if m.start() - start < 2:
                continue
            kind = "firm" if m.group() == "律师事务所" else "org"
            yield Candidate(start, m.end(), kind, PRIORITY_ORG + 1, self.name)
