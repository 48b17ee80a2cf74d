"""Where the machine was unsure: stretches of a redacted text that the checker should look at.

:func:`flags_for` is the one function the redaction review, the campaign queue and the stored
``Redaction.flags`` use (the place to switch to the redactor's own ``suspicious`` once it offers one). It
reads the text with these rules:

- ``repeat``: the original of a redacted name or organisation occurs again, unredacted;
- ``name_like``: a name-like token left in the text — a surname and one or two characters before a
  form of address (律师, 法官, 先生 …) or after a naming word (名叫, 姓名), or a 某-form keeping a given
  character (黄某雄);
- ``after_role``: characters after a role word (被告人, 证人, 审判员 …) that are not an ordinary
  continuation (认为, 称, 对 …), left unredacted;
- ``identifier``: a number that looks like an identifier (six digits or more, or letters and digits
  mixed), not an amount, a date or a statute number.

Flags are plain dictionaries ``{"start", "end", "reason"}`` (offsets into the original text), stored with
the redaction; the checker dismisses the ones that are fine (``"dismissed": True``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["REASONS", "flags_for", "merge_flags", "open_count"]

#: The reason codes, in the order the review lists them.
REASONS = ("repeat", "name_like", "after_role", "identifier")

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞"
    "颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇"
    "栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝冼区")
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "夏侯",
             "轩辕", "宇文", "端木", "南宫", "独孤", "澹台", "西门")
_SURNAME = f"(?:{'|'.join(_COMPOUND)}|[{_SURNAMES}])"
_ADDRESS = "律师|法官|审判员|检察官|警官|先生|女士|同志|老师|医生|书记员|经理|主任|所长|队长|科长"
_NAMING = "姓名|名叫|叫做|名为|化名|本人"
_ROLES = ("被告人|被申请人|被上诉人|上诉人|申请人|原告|被告|第三人|证人|被害人|受害人|审判长|审判员|人民陪审员|书记员|"
          "检察员|检察官|公诉人|代理人|辩护人|委托人|受援人|当事人|法定代表人|负责人|经办人|承办人|民警|侦查员|调解员|"
          "法官|其父|其母|其妻|其夫|其子|其女|我老公|我老婆")
# What ordinarily follows a role word (a verb, a preposition, a particle): not a name.
_CONTINUATION = set("认称对在于的与和及等均已未不是为所提出到要将把被因经表同主请申说答陈辩如作并也又就还仍以由从自曾应可"
                    "方一二两三几各之即系非无有会能没再都该此其这那向给跟让使令获签收交向按依据具递上下中内外前后共另首次"
                    "本人员们家属方面及时当场当庭到庭出庭辩护代理陈述供述签字捺印确认知悉同意表示")
_CJK_RUN = re.compile(f"[{_HAN}]+")

_NAME_BEFORE_ADDRESS = re.compile(f"({_SURNAME}[{_HAN}]{{1,2}}?)(?:{_ADDRESS})")
_NAME_AFTER_NAMING = re.compile(f"(?:{_NAMING})[：:\\s]*({_SURNAME}[{_HAN}]{{1,2}})")
_MOU_FORM = re.compile(f"({_SURNAME}某[{_HAN}])")
_AFTER_ROLE = re.compile(f"(?:{_ROLES})[：:\\s]*([{_HAN}]{{2,3}})")
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z_\-]*[0-9])[0-9A-Za-z][0-9A-Za-z_\-]{5,}(?![0-9A-Za-z])")
_NOT_IDENTIFIER_AFTER = re.compile(r"\s*(?:元|万|亿|年|月|日|号令|%|％|平方|米|公里|千克|克|吨|次|条|款|项)")


def _covered(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _rule_flags(text: str, spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    live = [(int(s["start"]), int(s["end"])) for s in spans if s.get("source") != "removed"]
    found: dict[tuple[int, int], str] = {}

    def add(start: int, end: int, reason: str) -> None:
        if end > start and not _covered(start, end, live) and (start, end) not in found:
            found[(start, end)] = reason

    originals = {text[s:e] for s, e in live if e - s >= 2 and _CJK_RUN.fullmatch(text[s:e] or "-")}
    for original in originals:
        for match in re.finditer(re.escape(original), text):
            add(match.start(), match.end(), "repeat")
    for pattern in (_NAME_BEFORE_ADDRESS, _NAME_AFTER_NAMING, _MOU_FORM):
        for match in pattern.finditer(text):
            add(match.start(1), match.end(1), "name_like")
    for match in _AFTER_ROLE.finditer(text):
        word = match.group(1)
        if word[0] not in _CONTINUATION and word[:2] not in _CONTINUATION:
            add(match.start(1), match.end(1), "after_role")
    for match in _IDENTIFIER.finditer(text):
        if match.group().isalpha() or _NOT_IDENTIFIER_AFTER.match(text, match.end()):
            continue
        add(match.start(), match.end(), "identifier")
    return [{"start": s, "end": e, "reason": r} for (s, e), r in sorted(found.items())]


def flags_for(text: str, spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What the checker should look at in ``text`` given its stored ``spans`` (see the module docstring)."""
    return _rule_flags(text, spans)


def merge_flags(new: Iterable[Mapping[str, Any]], old: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """New flags, keeping the checker's dismissals of the same stretch for the same reason."""
    dismissed = {(f["start"], f["end"], f["reason"], f.get("field")) for f in old if f.get("dismissed")}
    out = []
    for flag in new:
        item = dict(flag)
        if (item["start"], item["end"], item["reason"], item.get("field")) in dismissed:
            item["dismissed"] = True
        out.append(item)
    return out


def open_count(flags: Iterable[Mapping[str, Any]]) -> int:
    return sum(not f.get("dismissed") for f in flags)
