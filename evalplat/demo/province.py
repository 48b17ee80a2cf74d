"""A demo province's organisations and people as plain rows with precomputed ids (no database here).

:func:`build_province` turns a seed and a :class:`~evalplat.demo.geography.ProvinceGeo` into regions, agencies, law firms, lawyers, users, roles and reviewer
profiles, each a list of dicts ready for ``session.execute(insert(Model), rows)``. Ids start after the
offsets given, so the rows can be inserted into a database that already has other rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evalplat.anonymise.gazetteer import City

from . import geography, people

CASE_TYPES = ("criminal", "civil", "administrative", "non_litigation")
#: Probability that a lawyer takes each case type (at least one is always taken).
LAWYER_CASE_TYPE_RATES = {"criminal": 0.62, "civil": 0.72, "administrative": 0.16, "non_litigation": 0.34}

DEMO_PASSWORD = "demo-password-2024"  # noqa: S105 - documented demo data, printed by `flask demo-logins`
#: Demo users get addresses in the reserved .invalid domain, so they are recognisable in any database.
DEMO_EMAIL_DOMAIN = "demo.invalid"

SPECIALTIES = {
    "criminal": ("刑事辩护", "认罪认罚案件", "未成年人刑事案件", "毒品犯罪辩护"),
    "civil": ("劳动争议", "婚姻家事", "交通事故赔偿", "民间借贷", "工伤赔偿"),
    "administrative": ("行政诉讼", "工伤认定行政案件"),
    "non_litigation": ("劳动仲裁", "人民调解", "非诉讼代理"),
}
_EXTRA_FIRM_CORES = ("君信", "汇理", "启明", "博厚", "瀚诚", "致远", "鼎和", "明德", "尚法", "合盛", "坤元", "金鹏",
                     "粤商", "远航", "同济", "诚远", "维正", "信诺", "骏德", "明镜", "华瑞", "隆安", "道可", "中正",
                     "至诚", "方圆", "大成和", "正德", "源恒", "宏智", "瑞和", "东方", "南粤", "北斗", "海华", "天衡")


@dataclass(slots=True)
class Province:
    """Rows of one demo province and the lookups the case generator needs."""

    geo: geography.ProvinceGeo = geography.GUANGDONG_DEMO
    regions: list[dict[str, Any]] = field(default_factory=list)
    agencies: list[dict[str, Any]] = field(default_factory=list)
    agency_specs: list[geography.AgencySpec] = field(default_factory=list)
    firms: list[dict[str, Any]] = field(default_factory=list)
    lawyers: list[dict[str, Any]] = field(default_factory=list)
    lawyer_city: list[int] = field(default_factory=list)  # index into geo.cities, parallel to lawyers
    users: list[dict[str, Any]] = field(default_factory=list)
    user_roles: list[dict[str, Any]] = field(default_factory=list)
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, description)
    #: user id → region code of the jurisdiction of an organiser below the province (organiser.jiangmen)
    user_jurisdictions: dict[int, str] = field(default_factory=dict)
    #: reviewer profile id → region code of the pool owning it when that is not the province's
    reviewer_pools: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Row counts by kind, for messages and the audit record."""
        return {"regions": len(self.regions), "agencies": len(self.agencies), "firms": len(self.firms),
                "lawyers": len(self.lawyers), "users": len(self.users), "reviewers": len(self.reviewers)}


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split ``total`` into integer shares proportional to ``weights``, each at least ``minimum``."""
    free = total - minimum * len(weights)
    raw = [free * w / sum(weights) for w in weights]
    shares = [minimum + int(r) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _firm_name(rng: random.Random, city: City, taken: set[str]) -> str:
    for _ in range(20):
        name = people.firm_name(rng, city)
        if name not in taken:
            return name
    while True:
        core = rng.choice(_EXTRA_FIRM_CORES) + rng.choice(_EXTRA_FIRM_CORES)[0]
        name = f"{people.province_name(city)}{core}（{city.stem}）律师事务所" if rng.random() < 0.5 else f"{city.name}{core}律师事务所"
        if name not in taken:
            return name


def _lawyer_case_types(rng: random.Random) -> list[str]:
    chosen = [t for t in CASE_TYPES if rng.random() < LAWYER_CASE_TYPE_RATES[t]]
    return chosen or [rng.choice(("criminal", "civil"))]


def build_province(seed: int, year: int, offsets: Mapping[str, int], password_hash: str,
                   now: datetime | None = None, geo: geography.ProvinceGeo | None = None) -> Province:
    """Regions, agencies, firms, lawyers, users and reviewer profiles of a demo province.

    Parameters
    ----------
    seed : int
        The demo seed; the same seed gives the same organisations and people.
    year : int
        The year of the cases (licence years of practice are counted up to it).
    offsets : mapping
        Highest id already used per table name (``regions``, ``agencies``, ``firms``, ``lawyers``, ``users``,
        ``reviewer_profiles``); new ids follow.
    password_hash : str
        Hash of :data:`DEMO_PASSWORD`, shared by every demo user.
    now : datetime, optional
        Creation time stamped on users and reviewer profiles (UTC now by default).
    geo : ProvinceGeo, optional
        Which province (Guangdong by default).

    Returns
    -------
    Province
    """
    geo = geo or geography.GUANGDONG_DEMO
    main = geo.key == geography.GUANGDONG_DEMO.key
    rng = random.Random(f"evalplat-demo-province/{seed}" if main else f"evalplat-demo-province/{geo.key}/{seed}")
    now = now or datetime.now(UTC)
    p = Province(geo=geo)

    region_ids: dict[str, int] = {}
    for spec in geography.regions(geo):
        region_ids[spec.code] = offsets.get("regions", 0) + len(p.regions) + 1
        p.regions.append({"id": region_ids[spec.code], "code": spec.code, "name": spec.name, "level": spec.level,
                          "parent_id": region_ids[spec.parent_code] if spec.parent_code else None})

    for agency_spec in geography.agencies(geo):
        p.agencies.append({"id": offsets.get("agencies", 0) + len(p.agencies) + 1, "code": agency_spec.code,
                           "name": agency_spec.name, "region_id": region_ids[agency_spec.region_code],
                           "city_id": region_ids[agency_spec.city.code], "active": True})
        p.agency_specs.append(agency_spec)

    # Firms and lawyers, spread over the cities by size (every city has enough for its legal-aid cases).
    weights = [geo.city_info[c.name][2] for c in geo.cities]
    firm_shares = _allocate(geo.firms, weights, 8)
    taken: set[str] = set()
    firm_city: list[int] = []
    for ci, (city, n) in enumerate(zip(geo.cities, firm_shares, strict=True)):
        for _ in range(n):
            county = rng.choice(city.counties)
            name = _firm_name(rng, city, taken)
            taken.add(name)
            code = geography.county_code(city, city.counties.index(county), county)
            p.firms.append({"id": offsets.get("firms", 0) + len(p.firms) + 1, "name": name,
                            "region_id": region_ids[code], "city_id": region_ids[city.code]})
            firm_city.append(ci)
    # Firm sizes are skewed: a few large firms, many with two to five lawyers.
    sizes = [rng.paretovariate(1.6) for _ in p.firms]
    lawyer_shares = _allocate(geo.lawyers, sizes, 2)
    licences: set[str] = set()
    for fi, n in enumerate(lawyer_shares):
        city = geo.cities[firm_city[fi]]
        for _ in range(n):
            licence = people.licence_number(rng, city)
            while licence in licences:
                licence = people.licence_number(rng, city)
            licences.add(licence)
            first_year = int(licence[5:9])
            p.lawyers.append({"id": offsets.get("lawyers", 0) + len(p.lawyers) + 1,
                              "name": people.person_name(rng), "licence_no": licence,
                              "firm_id": p.firms[fi]["id"], "years_of_practice": max(0, year - first_year),
                              "case_types": _lawyer_case_types(rng)})
            p.lawyer_city.append(firm_city[fi])

    _add_users(p, rng, offsets, password_hash, now, region_ids)
    return p


def _user(p: Province, offsets: Mapping[str, int], username: str, display_name: str, roles: list[str],
          password_hash: str, now: datetime, agency_id: int | None = None) -> int:
    user_id = offsets.get("users", 0) + len(p.users) + 1
    p.users.append({"id": user_id, "username": username, "display_name": display_name[:64],
                    "email": f"{username}@{DEMO_EMAIL_DOMAIN}", "password_hash": password_hash,
                    "agency_id": agency_id, "active": True, "must_change_password": False, "created_at": now})
    p.user_roles.extend({"user_id": user_id, "role": role} for role in roles)
    return user_id


def _add_users(p: Province, rng: random.Random, offsets: Mapping[str, int], password_hash: str, now: datetime,
               region_ids: dict[str, int]) -> None:
    geo = p.geo
    department = f"{geo.name}司法厅"
    organiser = f"organiser{geo.login_suffix}"
    _user(p, offsets, organiser, f"{people.person_name(rng)}（{department}）", ["organiser"], password_hash, now)
    p.logins.append((organiser, "organiser", f"{department} · organiser"))
    adjudicator_name = f"adjudicator{geo.login_suffix}"
    adjudicator = _user(p, offsets, adjudicator_name, f"{people.person_name(rng)}（复评专家）", ["adjudicator"],
                        password_hash, now)
    province = next(r["id"] for r in p.regions if str(r["level"]) == "province")
    p.logins.append((adjudicator_name, "adjudicator", "复评专家 · adjudicator"))

    per_city: dict[str, int] = {}
    for row, spec in zip(p.agencies, p.agency_specs, strict=True):
        pinyin = geo.city_info[spec.city.name][1]
        featured = spec.city.name == geo.featured_city
        if spec.county is None:
            username = f"agency.{pinyin}"
        elif featured:
            username = f"agency.{pinyin}.{geo.featured_county_pinyin[spec.county.name]}"
        else:
            username = f"agency.{pinyin}.{spec.code[-2:]}"
        per_city[spec.city.name] = per_city.get(spec.city.name, 0) + 1
        _user(p, offsets, username, f"{people.person_name(rng)}（{spec.name}）", ["agency_staff"], password_hash,
              now, agency_id=row["id"])
        if spec.county is None or featured:
            p.logins.append((username, "agency_staff", spec.name))

    # Peer reviewers: experienced lawyers (3+ years), at least three per city for regional avoidance.
    eligible: dict[int, list[int]] = {}
    for li, lawyer in enumerate(p.lawyers):
        if lawyer["years_of_practice"] >= 3:
            eligible.setdefault(p.lawyer_city[li], []).append(li)
    cities = sorted(eligible)
    shares = _allocate(geo.peers, [len(eligible[c]) for c in cities], 3)
    chosen = sorted(li for c, n in zip(cities, shares, strict=True) for li in rng.sample(eligible[c], n))
    firm_by_id = {f["id"]: f for f in p.firms}
    for number, li in enumerate(chosen, start=1):
        lawyer = p.lawyers[li]
        firm = firm_by_id[lawyer["firm_id"]]
        username = f"{geo.login_prefix}peer{number:03d}"
        user_id = _user(p, offsets, username, lawyer["name"], ["peer_reviewer"], password_hash, now)
        p.reviewers.append(_profile(p, offsets, rng, user_id, "peer", firm["region_id"], firm["city_id"], now,
                                    firm_id=firm["id"], lawyer_id=lawyer["id"], organisation=firm["name"],
                                    licence_no=lawyer["licence_no"], years=lawyer["years_of_practice"],
                                    case_types=lawyer["case_types"]))
        if number == 1:
            p.reviewers[-1]["active"] = True
            p.logins.append((username, "peer_reviewer", f"{lawyer['name']} · {firm['name']} "
                             f"({geo.login_prefix}peer001–{geo.login_prefix}peer{geo.peers:03d})"))

    organisations = geo.evaluator_organisations
    for number in range(1, geo.evaluators + 1):
        organisation, city_name = organisations[(number - 1) % len(organisations)]
        city = geo.city_by_name(city_name)
        county = rng.choice(city.counties)
        region_code = geography.county_code(city, city.counties.index(county), county)
        username = f"{geo.login_prefix}evaluator{number:03d}"
        name = people.person_name(rng)
        case_types = sorted(rng.sample(CASE_TYPES, rng.randint(2, 4)), key=CASE_TYPES.index)
        user_id = _user(p, offsets, username, name, ["evaluator"], password_hash, now)
        p.reviewers.append(_profile(p, offsets, rng, user_id, "evaluator", region_ids[region_code],
                                    region_ids[city.code], now, organisation=organisation,
                                    years=rng.randint(3, 20), case_types=case_types))
        if number == 1:
            p.reviewers[-1]["active"] = True
            p.logins.append((username, "evaluator", f"{name} · {organisation} "
                             f"({geo.login_prefix}evaluator001–{geo.login_prefix}evaluator{geo.evaluators:03d})"))
    _adjudicator_profile(p, offsets, adjudicator, province, now)
    if geo.featured_city:
        _city_organiser_and_pool(p, offsets, password_hash, now, geo.featured_city)


#: Cities whose lawyers sit on the featured city's own reviewer pool (Jiangmen's bar borrows from its neighbours;
#: regional avoidance keeps Jiangmen's own lawyers off Jiangmen's cases).
NEIGHBOUR_POOL_CITIES = ("佛山市", "中山市", "珠海市")
#: Peers taken from each neighbouring city into the city's pool.
NEIGHBOUR_POOL_PEERS = 2


def _city_organiser_and_pool(p: Province, offsets: Mapping[str, int], password_hash: str, now: datetime,
                             city_name: str) -> None:
    """The featured city's bureau (organiser.jiangmen) and its own reviewer pool.

    The pool holds peers of the neighbouring cities and the city's own university evaluators (whom regional
    avoidance keeps off the city's cases: they show that the rule holds for a city's own pool too). No random
    numbers are drawn, so the rest of the province stays as it was.
    """
    geo = p.geo
    city = geo.city_by_name(city_name)
    pinyin = geo.city_info[city_name][1]
    username = f"organiser.{pinyin}"
    bureau = f"{city_name}司法局"
    user_id = _user(p, offsets, username, f"{bureau}法律援助科", ["organiser"], password_hash, now)
    p.user_jurisdictions[user_id] = city.code
    p.logins.append((username, "organiser", f"{bureau} · organiser"))
    city_ids = {r["code"]: r["id"] for r in p.regions}
    neighbours = {city_ids[geo.city_by_name(name).code] for name in NEIGHBOUR_POOL_CITIES}
    taken: dict[int, int] = {}
    for profile in p.reviewers:
        if profile["kind"] == "peer" and profile["city_id"] in neighbours and profile["active"]:
            if taken.get(profile["city_id"], 0) < NEIGHBOUR_POOL_PEERS:
                taken[profile["city_id"]] = taken.get(profile["city_id"], 0) + 1
                p.reviewer_pools[profile["id"]] = city.code
        elif profile["kind"] == "evaluator" and profile["city_id"] == city_ids[city.code] and profile["active"]:
            p.reviewer_pools[profile["id"]] = city.code


def national_user(offsets: Mapping[str, int], password_hash: str, now: datetime) -> Province:
    """The national read-only account (``ministry``), as a province-less set of rows."""
    p = Province()
    _user(p, offsets, "ministry", "司法部公共法律服务管理局", ["ministry"], password_hash, now)
    p.logins.append(("ministry", "ministry", "司法部 · national read-only"))
    return p


def _adjudicator_profile(p: Province, offsets: Mapping[str, int], user_id: int, province_region_id: int,
                         now: datetime) -> None:
    """The provincial re-review expert decides disagreements and appeals (the adjudicator role's own work).

    The profile sits at the province, outside every city, so regional avoidance never excludes it; it uses no
    random numbers, so the rest of the demo is unchanged.
    """
    p.reviewers.append({"id": offsets.get("reviewer_profiles", 0) + len(p.reviewers) + 1, "user_id": user_id,
                        "kind": "evaluator", "region_id": province_region_id, "city_id": province_region_id,
                        "firm_id": None, "lawyer_id": None, "organisation": f"{p.geo.name}法律援助质量评估专家库",
                        "licence_no": None, "years_of_practice": 15, "case_types": list(CASE_TYPES),
                        "specialties": "复评、异议复核", "capacity": 200, "active": True, "created_at": now})


def _profile(p: Province, offsets: Mapping[str, int], rng: random.Random, user_id: int, kind: str, region_id: int,
             city_id: int, now: datetime, *, organisation: str, years: int, case_types: list[str],
             firm_id: int | None = None, lawyer_id: int | None = None,
             licence_no: str | None = None) -> dict[str, Any]:
    specialties = [rng.choice(SPECIALTIES[t]) for t in case_types]
    return {"id": offsets.get("reviewer_profiles", 0) + len(p.reviewers) + 1, "user_id": user_id, "kind": kind,
            "region_id": region_id, "city_id": city_id, "firm_id": firm_id, "lawyer_id": lawyer_id,
            "organisation": organisation, "licence_no": licence_no, "years_of_practice": years,
            "case_types": list(case_types), "specialties": "、".join(dict.fromkeys(specialties)),
            "capacity": rng.randint(5, 15), "active": rng.random() >= 0.05, "created_at": now}
