"""Detectors for names of people the metadata does not know.

Cues, cheapest first: a role word before the name (证人王某、妻子刘芳、审判长黄卫国) — in a signature
or list (审判长　高峰) even a name that is an ordinary word —, a title after it (陈志强律师、王法官), a
party header (张三，男，…), the 某-form (李某、李某某、黄某雄), forms of address (老王、小李、阿珍),
chat speakers (阿珍：…), English and pinyin names in English passages, and the statistical
recogniser (:mod:`~evalplat.anonymise.ner`) on short windows that the cues and a surname prefilter
pick. When the model is not installed, jieba's person-name tag takes its place on the same kind of
windows. Every name found is then searched for wherever it stands as a word in the text (and in the
case's later documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import cast

from . import ner, tagger
from .context import (
    SURNAME,
    SURNAME_FIRST,
    SURNAME_REST,
    Context,
    Detector,
    boundary_after_first,
    trie_pattern,
)
from .divisions import divisions
from .known import stands_alone
from .lexicon import (
    COMPOUND_SURNAMES,
    MORE_SURNAMES,
    ROLE_KIND,
    ROLE_WORDS,
    SIGNATURE_ROLES,
    STOP_CHARS,
    SURNAMES,
    TITLE_KIND,
    TITLE_WORDS,
)
from .spans import PRIORITY_NAME, PRIORITY_PLACE, ROLE_KINDS, Candidate

_SURNAME = SURNAME
_GIVEN = "[^\\W\\d_A-Za-z" + "".join(sorted(STOP_CHARS)) + "]"
_GIVEN_RE = re.compile(_GIVEN)
#: characters after which a name may begin without a role word
_PRE = "、：:与和及同向对被把将由经给叫让找据跟替帮请令派见称诉问人员"
#: the same boundary, checked after the first character of the name (see boundary_after_first)
_BOUNDARY_1 = boundary_after_first(_PRE)
_NAME_FLAGS = ("nr", "nrfg", "nrt")
_NOT_AFTER_MOU = "日月年时种些处地天次个项段物人一方部单公医机"
_CJK = re.compile("[\u4e00-\u9fff]")
ALL_SURNAMES = SURNAMES | MORE_SURNAMES
#: first characters a name can start with: every listed surname and the forms of address
_NAME_START = frozenset(ALL_SURNAMES | {s[0] for s in COMPOUND_SURNAMES} | set("阿老小"))
#: words that are never a person although a model or a pattern may say so
_NOT_NAMES = frozenset({"谢谢", "感谢", "多谢", "老师", "老板", "小姐", "阿姨", "老乡", "老人", "小孩", "老家", "同志",
                        "法官", "律师", "先生", "女士", "对方", "本人", "我方", "对方当事人", "被告", "原告", "当事人"})


@lru_cache(maxsize=1)
def _place_prefixes() -> frozenset[str]:
    d = divisions()
    return frozenset(n[:2] for n in d.full_names | d.short_forms if len(n) >= 2)


def _is_place_start(text: str) -> bool:
    """True when ``text`` begins with the first two characters of a national place name."""
    return text[:2] in _place_prefixes()


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
        # a name at the end of a line or text keeps its characters: only a following character can
        # make a word with its last one
        if e < len(norm) and _CJK.match(norm, e) and e - s - _surname_len(norm, s) == 2 and (
                tagger.word_freq(norm[e - 1:e + 1]) >= 30 or tagger.word_freq(norm[e - 1:e + 2]) >= 30) \
                and _joins_next(norm, e - 1):
            e -= 1
        out.append((s, e))
    return out


def _joins_next(norm: str, pos: int) -> bool:
    """True when the dictionary's own segmentation of the text from ``pos`` makes a word of the character
    there and the next (作证 in 王明作证), not when what follows makes a likelier word on its own
    (黄光明报警 reads 明/报警, though 明报 is a word)."""
    words = tagger.dictionary_words(norm[pos:pos + 4])
    return bool(words) and words[0][1] >= 2


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


_ORG_AFTER_ROLE = re.compile("[支大中]队|局|厅|科|室|站")
_LIST_ITEM = re.compile("[、和及与]([\u4e00-\u9fff]{2,4}?)(?=[、，,。；;）)（(]|[的和与及等之那这在去来也都说是被把将向对]|$)")

def _list_item(norm: str, pos: int, size: int) -> re.Match[str] | None:
    """The next item of a list of names at ``pos`` (after 、和及与): one that a separator or a function
    character ends, or else one as long as the name before it (证人覃秋菊、农永福出庭: the verb follows)."""
    found = _LIST_ITEM.match(norm, pos)
    if found is None:
        found = _LIST_SAME[min(size, 4)].match(norm, pos)
        if found is not None and _ROLE_HIT.match(found.group(1)):
            return None  # 审判员黄卫国、书记员李明: the next role word, not a name
    return found


_LIST_SAME = {n: re.compile(f"[、和及与]([\u4e00-\u9fff]{{{n}}})") for n in (2, 3, 4)}


#: role words a name follows even without a separator, in headers and signatures (法定代表人向前进。)
_NAMING_ROLES = frozenset({"法定代表人", "负责人", "审判长", "审判员", "书记员", "人民陪审员", "陪审员", "检察员", "记录人",
                           "经办人", "接待人", "回访人", "审查人", "审核人", "审批人", "受理人"})
#: role words that narrate rather than sign: a name right after them must look like a name
_NARRATIVE_ROLES = frozenset({"证人", "被害人", "代理人", "委托代理人", "联系人", "工作人员"})


#: function characters that never occur in a name (次 does: 尼玛次仁)
_NAME_STOP = STOP_CHARS - frozenset("次")


def _common(word: str) -> bool:
    return tagger.word_freq(word) >= 30 and not (tagger.word_tag(word) or "").startswith("nr")


def _name_shaped(token: str) -> bool:
    """A token that may be a name: no function character, not a common word, not two common words
    (证言矛盾、情绪激动)."""
    if any(ch in _NAME_STOP for ch in token) or _common(token):
        return False
    if tagger.word_tag(token[0]) in ("d", "p", "c", "u", "r") and tagger.word_freq(token[0]) >= 10000:
        return False  # 先动手: an adverb or preposition begins a clause, not a name
    return len(token) < 4 or not (_common(token[:2]) and _common(token[2:]))


def _longer_transliteration(norm: str, start: int, end: int) -> int:
    """One more character for a transliterated name (马尕西木): when the name holds a character that
    is rare in ordinary words and the next character is a given-name character that starts no word."""
    if end - start != 3 or end >= len(norm) or not _GIVEN_RE.match(norm, end):
        return end
    if tagger.word_freq(norm[end:end + 2]) >= 5 or not any(tagger.word_freq(ch) < 300 for ch in norm[start:end]):
        return end
    return end + 1


def is_word_at(norm: str, start: int, end: int) -> bool:
    """True when ``norm[start:end]`` stands as a word: it does not make a dictionary word with the
    character before or after it (高峰 in 高峰期 does not; 谢谢 is never a name)."""
    token = norm[start:end]
    if token in _NOT_NAMES:
        return False
    for a, b in ((start, end + 1), (start, end + 2), (start - 1, end)):
        if a < 0 or b > len(norm):
            continue
        piece = norm[a:b]
        if len(piece) > len(token) and _CJK.fullmatch(piece[-1]) and _CJK.fullmatch(piece[0]) \
                and tagger.word_freq(piece) >= 5 and not (tagger.word_tag(piece) or "").startswith("nr"):
            return False
    return True


class RoleNameDetector(Detector):
    """Names right after a role or kinship word: 证人王小明、被害人李某、其妻子刘芳、审判长 黄卫国.

    A judge is 「法官」, a clerk 「书记员」, a witness 「证人」 … (see ``ROLE_KIND``). In a signature or a
    list (审判长　高峰、书记员：向前) the name stands alone on its line or before a separator; there
    it is taken even when it is also an ordinary word.
    """

    name = "role"
    #: after a role word (:func:`role_hits`) or a …人 label before a colon: where a listed surname begins
    _tail = re.compile(r"[:：\s]*(?:名叫|叫|是|为)?\s*(?=" + _SURNAME + ")")
    _label = re.compile("人(?=[:：])")
    _more = re.compile(r"\s*[、和及与,，]\s*(?=" + _SURNAME + ")")
    #: after a role word (see :func:`role_hits`), for the surnames the demo generator does not use (冉、云、冼 …)
    _rare = re.compile(r"[:：\s]*(?:名叫|叫|是|为)?\s*(?=[" + "".join(sorted(MORE_SURNAMES)) + "])")
    #: after a role word, a name with a party header or a relation after it (原告人扎西卓玛，女、
    #: 被害人旦增之妻): the name needs no listed surname
    _header = re.compile(r"[:：\s]*([\u4e00-\u9fff]{2,6}?)(?=[,，]\s*[男女][,，。]|[（(][男女]|之(?:妻|夫|子|女|父|母|兄|弟|姐|妹))")
    #: after a role word, a name alone on its line or before a separator (a signature or a list)
    _signature = re.compile(
        "[ \t\u3000:：]*([\u4e00-\u9fff](?:[ \u3000]?[\u4e00-\u9fff]){1,3}?)"
        "(?=[ \t\u3000]*(?:$|\n|[，,、。；;）)（(]|的|和|与|及|等|之))",
        re.MULTILINE,
    )
    _not_first = frozenset("我你他她其该本此这那系是在于对因已未不有无被")

    def name_starts(self, ctx: Context, *, rare: bool) -> list[tuple[int, str]]:
        """Where a name begins after a role word or a …人 label before a colon, with the role's kind:
        before a listed surname, and (``rare``) before the rarer ones."""
        norm = ctx.norm
        labels = [(m.start(), m.end()) for m in self._label.finditer(norm)
                  if m.start() > 0 and _CJK.match(norm, m.start() - 1)]  # 申诉人：…
        out: dict[int, str] = {}
        for start, end in sorted(role_hits(ctx) + labels):
            m = self._tail.match(norm, end) or (self._rare.match(norm, end) if rare else None)
            if m is not None:
                out.setdefault(m.end(), ROLE_KIND.get(norm[start:end], "person"))
        return list(out.items())

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        starts: list[tuple[int, int, str]] = []
        for pos, kind in self.name_starts(ctx, rare=True):
            if _ORG_AFTER_ROLE.match(norm, pos):
                continue
            while True:
                end = _extent(norm, pos)
                if end is None:
                    break
                starts.append((pos, end, kind))
                nxt = self._more.match(norm, end)
                if nxt is None:
                    break
                pos = nxt.end()
        chosen = [(s, _longer_transliteration(norm, s, e)) for s, e in
                  _choose_lengths(ctx, [(s, e) for s, e, _ in starts])]
        for (s, e), (_, _, kind) in zip(chosen, starts, strict=True):
            if not ctx.is_protected(s, e) and tagger.word_freq(norm[s:e]) < 500:
                yield Candidate(s, e, kind, PRIORITY_NAME, self.name)
        for start, end in role_hits(ctx):
            m = self._header.match(norm, end)
            if m is None:
                continue
            s, e = m.span(1)
            if m.group(1)[0] not in self._not_first and not ctx.is_protected(s, e):
                yield Candidate(s, e, ROLE_KIND.get(norm[start:end], "person"), PRIORITY_NAME, self.name)
        for start, end in role_hits(ctx):
            m = self._signature.match(norm, end)
            if m is None:
                continue
            role = norm[start:end]
            s, e = m.span(1)
            token = m.group(1).replace(" ", "").replace("\u3000", "")
            if token[0] in self._not_first or token in ROLE_WORDS or token in _NOT_NAMES or ctx.is_protected(s, e):
                continue
            if _ROLE_HIT.match(token):
                continue  # 近亲属：丈夫彭祖: another role word, whose own name follows it
            strong = role in SIGNATURE_ROLES and role not in _NARRATIVE_ROLES
            naming = role in _NAMING_ROLES
            if not strong and not _name_shaped(token):
                continue  # 律师：没关系、来访人情绪激动: outside a signature the words must look like a name
            if end == s and not (_name_shaped(token) or (naming and norm[e:e + 1] in "，,。；;\n的")):
                continue  # 被害人有过错、证人证言矛盾: no separator, so the words must look like a name
            if _ORG_AFTER_ROLE.match(norm, end):
                continue  # 交通警察支队: the role word is part of an organisation's name
            kind = ROLE_KIND.get(role, "person")
            yield Candidate(s, e, kind, PRIORITY_NAME + 1, self.name)
            nxt = _list_item(norm, e, e - s)
            while nxt is not None and _name_shaped(nxt.group(1)):  # 证人尼玛次仁、索朗的证言
                yield Candidate(nxt.start(1), nxt.end(1), kind, PRIORITY_NAME + 1, self.name)
                nxt = _list_item(norm, nxt.end(1), nxt.end(1) - nxt.start(1))


class TitleNameDetector(Detector):
    """Names before a title (陈志强律师、王法官、李先生) or a party header (张三，男，…)."""

    name = "title"
    _pattern = re.compile(
        "(" + SURNAME_FIRST + _BOUNDARY_1 + SURNAME_REST + _GIVEN + "{0,2}?)(?=(?:"
        + "|".join(sorted(TITLE_WORDS, key=len, reverse=True)) + ")(?!事务所)|[,，]\\s*[男女][,，。]|[（(][男女][,，）)])"
    )
    _title = re.compile("|".join(sorted(TITLE_WORDS, key=len, reverse=True)))

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._pattern.finditer(norm):
            s, e = m.span(1)
            if _is_place_start(norm[s:s + 2]) or ctx.is_protected(s, e):
                continue
            if e - s >= 2 and tagger.word_freq(norm[s:e]) >= 500:
                continue
            title = self._title.match(norm, e)
            kind = TITLE_KIND.get(title.group(), "person") if title else "person"
            if kind == "person" and title and title.group() == "律师":
                kind = "lawyer"
            yield Candidate(s, e, kind, PRIORITY_NAME, self.name)


class MouFormDetector(Detector):
    """Surname + 某 forms (李某、李某某、李某甲) that court rules leave but peer review removes,
    with a given character kept after 某 (黄某雄、欧阳某峰) taken with them."""

    name = "mou"
    _pattern = re.compile("(" + SURNAME_FIRST + SURNAME_REST + ")某{1,2}[甲乙丙丁戊]?(?![" + _NOT_AFTER_MOU + "])")
    _rare = re.compile("(?<![\u4e00-\u9fff])[" + "".join(sorted(MORE_SURNAMES)) + "]某{1,2}[甲乙丙丁戊]?(?!["
                       + _NOT_AFTER_MOU + "])")
    _kept_given = re.compile(_GIVEN)

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for pattern in (self._pattern, self._rare):
            for m in pattern.finditer(norm):
                end = m.end()
                if m.group().endswith("某") and m.group().count("某") == 1 and self._kept_given.match(norm, end) \
                        and tagger.word_freq(norm[end:end + 2]) < 5 and (
                            end + 1 >= len(norm) or not _CJK.match(norm, end + 1) or norm[end + 1] in STOP_CHARS
                            or tagger.word_freq(norm[end + 1:end + 3]) >= 5):
                    end += 1  # 黄某雄承认: the given character kept after 某 identifies (not 李某持刀)
                yield Candidate(m.start(), end, "person", PRIORITY_NAME, self.name)


class AddressFormDetector(Detector):
    """Forms of address: 老王、小李、阿珍 (a surname after 老/小, any character after 阿)."""

    name = "address_form"
    _pattern = re.compile(
        "(?:(?<=[" + _PRE + "，,。；;！？!?\\s“\"（(])|^)(?:[老小大][" + "".join(sorted(ALL_SURNAMES))
        + "]|阿[\u4e00-\u9fff])", re.MULTILINE)

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._pattern.finditer(norm):
            s, e = m.span()
            token = m.group()
            tag = tagger.word_tag(token) or ""
            if token in _NOT_NAMES or (tagger.word_freq(token) >= 30 and not tag.startswith("nr")):
                continue
            if e < len(norm) and tagger.word_freq(norm[s:e + 1]) >= 5:
                continue  # 小区长, 阿拉伯: the form is part of a longer word
            yield Candidate(s, e, "person", PRIORITY_NAME, self.name)


class SpeakerDetector(Detector):
    """Chat and transcript speakers at the start of a line (阿珍：…、[10:32] 肥仔明: …)."""

    name = "speaker"
    _pattern = re.compile(
        r"^[ \t\u3000]*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?[ \t\u3000]*)?"
        r"([\u4e00-\u9fff·•A-Za-z][\u4e00-\u9fff·• A-Za-z]{0,11}?)[ \t\u3000]*(?:\d{1,2}:\d{2}[ \t\u3000]*)?[:：]",
        re.MULTILINE)
    _generic = frozenset({"我", "你", "他", "她", "问", "答", "对方", "本人", "律师", "法官", "审判长", "审判员", "书记员",
                          "原告", "被告", "被告人", "公诉人", "辩护人", "代理人", "证人", "申请人", "被申请人", "上诉人",
                          "被上诉人", "受援人", "当事人", "记录", "时间", "地点", "备注", "说明", "附件", "案由", "结果",
                          "日期", "主题", "内容", "事由", "理由", "意见", "地址", "电话", "姓名", "性别", "民族"})

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._pattern.finditer(norm):
            s, e = m.span(1)
            token = m.group(1).strip()
            if token in self._generic or token in ROLE_WORDS or token in _NOT_NAMES or len(token) < 2:
                continue
            if _CJK.match(token) and token[0] not in _NAME_START and token[:2] not in COMPOUND_SURNAMES:
                continue  # 现住址、办理情况: a form label, not a speaker
            if _CJK.match(token) and (tagger.word_freq(token) >= 30 and not (tagger.word_tag(token) or "")
                                      .startswith("nr")):
                continue
            if any(ch in STOP_CHARS for ch in token) and not token.startswith(("阿", "老", "小")):
                continue
            head = token[:2]
            if len(token) >= 3 and tagger.word_freq(head) >= 300 and not (tagger.word_tag(head) or "").startswith("nr"):
                continue  # 办理情况、处理意见: a heading, not a speaker
            title = TitleNameDetector._title.search(token)
            if title is not None and title.end() == len(token) and title.start() > 0:
                e = s + title.start()  # 张律师: the name is 张
                yield Candidate(s, e, TITLE_KIND.get(title.group(), "person"), PRIORITY_NAME, self.name)
                continue
            yield Candidate(s, s + len(m.group(1).rstrip()), "person", PRIORITY_NAME, self.name)


#: English words that begin a capitalised run but name no one
_EN_STOP = frozenset({
    "The", "A", "An", "And", "Of", "In", "On", "At", "For", "To", "By", "With", "From", "Court", "People's",
    "Peoples", "Republic", "China", "Chinese", "Article", "Law", "Criminal", "Civil", "Procedure", "Code", "Legal",
    "Aid", "Centre", "Center", "Bureau", "Office", "Intermediate", "Higher", "Supreme", "Province", "City",
    "District", "County", "Road", "Street", "Case", "No", "Judgment", "Mr", "Mrs", "Ms", "Dr", "Miss", "Judge",
    "Lawyer", "Defendant", "Plaintiff", "Appellant", "Appellee", "Victim", "Witness", "Prosecutor", "Procuratorate",
    "Police", "Station", "Firm", "Company", "Limited", "Ltd", "Co", "Inc", "Bank", "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October", "November", "December", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "I", "He", "She", "We", "They", "It", "This", "That",
    "These", "Those", "His", "Her", "Their", "Our", "Chairman", "Mediation", "Committee", "Labour", "Labor",
    "Arbitration", "University", "School", "Hospital", "WeChat", "QQ", "Email", "Tel", "Phone", "Fax", "RMB", "Yuan",
})


class LatinNameDetector(Detector):
    """Names in pinyin or English in English passages: Zhang Wei, Mr. Li, Ms Chen Xiaomei, Wong Ka-ming."""

    name = "latin"
    _titled = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Judge|Lawyer|Officer|Prosecutor|Madam)\.?\s+"
                         r"((?:[A-Z][a-z]+(?:-[a-z]+)?)(?:\s+[A-Z][a-z]+(?:-[a-z]+)?){0,2})")
    _run = re.compile(r"\b([A-Z][a-z]+(?:-[A-Za-z][a-z]+)?(?:\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?){1,2})\b")
    _pinyin_syllable = re.compile(
        r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:iang|iong|uang|ang|eng|ing|ong|uai|iao|ian|uan|ai|ei|ao|ou|an|en|in|un|"
        r"ia|ie|iu|ua|uo|ue|ui|er|a|o|e|i|u|v)(?:ng|n|r)?", re.IGNORECASE)

    @classmethod
    def _pinyin_like(cls, word: str) -> bool:
        w = word.lower().replace("-", "")
        return re.fullmatch(f"(?:{cls._pinyin_syllable.pattern}){{1,3}}", w, re.IGNORECASE) is not None

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        if not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", norm):
            return
        seen: set[tuple[int, int]] = set()
        for m in self._titled.finditer(norm):
            s, e = m.span(1)
            words = m.group(1).split()
            while words and words[-1] in _EN_STOP:
                e -= len(words.pop()) + 1
            if words and words[0] not in _EN_STOP:
                seen.add((s, e))
                yield Candidate(s, e, "person", PRIORITY_NAME, self.name)
        for m in self._run.finditer(norm):
            words = m.group(1).split()
            if any(w in _EN_STOP for w in words) or (m.start(1), m.end(1)) in seen:
                continue
            if sum(self._pinyin_like(w) for w in words) >= len(words) - 0:
                yield Candidate(m.start(1), m.end(1), "person", PRIORITY_NAME, self.name)


_ORG_SUFFIX = re.compile("律师事务所|事务所|派出所|所|鞋厂|厂|公司|大学|学院|中学|小学|幼儿园|医院|卫生院|诊所|支行|分行|银行|"
                         "信用社|酒店|饭店|商店|超市|店|中心|局|院|委员会|村委会|居委会|合作社|工作室|门诊部|农场")
_PLACE_SUFFIX = re.compile("省|市|县|区|旗|州|盟|镇|乡|街道|村|社区|路|街|巷|道|大道|小区|花园|苑|新村|山庄|公寓|大厦|广场|工业区|"
                           "开发区|工业园|码头|港|岛|湾")


def _window_cues(ctx: Context, covered: bytearray, role_end: dict[int, str]) -> list[int]:
    """Positions where a name may begin, from cheap features of the text (a role word before it, a
    middle dot in it, a form of address), not inside what earlier detectors found."""
    norm = ctx.norm
    cues: list[int] = []
    for pos in role_end:
        # after a role word, only characters that may begin a name: not a function character,
        # not a common word (被告人应当、受援人签订、被告人系初犯)
        if pos >= len(norm) or covered[pos] or not _CJK.match(norm, pos) or norm[pos] in STOP_CHARS:
            continue
        head = norm[pos:pos + 2]
        if tagger.word_freq(head) >= 50 and not (tagger.word_tag(head) or "").startswith("nr"):
            continue
        cues.append(pos)
    for m in _CUE_RE.finditer(norm):
        pos = m.start()
        if m.lastgroup == "title":
            # a name may end before a title, not a common word (承办律师、谢谢律师)
            if not covered[pos - 1] and not _common(norm[max(0, pos - 2):pos]) and norm[pos - 1] not in STOP_CHARS:
                cues.append(max(0, pos - 4))
        elif covered[pos] != 2:
            cues.append(pos)  # a rule's form of address (阿木) may be the model's longer name (阿木日哈)
    return cues


_CUE_RE = re.compile("[·•](?=[\u4e00-\u9fff])|[阿老小肥](?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])"
                     "(?P<title>律师|法官|警官|医生|经理|先生|女士)")


#: the named-entity stage's plan for one run: window starts, whether each is read for the flags only, the windows
_Plan = tuple[list[int], list[bool], list[str]]


class NerNameDetector(Detector):
    """The statistical recogniser on windows the cues pick; jieba's tagger when the model is missing.

    Windows are 12 characters (3 before a cue, 9 after), so nearly all windows share one length
    and go to the encoder in full batches; a cue whose name fits in the previous window gets none. An entity touching a cut window edge is not trusted.
    People are accepted unless they are an ordinary word outside a name context; places and
    organisations only with a place or organisation suffix and a distinctive core (the rules
    find the national place names themselves).
    """

    name = "ner"
    width = 12
    before = 3

    def __init__(self) -> None:
        self.fallback = TaggerNameDetector()

    def windows(self, ctx: Context) -> list[str]:
        """The windows the model is to read in this run (planned once, from the candidates so far); a
        caller that redacts many texts encodes them all at once and hands the results back with
        :meth:`tagged` before :meth:`detect` runs."""
        plan = cast("_Plan | None", ctx.cache.get("ner_plan"))
        if plan is None:
            plan = self._plan(ctx)
            ctx.cache["ner_plan"] = plan
        return plan[2]

    @staticmethod
    def tagged(ctx: Context, entities: list[list[tuple[int, int, str]]]) -> None:
        """Give the run the model's entities of its :meth:`windows`, encoded by the caller."""
        ctx.cache["ner_tagged"] = entities

    def _plan(self, ctx: Context) -> _Plan:
        norm = ctx.norm
        n = len(norm)
        starts: list[int] = []
        last_end = -1
        covered = bytearray(n)  # 1: found by a rule; 2: found by a rule other than a form of address
        for c in ctx.candidates:
            covered[c.start:c.end] = (b"\x01" if c.detector == "address_form" else b"\x02") * (c.end - c.start)
        role_end = role_ends(ctx)
        for pos in sorted(set(_window_cues(ctx, covered, role_end) + _surname_cues(ctx, covered))):
            start = max(0, min(pos - self.before, n - self.width))
            if starts and pos + 4 <= last_end:
                continue  # the previous window holds this cue with enough context after it
            starts.append(start)
            last_end = start + self.width
        lead_only = [False] * len(starts)
        # surname-led tokens unknown to the dictionary anywhere, without the boundary before them that
        # the cues need (此后邹晓彤): windows read only for the checker's flags, never redacted from
        held = bytearray(n + 4)
        for s in starts:
            held[s:s + self.width] = b"\x01" * self.width
        for pos in sorted(_lead_cues(ctx, covered, role_end)):
            if held.find(0, pos, pos + 4) == -1:
                continue  # a window already holds it with enough context after it
            start = max(0, min(pos - self.before, n - self.width))
            starts.append(start)
            lead_only.append(True)
            held[start:start + self.width] = b"\x01" * self.width
        return starts, lead_only, [norm[s:s + self.width].replace("\n", "，") for s in starts]

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        if not ner.available():
            yield from self.fallback.detect(ctx)
            return
        norm = ctx.norm
        n = len(norm)
        windows = self.windows(ctx)
        starts, lead_only, _ = cast(_Plan, ctx.cache["ner_plan"])
        tagged = cast("list[list[tuple[int, int, str]]] | None", ctx.cache.get("ner_tagged"))
        if tagged is None:
            tagged = ner.tag_windows(windows)
        role_end = role_ends(ctx)
        leads: list[tuple[int, int]] = ctx.cache.setdefault("name_leads", [])  # type: ignore[assignment]
        for s, only, entities in zip(starts, lead_only, tagged, strict=True):
            w_len = min(self.width, n - s)
            for es, ee, label in _join_dotted(entities, norm[s:s + self.width]):
                if (es == 0 and s > 0) or (ee == w_len and s + w_len < n):
                    continue
                a, b = s + es, s + ee
                while a < b and norm[a] in " \t\u3000，":
                    a += 1
                while b > a and norm[b - 1] in " \t\u3000，":
                    b -= 1
                if b - a < 2 or ctx.is_protected(a, b):
                    continue
                if label == "PER":
                    leads.append((a, b))  # what the checker's flags read (evalplat.anonymise.flags)
                if only:
                    continue
                cand = self._accept(ctx, a, b, label, role_end)
                if cand is not None:
                    yield cand

    def _accept(self, ctx: Context, a: int, b: int, label: str, role_end: dict[int, str]) -> Candidate | None:
        norm = ctx.norm
        token = norm[a:b]
        if label == "PER":
            if any(ch.isdigit() for ch in token) or token in _NOT_NAMES or token in ROLE_WORDS:
                return None
            if not _CJK.search(token) or len(token.replace("·", "")) > 20:
                return None
            kind = role_end.get(a, "person")
            in_context = a in role_end or TitleNameDetector._title.match(norm, b) is not None
            tag = tagger.word_tag(token) or ""
            if not in_context and (tagger.word_freq(token) >= 50 and not tag.startswith("nr")):
                return None
            if not in_context and not is_word_at(norm, a, b):
                return None
            return Candidate(a, b, kind, PRIORITY_NAME, self.name)
        suffix_re = _ORG_SUFFIX if label == "ORG" else _PLACE_SUFFIX
        tail = None
        for k in range(min(5, len(token) - 1), 0, -1):
            if suffix_re.fullmatch(token[-k:]):
                tail = k
                break
        if tail is None:
            return None
        core = token[:-tail]
        if len(core) < 2 or tagger.word_freq(core) >= 2000 or not _CJK.search(core):
            return None
        # the rules' places and organisations win where they overlap: the model fills gaps
        if label == "ORG":
            return Candidate(a, b, "org", PRIORITY_PLACE, self.name)
        return Candidate(a, b, "place", PRIORITY_PLACE, self.name)


