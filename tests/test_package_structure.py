"""The package's shape: no import circle between d2lhelpers' modules, function-level imports
included; every module in the package map of d2lhelpers/__init__.py; none much longer than 250 lines."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "d2lhelpers"
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_LINES = 260  # about 250; a longer module says why in its docstring ("longer than 250 lines because ...")


def imported_modules(path: Path) -> set[str]:
    """The d2lhelpers modules a file imports anywhere in it (module, function or class level); the package
    itself is `__init__`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "d2lhelpers" if node.level else node.module or ""
            base = f"{base}.{node.module}" if node.level and node.module else base
            names = [f"{base}.{alias.name}" if base == "d2lhelpers" else base for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "d2lhelpers":
                found.add(parts[1] if len(parts) > 1 and (PACKAGE / f"{parts[1]}.py").is_file() else "__init__")
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle as a path [a, b, ..., a], or [] when the graph has none (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str]:  # `path` ends with `node`
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, path + [nxt])):
                return cycle
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return []


def test_the_cycle_finder_finds_circles_and_only_those():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]


def test_function_level_imports_count(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from d2lhelpers.training import train_step\n    from . import shapes\n")
    assert imported_modules(source) == {"training", "shapes"}


def test_the_package_has_no_import_circle():
    graph = {path.stem: imported_modules(path) for path in MODULES}
    assert graph["hardware"] >= {"devices", "training"} and graph["training"] >= {"devices"}, "the graph was read"
    cycle = find_cycle(graph)
    assert not cycle, f"import circle: {' -> '.join(cycle)}"


def test_every_module_is_in_the_package_map():
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    listed = {line.split()[1] for line in docstring.splitlines() if line.startswith("- ")}
    assert listed == {path.stem for path in MODULES} - {"__init__", "__main__"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_stay_small_or_say_why(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert lines <= MAX_LINES or "longer than 250 lines because" in docstring, f"{path.name}: {lines} lines"
