"""A small province for campaign tests: cities with agencies, closed cases and a reviewer pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


@dataclass
class Province:
    organiser: Any
    cities: list[Any]
    agencies: list[Any]
    cases: list[Any]
    reviewers: list[Any] = field(default_factory=list)


@pytest.fixture
def province(db: Any, make_region: Callable[..., Any], make_agency: Callable[..., Any], make_case: Callable[..., Any],
             make_reviewer: Callable[..., Any], make_user: Callable[..., Any]) -> Province:
    """3 cities × 2 agencies × (3 criminal + 3 civil + 1 administrative) cases of 2024; 2 peers and 1 evaluator
    per city, capacity 6 each."""
    organiser = make_user("organiser")
    cities = [make_region(f"市{i}", "city") for i in range(3)]
    agencies = [make_agency(f"法援中心{c.name}{j}", city=c) for c in cities for j in range(2)]
    cases = []
    for agency in agencies:
        for case_type in ("criminal",) * 3 + ("civil",) * 3 + ("administrative",):
            cases.append(make_case(agency=agency, case_type=case_type))
    reviewers = []
    for city in cities:
        reviewers += [make_reviewer("peer", city=city, capacity=6), make_reviewer("peer", city=city, capacity=6),
                      make_reviewer("evaluator", city=city, capacity=6,
                                    case_types=("criminal", "civil", "administrative"))]
    return Province(organiser, cities, agencies, cases, reviewers)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def sampled_campaign(db: Any, province: Province) -> Any:
    """A campaign with a fixed one-per-stratum plan (administrative folded into civil), drawn."""
    from evalplat.campaigns import operations as ops

    campaign = ops.create_campaign(db.session, actor=province.organiser, name="2024 年度评估", year=2024,
                                   code_prefix="GD2024", reviewers_per_case=2, min_evaluators=1)
    ops.set_plan(db.session, actor=province.organiser, campaign=campaign,
                 plan={"mode": "fixed", "per_stratum": 1, "fold_administrative": True})
    ops.fix_seed(db.session, actor=province.organiser, campaign=campaign, seed="20240101-lottery",
                 source="福利彩票 2024-01-01", now=NOW)
    ops.freeze_population(db.session, actor=province.organiser, campaign=campaign, now=NOW)
    ops.draw_sample(db.session, actor=province.organiser, campaign=campaign, now=NOW)
    db.session.commit()
    return campaign


@pytest.fixture(autouse=True)
def english_messages(app: Any) -> Any:
    """Operations outside a request speak the default locale; these tests read the English messages."""
    before = app.config.get("BABEL_DEFAULT_LOCALE")
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    yield
    app.config["BABEL_DEFAULT_LOCALE"] = before
