"""Hygiene of the committed notebooks: what readers see before they run anything."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Paths that only exist on one developer's machine, anywhere in the file (outputs and metadata).
PERSONAL_PATH = re.compile(r"(/home/\w|/Users/\w|/root/|/work/|/tmp/|[A-Za-z]:\\\\Users)")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook):
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert {p.stem[:2] for p in NOTEBOOKS} >= {"00", "03"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs_of_one_clean_run(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{counts.count(None)} code cell(s) never executed"
    assert counts == list(range(1, len(cells) + 1)), "re-run the notebook top to bottom on a fresh kernel"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"committed error output: {errors[0]['ename']}: {errors[0]['evalue']}"
    stderr = [o["text"] for c in cells for o in c["outputs"] if o.get("name") == "stderr"]
    assert not stderr, f"committed warnings or errors on stderr: {''.join(stderr[0])[:300]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_clean_metadata(path):
    notebook = load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in notebook["metadata"], "widget state blob: clear it before committing"
    match = PERSONAL_PATH.search(path.read_text(encoding="utf-8"))
    assert match is None, f"absolute path from a developer's machine: ...{match.string[match.start() - 40:match.end() + 40]}..."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_structure(path):
    cells = load(path)["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "**Goal.**" in text and "will be able to" in text
    assert "## Summary" in text and "## Exercises" in text
    for cell in (cells[0], cells[-1]):
        assert "navigation" in cell["metadata"].get("tags", []), "first and last cells: navigation"


def test_navigation_and_series_map_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "sync_navigation.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"run python tools/sync_navigation.py\n{result.stdout}{result.stderr}"