def _join_dotted(entities: list[tuple[int, int, str]], window: str) -> list[tuple[int, int, str]]:
    """Join person entities that a middle dot links (阿卜杜热合曼·买买提 is one name)."""
    out: list[tuple[int, int, str]] = []
    for ent in entities:
        if out and ent[2] == "PER" and out[-1][2] == "PER" and window[out[-1][1]:ent[0]] in ("·", "•", "・", "."):
            out[-1] = (out[-1][0], ent[1], "PER")
        else:
            out.append(ent)
    return out


_ROLE_HIT = re.compile(trie_pattern(set(ROLE_WORDS) | SIGNATURE_ROLES))
_ROLE_SEP = re.compile(r"[ \t\u3000:：]*(?:名叫|叫|是|为)?[ \t\u3000]*")


def role_hits(ctx: Context) -> list[tuple[int, int]]:
    """(start, end) of every role word in the text, found once per run and shared by the detectors."""
    hits = ctx.cache.get("role_hits")
    if hits is None:
        hits = [m.span() for m in _ROLE_HIT.finditer(ctx.norm)]
        ctx.cache["role_hits"] = hits
    return hits  # type: ignore[return-value]


def role_ends(ctx: Context) -> dict[int, str]:
    """Where a name would begin after each role word (separators skipped), with the role's kind."""
    ends = ctx.cache.get("role_ends")
    if ends is None:
        norm = ctx.norm
        ends = {_ROLE_SEP.match(norm, end).end(): ROLE_KIND.get(norm[start:end], "person")  # type: ignore[union-attr]
                for start, end in role_hits(ctx)}
        ctx.cache["role_ends"] = ends
    return ends  # type: ignore[return-value]


