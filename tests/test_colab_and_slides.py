"""The Colab set-up cell (a no-op here, the right commands in Colab) and the slide metadata of every notebook."""

import importlib.util
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest

from repository import KEYS, NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_BY_NUMBER = {path.name[:2]: path for path in NOTEBOOKS}
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "-", "notes"}


def colab_cell(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if "colab-setup" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "one Colab set-up cell"
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert cells[0] is first_code, "the Colab set-up is the first code cell"
    return cells[0]


def run_cell(source: str, monkeypatch) -> list:
    """Execute the cell's code outside Colab with subprocess.run and os.chdir faked; return what it did."""
    done = []
    with monkeypatch.context() as patch:  # undone as soon as the cell has run
        patch.setattr(subprocess, "run", lambda *args, **kwargs: done.append(args))
        patch.setattr("os.chdir", lambda path: done.append(("chdir", path)))
        patch.setattr(sys, "path", list(sys.path))
        patch.delitem(sys.modules, "google.colab", raising=False)
        before = list(sys.path)
        exec(compile(source, "<colab cell>", "exec"), {})
        done += [("sys.path", entry) for entry in sys.path if entry not in before]
    return done


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS, ids=lambda p: p.stem)
def test_colab_cell_is_a_short_form_that_does_nothing_here(path, monkeypatch):
    cell = colab_cell(path)
    lines = cell.source.splitlines()
    assert len(lines) <= 8 and lines[0].startswith("# @title "), "a few lines under a Colab form title"
    assert cell.metadata.get("cellView") == "form", "Colab shows the form's title, not the code"
    assert f'course.colab("{path.relative_to(ROOT).as_posix()}")' in cell.source, "the cell names its own notebook"
    assert run_cell(cell.source, monkeypatch) == []


@pytest.fixture(scope="module")
def remote(tmp_path_factory) -> str:
    """A bare clone of this repository, standing in for GitHub (the cell clones it for real)."""
    bare = tmp_path_factory.mktemp("remote") / "alexnet-series.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(bare)], check=True)
    return bare.as_uri()


def run_in_colab(source: str, monkeypatch, tmp_path: Path, repository: str, missing: tuple = ()) -> dict:
    """Execute the cell as Colab would: fake google.colab, real git, the clone's course.py, pip recorded instead of run."""
    sync_url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    checkout = tmp_path / "content" / "alexnet-series"
    assert source.count(f'"{sync_url}"') == 1 and source.count('"/content/alexnet-series"') == 1
    source = source.replace(f'"{sync_url}"', repr(repository)).replace('"/content/alexnet-series"', repr(str(checkout)))
    real_run, real_find_spec = subprocess.run, importlib.util.find_spec
    seen = {"git": [], "pip": [], "chdir": [], "checkout": checkout}

    def fake_run(command, **kwargs):
        if command[0] == "git":
            seen["git"].append(command)
            return real_run(command, **kwargs)
        seen["pip"].append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    with monkeypatch.context() as patch:
        patch.setattr(subprocess, "run", fake_run)
        patch.setattr("os.chdir", lambda path: seen["chdir"].append(path))
        patch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else real_find_spec(name, *a))
        patch.setattr(sys, "path", list(sys.path))
        patch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        patch.delitem(sys.modules, "course", raising=False)  # the cell imports the clone's course.py
        try:
            exec(compile(source, "<colab cell>", "exec"), {})
        finally:
            imported = sys.modules.pop("course", None)
    assert imported is None or Path(imported.__file__) == checkout / "course.py"
    return seen


def test_colab_cell_clones_and_installs_only_the_helpers_and_d2l(monkeypatch, tmp_path, remote):
    seen = run_in_colab(colab_cell(NOTEBOOKS_BY_NUMBER["05"]).source, monkeypatch, tmp_path, remote)
    checkout = seen["checkout"]
    assert (checkout / "notebooks" / "05_training_alexnet.ipynb").is_file() and (checkout / "pyproject.toml").is_file()
    # everything else is already there (as in Colab): no full install, no second torch
    assert seen["pip"] == [[sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(checkout), "d2l==1.0.3"]]
    assert seen["chdir"] == [str(checkout / "notebooks")]
    # again after a runtime restart: the checkout is there, so no second clone
    again = run_in_colab(colab_cell(NOTEBOOKS_BY_NUMBER["05"]).source, monkeypatch, tmp_path, remote)
    assert again["git"] == [] and len(again["pip"]) == 1


