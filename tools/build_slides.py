"""Render notebooks as reveal.js slide decks that work offline: build/slides/<notebook>.slides.html.

The decks use each cell's slide metadata (slide, subslide, fragment, skip; written by
tools/sync_navigation.py where a cell has none) and the outputs committed in the notebook. reveal.js
and the scripts nbconvert's template loads (jQuery, RequireJS, MathJax 2) come from node_modules/
(`npm ci`, run by ./course setup) and are copied beside the decks, so the folder can be copied to a
classroom machine and opened from disk, with no CDN.

Usage: python tools/build_slides.py [notebooks ...] [--out build/slides]
"""

from __future__ import annotations

import argparse
import copy
import functools
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = "vendor"  # folder beside the decks
# (package, paths inside it) that the decks need
ASSETS = {
    "reveal.js": ["dist", "plugin/notes"],
    "jquery": ["dist/jquery.min.js"],
    "requirejs": ["require.js"],
    "mathjax": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                "jax/output/CommonHTML", "jax/element", "localization/en",
                "fonts/HTML-CSS/TeX/woff"],  # CommonHTML's TeX fonts: without them formulas fall back to a system serif
}
MATHJAX_CONFIG = "?config=TeX-AMS_CHTML-full,Safe"
TEMPLATES = Path(__file__).resolve().parent / "slides_template"  # alexnet-reveal: nbconvert's reveal, fitted
WIDTH, HEIGHT = 1280, 720  # the screen every slide must fit (a browser test checks each slide of each deck)
FIT_FLOOR = 0.6  # the deck scales a slide that is too big down to fit, but never below this: text stays legible
FIGURE_SLIDE_HEIGHT = 600  # px (estimated): a figure and the text printed with it share a subslide up to this
SPLIT_HEIGHT = 1100  # px (estimated, at full size): a code cell taller than this shows its output on a slide of its own


def copy_assets(out: Path) -> None:
    """Copy the offline assets into out/vendor (once; delete the folder to refresh it)."""
    missing = [package for package in ASSETS if not (NODE_MODULES / package).is_dir()]
    if missing:
        raise SystemExit(f"node_modules lacks {', '.join(missing)}: run `npm ci` (or ./course setup) in {ROOT.name}/")
    for package, paths in ASSETS.items():
        for relative in paths:
            source, target = NODE_MODULES / package / relative, out / VENDOR / package / relative
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)


def exporter() -> SlidesExporter:
    """nbconvert's slides exporter, pointed at the local copies instead of CDNs."""
    slides = SlidesExporter(extra_template_basedirs=[str(TEMPLATES)], template_name="alexnet-reveal")
    slides.reveal_url_prefix = f"{VENDOR}/reveal.js"
    slides.reveal_width, slides.reveal_height = str(WIDTH), str(HEIGHT)  # content is fitted, never scrolled
    slides.reveal_theme = "white"  # its fonts ship with reveal.js; "simple", the default, loads Google Fonts
    slides.jquery_url = f"{VENDOR}/jquery/dist/jquery.min.js"
    slides.require_js_url = f"{VENDOR}/requirejs/require.js"
    slides.mathjax_url = f"{VENDOR}/mathjax/MathJax.js{MATHJAX_CONFIG}"
    slides.exclude_input_prompt = True
    slides.exclude_output_prompt = True
    return slides


