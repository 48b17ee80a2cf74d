"""Deterministic generators of Chinese people, places of the demo provinces, institutions and identifiers.

Every function takes a seeded :class:`random.Random`, so the same seed gives the same demo data.
Identifiers are well-formed (ID numbers carry a valid check character, bank cards a valid Luhn
digit) but random: they may coincide with real ones only by chance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

from evalplat.anonymise.gazetteer import GUANGDONG, City, County
from evalplat.anonymise.lexicon import SURNAME_WEIGHTS
from evalplat.anonymise.structured import id_check_char, luhn_ok

_SURNAMES = [s for s, _ in SURNAME_WEIGHTS]
_SURNAME_CUM = list(accumulate(w for _, w in SURNAME_WEIGHTS))
_COMPOUND = ("欧阳", "司徒", "上官", "诸葛")
_MALE = "伟强军志明华国建文杰俊浩宇峰辉斌涛鹏亮东海波勇家豪锦荣耀永健德康振兴嘉祖柏源晓天铭泽骏瑞卓锋坤灿森林炳桂添权"
_FEMALE = "芳丽敏静燕红梅霞玲婷慧洁琳颖欣雪妍怡萍凤英秀兰娟莉倩嘉雅诗晓丹思淑碧彩惠玉珍翠"

AREA_CODES = {
    "广州市": "020", "韶关市": "0751", "深圳市": "0755", "珠海市": "0756", "汕头市": "0754", "佛山市": "0757",
    "江门市": "0750", "湛江市": "0759", "茂名市": "0668", "肇庆市": "0758", "惠州市": "0752", "梅州市": "0753",
    "汕尾市": "0660", "河源市": "0762", "阳江市": "0662", "清远市": "0763", "东莞市": "0769", "中山市": "0760",
    "潮州市": "0768", "揭阳市": "0663", "云浮市": "0766",
    "南宁市": "0771", "柳州市": "0772", "北海市": "0779",
}
PLATE_LETTERS = {
    "广州市": "A", "深圳市": "B", "珠海市": "C", "汕头市": "D", "佛山市": "E", "韶关市": "F", "湛江市": "G",
    "肇庆市": "H", "江门市": "J", "茂名市": "K", "惠州市": "L", "梅州市": "M", "汕尾市": "N", "河源市": "P",
    "阳江市": "Q", "清远市": "R", "东莞市": "S", "中山市": "T", "潮州市": "U", "揭阳市": "V", "云浮市": "W",
    "南宁市": "A", "柳州市": "B", "北海市": "E",
}
#: First two digits of a division code → (one-character abbreviation, short name) of the province.
PROVINCES: dict[str, tuple[str, str]] = {"44": ("粤", "广东"), "45": ("桂", "广西")}
_TOWNS = ("城东街道", "城西街道", "环城街道", "新城镇", "石桥镇", "龙山镇", "东山街道", "白沙街道", "沙湖镇", "大江镇",
          "棠下镇", "杜阮镇", "荷塘镇", "会城街道", "大泽镇", "水步镇", "长沙街道", "三埠街道", "沙坪街道", "址山镇",
          "君堂镇", "潮连街道", "礼乐街道", "崖门镇", "北陡镇", "赤溪镇", "那扶镇", "月山镇", "共和镇", "雅瑶镇")
_ROADS = ("建设路", "人民路", "解放路", "胜利路", "跃进路", "迎宾大道", "港口路", "东华路", "育德街", "北新区路",
          "华园路", "发展大道", "江华路", "桥湖路", "台城大道", "长堤路", "金山路", "江门大道", "新民路", "朝阳街",
          "兴业路", "幸福路", "光明路", "青年路", "文化路", "工业大道", "环市路", "沿江路", "振兴路", "和平路")
_VILLAGES = ("南坑村", "大朗村", "石岗村", "新围村", "上塘村", "龙溪村", "黄泥村", "冲口村", "井根村", "浮石村")
_FIRM_CORES = ("江海", "华商", "金桥", "正平", "粤海", "德衡", "泰和", "明思", "卓信", "诚公", "立行", "众合", "信达",
               "广和", "国智", "南天", "中联", "凯源", "穗江", "五邑", "侨乡", "天平", "法盈", "恒诚", "嘉仁", "宏图")
#: Firm-name cores of Guangxi firms (Guangdong's list names Guangdong places: 五邑, 侨乡, 穗江).
_GUANGXI_FIRM_CORES = ("邕江", "八桂", "桂海", "绿城", "龙城", "南珠", "正大", "明理", "恒信", "万益", "同望", "创想",
                       "瀚德", "欣和", "百举鸣", "天平", "信达", "中司", "国海", "桂三力", "海湾", "通诚")
_COMPANY_CORES = ("恒达", "永盛", "新兴隆", "华泰", "利源", "金源", "宏发", "顺昌", "海联", "鸿运", "德胜", "盈丰")
_COMPANY_TRADES = ("五金制品", "电子科技", "建筑工程", "物流", "纺织", "家具", "食品", "装饰工程", "塑料制品", "贸易")


@dataclass(frozen=True, slots=True)
class Person:
    """A generated person with the identifiers a case file records."""

    name: str
    sex: str  # "男" or "女"
    birth: tuple[int, int, int]
    id_number: str
    phone: str
    address: str


def surname(rng: random.Random) -> str:
    """A surname drawn by Guangdong frequency; one in a hundred is a two-character surname."""
    if rng.random() < 0.01:
        return rng.choice(_COMPOUND)
    return rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]


def person_name(rng: random.Random, sex: str | None = None) -> str:
    """A full name of 2 or 3 characters (3 or 4 with a two-character surname)."""
    sex = sex or rng.choice("男女")
    chars = _MALE if sex == "男" else _FEMALE
    given = rng.choice(chars) if rng.random() < 0.25 else rng.choice(chars) + rng.choice(chars)
    return surname(rng) + given


def place(rng: random.Random, city: City | None = None) -> tuple[City, County]:
    """A city (weighted by county count) and one of its counties."""
    city = city or rng.choice(GUANGDONG)
    return city, rng.choice(city.counties)


def province_short(city: City) -> str:
    """The one-character abbreviation of the city's province (粤, 桂)."""
    return PROVINCES[city.code[:2]][0]


