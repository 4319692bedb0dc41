"""Write the series map, the navigation cells and the Colab set-up from one list, so they never go stale.

Updates: the first and last cell of each notebook (tagged `navigation`; the first one has the
"Open in Colab" link), the Colab set-up cell (tagged `colab-setup`, the first code cell), the cell
tagged `series-map` in notebook 00, the part of README.md between the series-map markers, and the
slide metadata of every cell that has none (see `slide_type` and `ensure_slide_metadata`). The answer keys in
notebooks/solutions/ (<NN>_solutions.ipynb) get the same cells, and each notebook's exercises cell ends
with a link to its key. Notebooks and keys that do not exist yet are listed as "coming", without a link. The repository URL comes from pyproject.toml
([project.urls] Repository). `--check` changes nothing and exits 1 when a file is out of date
(the test suite runs it).
"""

from __future__ import annotations

import argparse
import base64
import math
import struct
import sys
from pathlib import Path

import nbformat
import tomllib
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/markdown_sections.py, also when loaded by path
from markdown_sections import replace_section, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
MAP_SECTION = "series-map"  # README.md: <!-- series-map:start --> ... <!-- series-map:end -->
REPOSITORY_URL = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
COLAB_CHECKOUT = "/content/alexnet-series"


def colab_setup(notebook: str) -> str:
    """The Colab set-up cell of `notebook` (its path in the checkout): clone the series, then course.py's `colab`
    checks the runtime and installs what the notebook needs (tests/test_colab_and_slides.py runs it offline)."""
    return f"""\
# @title Colab set-up: fetch the series and what this notebook needs (outside Colab this cell does nothing)
import os, subprocess, sys
if "google.colab" in sys.modules:
    repository, checkout = "{REPOSITORY_URL}", "{COLAB_CHECKOUT}"
    if not os.path.isdir(checkout) and subprocess.run(["git", "clone", "--depth=1", "-q", repository, checkout]).returncode:
        raise RuntimeError(f"could not clone {{repository}}: set [project.urls] Repository in pyproject.toml, run tools/sync_navigation.py")
    sys.path.insert(0, checkout)  # this kernel started before the install: the helpers are importable at once
    import course; os.chdir(course.colab("{notebook}"))  # installs what this notebook needs and Colab lacks"""


# (file stem, title, what the reader does there)
SERIES = [
    ("00_start_here", "Start here", "check your set-up, choose a run profile, see the map"),
    ("01_handcrafted_vs_learned_features", "Hand-crafted vs learned features", "HOG + SVM against a small CNN, measured"),
    ("02_why_2012_data_and_hardware", "Why 2012: data and hardware", "ImageNet's scale and your CPU/GPU's throughput"),
    ("03_alexnet_layer_by_layer", "AlexNet layer by layer", "shapes, the output-size formula, parameters and compute"),
    ("04_fashion_mnist_pipeline", "The Fashion-MNIST pipeline", "loading, resizing to 224 and augmentation, fast"),
    ("05_training_alexnet", "Training AlexNet", "train on a laptop CPU or a GPU and read the results"),
    ("06_filter_visualisation", "What the first layer learns", "filters and feature maps of your trained model"),
    ("07_what_made_alexnet_work", "What made AlexNet work", "ReLU, dropout, pooling, augmentation as experiments"),
    ("08_questions_answered", "Questions answered", "the lecture's questions, each settled by an experiment"),
]
SOLUTIONS = NOTEBOOKS / "solutions"  # one answer key per notebook: solutions/<NN>_solutions.ipynb
KEY_MARKER = "**Answer key:**"  # the generated last line of a notebook's exercises cell


def series_notebooks(keys: bool = True) -> list[Path]:
    """The series' notebooks in order, then (unless `keys` is False) their answer keys: how every tool and
    test lists them."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return found + (sorted(SOLUTIONS.glob("[0-9][0-9]_solutions.ipynb")) if keys else [])


def exists(stem: str) -> bool:
    return (NOTEBOOKS / f"{stem}.ipynb").is_file()


def label(index: int) -> str:
    stem, title, _ = SERIES[index]
    return f"{stem[:2]} · {title}"


def link(index: int, prefix: str = "") -> str:
    stem = SERIES[index][0]
    return f"[{label(index)}]({prefix}{stem}.ipynb)" if exists(stem) else f"{label(index)} (coming)"


def colab_url(stem: str, folder: str = "notebooks") -> str:
    """The notebook opened from GitHub in Google Colab."""
    github = REPOSITORY_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/main/{folder}/{stem}.ipynb"


def key_stem(index: int) -> str:
    """The answer key's file stem for notebook `index`: 05_solutions."""
    return f"{SERIES[index][0][:2]}_solutions"


