"""scoring/ imports only numpy, scipy and the standard library; every public docstring example runs."""

from __future__ import annotations

import ast
import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SCORING = Path(__file__).resolve().parents[2] / "scoring"
ALLOWED = {"numpy", "scipy"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(SCORING.glob("*.py")), ids=lambda p: p.name)
def test_scoring_module_imports_only_numpy_scipy_and_stdlib(path):
    foreign = {n for n in _imports(path) if n not in ALLOWED and n not in sys.stdlib_module_names
               and n != "__future__"}
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_importing_scoring_loads_no_web_or_dataframe_library():
    code = ("import sys, scoring; bad = [m for m in ('flask', 'sqlalchemy', 'pandas', 'evalplat') "
            "if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=SCORING.parent, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("module", ["scoring._ratings", "scoring._reasons", "scoring.reliability",
                                    "scoring.calibration", "scoring.consensus", "scoring.ranking",
                                    "scoring.survey"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_public_function_has_an_example():
    import scoring

    for mod in (scoring.reliability, scoring.calibration, scoring.consensus, scoring.ranking, scoring.survey):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type):
                assert ">>>" in (obj.__doc__ or ""), f"{mod.__name__}.{name} lacks an example"
