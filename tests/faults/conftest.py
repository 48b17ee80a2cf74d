"""Fixtures of the fault tests: the app served over real HTTP, and the other folders' set-ups reused.

The campaign fixtures (``province``, ``sampled_campaign``, ``now``) come from tests/campaigns/conftest.py, the
scoring scene from tests/reviews/seeding.py and the scoring campaign from tests/results/flow_support.py,
so that the states raced over here are built by the same real operations as there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults_support.py, for the test modules

from campaigns import conftest as _campaigns  # noqa: E402 - tests/ is on sys.path (pyproject: pythonpath)
from faults_support import serving  # noqa: E402
from results import flow_support as _flow_support  # noqa: E402
from reviews import seeding as _seeding  # noqa: E402

province = _campaigns.province
sampled_campaign = _campaigns.sampled_campaign
now = _campaigns.now


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[str]:
    """The test app (on the test database) behind a real threaded HTTP server on 127.0.0.1."""
    with serving(app) as base:
        yield base


@pytest.fixture
def seeding() -> ModuleType:
    """tests/reviews/seeding.py: a case in scoring with accepted assignments."""
    return _seeding


@pytest.fixture
def flow_support() -> ModuleType:
    """tests/results/flow_support.py: a province with a campaign in scoring, and scoring helpers."""
    return _flow_support


@pytest.fixture
def scoring_flow(db: Any, flow_support: ModuleType, make_region: Any, make_agency: Any, make_case: Any,
                 make_reviewer: Any, make_user: Any) -> Any:
    return flow_support.build_flow(db, make_region, make_agency, make_case, make_reviewer, make_user)