def has_key(index: int) -> bool:
    return (SOLUTIONS / f"{key_stem(index)}.ipynb").is_file()


def key_link(index: int, prefix: str = "solutions/") -> str:
    return f"[answers {SERIES[index][0][:2]}]({prefix}{key_stem(index)}.ipynb)" if has_key(index) else "(coming)"


def key_navigation_markdown(index: int, colab: bool = False) -> str:
    """The navigation line of an answer key: contents, its notebook, the previous and next keys."""
    parts = ["**AlexNet series · answer key**", "[Contents](../00_start_here.ipynb)",
             f"the notebook: {link(index, '../')}"]
    keys = [i for i in range(len(SERIES)) if has_key(i)]
    position = keys.index(index)
    return navigation_line(parts, key_link(keys[position - 1], "") if position > 0 else None,
                           key_link(keys[position + 1], "") if position + 1 < len(keys) else None,
                           colab_url(key_stem(index), "notebooks/solutions") if colab else None)


def navigation_line(parts: list[str], previous: str | None, following: str | None, colab: str | None) -> str:
    """The Colab link, `parts`, then the previous and next links, where there are any, joined with dots. The Colab
    link comes first: at the line's right end, the toolbar of a selected first cell in JupyterLab covered it."""
    links = [f"← {previous}" if previous else None, f"{following} →" if following else None]
    return " · ".join(([f"[Open in Colab]({colab})"] if colab else []) + parts + [item for item in links if item])


def with_key_line(source: str, index: int) -> str:
    """An exercises cell ending with the link to its answer key (replacing an older one)."""
    kept = [line for line in source.rstrip().splitlines() if not line.startswith(KEY_MARKER)]
    while kept and not kept[-1].strip():
        kept.pop()
    line = (f"{KEY_MARKER} [solutions/{key_stem(index)}.ipynb](solutions/{key_stem(index)}.ipynb) answers every "
            "exercise, with code where an exercise asks for it. Try each one first.")
    return "\n".join(kept + ["", line])


def navigation_markdown(index: int, colab: bool = False) -> str:
    """One line: contents, previous and next notebook (and, at the top, the Colab link)."""
    return navigation_line(["**AlexNet series**", "[Contents](00_start_here.ipynb)"],
                           link(index - 1) if index > 0 else None,
                           link(index + 1) if index + 1 < len(SERIES) else None,
                           colab_url(SERIES[index][0]) if colab else None)


def slide_type(cell: nbformat.NotebookNode, previous: nbformat.NotebookNode | None) -> str:
    """The slide type a cell gets when it has none: headings start slides, checks appear as fragments.

    A `#` or `##` heading starts a slide, `###` a subslide; prose after code starts a subslide;
    the import cell is skipped (it fills a slide with nothing to teach); other cells continue the slide.
    """
    source = cell.source.lstrip()
    if cell.cell_type == "markdown":
        if source.startswith(("# ", "## ")):
            return "slide"
        if source.startswith("### ") or (previous is not None and previous.cell_type == "code"):
            return "subslide"
        return "-"
    lines = [line for line in cell.source.splitlines() if line.strip()]
    if lines and all(line.startswith(("import ", "from ", " ", ")")) for line in lines):
        return "skip"
    if any(line.startswith("assert ") for line in lines) and "plt." not in cell.source:
        return "fragment"
    return "-"


