"""Fixtures for case-intake tests: a configured key ring and storage, a small province, file builders."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases_support.py, for the test modules

from cases_support import DATA_KEYS  # noqa: E402


@pytest.fixture(autouse=True)
def _intake_configured(app: Flask) -> Iterator[None]:
    """The app with a known key ring (as EVALPLAT_DATA_KEYS would give) and the in-process job pool."""
    from evalplat.services import init_app

    app.config["EVALPLAT_DATA_KEYS"] = DATA_KEYS
    app.config["EVALPLAT_JOBS_URL"] = ""
    init_app(app)
    return


@pytest.fixture
def province(db: Any, make_region: Callable[..., Any], make_agency: Callable[..., Any],
             make_firm: Callable[..., Any], make_lawyer: Callable[..., Any]) -> dict[str, Any]:
    city = make_region("江门市")
    other_city = make_region("韶关市")
    jianghai = make_agency("江海区法律援助处", city=city)
    wujiang = make_agency("武江区法律援助处", city=other_city)
    firm = make_firm("广东江海律师事务所", city=city)
    lawyer = make_lawyer("李明华", firm=firm)
    db.session.commit()
    return {"city": city, "agency": jianghai, "other_agency": wujiang, "firm": firm, "lawyer": lawyer}


@pytest.fixture
def redis_url() -> str:
    import os

    url = os.environ.get("EVALPLAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as tests/conftest.py's
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means no Redis here
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    return url
