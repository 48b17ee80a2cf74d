"""Fixtures for the scoring tests: the published vectors in ../shared/vectors beside the repository."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# make scoring_helpers (this folder) importable from the test modules
sys.path.insert(0, str(Path(__file__).resolve().parent))

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    if not VECTORS.is_dir():
        pytest.skip(f"published vectors not found at {VECTORS.resolve()} (shared/ must sit beside the clone)")
    return VECTORS