def ensure_colab_cell(notebook: nbformat.NotebookNode, path: Path) -> bool:
    """Insert the Colab set-up cell of the notebook at `path` before its first code cell if it is missing, else
    refresh its text; Colab shows it as a form, its title only. True if changed. (A test checks that it stays
    the first code cell.)"""
    text = colab_setup(path.relative_to(ROOT).as_posix())
    cells = [c for c in notebook.cells if "colab-setup" in c.metadata.get("tags", [])]
    if not cells:
        cell = new_code_cell(text, metadata={"tags": ["colab-setup"]})
        first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
        notebook.cells.insert(first_code, cell)
        cells = [cell]
    changed = cells[0].source != text or cells[0].metadata.get("cellView") != "form"
    cells[0].source, cells[0].metadata["cellView"] = text, "form"
    return changed


# The deck (tools/build_slides.py) lays slides out at 1280x720 and scales a slide that is too tall down to
# fit, never below half size. A slide holds at most SLIDE_BUDGET px of content at full size (a scale of
# 0.8 or more, as estimated): a cell that would take the slide past it starts a subslide. Heights are estimates, in px
# at full size, of what the deck draws (its fonts: prose 19 px, code 17 px; figures at most 560 px high).
SLIDE_BUDGET = 900
PROSE_LINE, PROSE_CHARS, CODE_LINE, CODE_CHARS, FIGURE_MAX = 28, 110, 24, 115, 560
WIDGET_TAG = "widget"  # an interactive widget: skipped on the slides, where the static figure after it shows


def wrapped_lines(text: str, width: int) -> int:
    return sum(max(1, math.ceil(len(line) / width)) for line in text.splitlines())


def png_height(data: str, width: int = 1280) -> int:
    """The height at which the deck draws a base64 PNG: at most the slide's width and FIGURE_MAX high."""
    header = base64.b64decode(data[:44])
    w, h = struct.unpack(">II", header[16:24])
    return int(min(h * min(1.0, width / w), FIGURE_MAX))


def estimated_height(cell: nbformat.NotebookNode) -> int:
    """Roughly how many px of a 1280-wide slide the cell takes at full size."""
    if cell.cell_type != "code":
        height = 0
        for line in cell.source.splitlines():
            if line.startswith("#"):
                height += 70
            elif line.strip():
                height += PROSE_LINE * math.ceil(len(line) / PROSE_CHARS) + (6 if line.lstrip()[:2] in ("- ", "1.") else 0)
            else:
                height += 14
        return height + 20
    height = CODE_LINE * wrapped_lines(cell.source, CODE_CHARS) + 20
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.output_type == "stream":
            height += CODE_LINE * wrapped_lines(output.text, CODE_CHARS) + 10
        elif "image/png" in data:
            height += png_height(data["image/png"]) + 10
        elif "text/html" in data:
            html = "".join(data["text/html"])
            height += 32 * max(1, html.count("<tr")) + 10
        elif output.output_type == "error":
            height += CODE_LINE * len(output.get("traceback", [])) + 10
        else:
            height += CODE_LINE * wrapped_lines(data.get("text/plain", ""), CODE_CHARS) + 10
    return height


def is_widget(cell: nbformat.NotebookNode) -> bool:
    """A cell that shows an interactive widget: tagged `widget`, or one that uses ipywidgets."""
    return WIDGET_TAG in cell.metadata.get("tags", []) or (cell.cell_type == "code" and "ipywidgets" in cell.source)


def ensure_slide_metadata(notebook: nbformat.NotebookNode) -> bool:
    """Give every cell a slide type: generated cells and widgets are skipped, the others keep theirs or get
    one from `slide_type`; a cell that would make its slide taller than SLIDE_BUDGET starts a subslide."""
    changed, used = False, 0
    for i, cell in enumerate(notebook.cells):
        tags = cell.metadata.get("tags", [])
        current = cell.metadata.get("slideshow", {}).get("slide_type")
        wanted = "skip" if {"navigation", "colab-setup"} & set(tags) or is_widget(cell) else current
        height = estimated_height(cell)
        if wanted is None:
            wanted = slide_type(cell, notebook.cells[i - 1] if i else None)
            if wanted in ("-", "fragment") and used and used + height > SLIDE_BUDGET:
                wanted = "subslide"
        if wanted in ("slide", "subslide"):
            used = 0
        if wanted not in ("skip", "notes"):
            used += height
        if wanted != current:
            cell.metadata["slideshow"] = {"slide_type": wanted}
            changed = True
    return changed


