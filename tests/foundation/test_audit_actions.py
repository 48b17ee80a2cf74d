"""Every audit action evalplat emits has a label in both languages.

The test reads every ``record(…, action=…)`` call in evalplat's source: a literal code, either branch of a
conditional, or — for a helper that passes its own ``action`` parameter on — the values its callers in the same
module give it. An action written any other way fails the test (write it so that it can be read), and so does
one without a label in ``evalplat.audit.actions.ACTIONS``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from evalplat.audit.actions import ACTIONS, DOMAINS, action_label

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2] / "evalplat"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _function_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def _values(expr: ast.expr, func: ast.FunctionDef | None, tree: ast.Module, where: str) -> set[str]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _values(expr.body, func, tree, where) | _values(expr.orelse, func, tree, where)
    if isinstance(expr, ast.Name) and func is not None:
        positional = [a.arg for a in func.args.posonlyargs + func.args.args]
        if expr.id in positional or expr.id in [a.arg for a in func.args.kwonlyargs]:
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Name) and n.func.id == func.name]
            assert calls, f"{where}: the action comes from {func.name}'s callers, and it has none in its module"
            found: set[str] = set()
            for call in calls:
                given = {k.arg: k.value for k in call.keywords}.get(expr.id)
                index = positional.index(expr.id) if expr.id in positional else len(call.args)
                if given is None and index < len(call.args):
                    given = call.args[index]
                assert given is not None, f"{where}: cannot read the action {func.name} is given at line {call.lineno}"
                found |= _values(given, None, tree, f"{where} (called at line {call.lineno})")
            return found
    pytest.fail(f"{where}: the action {ast.unparse(expr)!r} cannot be read from the source; write the code as a "
                "literal (or a conditional between literals) so that it can be checked for a label")


def emitted_actions() -> dict[str, str]:
    """Every action code evalplat records → the first place that records it."""
    codes: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "record"):
                continue
            action = {k.arg: k.value for k in node.keywords}.get("action")
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            assert action is not None, f"{where}: record() without action="
            for code in _values(action, _function_of(node, parents), tree, where):
                codes.setdefault(code, where)
    return codes


def test_the_scan_finds_the_emit_sites() -> None:
    codes = emitted_actions()
    # spot checks across the domains, including both branches of conditionals and a helper's callers
    for code in ("user.login", "campaign.sample_drawn", "conflict.confirmed", "conflict.dismissed",
                 "closing.returned", "result.adjudicated", "result.appeal", "cases.redaction_proposal_reject"):
        assert code in codes, code
    assert len(codes) >= 80


def test_every_emitted_action_has_a_label() -> None:
    missing = {code: where for code, where in emitted_actions().items() if code not in ACTIONS}
    assert not missing, f"audit actions without a label in evalplat/audit/actions.py: {missing}"


def test_every_label_belongs_to_an_emitted_action() -> None:
    stale = sorted(set(ACTIONS) - set(emitted_actions()))
    assert not stale, f"labels of actions nothing records any more: {stale}"


def test_labels_read_in_both_languages(app) -> None:
    with app.test_request_context():
        for code in ACTIONS:
            with force_locale("zh_Hans"):
                zh = action_label(code)
            with force_locale("en"):
                en = action_label(code)
            assert HAN.search(zh), f"{code}: no Chinese label ({zh!r})"
            assert not HAN.search(en), f"{code}: Chinese in the English label {en!r}"
            assert en != code, f"{code}: no English label"
        for domain in {code.split(".", 1)[0] for code in ACTIONS}:
            assert domain in DOMAINS, f"{domain}: the filter has no group label for it"


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert action_label("legacy.thing") == "legacy.thing"
    assert action_label(None) == ""
