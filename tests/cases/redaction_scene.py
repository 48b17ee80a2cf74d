"""A campaign whose cases carry real names everywhere a reviewer could meet them, redacted through the real path.

Four cities, one agency each, two criminal cases per agency. Every case has parties, a lawyer and a firm
with distinctive names; its cause and result name the client; its two documents (a judgment and meeting
notes) name everyone. The documents are stored, extracted and redacted by the platform's own operations,
then the organiser approves each case, so reviewers are offered them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from results.flow_support import NOW, campaign_in_scoring

CITIES = ("江门市", "韶关市", "湛江市", "肇庆市")
COUNTIES = ("蓬江区", "武江区", "赤坎区", "端州区")
CLIENTS = ("冼志明", "甄美玲", "区伟强", "麦嘉欣", "欧阳振华", "司徒文杰", "黄海涛", "梁晓燕")
OPPONENTS = ("周建国", "钱丽华", "孙立新", "吴海燕", "郑国强", "冯雪梅", "陈志远", "褚红霞")
LAWYERS = ("温家明", "邝少华", "岑永康", "邓惠芳")
FIRMS = ("广东星河律师事务所", "广东金辉律师事务所", "广东南粤律师事务所", "广东端砚律师事务所")


@dataclass
class Scene:
    organiser: Any
    campaign: Any
    cases: list[Any]
    staff: list[Any]
    reviewers: list[Any]
    # per case id: every string a reviewer of that case must never read
    secrets: dict[int, set[str]] = field(default_factory=dict)


def judgment(case: Any, client: str, opponent: str, lawyer: str, firm: str, agency: str, city: str,
             county: str) -> str:
    return (f"{city}{county}人民法院\n刑事判决书\n（2024）粤0703刑初{case.id}号\n"
            f"公诉机关{city}{county}人民检察院。\n被告人{client}，男，1990年5月3日出生。\n"
            f"辩护人{lawyer}，{firm}律师，由{agency}指派。\n"
            f"被害人{opponent}。\n本院认为，被告人{client}的行为构成盗窃罪。{client}当庭认罪。\n")


def meeting_notes(client: str, lawyer: str, firm: str) -> str:
    return (f"会见笔录\n会见人：{lawyer}（{firm}）\n被会见人：{client}\n"
            f"问：你是{client}吗？\n答：是。\n{lawyer}律师告知了诉讼权利。\n")


def build_scene(db: Any, make_region: Any, make_agency: Any, make_firm: Any, make_lawyer: Any, make_case: Any,
                make_reviewer: Any, make_user: Any, *, approve: bool = True) -> Scene:
    from evalplat.accounts.models import Role
    from evalplat.cases import importer
    from evalplat.cases.models import CaseParty, PartyRole
    from evalplat.cases.operations import approve_redaction, process_document
    from evalplat.services import get_storage

    s = db.session
    organiser = make_user(Role.ORGANISER)
    cities = [make_region(name, "city") for name in CITIES]
    counties = [make_region(name, "county", parent=city) for name, city in zip(COUNTIES, cities, strict=True)]
    agencies = [make_agency(f"{city.name}{county.name}法律援助处", city=city, region=county)
                for city, county in zip(cities, counties, strict=True)]
    firms = [make_firm(name, city=city) for name, city in zip(FIRMS, cities, strict=True)]
    lawyers = [make_lawyer(name, firm=firm) for name, firm in zip(LAWYERS, firms, strict=True)]
    cases, secrets = [], {}
    for i, (agency, lawyer, city, county) in enumerate(zip(agencies, lawyers, cities, counties, strict=True)):
        for j in range(2):
            client, opponent = CLIENTS[2 * i + j], OPPONENTS[2 * i + j]
            case = make_case(agency=agency, case_type="criminal", lawyer=lawyer, released=False,
                             cause=f"{client}盗窃罪", stage_reached="审查起诉、一审",
                             result=f"{client}被{city.name}{county.name}人民法院判处有期徒刑一年")
            for role, name in ((PartyRole.CLIENT, client), (PartyRole.VICTIM, opponent)):
                party = CaseParty(case_id=case.id, role=role)
                party.name = name
                s.add(party)
            s.flush()
            for name, text in (("判决书.txt", judgment(case, client, opponent, lawyer.name, lawyer.firm.name,
                                                      agency.name, city.name, county.name)),
                               ("会见笔录.txt", meeting_notes(client, lawyer.name, lawyer.firm.name))):
                document = importer.add_document(s, case_id=case.id, data=text.encode("utf-8"), filename=name,
                                                 storage=get_storage())
                s.flush()
                process_document(s, document.id)
            cases.append(case)
            secrets[case.id] = {client, opponent, lawyer.name, lawyer.firm.name, agency.name, city.name,
                                county.name, case.case_number}
    if approve:
        for case in cases:
            approve_redaction(s, actor=organiser, case=case)
    reviewers = [make_reviewer("peer", city=c, capacity=10) for c in cities for _ in range(3)]
    staff = [make_user(Role.AGENCY_STAFF, agency=a) for a in agencies]
    campaign = campaign_in_scoring(s, organiser, name="2024 脱敏评估", code_prefix="R2024")
    return Scene(organiser, campaign, cases, staff, reviewers, secrets)


def samples(db: Any, campaign: Any) -> list[Any]:
    from evalplat.campaigns.models import Sample

    return list(db.session.scalars(sa.select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id)))


def later(days: int) -> datetime:
    return NOW + timedelta(days=days)