@functools.cache
def sync_navigation():
    """tools/sync_navigation.py (loaded once): the list of notebooks, and its estimate of a cell's height on a slide."""
    spec = importlib.util.spec_from_file_location("sync_navigation", Path(__file__).with_name("sync_navigation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_for_slides(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as the deck shows it; the notebook itself is not changed.

    - A heading inside a markdown cell starts a cell of its own, which starts a slide (`#`, `##`) or a
      subslide (`###`) as a heading at the top of a cell does: a cell of prose followed by "## Summary"
      would otherwise put both on one slide.
    - A code cell that draws figures shows its code on one slide and each figure on a subslide of its own,
      with what the cell printed before it: a figure is shown at full size (at most the 560 px image box),
      never zoomed down with the code, so its text stays as large as tests/figure_text.py measures it.
    - Any other code cell too tall for one slide even at the smallest scale (FIT_FLOOR) shows its code on
      one slide and its outputs on the next subslides, as many as they need.
    - The cell after outputs moved to subslides starts a subslide too, rather than joining the last one.
    """
    notebook = copy.deepcopy(notebook)
    height = sync_navigation().estimated_height
    cells, after_outputs = [], False
    for cell in notebook.cells:
        slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
        if slide_type in ("skip", "notes"):
            cells.append(cell)
            continue
        if after_outputs and slide_type not in ("slide", "subslide"):  # not onto the last output's subslide
            cell.metadata["slideshow"] = {"slide_type": "subslide"}
        after_outputs = False
        if cell.cell_type == "code":
            cells.append(cell)
            groups = figure_groups(cell.get("outputs", []))
            if not groups and cell.get("outputs") and height(cell) > SPLIT_HEIGHT:
                groups = [[]]  # the outputs, on as many subslides as they need
                for output in cell.outputs:
                    trial = nbformat.v4.new_code_cell("", outputs=groups[-1] + [output])
                    if groups[-1] and height(trial) > SPLIT_HEIGHT:
                        groups.append([])
                    groups[-1].append(output)
            if not groups:
                continue
            for number, outputs in enumerate(groups, start=1):
                part = copy.deepcopy(cell)
                part.outputs = outputs
                part.metadata["slideshow"] = {"slide_type": "subslide"}
                part.metadata.setdefault("transient", {})["remove_source"] = True
                if "id" in part:
                    part["id"] = f"{part['id']}-output-{number}"
                cells.append(part)
            cell.outputs = []
            after_outputs = True
            continue
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        parts, fenced = [[]], False
        for line in cell.source.splitlines():
            fenced ^= line.lstrip().startswith(("```", "~~~"))
            if not fenced and re.match(r"#{1,3} ", line) and any(l.strip() for l in parts[-1]):
                parts.append([])
            parts[-1].append(line)
        parts = ["\n".join(part).strip("\n") for part in parts]
        cells.append(cell)
        cell.source = parts[0]
        for part in parts[1:]:
            level = "slide" if part.startswith(("# ", "## ")) else "subslide"
            cells.append(nbformat.v4.new_markdown_cell(part, metadata={"slideshow": {"slide_type": level}}))
    notebook.cells = cells
    return notebook


def figure_groups(outputs: list) -> list[list]:
    """A code cell's outputs, one figure (PNG) to a group with what was printed before it; what follows the
    last figure joins its group. Printed text that would leave the figure too little room at full size gets
    a group of its own. [] when the cell draws no figure."""
    figures = [i for i, output in enumerate(outputs) if "image/png" in output.get("data", {})]
    if not figures:
        return []
    ends = figures[:-1] + [len(outputs) - 1]
    starts = [0] + [end + 1 for end in ends[:-1]]
    groups = []
    for start, end, figure in zip(starts, ends, figures):
        group = list(outputs[start:end + 1])
        if len(group) > 1 and sync_navigation().estimated_height(nbformat.v4.new_code_cell("", outputs=group)) > FIGURE_SLIDE_HEIGHT:
            groups += [part for part in (list(outputs[start:figure]), [outputs[figure]], list(outputs[figure + 1:end + 1])) if part]
        else:
            groups.append(group)
    return groups


def expected_slides(notebook: nbformat.NotebookNode) -> int:
    """How many slides reveal.js will count: every cell that starts a slide or a subslide."""
    cells = split_for_slides(notebook).cells
    return sum(cell.metadata.get("slideshow", {}).get("slide_type") in ("slide", "subslide") for cell in cells)


def notebooks() -> list[Path]:
    """The series' notebooks, then their answer keys (notebooks/solutions/), as sync_navigation lists them."""
    return sync_navigation().series_notebooks()


def deck_name(path: Path) -> str:
    """out/<stem>.slides.html; a solution notebook's deck is solutions-<stem>.slides.html."""
    return f"solutions-{path.stem}" if path.parent.name == "solutions" else path.stem


def build(paths: list[Path], out: Path) -> list[Path]:
    """Render each notebook as out/<deck_name>.slides.html; return the deck paths."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    slides = exporter()
    decks = []
    for path in paths:
        notebook = split_for_slides(nbformat.read(path, as_version=4))
        html, _ = slides.from_notebook_node(notebook, resources={"metadata": {"name": path.stem}, "fit_floor": FIT_FLOOR})
        deck = out / f"{deck_name(path)}.slides.html"
        deck.write_text(html, encoding="utf-8")
        decks.append(deck)
    return decks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the series, then its answer keys")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    args = parser.parse_args()
    paths = args.notebooks or notebooks()
    for deck in build(paths, args.out):
        print(f"wrote {deck.relative_to(ROOT) if deck.is_relative_to(ROOT) else deck}")
    print(f"open one in a browser, e.g. {args.out.name}/{paths[0].stem}.slides.html (press ? for the keys, S for notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
