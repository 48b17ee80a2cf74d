"""Fixtures of the results tests: a small campaign in scoring (see flow_support.py)."""

from __future__ import annotations

from typing import Any

import pytest
from results import flow_support  # tests/ is on sys.path (pyproject: pythonpath)


@pytest.fixture
def flow(db: Any, make_region: Any, make_agency: Any, make_case: Any, make_reviewer: Any, make_user: Any) -> Any:
    return flow_support.build_flow(db, make_region, make_agency, make_case, make_reviewer, make_user)


@pytest.fixture
def fs() -> Any:
    return flow_support
