"""Saved notebooks reopen without "Error displaying widget: model not found": a widget view is only ever
saved together with the widget state it needs. The browser test opens notebook 05 to see it."""

import nbformat
import pytest

from repository import NOTEBOOKS, SERIES_AND_KEYS

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def views_without_state(notebook: nbformat.NotebookNode) -> list[str]:
    """Model ids of widget views whose state the notebook does not carry."""
    saved = notebook.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    return [output["data"][VIEW]["model_id"] for cell in notebook.cells for output in cell.get("outputs", [])
            if VIEW in output.get("data", {}) and output["data"][VIEW]["model_id"] not in saved]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_carry_no_widget_view_without_its_state(path):
    assert views_without_state(nbformat.read(path, as_version=4)) == []


def test_run_series_keeps_the_text_of_a_progress_bar_and_drops_its_view(load_script):
    run_series = load_script("tools/run_series.py")
    cell = nbformat.v4.new_code_cell("for _ in tqdm(range(3)): pass")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        VIEW: {"model_id": "a" * 32, "version_major": 2, "version_minor": 0}, "text/plain": "100%|##| 3/3"})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert views_without_state(notebook) == ["a" * 32]  # the control: this is what shows the error
    run_series.drop_widget_views(notebook)
    assert views_without_state(notebook) == [] and cell.outputs[0]["data"] == {"text/plain": "100%|##| 3/3"}


# --- What a reader sees in a committed notebook, with no kernel and untrusted (GitHub, Colab, a
# fresh checkout in JupyterLab): no widget repr where a widget was, and no SVG (untrusted JupyterLab hides it).
WIDGET_REPR = ("interactive(", "VBox(", "HBox(", "IntSlider(", "Dropdown(", "Play(", "Output(")


def unseen_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Outputs that a reader without a kernel sees as raw text or not at all: 'cell N: why', one each."""
    found = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(data.get("text/plain", ""))
            if "image/svg+xml" in data:
                found.append(f"cell {number}: image/svg+xml (untrusted JupyterLab shows only {text[:40]!r})")
            if text.startswith(WIDGET_REPR) and not any(kind in data for kind in ("image/png", "text/html")):
                found.append(f"cell {number}: a widget's repr {text[:50]!r}")
    return found


@pytest.mark.parametrize("path", SERIES_AND_KEYS, ids=lambda p: p.stem)
def test_committed_outputs_show_no_widget_repr_and_no_svg(path):
    assert unseen_outputs(nbformat.read(path, as_version=4)) == []


def test_the_check_sees_a_widget_repr_and_an_svg():
    widget = nbformat.v4.new_code_cell("interact(f, x=1)")
    widget.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "interactive(children=(IntSlider(value=1),))"})]
    svg = nbformat.v4.new_code_cell("d2l.plot(x, y)")
    svg.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>", "text/plain": "<Figure size 350x250>"})]
    note = nbformat.v4.new_code_cell("interact_in_place(draw, controls, note)")
    note.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "Interactive: run this cell", "text/html": "<p>…</p>"})]
    found = unseen_outputs(nbformat.v4.new_notebook(cells=[widget, svg, note]))
    assert [line.split(":")[0] for line in found] == ["cell 0", "cell 1"]
