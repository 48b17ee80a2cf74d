"""Fixtures of the reviewer-workspace tests: a small scoring scene (see seeding.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def load_seeding() -> ModuleType:
    """tests/reviews/seeding.py as a module (test folders are not packages)."""
    name = "evalplat_reviews_seeding"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("seeding.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


seeding = load_seeding()


@pytest.fixture
def make_scene(db: Any) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        scene = seeding.build_scene(db.session, **kwargs)
        db.session.commit()
        return scene

    return make


@pytest.fixture
def scene(make_scene: Callable[..., Any]) -> Any:
    return make_scene()


@pytest.fixture
def rubric_of_scene(db: Any) -> Callable[[Any], Any]:
    from evalplat.reviews.rubrics import rubric_for_assignment

    def get(assignment: Any) -> Any:
        return rubric_for_assignment(db.session, assignment)[1]

    return get


@pytest.fixture
def seed() -> ModuleType:
    """The seeding module (constants such as CLIENT_NAME, helpers such as full_marks_form)."""
    return seeding
