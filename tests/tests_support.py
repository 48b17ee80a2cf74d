"""Small helpers shared by tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import re

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TEST_PASSWORD = "correct-horse-battery"  # noqa: S105 - test data


def without_csrf_token(html: str) -> str:
    """The page with its CSRF token's value blanked: the token embeds a timestamp, so two renderings a
    second apart differ there and only there."""
    return CSRF_RE.sub('name="csrf_token" value=""', html)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
