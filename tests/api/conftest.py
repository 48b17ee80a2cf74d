from __future__ import annotations

from typing import Any

import pytest
from rankings.rankfixtures import Built, build_campaign


@pytest.fixture
def small_campaign(db: Any, make_region: Any, make_agency: Any, make_lawyer: Any, make_case: Any,
                   make_reviewer: Any, make_user: Any) -> Built:
    return build_campaign(db, make_region, make_agency, make_lawyer, make_case, make_reviewer, make_user)
