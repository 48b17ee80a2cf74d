"""The demo's provinces, their regions and legal-aid agencies.

Two provinces, one generator: :data:`GUANGDONG_DEMO` (the main demo province, built from the Guangdong
gazetteer the anonymiser uses) and :func:`guangxi` (a second, smaller one: three prefecture-level cities of
广西壮族自治区 with their real county-level divisions and towns, read from jionlp's national division list
— the list :mod:`evalplat.anonymise.divisions` reads). :class:`ProvinceGeo` holds what differs between them.

Regions: the province → its prefecture-level cities → their county-level divisions with the real
administrative division codes (GB/T 2260). Dongguan and Zhongshan have no districts: their towns and
sub-districts take the county slot, with nine-digit codes ``<city code><serial>`` in gazetteer order
(township-style codes, serial rather than official).

Agencies: one city-level agency per city (江门市法律援助处) and one per county-level division
(江门市蓬江区法律援助处, 台山市法律援助处 …); the towns of Dongguan and Zhongshan are served by
their city agency. Agency codes are ``<province key>-<city>-<nn>``: ``00`` for the city agency, then the
counties in division-code order (GD-JM-01 = 蓬江区, GX-NN-01 = 兴宁区).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from functools import cache

from evalplat.anonymise import divisions
from evalplat.anonymise.gazetteer import GUANGDONG, City, County

from . import people

PROVINCE_CODE = "440000"
PROVINCE_NAME = "广东省"

#: City → (two-letter code used in agency codes, pinyin used in demo usernames, relative case volume).
#: The volume weights follow population and economic size roughly (Guangzhou and Shenzhen largest).
CITY_INFO: dict[str, tuple[str, str, float]] = {
    "广州市": ("GZ", "guangzhou", 18.0), "韶关市": ("SG", "shaoguan", 2.6), "深圳市": ("SZ", "shenzhen", 17.0),
    "珠海市": ("ZH", "zhuhai", 2.8), "汕头市": ("ST", "shantou", 4.8), "佛山市": ("FS", "foshan", 8.5),
    "江门市": ("JM", "jiangmen", 4.4), "湛江市": ("ZJ", "zhanjiang", 6.3), "茂名市": ("MM", "maoming", 5.6),
    "肇庆市": ("ZQ", "zhaoqing", 3.6), "惠州市": ("HZ", "huizhou", 5.2), "梅州市": ("MZ", "meizhou", 3.5),
    "汕尾市": ("SW", "shanwei", 2.4), "河源市": ("HY", "heyuan", 2.6), "阳江市": ("YJ", "yangjiang", 2.4),
    "清远市": ("QY", "qingyuan", 3.6), "东莞市": ("DG", "dongguan", 9.5), "中山市": ("ZS", "zhongshan", 4.0),
    "潮州市": ("CZ", "chaozhou", 2.4), "揭阳市": ("JY", "jieyang", 5.0), "云浮市": ("YF", "yunfu", 2.2),
}

#: Pinyin of Jiangmen's county-level divisions, for the demo logins of their agencies' staff.
JIANGMEN_COUNTY_PINYIN: dict[str, str] = {
    "蓬江区": "pengjiang", "江海区": "jianghai", "新会区": "xinhui", "台山市": "taishan",
    "开平市": "kaiping", "鹤山市": "heshan", "恩平市": "enping",
}

#: Share of a city's cases handled by the city-level agency when the city has county agencies.
CITY_AGENCY_SHARE = 0.3

#: Third-party evaluation organisations (universities' law schools and research centres) and their city.
GUANGDONG_EVALUATOR_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("中山大学法学院", "广州市"), ("华南理工大学法学院", "广州市"), ("暨南大学法学院", "广州市"),
    ("广东外语外贸大学法学院", "广州市"), ("广东财经大学法学院", "广州市"), ("华南师范大学法学院", "广州市"),
    ("广州大学法学院", "广州市"), ("深圳大学法学院", "深圳市"), ("汕头大学法学院", "汕头市"),
    ("五邑大学政法学院", "江门市"), ("广东海洋大学法政学院", "湛江市"), ("韶关学院政法学院", "韶关市"),
    ("嘉应学院政法学院", "梅州市"), ("肇庆学院政法学院", "肇庆市"), ("惠州学院政法学院", "惠州市"),
    ("广东省法学会法律援助研究中心", "广州市"),
)


@dataclass(frozen=True, slots=True)
class ProvinceGeo:
    """What the generator needs to know of one demo province: places, sizes and naming.

    ``key`` prefixes agency codes (GD-JM-01) and the demo campaigns' sample codes (GD2024-00001);
    ``login_suffix`` is appended to the province-wide demo logins (``organiser.guangxi``) and ``login_prefix``
    to reviewers' (``gx.peer001``), so that both provinces' logins can live in one database.
    """

    key: str
    code: str
    name: str
    short: str  # the one-character abbreviation in court case numbers and plates (粤, 桂)
    cities: tuple[City, ...]
    city_info: dict[str, tuple[str, str, float]]  # city → (code letters, pinyin, relative case volume)
    evaluator_organisations: tuple[tuple[str, str], ...]
    firms: int
    lawyers: int
    peers: int
    evaluators: int
    login_suffix: str = ""
    login_prefix: str = ""
    #: a city whose county agencies' staff log in as agency.<city>.<county pinyin>, listed by demo-logins
    featured_city: str | None = None
    featured_county_pinyin: dict[str, str] = field(default_factory=dict)

    def city_by_name(self, name: str) -> City:
        """The province's city called ``name``."""
        for city in self.cities:
            if city.name == name:
                return city
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class RegionSpec:
    """A region row: code, name, level and the code of its parent."""

    code: str
    name: str
    level: str  # province / city / county
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """A legal-aid agency: where it sits and the county its cases are set in (``None``: the whole city)."""

    code: str
    name: str
    city: City
    county: County | None
    region_code: str

    @property
    def is_city_level(self) -> bool:
        return self.county is None


