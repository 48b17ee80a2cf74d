"""The assignments domain (issue 12): one home for the models, one state machine, no circles back.

These read the source with :mod:`ast` (nothing is imported for the scans) and fail when a circle the issue
named comes back: campaigns' assignment runs and organisations' conflicts importing each other, appeals and
results importing each other at module level, a private name imported across packages, or an assignment's
state changed outside evalplat/assignments.
"""

from __future__ import annotations

import ast
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

import evalplat.models  # noqa: F401  (every mapper, so that Assignment can be built without a database)
from evalplat.assignments import states
from evalplat.assignments.models import Assignment, AssignmentState
from evalplat.errors import InvalidTransition

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _import_graph():  # bench/import_graph.py is the one reader of the package graph
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "bench" / "import_graph.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    graph = _import_graph()
    return {graph.module_name(path): (path, ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted((ROOT / "evalplat").rglob("*.py"))}


def _imports(module: str, path: Path, tree: ast.Module) -> list[tuple[ast.ImportFrom | ast.Import, str]]:
    graph = _import_graph()
    out: list[tuple[ast.ImportFrom | ast.Import, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node, graph._resolve(module, path.name == "__init__.py", node)))
    return out


def test_models_live_in_the_assignments_domain_only():
    import evalplat.campaigns.models as campaigns_models

    for name in ("Assignment", "AssignmentRun", "Conflict", "AssignmentState", "AssignmentRound", "RunState"):
        assert not hasattr(campaigns_models, name), f"{name} is back in evalplat.campaigns.models"
    assert Assignment.__tablename__ == "assignments"
    assert not (ROOT / "evalplat" / "campaigns" / "assigning.py").exists()


def test_assignment_runs_and_conflicts_do_not_import_each_other():
    modules = _modules()
    edges: dict[str, set[str]] = {}
    for module, (path, tree) in modules.items():
        edges[module] = {target for _, target in _imports(module, path, tree)}
    for a, b in (("evalplat.assignments.operations", "evalplat.organisations.operations"),
                 ("evalplat.assignments.conflicts", "evalplat.organisations.operations"),
                 ("evalplat.assignments.operations", "evalplat.campaigns.operations")):
        assert not (b in edges[a] and a in edges[b]), f"{a} and {b} import each other"
    assert "evalplat.campaigns" not in {t.rsplit(".", 1)[0] for t in edges["evalplat.organisations.operations"]}


def test_appeals_and_results_do_not_import_each_other_at_module_level():
    top, _ = _import_graph().graphs()
    assert not ("results" in top["appeals"] and "appeals" in top["results"]), \
        "appeals and results import each other at module level again"


def test_organisations_import_neither_assignments_nor_campaigns_at_module_level():
    top, _ = _import_graph().graphs()
    assert not {"assignments", "campaigns"} & top["organisations"], \
        "the reviewer pool imports assignments or campaigns at module level again (conflict pages belong to assignments)"


@pytest.mark.parametrize(("method", "url", "endpoint"), [
    ("POST", "/campaigns/1/runs", "assignments.preview"),
    ("GET", "/campaigns/1/runs/2", "assignments.run"),
    ("POST", "/campaigns/1/runs/2/commit", "assignments.commit"),
    ("POST", "/campaigns/1/runs/2/undo", "assignments.undo"),
    ("POST", "/campaigns/1/runs/2/discard", "assignments.discard"),
    ("POST", "/campaigns/1/runs/2/override", "assignments.override"),
    ("GET", "/conflicts", "assignments.conflicts"),
    ("POST", "/conflicts/3/dismiss", "assignments.decide_conflict"),
])
def test_run_and_conflict_pages_are_the_assignments_blueprint_at_their_old_urls(app, method, url, endpoint):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(url, method=method)[0] == endpoint


def test_results_do_not_change_appeal_states():
    for path in sorted((ROOT / "evalplat" / "results").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"DECIDED", "ACCEPTED", "REJECTED"} \
                    and ast.unparse(node.value) == "AppealState":
                raise AssertionError(f"{path.name}:{node.lineno} handles appeal states directly")


def test_no_private_name_is_imported_across_packages():
    found = []
    for module, (path, tree) in _modules().items():
        package = module.split(".")[1] if "." in module else module
        for node, target in _imports(module, path, tree):
            if not isinstance(node, ast.ImportFrom) or not target.startswith("evalplat."):
                continue
            other = target.split(".")[1]
            if other == package:
                continue
            found += [f"{module} imports {target}.{alias.name}" for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []


def test_assignment_states_change_only_in_the_assignments_domain():
    """``assignment.state = …`` (or ``state=`` other than a new offer) appears only in evalplat/assignments."""
    found = []
    for path in sorted((ROOT / "evalplat").rglob("*.py")):
        if "assignments" in path.relative_to(ROOT).parts or "demo" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "state" \
                            and "AssignmentState" in ast.unparse(node.value):
                        found.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.keyword) and node.arg == "state":
                text = ast.unparse(node.value)
                if "AssignmentState" in text and text != "AssignmentState.OFFERED":
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize(("start", "target"), [
    (AssignmentState.OFFERED, AssignmentState.ACCEPTED),
    (AssignmentState.OFFERED, AssignmentState.DECLINED),
    (AssignmentState.OFFERED, AssignmentState.WITHDRAWN),
    (AssignmentState.OFFERED, AssignmentState.SUBMITTED),
    (AssignmentState.ACCEPTED, AssignmentState.SUBMITTED),
    (AssignmentState.ACCEPTED, AssignmentState.DECLINED),
    (AssignmentState.ACCEPTED, AssignmentState.WITHDRAWN),
])
def test_open_assignment_moves_on_and_records_when(start, target):
    assignment = Assignment(state=start)
    assert states.move(assignment, target, now=NOW) == start
    assert assignment.state == target
    assert assignment.updated_at == NOW


@pytest.mark.parametrize("start", [AssignmentState.SUBMITTED, AssignmentState.DECLINED, AssignmentState.WITHDRAWN])
@pytest.mark.parametrize("target", list(AssignmentState))
def test_closed_assignment_never_changes(start, target):
    assignment = Assignment(state=start)
    with pytest.raises(InvalidTransition) as caught:
        states.move(assignment, target, now=NOW)
    assert caught.value.code == "assignment_transition"
    assert assignment.state == start


def test_accepted_assignment_cannot_be_accepted_again():
    assignment = Assignment(state=AssignmentState.ACCEPTED)
    with pytest.raises(InvalidTransition) as caught:
        states.accept(assignment, now=NOW)
    assert caught.value.code == "assignment_not_offered"


def test_decline_keeps_the_reason_and_the_declared_conflict():
    assignment = Assignment(state=AssignmentState.ACCEPTED)
    assert states.decline(assignment, reason="认识当事人" * 500, conflict_declared=True, now=NOW) \
        == AssignmentState.ACCEPTED
    assert assignment.state == AssignmentState.DECLINED
    assert assignment.decline_reason is not None
    assert len(assignment.decline_reason) == 2000
    assert assignment.conflict_declared is True