def forget_rule_slide_types(notebook: nbformat.NotebookNode) -> None:
    """Drop the slide types that `slide_type` alone gives (set by an earlier run, not by hand), so that
    `ensure_slide_metadata` derives them again with the slide budget (--reflow-slides)."""
    for i, cell in enumerate(notebook.cells):
        current = cell.metadata.get("slideshow", {}).get("slide_type")
        if current is not None and current == slide_type(cell, notebook.cells[i - 1] if i else None):
            del cell.metadata["slideshow"]


def map_markdown(prefix: str = "") -> str:
    """The series as a table, one line per notebook."""
    lines = ["| # | Notebook | What you do | Answers |", "|---|---|---|---|"]
    for index, (stem, _, what) in enumerate(SERIES):
        lines.append(f"| {stem[:2]} | {link(index, prefix)} | {what} | {key_link(index, prefix + 'solutions/')} |")
    return "\n".join(lines)


def sync_notebook(path: Path, index: int, write: bool, key: bool = False, reflow: bool = False) -> bool:
    """Rewrite the generated cells of one notebook (or of its answer key); True when something changed (or would)."""
    notebook = nbformat.read(path, as_version=4)
    nav = [c for c in notebook.cells if "navigation" in c.metadata.get("tags", [])]
    maps = [c for c in notebook.cells if "series-map" in c.metadata.get("tags", [])]
    if len(nav) != 2 or notebook.cells[0] is not nav[0] or notebook.cells[-1] is not nav[1]:
        raise SystemExit(f"{path.name}: the first and the last cell must be markdown cells tagged 'navigation'")
    changed = ensure_colab_cell(notebook, path)
    if reflow:
        before = [cell.metadata.get("slideshow") for cell in notebook.cells]
        forget_rule_slide_types(notebook)
        ensure_slide_metadata(notebook)
        changed = changed or before != [cell.metadata.get("slideshow") for cell in notebook.cells]
    changed = ensure_slide_metadata(notebook) or changed
    navigation = key_navigation_markdown if key else navigation_markdown
    generated = [(nav[0], navigation(index, colab=True)), (nav[1], navigation(index))]
    generated += [(cell, map_markdown()) for cell in maps]
    if not key and has_key(index):
        generated += [(cell, with_key_line(cell.source, index)) for cell in notebook.cells
                      if cell.cell_type == "markdown" and "## Exercises" in cell.source]
    for cell, text in generated:
        if cell.source != text:
            cell.source, changed = text, True
    if changed and write:
        nbformat.write(notebook, path)
    return changed


def sync_readme(write: bool) -> bool:
    if write:
        return write_section(README, MAP_SECTION, map_markdown("notebooks/"))
    text = README.read_text(encoding="utf-8")
    return replace_section(text, MAP_SECTION, map_markdown("notebooks/")) != text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    parser.add_argument("--reflow-slides", action="store_true",
                        help="derive again the slide types that the rules set (not those set by hand), e.g. after "
                             "a cell's output grew: a slide that got too long is split")
    args = parser.parse_args()
    stems = [stem for stem, _, _ in SERIES]
    unknown = [p.stem for p in series_notebooks(keys=False) if p.stem not in stems]
    if unknown:
        raise SystemExit(f"notebooks missing from SERIES in {Path(__file__).name}: {', '.join(unknown)}")
    write = not args.check
    strays = sorted(p.name for p in SOLUTIONS.glob("*.ipynb") if p.stem not in {key_stem(i) for i in range(len(SERIES))})
    if strays:
        raise SystemExit(f"answer keys without a notebook in SERIES: {', '.join(strays)} (name them <NN>_solutions.ipynb)")
    stale = [
        f"{stem}.ipynb" for i, stem in enumerate(stems) if exists(stem) and sync_notebook(NOTEBOOKS / f"{stem}.ipynb", i, write,
                                                                          reflow=args.reflow_slides)
    ] + [
        f"solutions/{key_stem(i)}.ipynb" for i in range(len(SERIES))
        if has_key(i) and sync_notebook(SOLUTIONS / f"{key_stem(i)}.ipynb", i, write, key=True, reflow=args.reflow_slides)
    ] + (["README.md"] if sync_readme(write) else [])
    for name in stale:
        print(f"{'out of date' if args.check else 'updated'}: {name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
