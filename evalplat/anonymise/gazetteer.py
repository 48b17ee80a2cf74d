"""Guangdong's administrative geography: the 21 prefecture-level cities and their districts,
county-level cities and counties (towns and sub-districts for Dongguan and Zhongshan, which have
no districts), with the six-digit division codes that ID-card numbers and court case numbers use.

Source: the administrative division codes of the People's Republic of China (GB/T 2260) as
published for Guangdong; the county-level list reflects the divisions in force since 2021.
The anonymiser uses the names to find places that reveal a region; the demo generator uses the
same table, so that generated files name real places.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class County:
    """A county-level division (区/县/县级市) or, in Dongguan and Zhongshan, a town (镇/街道)."""

    name: str
    code: str  # six digits; towns inherit their city's code

    @property
    def stem(self) -> str:
        """The name without its administrative suffix (蓬江区 → 蓬江, 乳源瑶族自治县 → 乳源)."""
        return strip_suffix(self.name)


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city (地级市) with its county-level divisions."""

    name: str
    code: str  # six digits, ending in 00
    abbreviation: str  # short form used in document numbers (江门 → 江)
    counties: tuple[County, ...]

    @property
    def stem(self) -> str:
        """The name without 市 (江门市 → 江门)."""
        return strip_suffix(self.name)

    @property
    def court_code(self) -> str:
        """The two digits after 粤 in an intermediate court's case number (江门 → 07)."""
        return self.code[2:4]


_SUFFIXES = ("瑶族自治县", "壮族瑶族自治县", "自治县", "街道", "市", "区", "县", "镇")


def strip_suffix(name: str) -> str:
    """Drop the administrative suffix of a place name, keeping at least two characters."""
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _city(name: str, code: str, abbreviation: str, counties: str) -> City:
    items = []
    for entry in counties.split():
        county_name, _, county_code = entry.partition(":")
        items.append(County(county_name, county_code or code))
    return City(name, code, abbreviation, tuple(items))


GUANGDONG: tuple[City, ...] = (
    _city("广州市", "440100", "穗", "荔湾区:440103 越秀区:440104 海珠区:440105 天河区:440106 白云区:440111 "
          "黄埔区:440112 番禺区:440113 花都区:440114 南沙区:440115 从化区:440117 增城区:440118"),
    _city("韶关市", "440200", "韶", "武江区:440203 浈江区:440204 曲江区:440205 始兴县:440222 仁化县:440224 "
          "翁源县:440229 乳源瑶族自治县:440232 新丰县:440233 乐昌市:440281 南雄市:440282"),
    _city("深圳市", "440300", "深", "罗湖区:440303 福田区:440304 南山区:440305 宝安区:440306 龙岗区:440307 "
          "盐田区:440308 龙华区:440309 坪山区:440310 光明区:440311"),
    _city("珠海市", "440400", "珠", "香洲区:440402 斗门区:440403 金湾区:440404"),
    _city("汕头市", "440500", "汕", "龙湖区:440507 金平区:440511 濠江区:440512 潮阳区:440513 潮南区:440514 "
          "澄海区:440515 南澳县:440523"),
    _city("佛山市", "440600", "佛", "禅城区:440604 南海区:440605 顺德区:440606 三水区:440607 高明区:440608"),
    _city("江门市", "440700", "江", "蓬江区:440703 江海区:440704 新会区:440705 台山市:440781 开平市:440783 "
          "鹤山市:440784 恩平市:440785"),
    _city("湛江市", "440800", "湛", "赤坎区:440802 霞山区:440803 坡头区:440804 麻章区:440811 遂溪县:440823 "
          "徐闻县:440825 廉江市:440881 雷州市:440882 吴川市:440883"),
    _city("茂名市", "440900", "茂", "茂南区:440902 电白区:440904 高州市:440981 化州市:440982 信宜市:440983"),
    _city("肇庆市", "441200", "肇", "端州区:441202 鼎湖区:441203 高要区:441204 广宁县:441223 怀集县:441224 "
          "封开县:441225 德庆县:441226 四会市:441284"),
    _city("惠州市", "441300", "惠", "惠城区:441302 惠阳区:441303 博罗县:441322 惠东县:441323 龙门县:441324"),
    _city("梅州市", "441400", "梅", "梅江区:441402 梅县区:441403 大埔县:441422 丰顺县:441423 五华县:441424 "
          "平远县:441426 蕉岭县:441427 兴宁市:441481"),
    _city("汕尾市", "441500", "汕尾", "城区:441502 海丰县:441521 陆河县:441523 陆丰市:441581"),
    _city("河源市", "441600", "河", "源城区:441602 紫金县:441621 龙川县:441622 连平县:441623 和平县:441624 "
          "东源县:441625"),
    _city("阳江市", "441700", "阳", "江城区:441702 阳东区:441704 阳西县:441721 阳春市:441781"),
    _city("清远市", "441800", "清", "清城区:441802 清新区:441803 佛冈县:441821 阳山县:441823 "
          "连山壮族瑶族自治县:441825 连南瑶族自治县:441826 英德市:441881 连州市:441882"),
    _city("东莞市", "441900", "莞", "莞城街道 南城街道 东城街道 万江街道 虎门镇 长安镇 塘厦镇 常平镇 "
          "厚街镇 樟木头镇 凤岗镇 寮步镇 大朗镇 石龙镇 麻涌镇 清溪镇"),
    _city("中山市", "442000", "中", "石岐街道 东区街道 西区街道 南区街道 小榄镇 古镇镇 坦洲镇 三乡镇 "
          "沙溪镇 横栏镇 南头镇 黄圃镇 东凤镇 板芙镇"),
    _city("潮州市", "445100", "潮", "湘桥区:445102 潮安区:445103 饶平县:445122"),
    _city("揭阳市", "445200", "揭", "榕城区:445202 揭东区:445203 揭西县:445222 惠来县:445224 普宁市:445281"),
    _city("云浮市", "445300", "云", "云城区:445302 云安区:445303 新兴县:445321 郁南县:445322 罗定市:445381"),
)

#: Stems that are also ordinary words (和平 peace, 光明 bright, 南海 the South China Sea …):
#: the anonymiser replaces them only with their suffix or before an institution word.
AMBIGUOUS_STEMS: frozenset[str] = frozenset({
    "清新", "高明", "新兴", "和平", "光明", "南海", "龙门", "紫金", "城区", "东区", "西区", "南区", "江城",
    "江海", "三水", "金湾", "龙湖", "南山", "五华", "白云", "天河", "海珠", "越秀", "花都", "云城", "源城",
    "古镇", "长安", "石龙", "清溪", "南头", "平远", "信宜", "四会", "德庆", "新丰", "始兴", "仁化", "大埔",
    "东源", "连平", "龙川", "云安", "香洲", "斗门", "鼎湖", "坡头", "雷州", "中山", "东城", "南城", "万江",
    "大朗", "凤岗", "虎门", "常平", "沙溪", "黄圃", "东凤", "板芙", "三乡", "坦洲", "小榄", "横栏", "厚街",
    "麻涌", "寮步", "塘厦", "樟木头", "石岐", "莞城", "湘桥", "榕城", "惠城", "梅江", "武江", "浈江", "曲江",
})


def all_place_names() -> list[tuple[str, str, str]]:
    """Every city and county name with its city and its stem, as (city name, name, stem) triples."""
    triples: list[tuple[str, str, str]] = []
    for city in GUANGDONG:
        triples.append((city.name, city.name, city.stem))
        triples.extend((city.name, county.name, county.stem) for county in city.counties)
    return triples
