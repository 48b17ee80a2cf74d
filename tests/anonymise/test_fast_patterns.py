"""The detectors' speed-shaped regular expressions find exactly what their plain forms find.

Several patterns are written so that Python's ``re`` can skip most positions in C (a pattern
must *start* with a literal, a character class or an alternation of literal-led branches), and
two detectors search for a tail and walk back instead of trying a prefix at every character.
Each is checked here against the straightforward pattern it replaces, over generated case
files and hand-written edge cases. (National place names are found with an Aho-Corasick automaton
since there are 38,000 of them; tests/anonymise/test_places.py checks what it finds.)
"""

from __future__ import annotations

import re

import pytest

from evalplat.anonymise import CaseMapping, normalise
from evalplat.anonymise.context import Context, _protected_re, trie_pattern
from evalplat.anonymise.known import known_index
from evalplat.anonymise.lexicon import COMPOUND_SURNAMES, PROTECTED_TERMS, ROLE_WORDS, SURNAMES, TITLE_WORDS
from evalplat.anonymise.names import (
    _GIVEN,
    _NOT_AFTER_MOU,
    _PRE,
    MouFormDetector,
    RoleNameDetector,
    TaggerNameDetector,
    TitleNameDetector,
)
from evalplat.anonymise.spans import PRIORITY_ADDRESS, PRIORITY_STRUCTURED
from evalplat.anonymise.structured import (
    _NAME_CHARS,
    _YEAR_BRACKET,
    NATIONAL_DOC_PREFIXES,
    AddressDetector,
    DocNumberDetector,
)
from evalplat.demo.textgen import generate_cases

# --- the plain forms (as first written) -------------------------------------------------------
SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "])"
BOUNDARY = f"(?:(?<=[{_PRE}])|(?<![\\u4e00-\\u9fff]))"
_NUMERAL = "一二三四五六七八九十百千零〇两0-9"

PLAIN = {
    "protected": (
        _protected_re(),
        re.compile("《[^《》\n]{1,40}》|第[" + _NUMERAL + "]+[条款项章节编](?:之[一二三四五六七八九十]+)?|"
                   + trie_pattern(PROTECTED_TERMS)),
    ),
    "title": (
        TitleNameDetector._pattern,
        re.compile(BOUNDARY + "(" + SURNAME + _GIVEN + "{0,2}?)(?=(?:"
                   + "|".join(sorted(TITLE_WORDS, key=len, reverse=True))
                   + ")(?!事务所)|[,，]\\s*[男女][,，。]|[（(][男女][,，）)])"),
    ),
    "mou": (MouFormDetector._pattern,
            re.compile("(" + SURNAME + ")某{1,2}[甲乙丙丁戊]?(?![" + _NOT_AFTER_MOU + "])")),
    "address": (
        AddressDetector._cued,
        re.compile(r"(?:(?:住址|住所地|住所|户籍地|户籍所在地|户口所在地|现住址|现居住地|经常居住地|居住地|暂住地|送达地址|"
                   r"联系地址|通讯地址|通信地址|地址|家住|现住|暂住|居住在|居住于|住在|位于)[:：为是在]?|"
                   r"(?:(?<=[，,。；;\s(（])|^)住(?![院宿房手口]))"
                   r"\s*([^\s，,。；;！？!?()（）\n“”\"、]{4,48})"),
    ),
}
PLAIN_TAGGER = re.compile(BOUNDARY + "(?=" + SURNAME + _GIVEN + ")")
PLAIN_DOC = re.compile(r"([^\W\d_根据依照按的及和与见附经以之在将于对由为该本号第文编函了是等向即并请]{1,7})\s*"
                       + _YEAR_BRACKET + r"\s*第?\s*\d+\s*号")
PLAIN_STREET = re.compile(
    _NAME_CHARS + r"{1,10}(?:路|大道|大街|街|巷|道|村|里|弄)\s*\d+\s*(?:号|弄)(?:之\d+)?"
    r"(?:\s*[\dA-Za-z\-]+\s*(?:栋|幢|座|楼|层|单元|室|房|铺|号))*"
)