def _surname_cues(ctx: Context, covered: bytearray) -> list[int]:
    """Starts of surname-led words (any listed surname, Cantonese and rare ones included) whose next
    characters do not make a common word — the prefilter of :class:`TaggerNameDetector`, widened."""
    norm = ctx.norm
    out = []
    for m in _SURNAME_CUE.finditer(norm):
        if not covered[m.start()] and not covered[m.start() + 1] and _plausible_name_start(norm, m.start()):
            out.append(m.start())
    return out


_LOOSE_SURNAME = re.compile("[" + "".join(sorted(_NAME_START - set("阿老小"))) + "](?=" + _GIVEN + ")")


#: a character that seldom stands as a word of its own (jieba's dictionary count): likely part of a name
_RARE_CHAR = 2000


def _rare_after(norm: str, pos: int) -> bool:
    """The character after ``pos`` is a rare Chinese character (晓 in 邹晓彤, not 信 in 微信)."""
    return pos + 1 < len(norm) and _CJK.match(norm, pos + 1) is not None and tagger.word_freq(norm[pos + 1]) < _RARE_CHAR


#: structural particles, which never begin a name (被害人的谅解)
_PARTICLES = frozenset("的地得之了着过")


def _lead_cues(ctx: Context, covered: bytearray, role_end: dict[int, str]) -> list[int]:
    """Where the checker's flags want the model to read beyond the redactor's cues: surname
    characters anywhere (no boundary needed before them) whose token of two or three characters, and
    its first two, are no dictionary word and that have a rare character after them (邹晓彤 in
    此后邹晓彤也在场), and names after a role word that
    begin with a function character (not a particle) and have a rare one next (被告人次仁多吉); neither
    where the characters after the first make a common word (区法律、的法定) nor where a name the rules
    found elsewhere begins."""
    norm = ctx.norm
    found = {norm[c.start:c.end] for c in ctx.candidates if c.kind in ROLE_KINDS and c.end - c.start >= 2}
    out = [pos for pos in role_end
           if pos + 2 < len(norm) and not covered[pos] and norm[pos] in STOP_CHARS and norm[pos] not in _PARTICLES
           and _CJK.match(norm, pos) and _rare_after(norm, pos) and _plausible_name_start(norm, pos)]
    for m in _LOOSE_SURNAME.finditer(norm):
        pos = m.start()
        if covered[pos] or covered[pos + 1]:
            continue
        if tagger.word_freq(norm[pos:pos + 2]) == 0 and tagger.word_freq(norm[pos:pos + 3]) == 0 \
                and _rare_after(norm, pos) and _plausible_name_start(norm, pos):
            out.append(pos)
    # a name the rules found elsewhere in the text is propagated here anyway
    return [pos for pos in out if not any(norm.startswith(name, pos) for name in found)]


