"""The Colab set-up cell (a no-op here, the right commands in Colab) and the slide metadata of every notebook."""

import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "-", "notes"}


def colab_cell(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if "colab-setup" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "one Colab set-up cell"
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert cells[0] is first_code, "the Colab set-up is the first code cell"
    return cells[0]


def run_cell(source: str, monkeypatch, in_colab: bool, checkout_exists: bool = False) -> list:
    """Execute the cell's code with subprocess.run, os.chdir and the Colab module faked; return the commands."""
    commands, moves = [], []
    with monkeypatch.context() as patch:  # undone as soon as the cell has run
        patch.setattr(subprocess, "run", lambda command, check: commands.append(command))
        patch.setattr("os.chdir", lambda path: moves.append(path))
        patch.setattr("os.path.isdir", lambda path: checkout_exists)
        patch.setattr(sys, "path", list(sys.path))
        if in_colab:
            patch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        else:
            patch.delitem(sys.modules, "google.colab", raising=False)
        exec(compile(source, "<colab cell>", "exec"), {})
    return commands + [("chdir", m) for m in moves]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_cell_does_nothing_here(path, monkeypatch):
    assert run_cell(colab_cell(path).source, monkeypatch, in_colab=False) == []


def test_colab_cell_installs_the_series_in_colab(monkeypatch, load_script):
    sync = load_script("tools/sync_navigation.py")
    source = colab_cell(NOTEBOOKS[0]).source
    checkout = sync.COLAB_CHECKOUT
    commands = run_cell(source, monkeypatch, in_colab=True)
    assert commands == [
        ["git", "clone", "--depth", "1", sync.REPOSITORY_URL, checkout],
        [sys.executable, "-m", "pip", "install", "-q", "-e", checkout],
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "d2l==1.0.3"],
        ("chdir", f"{checkout}/notebooks"),
    ]
    # run again after a runtime restart: the checkout is there, so no second clone
    again = run_cell(source, monkeypatch, in_colab=True, checkout_exists=True)
    assert again[0][:4] == [sys.executable, "-m", "pip", "install"]


def test_colab_links_point_at_the_configured_repository(load_script):
    sync = load_script("tools/sync_navigation.py")
    for path in NOTEBOOKS:
        top = nbformat.read(path, as_version=4).cells[0].source
        assert f"[Open in Colab]({sync.colab_url(path.stem)})" in top
        assert sync.colab_url(path.stem).endswith(f"/blob/main/notebooks/{path.stem}.ipynb")
    assert sync.REPOSITORY_URL.removeprefix("https://github.com/") in sync.colab_url("00_start_here")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_slide_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    types_ = [c.metadata.get("slideshow", {}).get("slide_type") for c in notebook.cells]
    assert set(types_) <= SLIDE_TYPES, f"unknown or missing slide types: {set(types_) - SLIDE_TYPES}"
    first_shown = next(t for t in types_ if t != "skip")
    assert first_shown == "slide", "the deck starts with a slide (the title)"
    assert types_[0] == types_[-1] == "skip", "navigation cells are not slides"


def test_slide_rules(load_script):
    sync = load_script("tools/sync_navigation.py")
    markdown, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    assert sync.slide_type(markdown("## Section"), None) == "slide"
    assert sync.slide_type(markdown("### Part"), markdown("text")) == "subslide"
    assert sync.slide_type(markdown("More prose"), code("x = 1")) == "subslide"
    assert sync.slide_type(markdown("More prose"), markdown("prose")) == "-"
    assert sync.slide_type(code("import torch\nfrom d2lhelpers import (a,\n    b)"), None) == "skip"
    assert sync.slide_type(code("assert x > 0\nprint('ok')"), None) == "fragment"
    assert sync.slide_type(code("x = f()\nprint(x)"), None) == "-"