EDGE_CASES = [
    "住江门市蓬江区建设路12号3栋502房，住院治疗，住宿费。住在台山市大江镇",
    "\n住广州市天河区天河路385号\n（住 白云区机场路 88 号之3 A栋 1201房）",
    "欧阳晓峰律师、司徒某某、欧某某、令狐冲先生、上官婉儿女士、欧阳某甲、诸葛某、司马某乙；钟离春，女，",
    "与欧阳晓峰、向司徒健、对令狐冲、被上官婉儿、和欧阳、见欧阳明明作证。",
    "证人：欧阳明、被害人 李某某与王某、原告人：陈某，申请人是张三和李四",
    "江海区人民法院、江海区法院、江海法院、江海、江海区白沙街道、汕尾市城区人民法院、城区、南海区、南海法院",
    "蓬江区江海区新会区大泽镇；江门市蓬江区人民法院；中山市小榄镇、小榄、小榄人民法院、东莞市虎门镇人民政府",
    "江法援〔2023〕第0178号、江法援 〔2023〕 第 12 号、依据法释〔2020〕17号、粤司办〔2021〕3号、〔2020〕5号、"
    "长长长长长长长长长法援〔2022〕第9号、本院（2022）第10号",
    "《中华人民共和国刑法》第二百六十四条、第六十七条第三款之规定、第一千零七十九条之一，犯盗窃罪，判处有期徒刑",
    "大道大道88号、人民路人民路12号、沿江路1号2号楼3单元、中山大道西18号、村村村村村村村村村村村村村村道5号",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    corpus = [d.text for case in generate_cases(60, seed=11) for d in case.documents]
    return [normalise(t) for t in corpus + EDGE_CASES]


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, ...]]:
    return [tuple(x for i in range(pattern.groups + 1) for x in m.span(i)) for m in pattern.finditer(text)]


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_fast_pattern_matches_plain_form(texts, name):
    fast, plain = PLAIN[name]
    assert fast.groups == plain.groups
    found = 0
    for text in texts:
        expected = _spans(plain, text)
        assert _spans(fast, text) == expected, text
        found += len(expected)
    assert found > 0


PLAIN_ROLE = re.compile("(?:" + trie_pattern(ROLE_WORDS) + "|(?<=[\u4e00-\u9fff])人(?=[:：]))"
                        r"[:：\s]*(?:名叫|叫|是|为)?\s*(?=" + SURNAME + ")")


def test_role_names_start_where_plain_role_pattern_ends(texts):
    # the role detector finds role words once per run (role_hits, shared with other stages) and
    # tries its tail after each; names start exactly where the plain one-pattern form ends
    detector = RoleNameDetector()
    found = 0
    for text in texts:
        ctx = Context(text, CaseMapping(), known_index(None))
        expected = sorted(m.end() for m in PLAIN_ROLE.finditer(text))
        assert sorted(pos for pos, _ in detector.name_starts(ctx, rare=False)) == expected, text
        found += len(expected)
    assert found > 0


def test_tagger_prefilter_starts_where_plain_lookahead_matches(texts):
    for text in texts:
        assert [m.start() for m in TaggerNameDetector._pattern.finditer(text)] == \
            [m.start() for m in PLAIN_TAGGER.finditer(text)], text


def _plain_doc_numbers(text: str) -> set[tuple[int, int]]:
    return {m.span() for m in PLAIN_DOC.finditer(text)
            if not (m.group(1).endswith(NATIONAL_DOC_PREFIXES) or m.group(1).startswith(NATIONAL_DOC_PREFIXES))}


@pytest.mark.parametrize(("detector", "priority", "plain"), [
    (DocNumberDetector(), PRIORITY_STRUCTURED + 1, _plain_doc_numbers),
    (AddressDetector(), PRIORITY_ADDRESS - 1, lambda text: {m.span() for m in PLAIN_STREET.finditer(text)}),
])
def test_walk_back_detectors_match_plain_prefix_patterns(texts, detector, priority, plain):
    found_any = False
    for text in texts:
        ctx = Context(text, CaseMapping(), known_index(None))
        found = {(c.start, c.end) for c in detector.detect(ctx) if c.priority == priority}
        assert found == plain(text), text
        found_any = found_any or bool(found)
    assert found_any


def test_trie_tails_keep_longer_words_first():
    pattern = re.compile(trie_pattern(["江海区", "江海", "江门市"], tails={"江海": "(?=法院)"}))
    assert [m.group() for m in pattern.finditer("江海区江海法院江海江门市")] == ["江海区", "江海", "江门市"]
    flat = trie_pattern(["证人", "证明"], flat=True)
    assert not flat.startswith("(?:")
    assert re.fullmatch(flat + "|第[一二]条", "第一条")