def county_code(city: City, index: int, county: County) -> str:
    """The region code of a county-level division (a nine-digit serial code for a Dongguan/Zhongshan town)."""
    return county.code if county.code != city.code else f"{city.code}{index + 1:03d}"


def regions(geo: ProvinceGeo | None = None) -> list[RegionSpec]:
    """Province, cities and county-level divisions, parents before children."""
    geo = geo or GUANGDONG_DEMO
    out = [RegionSpec(geo.code, geo.name, "province", None)]
    for city in geo.cities:
        out.append(RegionSpec(city.code, city.name, "city", geo.code))
        for index, county in enumerate(city.counties):
            out.append(RegionSpec(county_code(city, index, county), county.name, "county", city.code))
    return out


def has_county_agencies(city: City) -> bool:
    """Cities with districts/counties have county-level agencies; Dongguan and Zhongshan do not."""
    return any(county.code != city.code for county in city.counties)


def agencies(geo: ProvinceGeo | None = None) -> list[AgencySpec]:
    """The city-level agency of every city, then its county-level agencies in division-code order."""
    geo = geo or GUANGDONG_DEMO
    out: list[AgencySpec] = []
    for city in geo.cities:
        short = geo.city_info[city.name][0]
        out.append(AgencySpec(f"{geo.key}-{short}-00", f"{city.name}法律援助处", city, None, city.code))
        if not has_county_agencies(city):
            continue
        for number, county in enumerate(sorted(city.counties, key=lambda c: c.code), start=1):
            out.append(AgencySpec(f"{geo.key}-{short}-{number:02d}", people.agency_name(city, county), city, county,
                                  county.code))
    return out


def city_by_name(name: str) -> City:
    """The Guangdong gazetteer city called ``name``."""
    return GUANGDONG_DEMO.city_by_name(name)


GUANGDONG_DEMO = ProvinceGeo(
    key="GD", code=PROVINCE_CODE, name=PROVINCE_NAME, short="粤", cities=GUANGDONG, city_info=CITY_INFO,
    evaluator_organisations=GUANGDONG_EVALUATOR_ORGANISATIONS, firms=600, lawyers=3000, peers=150, evaluators=50,
    featured_city="江门市", featured_county_pinyin=JIANGMEN_COUNTY_PINYIN)

