"""Saved notebooks reopen without "Error displaying widget: model not found": a widget view is only ever
saved together with the widget state it needs (issue 15). The browser test opens notebook 05 to see it."""

import nbformat
import pytest

from repository import NOTEBOOKS

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
