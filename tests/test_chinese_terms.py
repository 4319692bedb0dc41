"""The Chinese terms live in the prose, where the browser's CJK font draws them, never in figures (whose
fonts matplotlib picks without CJK fallback): a figure never shows a box for a missing glyph."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from repository import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chinese_terms_are_in_the_prose_and_not_in_code(path):
    notebook = nbformat.read(path, as_version=4)
    prose = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert CJK.search(prose), "each notebook keeps the Chinese term of its key concept"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            found = CJK.findall(cell.source)
            assert not found, f"Chinese text in a code cell would reach a figure or table: {''.join(found)}"


def string_literals(source: str) -> list[str]:
    """The string constants of a module that are not docstrings (what could end up drawn)."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_helpers_draw_no_chinese_text():
    for path in sorted((ROOT / "d2lhelpers").glob("*.py")):
        found = [text for text in string_literals(path.read_text(encoding="utf-8")) if CJK.search(text)]
        assert not found, f"{path.name}: Chinese text in strings would reach a figure or table: {found}"


def test_the_checks_find_chinese_text():
    """The controls: the pattern finds the terms, and a Chinese label is found but a docstring is not."""
    assert CJK.findall("汇聚层 pooling, 暂退法 dropout") == list("汇聚层暂退法")
    module = 'def f():\n    """汇聚层 pooling."""\n    return plt.title("汇聚层")\n'
    assert string_literals(module) == ["汇聚层"]
