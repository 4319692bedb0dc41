"""Readable figures: the size on screen of every visible text of a matplotlib figure, and the audit
that applies it to every figure a notebook shows while the tests run.

A text's size on screen is its font size in points x dpi / 72 x the scale the figure is shown at. The inline
backend saves the figure's tight box (+0.1 in of padding) as a PNG at the figure's dpi; JupyterLab shows it at
its own size unless it is wider than the output area (NOTEBOOK_WIDTH, measured by tests/test_browser.py), and
the decks show it within the image box of tools/slides_template (a slide that would have to shrink further is
split, not zoomed: the browser test checks that part). The floors: 10 px in JupyterLab, 14 px on a slide.

The audit: `use_in_notebook_kernels()` (tests/conftest.py calls it) gives every IPython kernel started by the
tests (nbval's, the profile runs) a start-up file that calls `install`. From
then on each figure the kernel renders as an inline PNG is measured, and a cell that showed a figure with text
under a floor ends in an error that names the text and its size, so nbval fails that cell. The figures of an
interactive cell (`interact_in_place`) are measured at the ends of each of its controls, as well as as shown.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
from pathlib import Path

NOTEBOOK_WIDTH = 840  # px: a code cell's output area in JupyterLab 4 at 100%, 1280x800 window, file browser open (848 measured)
SLIDE_BOX = (1240, 560)  # px: the largest an image is shown on a 1280x720 slide (max-height in the template)
NOTEBOOK_FLOOR, SLIDE_FLOOR = 10.0, 14.0
PAD_INCHES = 0.1  # savefig's pad_inches around the tight box


def shown_size(fig) -> tuple[float, float]:
    """The PNG's size in pixels, as the inline backend saves it (bbox_inches="tight")."""
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    return (box.width + 2 * PAD_INCHES) * fig.dpi, (box.height + 2 * PAD_INCHES) * fig.dpi


def text_sizes(fig) -> list[tuple[float, str]]:
    """(size in px of the PNG, text) of every visible, non-empty text in the figure, after drawing it."""
    from matplotlib.text import Text

    fig.canvas.draw()
    hidden = {id(t) for ax in fig.axes if not ax.axison for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
    found = []
    for text in fig.findobj(Text):
        if id(text) in hidden:  # the tick labels of an axes drawn with axis("off")
            continue
        if text.get_visible() and text.get_text().strip() and text.get_window_extent().width > 0:
            found.append((text.get_fontsize() * fig.dpi / 72, text.get_text().strip().splitlines()[0][:40]))
    return found


def readability_problems(fig) -> list[str]:
    """Texts under a floor: one line each, with the size it would be shown at."""
    width, height = shown_size(fig)
    notebook = min(1.0, NOTEBOOK_WIDTH / width)
    slide = min(1.0, SLIDE_BOX[0] / width, SLIDE_BOX[1] / height)
    problems = []
    for px, text in text_sizes(fig):
        for where, scale, floor in (("JupyterLab", notebook, NOTEBOOK_FLOOR), ("a slide", slide, SLIDE_FLOOR)):
            if px * scale < floor - 0.05:
                problems.append(f"{text!r}: {px * scale:.1f} px in {where} (figure {width:.0f}x{height:.0f} px)")
    return problems


class FigureTextTooSmall(Exception):
    """A figure shown by the cell has text under a floor."""


def install(shell) -> None:
    """In a kernel: measure each figure rendered as an inline PNG; after the cell, raise if any text was too small."""
    from matplotlib.backend_bases import FigureCanvasBase

    found: list[str] = []
    print_figure = FigureCanvasBase.print_figure

    def measured_print_figure(self, filename, *args, **kwargs):
        # the inline backend renders into a BytesIO at the figure's own dpi, with the tight box
        if isinstance(filename, io.BytesIO) and kwargs.get("format", "png") == "png" and kwargs.get("bbox_inches") == "tight":
            found.extend(readability_problems(self.figure))
        return print_figure(self, filename, *args, **kwargs)

    def report(result) -> None:
        if found:
            problems = list(dict.fromkeys(found))
            found.clear()
            raise FigureTextTooSmall(
                f"this cell showed a figure with text under {NOTEBOOK_FLOOR:g} px in JupyterLab or {SLIDE_FLOOR:g} px on "
                "a slide (tests/figure_text.py): make the figure narrower or its text larger, or split it.\n  "
                + "\n  ".join(problems[:12]) + (f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""))

    FigureCanvasBase.print_figure = measured_print_figure
    sweep_widget_redraws(found)
    shell.events.register("pre_run_cell", lambda info: found.clear())  # a widget's redraws between cells are not this cell's
    shell.events.register("post_run_cell", report)  # after post_execute, where the inline backend shows the figures


def sweep_widget_redraws(found: list[str]) -> None:
    """Make `d2lhelpers.widgets.interact_in_place` also redraw at each control's ends (a slider's min and max, every
    option of a drop-down; one control at a time, the others as set) and then at its set value again, so that the
    figures a student gets by moving the controls are measured in the cell that made them. The module is patched
    when a notebook imports it: importing it here would import torch into every kernel at start-up."""
    import importlib.abc
    import importlib.util
    import sys

    name = "d2lhelpers.widgets"

    class PatchOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(fullname)  # from the usual finders
            if spec is not None and spec.loader is not None:
                execute = spec.loader.exec_module

                def exec_module(module):
                    execute(module)
                    module.interact_in_place = swept(module.interact_in_place, found)

                spec.loader.exec_module = exec_module
            return spec

    if name in sys.modules:
        sys.modules[name].interact_in_place = swept(sys.modules[name].interact_in_place, found)
    else:
        sys.meta_path.insert(0, PatchOnImport())


def swept(interact_in_place, found: list[str]):
    """`interact_in_place`, then a redraw at each end of each control and one back at its value; problems are
    added to `found` with the setting that showed them."""

    def interact_and_sweep(function, controls, note, above=()):
        box = interact_in_place(function, controls, note, above)
        for name, control in controls.items():
            start = control.value
            if hasattr(control, "options") and hasattr(control, "index"):
                ends = [option[1] if isinstance(option, tuple) else option for option in control.options]
            elif hasattr(control, "min") and hasattr(control, "max"):
                ends = [control.min, control.max]
            else:
                continue
            for value in ends:
                already = len(found)
                control.value = value  # the widget's own observer redraws
                found[already:] = [f"{problem} (with {name}={value!r})" for problem in found[already:]]
            control.value = start
        return box

    return interact_and_sweep


def kernel_folder(folder: Path, audit: bool = True) -> Path:
    """Make `folder` an IPYTHONDIR for notebook kernels, with the audit in its start-up files if `audit`; return it.

    Its kernels keep no history database: a kernel that outlives the test run would write it into a removed folder
    at exit."""
    profile = folder / "profile_default"
    (profile / "startup").mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text("c.HistoryManager.enabled = False\n")
    if audit:
        (profile / "startup" / "00-figure-text.py").write_text(
            "import importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('d2l_figure_text', {str(Path(__file__).resolve())!r})\n"
            "module = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(module)\n"
            "module.install(get_ipython())\n"
            "del importlib, spec, module\n")
    return folder


def use_in_notebook_kernels() -> Path:
    """Point IPYTHONDIR at a new `kernel_folder` with the audit; return the folder.

    The folder goes when this process exits, after any IPython shell a test makes in this process has written its
    history there at exit (atexit calls the functions registered later first)."""
    folder = kernel_folder(Path(tempfile.mkdtemp(prefix="d2l-figure-audit-")))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _before.append(os.environ.get("IPYTHONDIR"))
    os.environ["IPYTHONDIR"] = str(folder)
    return folder


_before: list[str | None] = []


def stop_using() -> None:
    """Undo `use_in_notebook_kernels`'s IPYTHONDIR (its folder goes when the process exits)."""
    previous = _before.pop() if _before else None
    if previous is None:
        os.environ.pop("IPYTHONDIR", None)
    else:
        os.environ["IPYTHONDIR"] = previous
