"""No import cycle inside `engine/run/`, nor anywhere in `engine/`: each module owns one role
and imports only below it.

The graph is read from the source (every import, lazy ones inside functions included, since
a lazy import is still a dependency), leaving out imports under `if TYPE_CHECKING:` (types
only, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "engine" / "run"
PACKAGE = "engine.run"


def _type_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_only(node):
            found |= {m for child in node.orelse for m in _imports(child, modules)}
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found |= {a.name for a in node.names if a.name in modules}
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module.removeprefix(PACKAGE + ".").split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix(PACKAGE + ".").split(".")[0] for a in node.names
                      if a.name.startswith(PACKAGE + ".")}
        found |= _imports(node, modules)
    return found


def module_graph() -> dict[str, set[str]]:
    """engine/run module → the engine/run modules it imports (at run time)."""
    modules = {p.stem for p in RUN.glob("*.py") if p.stem != "__init__"}
    return {m: _imports(ast.parse((RUN / f"{m}.py").read_text(encoding="utf-8")), modules) - {m}
            for m in modules}


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as the modules on it (first repeated at the end), or []."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def _dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _engine_imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The engine modules `tree` imports at run time: `from engine.a import b` is `engine.a.b`
    when that is a module, else `engine.a`."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_only(node):
            found |= {m for child in node.orelse for m in _engine_imports(child, modules)}
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "engine":
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "engine"}
        found |= _engine_imports(node, modules)
    return found


def engine_graph() -> dict[str, set[str]]:
    """engine module (dotted) → the engine modules it imports at run time."""
    paths = {_dotted(p): p for p in (ROOT / "engine").rglob("*.py")}
    modules = set(paths)
    return {m: (_engine_imports(ast.parse(p.read_text(encoding="utf-8")), modules) & modules) - {m}
            for m, p in paths.items()}


def test_engine_has_no_import_cycle() -> None:
    """The layers contract (import-linter) holds between packages; this holds between modules,
    in every package, lazy imports included."""
    graph = engine_graph()
    assert {"engine.service", "engine.run.status", "engine.hosts.host", "engine.core.models"} <= set(graph)
    assert "engine.core.errors" in graph["engine.hosts.registry"], "the graph reads the imports"
    assert cycle(graph) == [], " → ".join(cycle(graph))


def test_engine_run_has_no_import_cycle() -> None:
    graph = module_graph()
    assert {"status", "control", "enforce", "supervisor", "orchestrator", "lookup", "waves"} <= set(graph)
    assert cycle(graph) == [], " → ".join(cycle(graph))


def test_the_cycle_finder_finds_one() -> None:
    """The test above could fail: the graph as it was (control ↔ status ↔ enforce) has a cycle."""
    old = {"control": {"status"}, "status": {"enforce"}, "enforce": {"control"}, "journal": set()}
    assert cycle(old) == ["control", "status", "enforce", "control"]
    assert cycle({"a": {"b"}, "b": set()}) == []
