"""Realistic Chinese case files for demo cases, with the ground truth of what identifies whom.

``generate_case(rng, facts)`` returns the documents of one closed legal-aid case (申请表, 指派函,
会见笔录, 辩护词/代理词, 判决书, 结案报告) together with the names the case metadata knows (the
``known`` argument of :func:`evalplat.anonymise.redact`) and every identifying string planted in
the text, by category, so that tests and benches can measure recall and precision.
Pure and deterministic: the same seed gives the same files.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from evalplat.anonymise.gazetteer import City, County

from . import people as pp

CASE_TYPES = ("criminal", "civil", "administrative", "non_litigation")

#: (charge, article of the Criminal Law, typical facts)
CHARGES: tuple[tuple[str, str, str], ...] = (
    ("盗窃罪", "第二百六十四条", "趁无人注意，秘密窃取{victim}放置在店内的手机一部及现金{amount}元"),
    ("故意伤害罪", "第二百三十四条", "因琐事与{victim}发生争执，持木棍殴打{victim}头部，致其轻伤二级"),
    ("诈骗罪", "第二百六十六条", "以介绍工作为名，骗取{victim}人民币{amount}元"),
    ("危险驾驶罪", "第一百三十三条之一", "醉酒后驾驶小型轿车{plate}在道路上行驶，经检测血液酒精含量为168mg/100ml"),
    ("交通肇事罪", "第一百三十三条", "驾驶货车{plate}未按规定让行，与{victim}驾驶的电动车相撞，致{victim}重伤"),
    ("寻衅滋事罪", "第二百九十三条", "酒后在大排档随意殴打{victim}，致其轻微伤"),
    ("帮助信息网络犯罪活动罪", "第二百八十七条之二", "明知他人利用信息网络实施犯罪，仍将本人银行卡{card}出租给他人使用，"
     "该卡流水达{amount}元"),
    ("掩饰、隐瞒犯罪所得罪", "第三百一十二条", "明知是犯罪所得的摩托车，仍以{amount}元价格予以收购"),
    ("开设赌场罪", "第三百零三条", "在出租屋内设置赌台，组织他人赌博，抽头渔利{amount}元"),
    ("故意毁坏财物罪", "第二百七十五条", "因债务纠纷砸毁{victim}的小汽车{plate}，造成损失{amount}元"),
)
#: (cause, legal basis, claim)
CIVIL_CAUSES: tuple[tuple[str, str, str], ...] = (
    ("劳动争议", "《中华人民共和国劳动合同法》第四十七条、第八十七条", "违法解除劳动合同赔偿金"),
    ("追索劳动报酬纠纷", "《中华人民共和国劳动合同法》第三十条", "拖欠工资"),
    ("民间借贷纠纷", "《中华人民共和国民法典》第六百七十五条、第六百七十六条", "借款本金及利息"),
    ("机动车交通事故责任纠纷", "《中华人民共和国民法典》第一千二百零八条、《中华人民共和国道路交通安全法》第七十六条",
     "医疗费、误工费、护理费"),
    ("离婚纠纷", "《中华人民共和国民法典》第一千零七十九条、第一千零八十四条", "子女抚养费"),
    ("抚养费纠纷", "《中华人民共和国民法典》第一千零八十五条", "抚养费"),
    ("赡养费纠纷", "《中华人民共和国民法典》第一千零六十七条", "赡养费"),
    ("工伤保险待遇纠纷", "《工伤保险条例》第三十七条", "一次性伤残补助金"),
)
ADMIN_CAUSES: tuple[tuple[str, str], ...] = (
    ("工伤认定", "《中华人民共和国行政诉讼法》第七十条"),
    ("行政处罚", "《中华人民共和国治安管理处罚法》第四十三条"),
    ("最低生活保障", "《中华人民共和国行政诉讼法》第六十九条"),
)
SENTENCES = ("有期徒刑六个月", "有期徒刑一年", "有期徒刑一年六个月", "有期徒刑三年，缓刑四年", "拘役四个月",
             "有期徒刑八个月，并处罚金人民币二千元", "有期徒刑二年三个月，并处罚金人民币五千元")
RELATIONS = ("母亲", "父亲", "妻子", "丈夫", "姐姐", "哥哥", "儿子", "女儿")
FEMALE_RELATIONS = frozenset({"母亲", "妻子", "姐姐", "女儿"})


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The facts a demo case's files are written from."""

    case_type: str
    city: City
    county: County
    year: int
    seq: int

    def __post_init__(self) -> None:
        if self.case_type not in CASE_TYPES:
            raise ValueError(f"case_type must be one of {CASE_TYPES}, got {self.case_type!r}")


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a case file."""

    kind: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Planted:
    """An identifying string written into the documents."""

    text: str
    category: str  # person, org, place, address, id_card, phone, email, bank_card, plate, licence, …
    known: bool  # named in the case metadata (``CaseFile.known``)


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A generated case: facts, documents, metadata names and ground truth."""

    facts: CaseFacts
    documents: tuple[Document, ...]
    known: dict[str, list[str]]
    planted: tuple[Planted, ...]
    legal_terms: tuple[str, ...] = field(default=())


