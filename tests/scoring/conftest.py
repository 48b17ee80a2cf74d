"""Fixtures for the scoring tests: the published vectors (tests/scoring/vectors, copied from ../shared/vectors)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# make scoring_helpers (this folder) importable from the test modules
sys.path.insert(0, str(Path(__file__).resolve().parent))

VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    return VECTORS
