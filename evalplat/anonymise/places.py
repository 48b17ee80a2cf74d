"""Detectors for places that reveal the region and for organisations named after them or by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from . import tagger
from .context import Context, Detector
from .divisions import divisions
from .lexicon import STOP_CHARS
from .spans import PRIORITY_NAME, PRIORITY_ORG, PRIORITY_PLACE, Candidate

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
    ("大学", "org"), ("学院", "org"), ("中学", "org"), ("小学", "org"), ("支行", "org"), ("分行", "org"),
    ("信用社", "org"), ("卫生院", "org"), ("监狱", "org"), ("戒毒所", "police"),
    ("人民调解委员会", "org"), ("调解委员会", "org"), ("村民委员会", "org"), ("居民委员会", "org"),
)
_INST_ALT = "(?:第[一二三四五六七八九十](?:市区)?)?(?:" + "|".join(p for p, _ in _INSTITUTIONS) + ")"
_INST_KIND = [(re.compile(p), k) for p, k in _INSTITUTIONS]


def place_words() -> tuple[set[str], set[str]]:
    """National place names found anywhere, and the ambiguous ones found only before an institution word.

    Province, prefecture and county names come with their suffix and in short form; a short form
    (or a two-character full name such as 城区) that is also an ordinary word is guarded.
    """
    d = divisions()
    names = set(d.short_forms)
    guarded = set(d.guarded_short_forms)
    for name in d.full_names:
        (guarded if len(name) == 2 and _ordinary(name) else names).add(name)
    return names, guarded - names


def _ordinary(word: str) -> bool:
    tag = tagger.word_tag(word)
    return tag is not None and tag != "ns" and tagger.word_freq(word) >= 500


#: a town or sub-district after a place (蓬江区白沙街道、台山市大江镇)
_TOWN = r"[^\W\d_]{2}(?:街道办事处|街道|镇|乡)"
_NOT_TOWNS = frozenset({"城乡", "乡镇", "城镇", "村镇", "集镇", "小镇", "本镇", "该镇", "全镇", "各镇", "所在", "当地",
                        "附近", "我镇", "本乡", "该乡", "居住", "户籍"})
_FREE, _GUARDED, _TOWN_NAME, _SHORT = 0, 1, 2, 3
#: characters of an organisation's own name after a place (not function words; 与 and 和 inside)
_ORG_NAME_CHARS = "(?:[^\\W\\d_A-Za-z的了在是于对被把将到已也都并又系为从由经给叫让找据其该此这那们之所而但则即若如以" \
                  "至往去上下前后年月日时号元条款项罪案件人者里处次位岁男女未不无有没非亦乃住向称说因等]|与|和)"
#: an organisation named after the place before it, by the kind of body it is (…劳动保障监察局、
#: …海洋与渔业执法支队、…渔业合作社)
_GENERIC_INST = re.compile(_ORG_NAME_CHARS + "{1,10}?(?:局|委员会|支队|大队|中队|合作社|中心|办公室|办事处|管理处|监察局|"
                           "检验所|鉴定所|研究所|学校|大学|学院|中学|小学|医院|公司|集团|银行|支行|分行|协会|商会|工会)")
#: a sub-unit right after an organisation (蓬江分局、物证鉴定所、甘井子大队、营业部)
_SUBUNIT = re.compile(_ORG_NAME_CHARS + "{0,8}?(?:分局|派出所|鉴定所|大队|中队|支队|分公司|支公司|分行|支行|营业部|办事处|"
                      "分所|法庭|检察室|司法所)")


@lru_cache(maxsize=1)
def _automaton() -> Any:
    """One Aho-Corasick automaton over the national province, prefecture and county names and their
    short forms (about 7,000).

    A regular-expression alternation of that many words is tried branch by branch at every
    position; the automaton finds all of them in one pass in C. The 31,000 township names are found
    from their suffix instead (:func:`_town_names`), which keeps the automaton small and fast.
    """
    import ahocorasick

    names, guarded = place_words()
    automaton = ahocorasick.Automaton()
    for word in guarded:
        automaton.add_word(word, (len(word), _GUARDED))
    full = divisions().full_names
    for word in names:
        automaton.add_word(word, (len(word), _FREE if word in full else _SHORT))
    automaton.make_automaton()
    return automaton


def _inside_word(norm: str, start: int, end: int) -> bool:
    """True when the first or last character of ``norm[start:end]`` makes a dictionary word with
    the character outside it."""
    for a, b in ((start - 1, start + 1), (end - 1, end + 1)):
        if a >= 0 and b <= len(norm):
            tag = tagger.word_tag(norm[a:b]) or ""
            if tagger.word_freq(norm[a:b]) >= 50 and not tag.startswith("ns"):
                return True
    return False


_TOWN_SUFFIX = re.compile("街道办事处|街道|镇|乡|苏木")


def _town_names(norm: str) -> list[tuple[int, int, int]]:
    """Township names of the national list, found from their suffix and looked up (longest first)."""
    towns = divisions().towns
    out = []
    for m in _TOWN_SUFFIX.finditer(norm):
        for size in range(8, 1, -1):
            start = m.start() - size
            if start >= 0 and norm[start:m.end()] in towns:
                out.append((start, m.end(), _TOWN_NAME))
                break
    return out


class PlaceDetector(Detector):
    """National provinces, prefectures, counties and townships; with an institution word after them
    (蓬江区人民法院、江门市公安局蓬江分局、台山市法律援助处) the whole name is one organisation.

    Names are found with an Aho-Corasick automaton and taken left to right, longest first; a name
    that is also an ordinary word (和平、光明) counts only before an institution word. Adjacent names
    form a chain (江门市蓬江区); a chain followed by an institution word is that institution.
    """

    name = "place"
    _inst = re.compile(_INST_ALT)
    _town_after = re.compile(_TOWN)
    _town = re.compile(f"(?<=[在于到住至、，,：:])(?P<town>{_TOWN})")

    def _names(self, norm: str) -> list[tuple[int, int, int]]:
        """Non-overlapping (start, end, flag) place names, left to right, longest first (the
        automaton's ``iter_long``, then townships by suffix); an ordinary-word name not before an
        institution word is dropped."""
        out = self._counties(norm)
        towns = _town_names(norm)
        if not towns:
            return out
        taken = bytearray(len(norm))
        for start, end, _ in out:
            taken[start:end] = b"\x01" * (end - start)
        out.extend(t for t in towns if taken.find(1, t[0], t[1]) == -1)
        out.sort()
        return out

    def _counties(self, norm: str) -> list[tuple[int, int, int]]:
        out = []
        for end_index, (length, flag) in _automaton().iter_long(norm):
            start, end = end_index + 1 - length, end_index + 1
            town = _TOWN_SUFFIX.match(norm, end) if flag in (_SHORT, _GUARDED) else None
            if town is not None:
                out.append((start, town.end(), _TOWN_NAME))  # 白沙街道、龙山镇: a short form with a town's suffix
                continue
            if flag == _GUARDED and not self._inst.match(norm, end):
                continue
            if flag == _SHORT and (_inside_word(norm, start, end) or norm[end:end + 1] == "族"):
                continue  # 定结 in 认定结论: a short form must not share a word with its neighbours
            out.append((start, end, flag))
        return out

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        names = self._names(norm)
        i = 0
        while i < len(names):
            j = i
            while j + 1 < len(names) and names[j + 1][0] == names[j][1] and names[j][2] != _TOWN_NAME:
                j += 1
            chain_start, chain_end = names[i][0], names[j][1]
            inst = self._inst.match(norm, chain_end) or _GENERIC_INST.match(norm, chain_end)
            if inst:
                kind = next((k for p, k in _INST_KIND if p.search(inst.group())), "org")
                end = inst.end()
                sub = _SUBUNIT.match(norm, end)
                while sub is not None:  # 江门市公安局蓬江分局、…公安局物证鉴定所、…支队甘井子大队
                    end = sub.end()
                    sub = _SUBUNIT.match(norm, end)
                yield Candidate(chain_start, end, kind, PRIORITY_ORG, self.name)
                for start, stop, _ in names[i:j + 1]:  # the places stay redacted if a known name wins
                    yield Candidate(start, stop, "place", PRIORITY_PLACE, self.name)
            else:
                for start, end, _ in names[i:j + 1]:
                    yield Candidate(start, end, "place", PRIORITY_PLACE, self.name)
                town = self._town_after.match(norm, chain_end)
                if town and town.group()[:2] not in _NOT_TOWNS:
                    yield Candidate(town.start(), town.end(), "place", PRIORITY_PLACE, self.name)
            i = j + 1
        for m in self._town.finditer(norm):
            if m.group("town")[:2] not in _NOT_TOWNS:
                yield Candidate(m.start(), m.end(), "place", PRIORITY_PLACE - 1, self.name)


_LEAD = re.compile(
    r".*(?:原告|被告|第三人|指派|委托|聘请|指定|安排|通知|任职于|就职于|受雇于|所在|经|由|向|在|系|为|是|与|和|及|的|到|受|属|本|该|致|"
    r"现|我|其|从|给|对|被|将|把|据|于|、|：|:|原告|被告|第三人|申请人|入职|供职)"
)


class OrgNameDetector(Detector):
    """Law firms and companies named in the text (广东华商律师事务所、江门市恒达五金制品有限公司).

    Finds the suffix first, then walks back over name characters (at most 16) and cuts at the
    last cue word (指派、委托、与 …) so that the verb before a name is not taken with it.
    """

    name = "org"
    _suffix = re.compile("律师事务所|股份有限公司|有限责任公司|有限公司")
    #: a branch named after the company (…股份有限公司大连分公司、…有限公司东莞分店)
    _branch = re.compile("[^\\W\\d_A-Za-z的了在是于对被把将到已也都并又系为从由经给应已将]{1,6}?(?:分公司|支公司|分店|营业部|办事处|分所)")
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
            branch = self._branch.match(norm, m.end())
            yield Candidate(start, branch.end() if branch else m.end(), kind, PRIORITY_ORG + 1, self.name)


#: characters of a local name: not a function word (verbs are left to the cut at a cue word, since
#: place names are made of them too: 打洛、走马)
_LOCAL_NAME_CHAR = re.compile("[^\\W\\d_A-Za-z" + "".join(sorted(
    STOP_CHARS - set("上下中内外前后里人东西南北新都拿打骗偷抢砍刺杀借欠还付收签订开交递出入回走跑驾撞诉告判审问答讲述供认")))
                              + "这那每各全某]")
_LOCAL_SUFFIX = re.compile("村民委员会|居民委员会|村委会|居委会|社区|新村|村|路口|大道|大街|路|街(?!道)|巷|胡同|小区|花园|家园|公寓|大厦|"
                           "广场|山庄|工业区|工业园|园区|商业城|市场|口岸|渔场|港区|码头|公园|湖(?![南北])")
#: national and provincial roads (314国道、G4京港澳高速、S32)
_ROAD_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:[GSXY]\d{1,4}[\u4e00-\u9fff]{0,6}?(?:高速公路|高速|国道|省道|线)|\d{3}(?:国道|省道))")
#: townships of a minority nationality (常营回族乡、鄂温克族苏木): the people and suffix are searched for,
#: the two or three characters of the name before them taken by walking back
_ETHNIC_TOWN = re.compile("(?:回族|满族|蒙古族|藏族|苗族|彝族|壮族|瑶族|土家族|侗族|白族|哈尼族|傣族|黎族|畲族|水族|东乡族|纳西族|羌族|"
                          "土族|仫佬族|锡伯族|朝鲜族|达斡尔族|鄂温克族|鄂伦春族|赫哲族|布依族|仡佬族)(?:乡|镇|苏木)")
_ETHNIC_NAME_CHAR = re.compile("[^\\W\\d_A-Za-z区县市省镇乡的在住于]")
_ROAD_DIRECTION = re.compile("[东西南北中](?=[^\\u4e00-\\u9fff]|$|段|口|侧|所|号|路)")
_DIRECTION_OR_NUMBER = frozenset("东西南北中一二三四五六七八九十大小新老")
#: words before a place name that say "a place follows" (在、住、位于 …)
_LOCATIVE = re.compile("(?:在|于|住|至|到|往|经|沿|从|近|位于|来自|途经|附近的)$")
#: what may follow a road or estate name and confirms it (a number, 口, 附近 …)
_AFTER_LOCAL = re.compile("[\\d一二三四五六七八九十]|口|段|附近|一带|旁|边|交界|对面|门口|东|西|南|北")
_GENERIC_TAGS = ("v", "a", "d", "m", "q", "r", "p", "c", "u", "f", "t")


class LocalPlaceDetector(Detector):
    """Streets, roads, estates and village committees without a district before them
    (小塘新城路、锦厦路口、龙溪村委会、碧桂园小区).

    The suffix is searched for and the name taken by walking back over up to five name
    characters. The name must not make a dictionary word with the suffix (道路、农村、思路) and must
    not be a verb, adjective or other function word (走错路); a common noun before a road
    (建设路、人民路) counts only with a locative word before it or a number, 口 or 附近 after it.
    """

    name = "local_place"

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        placed = bytearray(len(norm))
        for c in ctx.candidates:
            if c.kind == "address" or (c.detector == "place" and norm[c.end - 1] in "省市县区旗州盟镇乡道院局所"):
                placed[c.start:c.end] = b"\x01" * (c.end - c.start)
        floor = 0
        for m in _LOCAL_SUFFIX.finditer(norm):
            start = m.start()
            while start > floor and not placed[start - 1] and m.start() - start < 5 and _LOCAL_NAME_CHAR.match(norm, start - 1):
                start -= 1
            lead = _LEAD.match(norm, start, m.start())
            if lead is not None and lead.end() < m.start():
                start = lead.end()
            core = norm[start:m.start()]
            if len(core) < 2 or ctx.is_protected(start, m.end()):
                continue
            boundary = norm[m.start() - 1:m.end()]
            if (norm[m.start() - 1] not in _DIRECTION_OR_NUMBER and tagger.word_freq(boundary) >= 100) \
                    or tagger.word_freq(core + m.group()) >= 50:
                continue  # 思路、道路、农村: the suffix makes a word with the character before it
            tag = tagger.word_tag(core) or ""
            confirmed = bool(_LOCATIVE.search(norm, max(0, start - 3), start)) or bool(
                _AFTER_LOCAL.match(norm, m.end())) or (start > 0 and placed[start - 1] == 1)
            if tag.startswith(_GENERIC_TAGS) and tagger.word_freq(core) >= 20:
                continue
            if tagger.word_freq(core) >= 300 and not tag.startswith(("ns", "nr", "nz")) and not confirmed:
                continue
            if m.group().startswith("湖") and not confirmed:
                continue  # a lake only with 在…, …附近
            end = m.end()
            if m.group() in ("路", "大道", "大街", "街") and _ROAD_DIRECTION.match(norm, end):
                end += 1  # 南海大道北
            floor = end
            yield Candidate(start, end, "place", PRIORITY_NAME + 1, self.name)
        for m in _ROAD_NUMBER.finditer(norm):
            if not ctx.is_protected(m.start(), m.end()):
                yield Candidate(m.start(), m.end(), "place", PRIORITY_NAME + 1, self.name)
        for m in _ETHNIC_TOWN.finditer(norm):
            start = m.start()
            while start > 0 and m.start() - start < 3 and _ETHNIC_NAME_CHAR.match(norm, start - 1):
                start -= 1
            if m.start() - start >= 2 and not ctx.is_protected(start, m.end()):
                yield Candidate(start, m.end(), "place", PRIORITY_NAME + 1, self.name)


_ORG_TAIL = re.compile("律师所|律所|事务所|派出所|所|鞋厂|厂|分公司|支公司|公司|大学|学院|中学|小学|幼儿园|医院|卫生院|诊所|支行|"
                       "分行|银行|信用社|酒店|酒楼|饭店|饭馆|餐馆|餐厅|茶馆|肉馆|馆|商店|超市|商行|门市部|店|工作室|合作社|"
                       "车行|药房|商厦|商场|棋牌室|网吧|网咖|酒吧|宾馆|旅馆|旅社|招待所|美容院|足浴店|洗浴中心|歌舞厅|KTV")
_GENERIC_SUFFIX_WORDS = frozenset({"场所", "住所", "处所", "厕所", "诊所", "研究所", "事务所", "派出所", "看守所", "拘留所",
                                   "戒毒所", "托儿所", "招待所", "交易所", "测绘所", "哨所", "寓所", "会所", "公司", "总公司",
                                   "分公司", "子公司", "母公司", "该所", "本所", "我所", "各所", "商店", "超市", "酒店"})


_OWN_NAME_TAILS = frozenset({"派出所", "支行", "分行", "大学", "学院", "中学", "小学", "幼儿园", "卫生院", "分公司", "支公司"})


class OrgCoreDetector(Detector):
    """Organisations named by their distinctive core, with or without a place before them:
    firms in short form (星河所), factories and shops (金辉鞋厂), schools (五邑大学), police
    stations and bank branches with their own names (江北派出所、江海支行).

    The suffix is searched for and up to six name characters before it taken (cut at a verb or
    preposition). The core must be distinctive: not a common word of the dictionary (服装厂、电子厂
    and 人民医院 name no one) unless the dictionary knows it as a place or a name.
    """

    name = "org_core"

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in _ORG_TAIL.finditer(norm):
            start = m.start()
            reach = 12 if m.group() in ("分公司", "支公司", "公司") else 6
            while start > 0 and m.start() - start < reach and _LOCAL_NAME_CHAR.match(norm, start - 1):
                start -= 1
            lead = _LEAD.match(norm, start, m.start())
            if lead is not None and lead.end() < m.start():
                start = lead.end()
            if reach > 6:
                inner = norm.rfind("公司", start, m.start())
                if inner != -1:
                    start = inner + 2  # 保险公司中国人寿…支公司: the name starts after the earlier 公司
            while start < m.start() and start > 0 and tagger.word_freq(norm[start - 1:start + 1]) >= 100:
                start += 1  # 被告保险公司: the walk stopped inside a word (被|告)
            while start < m.start() and norm[start] in "一这那该本此每某个家间座所":
                start += 1
            core = norm[start:m.start()]
            if len(core) < 2 or ctx.is_protected(start, m.end()):
                continue
            if norm[m.start() - 1:m.end()] in _GENERIC_SUFFIX_WORDS and len(core) < 3:
                continue
            if m.group() == "所" and (tagger.word_freq(norm[m.start() - 1:m.end()]) > 0 or len(core) > 3):
                continue
            tag = tagger.word_tag(core) or ""
            if m.group() in _OWN_NAME_TAILS:
                # police stations, bank branches, schools: any noun-like name of their own
                if tag.startswith(("s", "f", "r", "d", "m", "q", "t", "p", "c", "u", "v")) and tagger.word_freq(core) >= 100:
                    continue
            elif tagger.word_freq(core) >= 100 and not tag.startswith(("ns", "nr", "nz", "nt")):
                continue
            kind = "firm" if m.group() in ("律师所", "律所", "事务所", "所") else (
                "police" if m.group() == "派出所" else "org")
            yield Candidate(start, m.end(), kind, PRIORITY_ORG + 1 if reach > 6 else PRIORITY_NAME + 3, self.name)
        for m in _LATIN_ORG.finditer(norm):
            yield Candidate(m.start(), m.end(), "org", PRIORITY_NAME + 3, self.name)


#: companies and firms named in English (Shenzhen Huaxin Electronics Co., Ltd.)
_LATIN_ORG = re.compile(r"\b(?:[A-Z][A-Za-z&'\-]*\s+){1,6}(?:Co\.,?\s*Ltd\.?|Company Limited|Co\.|Ltd\.?|Limited|Law Firm|"
                        r"Inc\.?|Corporation|Group)")
