"""The facade's modules import one another without a cycle, counting imports made inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import qubrid_video

PACKAGE = Path(qubrid_video.__file__).parent


def _imports(path: Path) -> set[str]:
    """The package's modules that `path` imports, wherever the import stands (a function, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qubrid_video."):
            found.add(node.module.removeprefix("qubrid_video."))
    return found


def test_no_import_cycle() -> None:
    """Following imports from any module never leads back to it (the package's __init__ aside)."""
    graph = {path.stem: _imports(path) for path in PACKAGE.glob("_*.py") if path.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(module) :], module]))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert "_client" not in {m for deps in graph.values() for m in deps}, "only __init__ imports the clients"