def province_name(city: City) -> str:
    """The short name of the city's province (广东, 广西)."""
    return PROVINCES[city.code[:2]][1]


def _towns(city: City | None, county: County | None) -> tuple[str, ...]:
    """Towns to draw from: the county's real towns outside Guangdong, the generic list in Guangdong."""
    if city is None or county is None or city.code.startswith("44"):
        return _TOWNS
    from .geography import province_of, towns_of

    return towns_of(province_of(city).name, city, county) or _TOWNS


def town(rng: random.Random, city: City | None = None, county: County | None = None) -> str:
    """A town or sub-district name (镇/街道), of the county where the division list has them."""
    return rng.choice(_towns(city, county))


def address(rng: random.Random, city: City, county: County) -> str:
    """A street-level address: city, county, town, road or village, house, building and room."""
    head = city.name + (county.name if county.name != city.name else "") + rng.choice(_towns(city, county))
    if rng.random() < 0.7:
        tail = f"{rng.choice(_ROADS)}{rng.randint(1, 300)}号"
        if rng.random() < 0.6:
            tail += f"{rng.randint(1, 30)}栋{rng.randint(1, 30)}0{rng.randint(1, 8)}房"
    else:
        tail = f"{rng.choice(_VILLAGES)}{rng.randint(1, 120)}号"
    return head + tail


def birth_date(rng: random.Random, lo: int = 1950, hi: int = 2004) -> tuple[int, int, int]:
    """A birth date as (year, month, day)."""
    return rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28)


def id_number(rng: random.Random, county: County, birth: tuple[int, int, int], sex: str) -> str:
    """An 18-character resident ID number with a valid check character (lower-case x now and then)."""
    seq = rng.randint(0, 99) * 10 + (rng.choice((1, 3, 5, 7, 9)) if sex == "男" else rng.choice((0, 2, 4, 6, 8)))
    body = f"{county.code}{birth[0]:04d}{birth[1]:02d}{birth[2]:02d}{seq:03d}"
    check = id_check_char(body)
    if check == "X" and rng.random() < 0.3:
        check = "x"
    return body + check


def mobile(rng: random.Random) -> str:
    """A mobile number, written plainly or with spaces or dashes."""
    digits = rng.choice("3456789")
    number = f"1{digits}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
    style = rng.random()
    if style < 0.6:
        return number
    sep = " " if style < 0.8 else "-"
    return f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"


