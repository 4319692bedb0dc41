"""Hygiene of the committed notebooks: what readers see before they run anything."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from repository import KEYS, NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
# Paths that only exist on one developer's machine, anywhere in the file (outputs and metadata).
PERSONAL_PATH = re.compile(r"(/home/\w|/Users/\w|/root/|/work/|/tmp/|[A-Za-z]:\\\\Users)")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook):
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS, ids=lambda p: p.stem)
def test_committed_with_outputs_of_one_clean_run(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{counts.count(None)} code cell(s) never executed"
    assert counts == list(range(1, len(cells) + 1)), "re-run the notebook top to bottom on a fresh kernel"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"committed error output: {errors[0]['ename']}: {errors[0]['evalue']}"
    stderr = [o["text"] for c in cells for o in c["outputs"] if o.get("name") == "stderr"]
    assert not stderr, f"committed warnings or errors on stderr: {''.join(stderr[0])[:300]}"


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS, ids=lambda p: p.stem)
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


def exercise_numbers(path: Path) -> list[int]:
    """The numbers of a notebook's exercises: the numbered list items after its `## Exercises` heading."""
    text = next("".join(c["source"]) for c in load(path)["cells"] if "## Exercises" in "".join(c["source"]))
    return [int(n) for n in re.findall(r"^(\d+)\. ", text.split("## Exercises", 1)[1], flags=re.M)]


def answers(key: Path) -> dict[int, list[dict]]:
    """The cells under each `## Exercise N` heading of an answer key, by N."""
    sections: dict[int, list[dict]] = {}
    current = None
    for cell in load(key)["cells"]:
        heading = re.match(r"## Exercise (\d+)\b", "".join(cell["source"]))
        if cell["cell_type"] == "markdown" and heading:
            current = int(heading.group(1))
            assert current not in sections, f"{key.name}: exercise {current} answered twice"
            sections[current] = [cell]
        elif cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("## "):
            current = None
        elif current is not None:
            sections[current].append(cell)
    return sections


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_an_answer_in_the_key(path):
    numbers = exercise_numbers(path)
    assert numbers and numbers == list(range(1, len(numbers) + 1)), f"exercises numbered 1..n, got {numbers}"
    key = ROOT / "notebooks" / "solutions" / f"{path.stem[:2]}_solutions.ipynb"
    assert key.is_file(), f"no answer key {key.relative_to(ROOT)}"
    sections = answers(key)
    assert sorted(sections) == numbers, f"{key.name} answers {sorted(sections)}, the notebook asks {numbers}"
    for number, cells in sections.items():
        prose = sum(len("".join(c["source"])) for c in cells if c["cell_type"] == "markdown")
        code_with_output = any(c["cell_type"] == "code" and c["outputs"] for c in cells)
        assert prose >= 250 or code_with_output, f"{key.name}, exercise {number}: no worked answer"


def test_the_books_five_exercises_are_asked_and_answered():
    notebook = next(p for p in NOTEBOOKS if p.stem.startswith("05"))
    exercises = "\n".join("".join(c["source"]) for c in load(notebook)["cells"] if "## Exercises" in "".join(c["source"]))
    asked = {int(n): int(book) for n, book in re.findall(r"^(\d+)\. \*\*Book §7\.1, exercise (\d)\.", exercises, re.M)}
    assert sorted(asked.values()) == [1, 2, 3, 4, 5], f"the book's five §7.1 exercises, found {asked}"
    key = ROOT / "notebooks" / "solutions" / "05_solutions.ipynb"
    headings = "\n".join("".join(c["source"]) for c in load(key)["cells"])
    for number, book in asked.items():
        assert re.search(rf"^## Exercise {number} \(book §7\.1, exercise {book}\)", headings, re.M), (number, book)


@pytest.mark.parametrize("path", KEYS, ids=lambda p: p.stem)
def test_answer_key_structure(path):
    cells = load(path)["cells"]
    assert re.match(r"# Answers: \d\d · ", "".join(cells[1]["source"])), "the title: # Answers: NN · <notebook title>"
    for cell in (cells[0], cells[-1]):
        assert "navigation" in cell["metadata"].get("tags", []), "first and last cells: navigation"