class _Truth:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], bool] = {}

    def __call__(self, text: str, category: str, known: bool = False) -> str:
        self.items[(text, category)] = self.items.get((text, category), False) or known
        return text


def random_facts(rng: random.Random, case_type: str | None = None, year: int | None = None) -> CaseFacts:
    """Facts for a random case: type, place, year and sequence number."""
    city, county = pp.place(rng)
    return CaseFacts(case_type or rng.choice(CASE_TYPES), city, county, year or rng.randint(2021, 2024),
                     rng.randint(1, 2999))


def _date(rng: random.Random, year: int, lo: int = 1, hi: int = 12) -> str:
    return f"{year}年{rng.randint(lo, hi)}月{rng.randint(1, 28)}日"


def generate_case(rng: random.Random, facts: CaseFacts | None = None) -> CaseFile:
    """Write the documents of one case.

    Parameters
    ----------
    rng : random.Random
        Seeded generator; the only source of randomness.
    facts : CaseFacts, optional
        Case type, place, year; drawn from ``rng`` when omitted.

    Returns
    -------
    CaseFile
        Documents, ``known`` names for :func:`evalplat.anonymise.redact`, and the planted truth.
    """
    f = facts or random_facts(rng)
    t = _Truth()
    city, county, year = f.city, f.county, f.year
    client = pp.person(rng, city, county, hi=2002)
    cname = t(client.name, "person", True)
    lawyer = t(pp.person_name(rng), "person", True)
    firm = t(pp.firm_name(rng, city), "org", True)
    agency = t(pp.agency_name(city, county), "org", True)
    court = t(pp.court_name(city, county), "org", True)
    staff = t(pp.person_name(rng), "person")
    judge, judge2, clerk = (t(pp.person_name(rng), "person") for _ in range(3))
    relation = rng.choice(RELATIONS)
    relative = t(pp.person_name(rng, "女" if relation in FEMALE_RELATIONS else "男"), "person")
    witness = t(pp.person_name(rng), "person")
    t(client.id_number, "id_card")
    t(client.phone, "phone")
    t(client.address, "address")
    lawyer_phone = t(pp.mobile(rng), "phone")
    licence = t(pp.licence_number(rng, city), "licence")
    agency_phone = t(pp.landline(rng, city), "phone")
    lawyer_mail = t(pp.email(rng), "email")
    town = pp.town(rng, city, county)
    t(county.name, "place")
    t(city.name, "place")
    aid_no = t(f"{city.abbreviation}法援〔{year}〕第{f.seq:04d}号", "legal_aid_number")
    kind_code = {"criminal": "刑初", "civil": "民初", "administrative": "行初", "non_litigation": "民初"}[f.case_type]
    open_br, close_br = ("（", "）") if rng.random() < 0.6 else ("(", ")")
    case_no = t(f"{open_br}{year}{close_br}{pp.province_short(city)}{pp.court_code(city, county)}{kind_code}{rng.randint(1, 9999)}号",
                "case_number")
    d_apply, d_assign = _date(rng, year, 1, 3), _date(rng, year, 3, 4)
    d_meet, d_trial, d_judg, d_close = (_date(rng, year, 5, 6), _date(rng, year, 7, 8), _date(rng, year, 9, 10),
                                        _date(rng, year, 11, 12))
    amount = rng.choice((3200, 5800, 12000, 26000, 48000, 86000, 150000))
    legal: list[str] = []
    known = {"person": [cname], "lawyer": [lawyer], "firm": [firm], "agency": [agency], "court": [court]}
    # Guangxi's files name Zhuang clients too (a draw only there, so Guangdong's files stay as they were)
    ethnicity = "汉族" if city.code.startswith("44") or rng.random() < 0.6 else "壮族"
    header = (f"{cname}，{client.sex}，{client.birth[0]}年{client.birth[1]}月{client.birth[2]}日出生，{ethnicity}，"
              f"身份证号码{client.id_number}，住{client.address}，联系电话{client.phone}")
    apply_text = (
        f"法律援助申请表\n申请人：{cname}  性别：{client.sex}  身份证号：{client.id_number}\n"
        f"住所地：{client.address}\n联系电话：{client.phone}\n"
        f"代理人/近亲属：{relation}{relative}，电话{t(pp.mobile(rng), 'phone')}\n"
        f"申请事项：因{{matter}}，申请人经济困难，无力委托律师，特向{agency}申请法律援助。\n"
        f"申请日期：{d_apply}   受理人：{staff}\n"
    )
    assign_text = (
        f"法律援助指派函\n{aid_no}\n{firm}：\n"
        f"根据《中华人民共和国法律援助法》第二十六条之规定，本处决定指派你所{lawyer}律师"
        f"（执业证号{licence}）为受援人{cname}{{role}}。请于接到本函之日起五日内与受援人签订委托协议，"
        f"并将办理情况及时报告本处。\n联系人：{staff}，电话：{agency_phone}\n{agency}\n{d_assign}\n"
    )
    if f.case_type == "criminal":
        charge, article, fact = rng.choice(CHARGES)
        victim = t(pp.person_name(rng), "person")
        t(town, "place")
        prosecutor = t(pp.person_name(rng), "person")
        procur = t(pp.procuratorate_name(city, county), "org")
        police = t(pp.police_name(city, county), "org")
        plate, card = pp.plate(rng, city), pp.bank_card(rng)
        sentence = rng.choice(SENTENCES)
        deed = fact.format(victim=victim, amount=amount, plate=plate, card=card)
        for value, category in ((plate, "plate"), (card, "bank_card")):
            if value in deed:
                t(value, category)
        legal += [charge, article, "有期徒刑" if "有期徒刑" in sentence else "拘役", "第六十七条第三款"]
        matter = f"涉嫌{charge}被{police}刑事拘留"
        role = "提供刑事辩护"
        meet = (
            f"会见笔录\n时间：{d_meet}  地点：{city.name}看守所\n会见人：{lawyer}律师  被会见人：{cname}\n"
            f"问：我是{firm}的律师{lawyer}，受{agency}指派担任你的辩护人，你是否同意？\n答：同意。\n"
            f"问：你的个人情况？\n答：我叫{cname}，身份证号{client.id_number}，住{client.address}。\n"
            f"问：请讲一下案件经过。\n答：{d_meet[:5]}某日，我在{county.name}{town}{deed}。当时证人{witness}也在场。\n"
            f"问：家里还有什么人？\n答：我{relation}{relative}，电话{client.phone}，希望家人能帮我向{victim}赔偿取得谅解。\n"
            f"问：你是否愿意认罪认罚？\n答：愿意。\n"
        )
        opinion = (
            f"辩护词\n审判长、审判员：\n{firm}接受{agency}指派，指派{lawyer}律师担任被告人{cname}的辩护人。"
            f"辩护人对公诉机关指控被告人犯{charge}的罪名不持异议，但认为对被告人应当从轻处罚，理由如下：\n"
            f"一、被告人归案后如实供述自己的罪行，依照《中华人民共和国刑法》第六十七条第三款的规定，可以从轻处罚。\n"
            f"二、被告人已赔偿被害人{victim}的经济损失{amount}元，取得了被害人的谅解。\n"
            f"三、被告人系初犯、偶犯，自愿认罪认罚。综上，请求法庭对被告人从轻处罚。\n辩护人：{lawyer}\n{d_trial}\n"
        )
        judgment = (
            f"{court}\n刑事判决书\n{case_no}\n公诉机关{procur}。\n被告人{header}。因涉嫌犯{charge}于{d_apply}被"
            f"{police}刑事拘留。\n辩护人{lawyer}，{firm}律师。\n{procur}以起诉书指控被告人{cname}犯{charge}，"
            f"于{d_trial}向本院提起公诉。本院依法组成合议庭，公开开庭审理了本案。{procur}指派检察员{prosecutor}出庭支持公诉。\n"
            f"经审理查明：被告人{cname}{deed}。证人{witness}的证言、被害人{victim}的陈述证实上述事实。\n"
            f"本院认为，被告人{cname}的行为已构成{charge}。被告人到案后如实供述罪行，依法可以从轻处罚。依照《中华人民共和国刑法》"
            f"{article}、第六十七条第三款之规定，判决如下：\n被告人{cname}犯{charge}，判处{sentence}。\n"
            f"审判长 {judge}\n审判员 {judge2}\n{d_judg}\n书记员 {clerk}\n"
        )
        outcome = f"判处{sentence}"
    else:
        opponent_is_company = f.case_type in ("civil", "non_litigation") and rng.random() < 0.5
        if f.case_type == "administrative":
            cause, basis = rng.choice(ADMIN_CAUSES)
            claim = "撤销被诉行政行为"
            opponent = t(f"{pp.local_prefix(city, county)}人力资源和社会保障局" if cause == "工伤认定"
                         else pp.police_name(city, county), "org", True)
        else:
            cause, basis, claim = rng.choice(CIVIL_CAUSES)
            opponent = t(pp.company_name(rng, city), "org", True) if opponent_is_company else \
                t(pp.person_name(rng), "person", True)
        known.setdefault("org" if opponent.endswith(("公司", "局")) else "person", []).append(opponent)
        legal += [cause, basis.split("》")[0] + "》"]
        card = t(pp.bank_card(rng), "bank_card")
        car_plate = t(pp.plate(rng, city), "plate") if "交通" in cause else None
        matter = f"与{opponent}{cause}"
        role = "提供诉讼代理" if f.case_type != "non_litigation" else "提供非诉讼代理"
        extra = f"事故车辆为{car_plate}，" if car_plate else ""
        meet = (
            f"谈话笔录\n时间：{d_meet}  地点：{firm}会议室\n谈话人：{lawyer}  被谈话人：{cname}\n"
            f"问：请讲一下与{opponent}的纠纷经过。\n答：{extra}对方欠我{claim}共计{amount}元，一直没有支付。"
            f"我的工资原来都是打到我的银行卡{card}上，我{relation}{relative}和同事{witness}都知道这件事。\n"
            f"问：你有哪些证据？\n答：有转账记录、微信聊天记录，{witness}可以作证，他的电话是{t(pp.mobile(rng), 'phone')}。\n"
            f"问：你的联系方式？\n答：手机{client.phone}，邮箱可以发到律师的邮箱{lawyer_mail}。\n"
        )
        opinion = (
            f"代理词\n审判长、审判员：\n{firm}依法接受{agency}指派，由{lawyer}律师担任原告{cname}的诉讼代理人。"
            f"现发表如下代理意见：\n一、本案系{cause}，{opponent}应承担{claim}共计人民币{amount}元的责任，依据为{basis}。\n"
            f"二、证人{witness}的证言与转账记录相互印证，足以证明原告的主张，请求法院依法支持原告的全部诉讼请求。\n"
            f"代理人：{lawyer}  电话：{lawyer_phone}\n{d_trial}\n"
        )
        doc_name = {"administrative": "行政判决书", "civil": "民事判决书", "non_litigation": "民事调解书"}[f.case_type]
        judgment = (
            f"{court}\n{doc_name}\n{case_no}\n原告：{header}。\n委托诉讼代理人：{lawyer}，{firm}律师。\n"
            f"被告：{opponent}。\n原告{cname}与被告{opponent}{cause}一案，本院于{d_trial}公开开庭进行了审理。\n"
            f"本院经审理查明：{extra}被告尚欠原告{claim}{amount}元，原告通过银行卡{card}收取部分款项。证人{witness}出庭作证。\n"
            f"本院认为，依照{basis}的规定，判决如下：被告于本判决生效之日起十日内向原告支付人民币{amount}元。\n"
            f"案件受理费由被告负担。\n审判长 {judge}\n审判员 {judge2}\n{d_judg}\n书记员 {clerk}\n"
        )
        outcome = f"被告支付人民币{amount}元"
    close = (
        f"法律援助案件结案报告\n案号：{case_no}  法援文号：{aid_no}\n受援人：{cname}，住{client.address}\n"
        f"承办律师：{lawyer}（{firm}，执业证号{licence}，电话{lawyer_phone}，邮箱{lawyer_mail}）\n"
        f"办理情况：承办律师于{d_meet}会见（约见）受援人，于{d_trial}出庭，向{court}提交书面意见。\n"
        f"结果：{outcome}。受援人对服务表示满意。\n{agency}审查人：{staff}  {d_close}\n"
    )
    documents = (
        Document("application", "法律援助申请表", apply_text.replace("{matter}", matter)),
        Document("assignment", "法律援助指派函", assign_text.replace("{role}", role)),
        Document("meeting", "会见笔录" if f.case_type == "criminal" else "谈话笔录", meet),
        Document("opinion", "辩护词" if f.case_type == "criminal" else "代理词", opinion),
        Document("judgment", "判决书", judgment),
        Document("closing", "结案报告", close),
    )
    planted = tuple(Planted(text, cat, kn) for (text, cat), kn in t.items.items())
    return CaseFile(f, documents, known, planted, tuple(legal))


def generate_cases(n: int, seed: int = 0) -> Iterator[CaseFile]:
    """``n`` cases from one seed (each case from its own derived generator, so case i is stable)."""
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    for i in range(n):
        yield generate_case(random.Random(seed * 1_000_003 + i))