def _plausible_name_start(norm: str, pos: int) -> bool:
    """False when the characters after a surname make a common word (于接到、向法院) or the surname
    and the next character do (高度、方面、程序)."""
    given = norm[pos + 1:pos + 3]
    if tagger.word_freq(given) > 300 and not (tagger.word_tag(given) or "").startswith("nr"):
        return False
    head = norm[pos:pos + 2]
    tag = tagger.word_tag(head)
    return tag is None or tag.startswith("nr") or tagger.word_freq(head) <= 20


_SURNAME_CUE = re.compile("[" + "".join(sorted(_NAME_START - set("阿老小"))) + "]" + _BOUNDARY_1 + "(?=" + _GIVEN + ")")


class TaggerNameDetector(Detector):
    """jieba person-name tags, on small windows a surname-and-context prefilter selects.

    The prefilter keeps a surname only when it starts a word (after punctuation or a
    function word such as 与、向、被), is followed by plausible given-name characters, is not
    already covered by another candidate, and its first two characters are not a common
    dictionary word that is not a name (高度、方面、程序). The named-entity detector falls back to it
    when the model is not installed.
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
            if _plausible_name_start(norm, pos):
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


def _find_all(text: str, needle: str) -> Iterator[int]:
    i = text.find(needle)
    while i != -1:
        yield i
        i = text.find(needle, i + len(needle))


class PropagationDetector(Detector):
    """Every other occurrence of a name found by the heuristics, here or in the case's earlier
    documents — only where it stands as a word (高峰 is not propagated into 高峰期)."""

    name = "propagate"
    sources = frozenset({"role", "title", "tagger", "ner", "speaker", "address_form", "latin", "dotted", "list"})

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        names: dict[str, str] = {}
        for c in ctx.candidates:
            if c.detector in self.sources and c.end - c.start >= 2 and c.kind not in ("org", "place"):
                names.setdefault(ctx.norm[c.start:c.end], c.kind)
        for n, k in ctx.mapping.learned.items():
            names.setdefault(n, k)
        for n, k in ctx.hints.items():
            names.setdefault(n, k)
        parts: set[str] = set()
        for n, k in list(names.items()):
            for part in re.split("[·•・]", n) if len(n) > 4 else ():
                if len(part) >= 3 and part not in names:
                    names[part] = k  # 艾合买提江·依明 is also called 艾合买提江
                    parts.add(part)
        if not names:
            return
        norm = ctx.norm
        role_end: set[int] | None = None
        for name, kind in names.items():
            if kind not in ("person", "lawyer", "judge", "prosecutor", "police_officer", "clerk", "witness", "victim",
                            "staff"):
                continue
            if _common(name):
                # a name that is an ordinary word (高兴、向前) only where a role word or a title marks it
                if role_end is None:
                    role_end = set(role_ends(ctx))
                for i in _find_all(norm, name):
                    if i in role_end or TitleNameDetector._title.match(norm, i + len(name)):
                        yield Candidate(i, i + len(name), kind, PRIORITY_NAME, self.name)
                continue
            i = norm.find(name)
            while i != -1:
                j = i + len(name)
                if not ctx.is_protected(i, j) and (len(name) >= 3 or is_word_at(norm, i, j)) \
                        and (name not in parts or stands_alone(norm, i, j)):
                    yield Candidate(i, j, kind, PRIORITY_NAME, self.name)
                i = norm.find(name, j)


class DottedNameDetector(Detector):
    """Transliterated names with a middle dot (阿卜杜热合曼·买买提、艾合买提江·依明): Chinese text
    uses the dot between two runs of characters for little else. The runs stop at a function
    character, punctuation or a role word before the name."""

    name = "dotted"
    _pattern = re.compile(r"[\u4e00-\u9fff]{1,12}(?:[·•・][\u4e00-\u9fff]{1,12})+")
    _role_prefix = re.compile("(?:" + trie_pattern(ROLE_WORDS, flat=True) + ")")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for m in self._pattern.finditer(norm):
            start, end = m.span()
            first = re.search(r"[·•・]", m.group()).start() + start  # type: ignore[union-attr]
            last = max(m.group().rfind(ch) for ch in "·•・") + start
            # left part: after the last function character, without a role word before it
            a = first
            while a > start and norm[a - 1] not in STOP_CHARS:
                a -= 1
            role = None
            for r in self._role_prefix.finditer(norm, a, first):
                role = r
            if role is not None and role.start() == a:
                a = role.end()
            a = max(a, first - 8)
            # right part: up to a function character, at most eight characters
            b = last + 1
            while b < end and b - last <= 8 and norm[b] not in STOP_CHARS:
                b += 1
            if first - a >= 1 and b - last >= 2 and not ctx.is_protected(a, b):
                yield Candidate(a, b, "person", PRIORITY_NAME + 1, self.name)


class LatinPlaceDetector(Detector):
    """Chinese place names in pinyin in English passages (lives in Kunming, from Xi'an, Foshan City)."""

    name = "latin_place"
    _pattern = re.compile(r"\b(?:in|at|from|near|to)\s+([A-Z][a-z]+(?:'[a-z]+)?(?:\s(?:City|County|District|Province))?)\b"
                          r"|\b([A-Z][a-z]+)\s(?:City|County|District|Province|Town|Village)\b")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        if not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", norm):
            return
        for m in self._pattern.finditer(norm):
            group = 1 if m.group(1) else 2
            word = m.group(group).split()[0].replace("'", "")
            if word not in _EN_STOP and LatinNameDetector._pinyin_like(word):
                yield Candidate(m.start(group), m.end(group), "place", PRIORITY_NAME, self.name)


class ListNameDetector(Detector):
    """Names listed after a name found already (刘某某、曾小宇那天; 王某和李晓东): each further item that
    looks like a name, up to a boundary, is a person too; and nicknames after 叫/喊/称 (叫他荣哥)."""

    name = "list"
    _nickname = re.compile("(?:叫|喊|称)(?:他|她|我|你)?([\u4e00-\u9fff](?:哥|姐|叔|嫂|仔|妹|婶))(?=[^\u4e00-\u9fff]|$|的)")

    def detect(self, ctx: Context) -> Iterator[Candidate]:
        norm = ctx.norm
        for c in list(ctx.candidates):
            if c.kind not in ("person", "witness", "victim", "staff", "judge", "clerk", "prosecutor", "police_officer"):
                continue
            nxt = _LIST_ITEM.match(norm, c.end)
            while nxt is not None and _name_shaped(nxt.group(1)) and not ctx.is_protected(*nxt.span(1)):
                yield Candidate(nxt.start(1), nxt.end(1), c.kind, PRIORITY_NAME, self.name)
                nxt = _LIST_ITEM.match(norm, nxt.end(1))
        for m in self._nickname.finditer(norm):
            if not _common(m.group(1)):
                yield Candidate(m.start(1), m.end(1), "person", PRIORITY_NAME, self.name)