def landline(rng: random.Random, city: City) -> str:
    """A landline with the city's area code, as 0750-3201234 or (0750)3201234."""
    code = AREA_CODES[city.name]
    local = f"{rng.randint(2, 8)}{rng.randint(0, 9999999):07d}" if code in ("020", "0755") else \
        f"{rng.randint(2, 8)}{rng.randint(0, 999999):06d}"
    return f"{code}-{local}" if rng.random() < 0.7 else f"({code}){local}"


def plate(rng: random.Random, city: City) -> str:
    """A vehicle plate of the city, such as 粤J·3K582 or 粤JD12345 (new-energy)."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(rng.choice("0123456789" + letters[:6]) if i == 1 else str(rng.randint(0, 9)) for i in range(5))
    if rng.random() < 0.2:
        tail = rng.choice("DF") + f"{rng.randint(0, 99999):05d}"
    sep = "·" if rng.random() < 0.5 else ""
    return f"{province_short(city)}{PLATE_LETTERS[city.name]}{sep}{tail}"


def bank_card(rng: random.Random) -> str:
    """A 16- or 19-digit bank-card number with a valid Luhn check digit."""
    prefix = rng.choice(("622202", "621700", "622848", "621226", "622588"))
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((9, 12))))
    return next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))


def licence_number(rng: random.Random, city: City) -> str:
    """A 17-digit lawyer licence number: 1, region, year first licensed, sex digit, serial."""
    return f"1{city.code[:4]}{rng.randint(1998, 2020)}{rng.randint(0, 1)}{rng.randint(0, 9999999):07d}"


def email(rng: random.Random) -> str:
    """A personal e-mail address."""
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 8)))
    return f"{user}{rng.randint(1, 999)}@{rng.choice(('qq.com', '163.com', '126.com', 'sina.com'))}"


def person(rng: random.Random, city: City, county: County, sex: str | None = None,
           lo: int = 1950, hi: int = 2004) -> Person:
    """A person living in the county, with ID number, phone and address."""
    sex = sex or rng.choice("男女")
    birth = birth_date(rng, lo, hi)
    return Person(person_name(rng, sex), sex, birth, id_number(rng, county, birth, sex), mobile(rng),
                  address(rng, city, county))


def local_prefix(city: City, county: County) -> str:
    """City + county prefix of an institution (台山市 stands alone; 蓬江区 takes 江门市 before it)."""
    return county.name if county.name.endswith("市") else city.name + county.name


def firm_name(rng: random.Random, city: City) -> str:
    """A law-firm name (广东江海律师事务所, 广东华商（江门）律师事务所, 江门市五邑律师事务所, 广西…律师事务所)."""
    core = rng.choice(_FIRM_CORES if city.code.startswith("44") else _GUANGXI_FIRM_CORES)
    style = rng.random()
    if style < 0.5:
        return f"{province_name(city)}{core}律师事务所"
    if style < 0.7:
        return f"{province_name(city)}{core}（{city.stem}）律师事务所"
    return f"{city.name}{core}律师事务所"


def company_name(rng: random.Random, city: City) -> str:
    """A company name (江门市恒达五金制品有限公司)."""
    return f"{city.name}{rng.choice(_COMPANY_CORES)}{rng.choice(_COMPANY_TRADES)}有限公司"


def court_name(city: City, county: County, level: str = "basic") -> str:
    """The basic or intermediate people's court of the place."""
    if level == "intermediate":
        return f"{city.name}中级人民法院"
    if county.name.endswith(("街道", "镇")):
        return f"{city.name}第一人民法院"
    return f"{local_prefix(city, county)}人民法院"


def procuratorate_name(city: City, county: County) -> str:
    """The people's procuratorate of the place."""
    if county.name.endswith(("街道", "镇")):
        return f"{city.name}第一市区人民检察院"
    return f"{local_prefix(city, county)}人民检察院"


def police_name(city: City, county: County) -> str:
    """The public security bureau (or its district branch) of the place."""
    if county.name.endswith("区"):
        return f"{city.name}公安局{county.stem}分局"
    if county.name.endswith(("街道", "镇")):
        return f"{city.name}公安局{county.stem}分局"
    return f"{county.name}公安局"


def agency_name(city: City, county: County) -> str:
    """The legal-aid agency of the place."""
    if county.name.endswith(("街道", "镇")):
        return f"{city.name}法律援助处"
    return f"{local_prefix(city, county)}法律援助处"


def court_code(city: City, county: County) -> str:
    """Digits after 粤/桂 in a basic court's case number (蓬江区 → 0703, a Dongguan town → 1901)."""
    return city.court_code + "01" if county.code == city.code else county.code[2:6]