def test_colab_cell_of_an_answer_key_moves_into_the_solutions(monkeypatch, tmp_path, remote):
    seen = run_in_colab(colab_cell(KEYS[0]).source, monkeypatch, tmp_path, remote)
    assert seen["chdir"] == [str(seen["checkout"] / "notebooks" / "solutions")]


def test_colab_cell_installs_what_the_runtime_lacks_and_nothing_else(monkeypatch, tmp_path, remote):
    seen = run_in_colab(colab_cell(NOTEBOOKS_BY_NUMBER["01"]).source, monkeypatch, tmp_path, remote,
                        missing=("skimage", "sklearn"))
    assert "d2l==1.0.3" not in seen["pip"][0]  # notebook 01 does not use the book's package
    assert seen["pip"][1] == [sys.executable, "-m", "pip", "install", "-q", "scikit-image>=0.22", "scikit-learn>=1.3"]
    assert not any("torch" in part for command in seen["pip"] for part in command)


def test_colab_cell_keeps_an_old_torch_and_says_so(monkeypatch, tmp_path, remote):
    import torch

    monkeypatch.setattr(torch, "__version__", "2.1.0+cu121")
    with pytest.raises(RuntimeError, match=r"needs torch>=2\.5 .* has 2\.1\.0\+cu121"):
        run_in_colab(colab_cell(NOTEBOOKS[0]).source, monkeypatch, tmp_path, remote)


@pytest.mark.parametrize("address", ["file:///<owner>/<repository>", "file:///nonexistent/alexnet-series.git"])
def test_colab_cell_fails_clearly_on_a_wrong_address(monkeypatch, tmp_path, address):
    with pytest.raises(RuntimeError, match="could not clone") as error:
        run_in_colab(colab_cell(NOTEBOOKS[0]).source, monkeypatch, tmp_path, address)
    assert "[project.urls] Repository" in str(error.value) and "sync_navigation.py" in str(error.value)


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS, ids=lambda p: p.stem)
def test_colab_set_up_covers_what_the_notebook_imports(path, load_script):
    course = load_script("course.py")
    imports = course.notebook_imports(path)
    needs = course.colab_requirements(imports)
    for module in imports & (course.COLAB_MODULES.keys() - {"torch", "torchvision"}):
        assert module in needs, f"{path.name} imports {module} but its Colab set-up would not check it"
    assert needs.keys() >= course.HELPER_MODULES - {"torch", "torchvision"}
    assert ("PIL" in needs) == ("PIL" in imports or "d2l" in imports)  # d2l brings its own imports


def test_the_colab_cells_own_imports_do_not_count(load_script, tmp_path):
    course = load_script("course.py")
    code = nbformat.v4.new_code_cell
    notebook = nbformat.v4.new_notebook(cells=[
        code("import course\nimport subprocess", metadata={"tags": ["colab-setup"]}),
        code("import torch\nfrom d2l import torch as d2l\n  import sklearn.svm  # indented too")])
    nbformat.write(notebook, tmp_path / "n.ipynb")
    assert course.notebook_imports(tmp_path / "n.ipynb") == {"torch", "d2l", "sklearn"}


