"""The import graph of ``src/diogel``: no import circle between files, no import reaching up a layer.

Built from the source with :mod:`ast`, module-level AND function-local ``import diogel...`` /
``from diogel... import ...`` (relative imports too); imports under ``if TYPE_CHECKING:`` are left out,
as they never run. The layers, bottom first (issue 12)::

    errors, analysis, disclosure, data  <  sources  <  warehouse  <  gather
        <  report, resources, portal, demo  <  commands, cli

What is still wrong today is listed below, each entry with the issue-12 item that will remove it. The
lists only shrink: a new circle or upward import fails, and so does an entry that no longer happens
(remove it, so it cannot come back unnoticed).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "diogel"

LAYERS: dict[str, int] = {
    "diogel.errors": 0,
    "diogel.analysis": 0,
    "diogel.disclosure": 0,
    "diogel.data": 0,
    "diogel.registry": 0,
    "diogel.crime_types": 0,
    "diogel.sources": 1,
    "diogel.warehouse": 2,
    "diogel.gather": 3,
    "diogel.report": 4,
    "diogel.resources": 4,
    "diogel.portal": 4,
    "diogel.demo": 4,
    "diogel.commands": 5,
    "diogel.cli": 5,
    "diogel.api": 5,
}

# Import circles that remain, with the issue-12 item that removes each. A circle is a strongly connected
# component of the graph; it is allowed when every file in it is one of the entry's modules or inside one
# of its packages (a registry circle takes in every module registered through it, so a new section or
# source kind joins its circle rather than making a new one).
ALLOWED_CYCLES: dict[frozenset[str], str] = {}

# Imports that reach up a layer, (importer, imported), with the issue-12 item that removes them.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The file a dotted name stands for: the module itself, or the nearest enclosing module."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, source: str, known: dict[str, Path]) -> set[str]:
    """The diogel modules ``module`` imports anywhere in its body (not under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(source)
    is_package = known[module].name == "__init__.py"
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    target = _resolve(alias.name, known)
                    if target:
                        out.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if prefix == PACKAGE or prefix.startswith(PACKAGE + "."):
                for alias in node.names:
                    # ``from diogel.x import y``: y is a module of its own, or a name in diogel.x.
                    target = _resolve(f"{prefix}.{alias.name}", known)
                    if target and target != module:
                        out.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(module)
    return out


@cache
def graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {m: frozenset(imports_of(m, p.read_text(encoding="utf-8"), known)) for m, p in known.items()}


def cycles(g: dict[str, frozenset[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in g:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(g[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.add(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def layer(module: str) -> int | None:
    for prefix, n in sorted(LAYERS.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "."):
            return n
    return None


def upward(g: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    out = set()
    for m, targets in g.items():
        lm = layer(m)
        for t in targets:
            lt = layer(t)
            if lm is not None and lt is not None and lt > lm:
                out.add((m, t))
    return out


def _covers(entry: frozenset[str], module: str) -> bool:
    return any(module == e or module.startswith(e + ".") for e in entry)


def _allowed(component: frozenset[str]) -> str | None:
    """The allowlist entry covering every module of ``component`` (the exact one first), if any."""
    covering = [e for e in ALLOWED_CYCLES if all(_covers(e, m) for m in component)]
    return next((e for e in covering if e == component), covering[0] if covering else None)


def _show(component: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(component)) + "}"


# ----------------------------------------------------------------------------------------------------


def test_the_graph_sees_local_relative_and_type_checking_imports():
    known = {m: Path(f"{m.replace('.', '/')}.py") for m in ("diogel.a", "diogel.b", "diogel.c", "diogel.d")}
    known["diogel.pkg"] = Path("diogel/pkg/__init__.py")
    known["diogel.pkg.mod"] = Path("diogel/pkg/mod.py")
    source = (
        "from typing import TYPE_CHECKING\n"
        "import diogel.b\n"
        "if TYPE_CHECKING:\n    from diogel.c import Thing\n"
        "def f():\n    from diogel import d\n    from diogel.pkg.mod import x\n"
    )
    assert imports_of("diogel.a", source, known) == {"diogel.b", "diogel.d", "diogel.pkg.mod"}
    assert imports_of("diogel.pkg.mod", "from . import x\nfrom ..b import y\n", known) == {
        "diogel.pkg",
        "diogel.b",
    }
    g = {"diogel.a": frozenset({"diogel.b"}), "diogel.b": frozenset({"diogel.c"}),
         "diogel.c": frozenset({"diogel.a"}), "diogel.d": frozenset({"diogel.a"})}  # fmt: skip
    assert cycles(g) == [frozenset({"diogel.a", "diogel.b", "diogel.c"})]


def test_the_layers_are_the_issue_12_order():
    # Bottom first, as issue 12 states it; the numbers cannot be bent to let an upward import pass.
    order = [
        {"diogel.errors", "diogel.analysis", "diogel.disclosure", "diogel.data", "diogel.registry",
         "diogel.crime_types"},
        {"diogel.sources"},
        {"diogel.warehouse"},
        {"diogel.gather"},
        {"diogel.report", "diogel.resources", "diogel.portal", "diogel.demo"},
        {"diogel.commands", "diogel.cli", "diogel.api"},
    ]  # fmt: skip
    assert [{m for m, n in LAYERS.items() if n == i} for i in range(len(order))] == order
    assert max(LAYERS.values()) == len(order) - 1


def test_every_module_has_a_layer():
    assert [m for m in modules() if m != PACKAGE and layer(m) is None] == []


def test_no_new_import_circle():
    new = [c for c in cycles(graph()) if _allowed(c) is None]
    assert not new, "new import circle(s): " + "; ".join(_show(c) for c in new)


def test_no_new_upward_import():
    new = sorted(upward(graph()) - set(ALLOWED_UPWARD))
    assert not new, "imports reaching up a layer: " + "; ".join(f"{a} -> {b}" for a, b in new)


def test_the_allowlists_only_shrink():
    used = {_allowed(c) for c in cycles(graph())}
    gone = [a for a in ALLOWED_CYCLES if a not in used]
    stale = sorted(set(ALLOWED_UPWARD) - upward(graph()))
    assert not gone, "circle(s) gone: remove from ALLOWED_CYCLES: " + "; ".join(_show(c) for c in gone)
    assert not stale, "upward imports gone: remove from ALLOWED_UPWARD: " + "; ".join(
        f"{a} -> {b}" for a, b in stale
    )
