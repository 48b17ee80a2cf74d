"""The demo province's regions and legal-aid agencies, built from the Guangdong gazetteer.

Regions: 广东省 (440000) → the 21 prefecture-level cities → their county-level divisions with the real
administrative division codes (GB/T 2260). Dongguan and Zhongshan have no districts: their towns and
sub-districts take the county slot, with nine-digit codes ``<city code><serial>`` in gazetteer order
(township-style codes, serial rather than official).

Agencies: one city-level agency per city (江门市法律援助处) and one per county-level division
(江门市蓬江区法律援助处, 台山市法律援助处 …); the towns of Dongguan and Zhongshan are served by
their city agency. Agency codes are ``GD-<city>-<nn>``: ``00`` for the city agency, then the
counties in division-code order (GD-JM-01 = 蓬江区).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def regions() -> list[RegionSpec]:
    """Province, cities and county-level divisions, parents before children."""
    out = [RegionSpec(PROVINCE_CODE, PROVINCE_NAME, "province", None)]
    for city in GUANGDONG:
        out.append(RegionSpec(city.code, city.name, "city", PROVINCE_CODE))
        for index, county in enumerate(city.counties):
            out.append(RegionSpec(county_code(city, index, county), county.name, "county", city.code))
    return out


def has_county_agencies(city: City) -> bool:
    """Cities with districts/counties have county-level agencies; Dongguan and Zhongshan do not."""
    return any(county.code != city.code for county in city.counties)


def agencies() -> list[AgencySpec]:
    """The city-level agency of every city, then its county-level agencies in division-code order."""
    out: list[AgencySpec] = []
    for city in GUANGDONG:
        short = CITY_INFO[city.name][0]
        out.append(AgencySpec(f"GD-{short}-00", f"{city.name}法律援助处", city, None, city.code))
        if not has_county_agencies(city):
            continue
        for number, county in enumerate(sorted(city.counties, key=lambda c: c.code), start=1):
            out.append(AgencySpec(f"GD-{short}-{number:02d}", people.agency_name(city, county), city, county,
                                  county.code))
    return out


def city_by_name(name: str) -> City:
    """The gazetteer city called ``name``."""
    for city in GUANGDONG:
        if city.name == name:
            return city
    raise KeyError(name)
