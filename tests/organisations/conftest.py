"""Reviewer-pool tests read the English messages (operations outside a request use the default locale)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def english_messages(app: Any) -> Any:
    before = app.config.get("BABEL_DEFAULT_LOCALE")
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    yield
    app.config["BABEL_DEFAULT_LOCALE"] = before
