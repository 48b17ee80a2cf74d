"""A small jurisdiction tree for tests: the nation, two provinces, two cities each, one county per city, an
agency in every city and county, an organiser of every region and a national read-only account.

    P1 ─┬─ P1C1 ── P1C1K        P2 ─┬─ P2C1 ── P2C1K
        └─ P1C2 ── P1C2K            └─ P2C2 ── P2C2K

Region names are keys of ``tree.regions``; organisers are ``tree.organisers[name]``, agencies (one per
city and county) ``tree.agencies[name]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSWORD = "Jurisdiction-test-passphrase-2024"


@dataclass
class Tree:
    nation: Any
    regions: dict[str, Any] = field(default_factory=dict)
    agencies: dict[str, Any] = field(default_factory=dict)
    organisers: dict[str, Any] = field(default_factory=dict)
    ministry: Any = None


def build_tree(session: Any) -> Tree:
    from evalplat.accounts import operations as accounts
    from evalplat.accounts.models import Role
    from evalplat.organisations.jurisdiction import national_region
    from evalplat.organisations.models import Agency, Region, RegionLevel

    tree = Tree(nation=national_region(session))
    for p in (1, 2):
        province = Region(code=f"J{p}0000", name=f"省{p}", level=RegionLevel.PROVINCE, parent=tree.nation)
        tree.regions[f"P{p}"] = province
        for c in (1, 2):
            city = Region(code=f"J{p}{c}000", name=f"省{p}市{c}", level=RegionLevel.CITY, parent=province)
            county = Region(code=f"J{p}{c}001", name=f"省{p}市{c}县", level=RegionLevel.COUNTY, parent=city)
            tree.regions[f"P{p}C{c}"] = city
            tree.regions[f"P{p}C{c}K"] = county
    session.add_all(tree.regions.values())
    session.flush()
    for name, region in tree.regions.items():
        if region.level == RegionLevel.PROVINCE:
            continue
        city = region if region.level == RegionLevel.CITY else region.parent
        agency = Agency(code=f"JA{name}", name=f"{region.name}法律援助中心", region=region, city=city)
        session.add(agency)
        tree.agencies[name] = agency
    session.flush()
    for name, region in tree.regions.items():
        tree.organisers[name] = accounts.create_user(
            session, actor=None, username=f"org.{name.lower()}", display_name=f"{region.name}组织者",
            password=PASSWORD, roles=[Role.ORGANISER], jurisdiction=region)
    tree.ministry = accounts.create_user(session, actor=None, username="ministry.j", display_name="司法部",
                                         password=PASSWORD, roles=[Role.MINISTRY])
    session.commit()
    return tree
