"""Fixtures for the file-handling tests; test documents come from samplefiles.py (built in the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evalplat.files.crypto import KeyRing, generate_key  # noqa: E402


@pytest.fixture
def keyring() -> KeyRing:
    """A fresh two-key ring: 'new' is current, 'old' still decrypts."""
    return KeyRing.from_string(f"new:{generate_key()},old:{generate_key()}")
