"""How outcomes become text: one protocol (``to_dict``, ``render``), one set of number rules, the
--by groups written from arrays, and a package whose modules import each other in one direction.

Expected texts come from the json and csv modules on ``to_dict()`` and on Result objects built
one by one as the report was built before its groups were arrays (``per_object_groups``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_cli import ROOT

PACKAGE = ROOT / "losscli"


# -- the import graph -----------------------------------------------------------------------------
#
# An edge is an import of one losscli module by another. Counted: every import at module level,
# those under ``if TYPE_CHECKING:`` too (a circle there is still a circle in the design, as
# report.py <-> checks.py was). Not counted: an import of the root package ``losscli`` (for
# ``__version__``): Python runs it before any of its modules, and it imports none of them at
# module level (checked below). Imports inside functions are not counted across the package: they
# are how the CLI and the readers defer heavy or rarely used modules, and they cannot fail at
# import; inside the report package they are counted too, where no deferral is needed.


def module_paths() -> dict[str, Path]:
    paths = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    return paths


def imported(name: str, path: Path, modules: set[str], functions: bool) -> set[str]:
    """The losscli modules ``name`` imports (at module level; in functions too if asked)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def target(module: str, item: str | None) -> str:
        whole = f"{module}.{item}" if item else module
        return whole if whole in modules else module

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not functions:
                continue
            if isinstance(child, ast.Import):
                found.update(target(alias.name, None) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    module = ".".join([*base, module] if module else base)
                found.update(target(module, alias.name) for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in modules and module not in (name, "losscli")}


def import_graph(functions: bool, within: str = "losscli") -> dict[str, set[str]]:
    paths = {name: path for name, path in module_paths().items() if name.startswith(within)}
    modules = set(paths)
    return {name: imported(name, path, modules, functions) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for after in sorted(graph.get(node, ())):
            if state.get(after) == 1:
                return [*path[path.index(after) :], after]
            if after not in state and (cycle := visit(after)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_graph_sees_imports_under_type_checking_and_in_functions(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import losscli.a\n"
        "if TYPE_CHECKING:\n    from losscli.b import B\n"
        "def f():\n    from losscli import c\n"
        "from losscli import __version__\n"
    )
    modules = {"losscli", "losscli.a", "losscli.b", "losscli.c", "losscli.m"}
    assert imported("losscli.m", path, modules, False) == {"losscli.a", "losscli.b"}
    assert imported("losscli.m", path, modules, True) == {"losscli.a", "losscli.b", "losscli.c"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_two_modules_of_the_package_import_each_other():
    cycle = find_cycle(import_graph(functions=False))
    assert cycle is None, " -> ".join(cycle or [])


def test_the_root_package_imports_none_of_its_modules_when_imported():
    """Why imports of ``losscli`` itself are left out of the graph."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    at_import = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and "losscli" in (getattr(node, "module", None) or "")
    ]
    assert at_import == []


def test_the_report_package_has_no_cycle_even_through_imports_in_functions():
    graph = import_graph(functions=True, within="losscli.report")
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])
    assert "losscli.report.report" not in graph["losscli.report.checks"]
