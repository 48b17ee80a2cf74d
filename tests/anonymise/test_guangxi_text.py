"""The anonymiser on Guangxi text: places of the demo's second province go through jionlp's national list.

The passage is written by hand (not by the demo generator), with Guangxi's places, courts, plates, case numbers
and Zhuang surnames (韦, 覃, 农, 蒙), so that it checks the anonymiser rather than the generator's own word lists.
"""

from __future__ import annotations

import random

import pytest

from evalplat.anonymise import CaseMapping, redact
from evalplat.anonymise.evaluate import Tally, score
from evalplat.demo import geography, textgen

PASSAGE = (
    "被告人韦志勇，男，1990年5月8日出生，壮族，身份证号码450107199005081235，住南宁市西乡塘区衡阳街道明秀东路88号"
    "2栋301房，联系电话137-7123-4567。辩护人覃丽萍，广西八桂律师事务所律师，执业证号14501201510987654。"
    "邕法援〔2023〕第0123号。（2023）桂0107刑初456号。经审理查明：被告人韦志勇在柳州市鱼峰区驾驶小型轿车桂A·7K321，"
    "与被害人农秋兰驾驶的电动车相撞，致农秋兰重伤。证人蒙德辉称看见韦某驾车离开。被害人农秋兰的丈夫黄光明到场。"
    "另查明，被告人曾在合浦县廉州镇打工，后迁居融水苗族自治县。"
    "依照《中华人民共和国刑法》第一百三十三条之规定，被告人韦志勇犯交通肇事罪，判处有期徒刑一年。\n"
    "南宁市西乡塘区人民法院\n审判长 莫建华\n审判员 陆美玲\n书记员 梁海燕\n"
    "八桂所的覃律师与老韦在南宁市第二看守所见面。联系人：南宁市法律援助中心，电话0771-5512345。"
    "证人住北海市银海区。案件移送柳州市中级人民法院。三江侗族自治县公安局、横州市公安局出具情况说明。"
)
KNOWN = {"person": ["韦志勇"], "lawyer": ["覃丽萍"], "firm": ["广西八桂律师事务所"], "court": ["南宁市西乡塘区人民法院"]}
IDENTIFIERS = [
    # people (Zhuang surnames among them) and their short forms
    "韦志勇", "韦某", "老韦", "覃丽萍", "覃律师", "农秋兰", "蒙德辉", "黄光明", "莫建华", "陆美玲", "梁海燕",
    # identifiers
    "450107199005081235", "137-7123-4567", "14501201510987654", "邕法援〔2023〕第0123号", "桂0107刑初456号",
    "桂A·7K321", "0771-5512345", "明秀东路88号",
    # places: cities, districts, counties (autonomous ones too), towns and sub-districts
    "南宁", "西乡塘区", "衡阳街道", "柳州", "鱼峰区", "合浦县", "廉州镇", "融水苗族自治县", "北海", "银海区",
    "三江侗族自治县", "横州市",
    # organisations
    "广西八桂律师事务所", "八桂所", "南宁市西乡塘区人民法院", "柳州市中级人民法院", "南宁市法律援助中心",
]
LEGAL_TERMS = ["交通肇事罪", "有期徒刑一年", "《中华人民共和国刑法》", "第一百三十三条", "被告人", "辩护人", "被害人",
               "证人", "审判长", "经审理查明", "1990年", "壮族"]


@pytest.fixture(scope="module")
def passage():
    return redact(PASSAGE, KNOWN)


@pytest.mark.parametrize("needle", IDENTIFIERS)
def test_guangxi_identifier_is_gone(passage, needle):
    assert needle in PASSAGE
    assert needle not in passage.text


@pytest.mark.parametrize("term", LEGAL_TERMS)
def test_legal_substance_of_a_guangxi_passage_survives(passage, term):
    assert passage.text.count(term) >= PASSAGE.count(term)


def test_guangxi_places_become_place_or_institution_placeholders(passage):
    places = {s.original: s.placeholder for s in passage.spans}
    for name in ("合浦县", "融水苗族自治县", "廉州镇"):
        assert any(name in original for original in places), name
    assert "「地名" in passage.text


@pytest.mark.parametrize(("text", "name"), [
    # a name's last character and the next make a word (明报), but the text reads 明/报警
    ("被害人的丈夫黄光明报警。", "明"), ("包工头冉老三代表被上诉人签订合同。", "三"),
    # kinship words for relatives as a group introduce a name
    ("其亲属蓝桂芳可以作证。", "蓝桂芳"), ("他的亲戚韦小宝来过。", "韦小宝"),
])
def test_gaps_found_on_guangxi_names_are_closed(text, name):
    assert name not in redact(text, {}).text


def test_a_role_word_after_a_label_keeps_its_own_name_apart():
    """近亲属：丈夫彭祖 — the label's name is not 丈夫彭祖: the kinship word stays, the name goes."""
    r = redact("受援人/近亲属：丈夫彭祖，电话16612345678", {})
    assert "丈夫" in r.text
    assert "彭祖" not in r.text


def test_a_name_word_as_in_王明作证_still_ends_before_the_verb():
    r = redact("被告人王明作证称其不在场。", {})
    assert "作证" in r.text
    assert "王明" not in r.text


def test_the_last_name_of_a_list_before_a_verb_is_a_name_not_a_place():
    """证人覃秋菊、农永福出庭: 农 is no listed surname (a common word) and 永福 is a county's short form, but
    the list after the role word holds names of the first name's length."""
    r = redact("证人覃秋菊、农永福出庭。", {})
    assert "农" not in r.text
    assert "永福" not in r.text
    assert [s.kind for s in r.spans] == ["witness", "witness"]


def test_a_list_of_names_stops_at_the_next_role_word():
    r = redact("审判员黄卫国、书记员李明", {})
    assert "书记员" in r.text
    assert "黄卫国" not in r.text


def test_generated_guangxi_files_meet_the_quality_bar():
    """The demo's Guangxi files (generated) are redacted as well as Guangdong's."""
    guangxi = geography.guangxi()
    rng = random.Random(5)
    tally = Tally()
    for i in range(40):
        city = guangxi.cities[i % len(guangxi.cities)]
        facts = textgen.CaseFacts(textgen.CASE_TYPES[i % 4], city, rng.choice(city.counties), 2024, i + 1)
        case = textgen.generate_case(random.Random(1000 + i), facts)
        assert any(city.name in doc.text for doc in case.documents)
        mapping = CaseMapping()
        for doc in case.documents:
            r = redact(doc.text, case.known, mapping=mapping)
            planted = [(p.text, p.category if p.category != "person" else
                        ("person_known" if p.known else "person_unknown")) for p in case.planted]
            score(doc.text, r.spans, planted, tally, case.legal_terms, r.text)
    for category in ("id_card", "phone", "bank_card", "plate", "licence", "case_number", "legal_aid_number",
                     "address", "org", "person_known"):
        if tally.found[category] + tally.missed[category]:
            assert tally.recall(category) == 1.0, (category, tally.missed_examples[:5])
    assert tally.recall("place") >= 0.99, tally.missed_examples[:5]
    assert tally.recall("person_unknown") >= 0.95
    assert tally.terms_damaged == 0
