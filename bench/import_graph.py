"""The import graph between evalplat's sub-packages, and the circles in it (issue 12).

Usage::

    .venv/bin/python bench/import_graph.py [--edges]

Reads every ``evalplat/**/*.py`` with :mod:`ast` (nothing is imported) and maps each module to its
sub-package (``evalplat.cases.views`` → ``cases``; a top-level module such as ``evalplat/db.py`` is its
own node). Two graphs are printed: imports at module level only (what runs when a module is loaded), and
every import including the ones inside functions. For each: the number of edges, the number of pairs
of sub-packages that import each other (two-package circles), and the strongly connected components
larger than one package (packages that reach each other through some circle). ``--edges`` lists the
mutual pairs.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "evalplat"


def node_of(module: str) -> str | None:
    """The sub-package of a dotted module name under evalplat (None outside it)."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level edges, all edges) between sub-packages."""
    top: dict[str, set[str]] = defaultdict(set)
    every: dict[str, set[str]] = defaultdict(set)
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        module = module_name(path)
        source = node_of(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_level = {id(n) for n in tree.body}
        # imports under `if TYPE_CHECKING:` at module level are typing only: not counted as module-level
        for stmt in tree.body:
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                module_level -= {id(n) for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [base] if base != PACKAGE else [f"{PACKAGE}.{a.name}" for a in node.names]
            for target in targets:
                dest = node_of(target)
                if dest is None or dest == source:
                    continue
                every[source].add(dest)
                if id(node) in module_level or _under_try_at_top(tree, node):
                    top[source].add(dest)
    return top, every


def _under_try_at_top(tree: ast.Module, target: ast.AST) -> bool:
    return any(isinstance(stmt, ast.Try) and any(n is target for n in ast.walk(stmt)) for stmt in tree.body)


def mutual_pairs(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in edges.items() for b in targets if a < b and a in edges.get(b, set()))


def components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    nodes = set(edges) | {b for targets in edges.values() for b in targets}

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(found, key=len, reverse=True)


def report(title: str, edges: dict[str, set[str]], show_edges: bool) -> None:
    pairs = mutual_pairs(edges)
    sccs = components(edges)
    print(f"{title}: {sum(len(t) for t in edges.values())} edges, {len(pairs)} mutual pairs, "
          f"{len(sccs)} circle components, largest {max((len(c) for c in sccs), default=0)} packages")
    for component in sccs:
        print(f"  component ({len(component)}): {' '.join(component)}")
    if show_edges:
        for a, b in pairs:
            print(f"  {a} <-> {b}")


def main(argv: list[str]) -> int:
    top, every = graphs()
    report("module-level imports", top, "--edges" in argv)
    report("all imports (function-local too)", every, "--edges" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