def test_colab_links_point_at_the_configured_repository(load_script):
    sync = load_script("tools/sync_navigation.py")
    for path in NOTEBOOKS:
        top = nbformat.read(path, as_version=4).cells[0].source
        # first in the line: at its right end, a selected cell's toolbar in JupyterLab covered the link
        assert top.startswith(f"[Open in Colab]({sync.colab_url(path.stem)})")
        assert sync.colab_url(path.stem).endswith(f"/blob/main/notebooks/{path.stem}.ipynb")
    for path in KEYS:
        top = nbformat.read(path, as_version=4).cells[0].source
        assert top.startswith(f"[Open in Colab]({sync.colab_url(path.stem, 'notebooks/solutions')})")
    assert sync.REPOSITORY_URL.removeprefix("https://github.com/") in sync.colab_url("00_start_here")


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS, ids=lambda p: p.stem)
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


def test_widgets_are_skipped_and_long_slides_split(load_script):
    """A widget cell is skipped on the slides (a static deck cannot run it); a cell that would make
    its slide taller than the budget starts a subslide; a cell that fits continues the slide."""
    sync = load_script("tools/sync_navigation.py")
    markdown, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    tall = code("\n".join(f"x{i} = {i}" for i in range(23)), outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="".join(f"line {i}\n" for i in range(10)))])
    notebook = nbformat.v4.new_notebook(cells=[
        markdown("## A section"), code("y = 1"), tall,
        code("import ipywidgets\nipywidgets.interact(f, x=1)"), code("show(1)", metadata={"tags": ["widget"]}),
        code("draw_static_figure()")])
    assert sync.estimated_height(tall) > sync.SLIDE_BUDGET / 2
    sync.ensure_slide_metadata(notebook)
    types_ = [c.metadata["slideshow"]["slide_type"] for c in notebook.cells]
    assert types_ == ["slide", "-", "subslide", "skip", "skip", "-"]
    notebook.cells[3].metadata["slideshow"]["slide_type"] = "-"  # set by hand: a widget is skipped all the same
    sync.ensure_slide_metadata(notebook)
    assert notebook.cells[3].metadata["slideshow"]["slide_type"] == "skip"
    # --reflow-slides: a type the rules set earlier ("-", before the cell grew) is derived again; one set by
    # hand (a fragment where the rules say "-") is kept
    notebook.cells[2].metadata["slideshow"]["slide_type"] = "-"
    notebook.cells[1].metadata["slideshow"]["slide_type"] = "fragment"
    sync.forget_rule_slide_types(notebook)
    sync.ensure_slide_metadata(notebook)
    assert [c.metadata["slideshow"]["slide_type"] for c in notebook.cells] == ["slide", "fragment", "subslide", "skip", "skip", "-"]


def image_outputs(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_widget_has_a_static_figure_on_the_slides(path, load_script):
    """Each widget cell is skipped on the slides and followed, before the next prose, by a code cell on the
    slides that draws a figure: the static version of what the widget shows."""
    sync = load_script("tools/sync_navigation.py")
    cells = nbformat.read(path, as_version=4).cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or not sync.is_widget(cell) or "colab-setup" in cell.metadata.get("tags", []):
            continue
        assert cell.metadata["slideshow"]["slide_type"] == "skip", f"cell {i}: a widget on the slides"
        after = []
        for later in cells[i + 1:]:
            if later.cell_type == "markdown":
                break
            after.append(later)
        shown = [c for c in after if c.metadata["slideshow"]["slide_type"] != "skip"]
        assert any(image_outputs(c) for c in shown), f"cell {i}: a widget with no static figure after it on the slides"


def test_headings_inside_a_markdown_cell_start_their_own_slide(load_script):
    slides = load_script("tools/build_slides.py")
    text = "Prose.\n\n## Summary\n\n- a\n\n```python\n# a comment, not a heading\n```\n### Exercises\n1. b"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text, metadata={"slideshow": {"slide_type": "subslide"}})])
    split = slides.split_for_slides(notebook).cells
    assert [(c.source.splitlines()[0], c.metadata["slideshow"]["slide_type"]) for c in split] == [
        ("Prose.", "subslide"), ("## Summary", "slide"), ("### Exercises", "subslide")]
    assert "# a comment, not a heading" in split[1].source
    assert len(notebook.cells) == 1 and notebook.cells[0].source == text  # the notebook itself is unchanged
    assert slides.expected_slides(notebook) == 3
