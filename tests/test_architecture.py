"""The shape the code keeps: one home per decision, checked so that a shortcut fails a test.

- a mapping kind is one record (kinds.py) plus a maker in each backend, and nothing else asks
  a kind its name to decide what to do;
- kernel versions are facts in the rules and the model table: the simulator asks whether a
  rule holds and never compares version numbers itself;
- no import cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set

from mremapctl.backends.live.makers import Makers
from mremapctl.backends.sim.kinds import MAKERS as SIM_MAKERS
from mremapctl.kinds import KINDS
from mremapctl.render.cprog.kinds import MAKERS as C_MAKERS

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "mremapctl"


def modules() -> Iterator[Path]:
    yield from sorted(p for p in PACKAGE.rglob("*.py") if p.name != "_abi.py")


def test_every_kind_has_a_maker_in_every_backend() -> None:
    for name in KINDS:
        assert hasattr(Makers, f"make_{name}"), f"no live maker for kind {name!r} (backends/live/makers.py)"
        assert name in SIM_MAKERS, f"no simulated maker for kind {name!r} (backends/sim/kinds.py)"
        assert name in C_MAKERS, f"no C maker for kind {name!r} (render/cprog/kinds.py)"


def _mentions_kind(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and "kind" in n.id) or (isinstance(n, ast.Attribute) and "kind" in n.attr)
        for n in ast.walk(node)
    )


def _kind_names_in(node: ast.AST) -> Set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in KINDS}


def test_nothing_but_the_kinds_module_decides_by_a_kind_name() -> None:
    found: List[str] = []
    for path in modules():
        if path == PACKAGE / "kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and _mentions_kind(node) and _kind_names_in(node):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "read a Kind field instead:\n" + "\n".join(found)


def test_the_simulator_never_compares_kernel_versions() -> None:
    found: List[str] = []
    for path in sorted((PACKAGE / "backends" / "sim").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            numbers = isinstance(node, ast.Tuple) and len(node.elts) >= 2
            if numbers and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "ask whether a rule holds (SimMachine.holds) instead:\n" + "\n".join(found)


def test_immutable_values_are_frozen_for_the_type_checker_only() -> None:
    """``@frozen`` (frozen.py), not ``dataclass(frozen=True)``: one decision about what freezing costs."""
    found: List[str] = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or ast.unparse(node.func) not in ("dataclass", "dataclasses.dataclass"):
                continue
            if any(k.arg == "frozen" for k in node.keywords):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "use @frozen from mremapctl.frozen:\n" + "\n".join(found)


def import_graph() -> Dict[str, Set[str]]:
    """Module -> modules of the package it imports (anywhere in it, TYPE_CHECKING included)."""
    names = {}
    for path in modules():
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: Dict[str, Set[str]] = {name: set() for name in names}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in names}
                graph[name] |= subs
                if base in names and len(subs) < len(node.names):
                    graph[name].add(base)
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []
