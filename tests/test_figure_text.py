"""Figures readable when projected: every figure that d2lhelpers draws (plots.py, drawings.py), and
every figure a notebook shows, has no text under 10 px in a JupyterLab cell at 100% zoom or 14 px on a 1280x720
slide. The rule and its measurement are in tests/figure_text.py.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figure_text import readability_problems, text_sizes  # noqa: E402

from d2lhelpers import drawings, plots  # noqa: E402
from d2lhelpers.training import History  # noqa: E402


def history(n: int = 3) -> History:
    h = History()
    for epoch in range(1, n + 1):
        h.epochs.append({"epoch": epoch, "train_loss": 1 / epoch, "train_acc": 0.5 + epoch / 10, "test_acc": 0.5 + epoch / 12})
    return h


@pytest.fixture(autouse=True)
def notebook_font():
    """The font size every notebook sets in its first cell, which the figures are drawn with."""
    with plt.rc_context({"font.size": plots.FONT}):
        yield


IMAGE = (torch.arange(49, dtype=torch.float32).reshape(7, 7) % 5) / 4
SOBEL = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
FIGURES = {
    "show_images": lambda: plots.show_images(torch.rand(16, 28, 28), [f"class {i}" for i in range(16)], suptitle="samples"),
    "plot_history": lambda: plots.plot_history(history().epochs),
    "plot_confusion_matrix": lambda: plots.plot_confusion_matrix(torch.randint(0, 1000, (10, 10)), [f"class {i}" for i in range(10)]),
    "plot_accuracy_vs_time": lambda: plots.plot_accuracy_vs_time(
        [{"name": "HOG + SVM", "total_s": 30.0, "accuracy": 0.9}, {"name": "pixels + logistic", "total_s": 3.0, "accuracy": 0.84}],
        published={"published CNN": 0.93}),
    "plot_runs": lambda: plots.plot_runs([{"variant": "ReLU", "history": history()}, {"variant": "sigmoid", "history": history()}], "ablation"),
    "plot_gradient_norms": lambda: plots.plot_gradient_norms(
        pd.DataFrame({"ReLU": [1e-2, 1e-3, 1e-4], "sigmoid": [1e-3, 1e-5, 1e-7]}, index=["conv1", "conv2", "fc1"]), "gradients"),
    # notebook 03's drawings, at the settings the notebook uses
    "draw_window 8x8": lambda: drawings.draw_window(8, 3, 2, 0),
    "draw_window conv1": lambda: drawings.draw_window(224, 11, 4, 1, label="conv1"),
    # notebook 03 draws its layers' strips two to a figure
    "draw_window_strips conv1 (book, paper)": lambda: drawings.draw_window_strips([("conv1 (book)", 224, 11, 4, 1),
                                                                                ("conv1 (paper)", 227, 11, 4, 0)]),
    "draw_window_strips conv2, pool2": lambda: drawings.draw_window_strips([("conv2", 26, 5, 1, 2), ("pool2", 26, 3, 2, 0)]),
    "draw_conv_step": lambda: drawings.draw_conv_step(IMAGE, SOBEL, 2, 3, 2),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_of_a_helper_figure_is_readable_in_the_notebook_and_on_a_slide(name):
    fig = FIGURES[name]()
    try:
        assert text_sizes(fig), "the figure has no text: the measurement would pass vacuously"
        assert readability_problems(fig) == []
    finally:
        plt.close(fig)


EXPLORER_CORNERS = [(n, k, s, p) for n in (3, 16) for k in (1, 7) for s in (1, 4) for p in (0, 3) if n + 2 * p >= k]


@pytest.mark.parametrize("n, k, s, p", EXPLORER_CORNERS)
def test_the_output_size_explorer_is_readable_at_every_corner_of_its_sliders(n, k, s, p):
    """Notebook 03's explorer draws `draw_window` for input 3-16, kernel 1-7, stride 1-4, padding 0-3."""
    fig = drawings.draw_window(n, k, s, p)
    try:
        assert readability_problems(fig) == []
    finally:
        plt.close(fig)


def test_the_measurement_sees_small_text_and_a_shrunk_figure():
    """The control: 6 pt text in a small figure fails both floors; 12 pt in a 20-inch-wide one fails by shrinking."""
    small, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("tiny", fontsize=6)
    wide, ax = plt.subplots(figsize=(20, 3))
    ax.set_title("shrunk", fontsize=12)
    try:
        assert [p.split(":")[0] for p in readability_problems(small) if "tiny" in p] == ["'tiny'", "'tiny'"]
        assert any("'shrunk'" in p and "JupyterLab" in p for p in readability_problems(wide))
    finally:
        plt.close("all")


def test_nbval_fails_the_cell_that_shows_a_figure_with_small_text(tmp_path):
    """The audit that tests/conftest.py gives every kernel, under nbval as CI runs it: the cell that shows 6 pt
    text fails with the text's size, and so does an interactive figure whose slider's end makes its text small;
    a readable figure, and a small one closed without being shown, pass. The kernel keeps no history database."""
    import os
    import subprocess
    import sys

    import nbformat

    assert Path(os.environ["IPYTHONDIR"], "profile_default", "startup", "00-figure-text.py").exists(), \
        "tests/conftest.py did not install the audit"
    setup = "import matplotlib.pyplot as plt\n%matplotlib inline\nplt.rcParams['font.size'] = 12"
    readable = "fig, ax = plt.subplots(figsize=(5, 3))\nax.set_title('readable', fontsize=12)\nplt.show()"
    unshown = "fig, ax = plt.subplots(figsize=(5, 3))\nax.set_title('never shown', fontsize=6)\nplt.close(fig)"
    tiny = "fig, ax = plt.subplots(figsize=(5, 3))\nax.set_title('tiny', fontsize=6)\nax.plot([1, 2]);"
    # readable as first shown (12 pt), but not once its slider is moved to 5 pt
    slider = ("import ipywidgets as widgets\nfrom d2lhelpers.widgets import interact_in_place, note_for\n"
              "def titled(size=12):\n    fig, ax = plt.subplots(figsize=(5, 3))\n"
              "    ax.set_title('slider title', fontsize=size)\n    plt.show()\n"
              "interact_in_place(titled, {'size': widgets.IntSlider(value=12, min=5, max=14)}, note_for('slider'));")
    history = "assert not get_ipython().history_manager.enabled, get_ipython().history_manager.hist_file"
    cells = [nbformat.v4.new_code_cell(c) for c in (setup, history, readable, unshown, tiny, slider)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "figures.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "figures.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "4 passed" in run.stdout and "2 failed" in run.stdout, run.stdout[-3000:]
    assert "FigureTextTooSmall" in run.stdout and "'tiny': 8.3 px in JupyterLab" in run.stdout, run.stdout[-3000:]
    assert "'slider title': 6.9 px in JupyterLab (figure" in run.stdout and "(with size=5)" in run.stdout, run.stdout[-3000:]
    assert "with size=14" not in run.stdout, run.stdout[-3000:]