#: The second demo province: a few of Guangxi's prefecture-level cities. (short form in legal-aid document
#: numbers, code letters, pinyin, relative case volume)
GUANGXI_CODE = "450000"
GUANGXI_NAME = "广西壮族自治区"
GUANGXI_CITIES: dict[str, tuple[str, str, str, float]] = {
    "南宁市": ("邕", "NN", "nanning", 6.0), "柳州市": ("柳", "LZ", "liuzhou", 3.6), "北海市": ("北", "BH", "beihai", 1.6),
}
GUANGXI_EVALUATOR_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("广西大学法学院", "南宁市"), ("柳州市法学会", "柳州市"), ("广西民族大学法学院", "南宁市"), ("北海市法学会", "北海市"),
    ("广西壮族自治区法学会法律援助研究中心", "南宁市"), ("柳州市律师协会法律援助工作委员会", "柳州市"),
)


def _division_lines(province_name: str) -> list[str]:
    """The lines of jionlp's national division list under one province, villages left out."""
    path = divisions.source_path()
    if path is None:
        raise RuntimeError(f"the demo's second province needs the {divisions.SOURCE_PACKAGE!r} package "
                           f"({divisions.SOURCE_FILE}); install the project's dependencies")
    out: list[str] = []
    inside = False
    with zipfile.ZipFile(path) as archive, archive.open(archive.namelist()[0]) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if not line.startswith("\t"):
                if inside:
                    break
                inside = line.split("\t", 1)[0].strip() == province_name
            if inside and not line.startswith("\t\t\t\t"):
                out.append(line.rstrip("\r\n"))
    if not out:
        raise RuntimeError(f"{province_name} is not in {divisions.SOURCE_FILE}")
    return out


@cache
def _province_tree(province_name: str) -> dict[str, tuple[str, dict[str, tuple[str, tuple[str, ...]]]]]:
    """city name → (code, county name → (code, towns and sub-districts)), as the division list has them."""
    tree: dict[str, tuple[str, dict[str, tuple[str, tuple[str, ...]]]]] = {}
    city = county = None
    towns: dict[tuple[str, str], list[str]] = {}
    for line in _division_lines(province_name)[1:]:
        depth = len(line) - len(line.lstrip("\t"))
        fields = line.strip("\t").split("\t")
        if depth == 1:
            city = fields[0]
            tree[city] = (fields[1], {})
        elif depth == 2 and city is not None:
            county = fields[0]
            tree[city][1][county] = (fields[1], ())
            towns[(city, county)] = []
        elif depth == 3 and city is not None and county is not None and fields[0].endswith(("镇", "乡", "街道")):
            towns[(city, county)].append(fields[0])
    return {c: (code, {k: (kc, tuple(sorted(towns[(c, k)]))) for k, (kc, _) in counties.items()})
            for c, (code, counties) in tree.items()}


def towns_of(province_name: str, city: City, county: County) -> tuple[str, ...]:
    """The towns and sub-districts of a county-level division in the national list (sorted; may be empty)."""
    counties = _province_tree(province_name).get(city.name, ("", {}))[1]
    return counties.get(county.name, ("", ()))[1]


@cache
def guangxi() -> ProvinceGeo:
    """The demo's second province: Nanning, Liuzhou and Beihai with their real county-level divisions."""
    tree = _province_tree(GUANGXI_NAME)
    cities = []
    for name, (abbreviation, _letters, _pinyin, _volume) in GUANGXI_CITIES.items():
        code, counties = tree[name]
        cities.append(City(name, code, abbreviation,
                           tuple(County(k, kc) for k, (kc, _t) in sorted(counties.items(), key=lambda i: i[1][0]))))
    cities.sort(key=lambda c: c.code)
    info = {name: (letters, pinyin, volume) for name, (_a, letters, pinyin, volume) in GUANGXI_CITIES.items()}
    return ProvinceGeo(key="GX", code=GUANGXI_CODE, name=GUANGXI_NAME, short="桂", cities=tuple(cities),
                       city_info=info, evaluator_organisations=GUANGXI_EVALUATOR_ORGANISATIONS, firms=60, lawyers=300,
                       peers=30, evaluators=12, login_suffix=".guangxi", login_prefix="gx.")


def demo_provinces() -> tuple[ProvinceGeo, ...]:
    """Every demo province, the main one first."""
    return (GUANGDONG_DEMO, guangxi())


def province_of(city: City) -> ProvinceGeo:
    """The demo province a city belongs to (by the first two digits of its code)."""
    for geo in demo_provinces():
        if geo.code[:2] == city.code[:2]:
            return geo
    raise KeyError(city.code)
