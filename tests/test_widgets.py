"""d2lhelpers.widgets: a widget is saved with a sentence instead of its repr, and its drawing is put in
its own Output widget whole, figures closed. The browser test sees the same in JupyterLab."""

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.display import display  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from d2lhelpers.widgets import VIEW, captured_outputs, interact_in_place, note_for  # noqa: E402


@pytest.fixture
def shell():
    return InteractiveShell.instance()  # capture_output needs a shell to capture display()


def test_the_saved_text_is_the_note_not_the_repr(shell):
    slider = widgets.IntSlider(value=3, description="x")
    with capture_output(display=True) as captured:
        box = interact_in_place(lambda x: None, {"x": slider}, note_for("slider"))
    bundle = captured.outputs[0].data
    assert "IntSlider(" in repr(slider)  # the control: this is what a saved widget showed
    assert bundle["text/plain"] == note_for("slider") and "run this cell" in bundle["text/plain"]
    assert "IntSlider" not in bundle["text/plain"] + bundle["text/html"]
    assert bundle[VIEW]["model_id"] == box.model_id  # live where a kernel is


def test_captured_outputs_holds_what_was_printed_and_shown_and_closes_the_figure(shell):
    def draw(n: int) -> None:
        print(f"n = {n}")
        fig, ax = plt.subplots()
        ax.plot(range(n))
        display({"text/plain": "a figure"}, raw=True)

    open_before = plt.get_fignums()
    outputs = captured_outputs(draw, n=3)
    assert [o["output_type"] for o in outputs] == ["stream", "display_data"]
    assert outputs[0]["text"] == "n = 3\n" and outputs[1]["data"] == {"text/plain": "a figure"}
    assert plt.get_fignums() == open_before


def test_interact_in_place_replaces_the_output_whole_at_every_change(shell):
    slider = widgets.IntSlider(value=1, min=0, max=9)
    box = interact_in_place(lambda n: print("n =", n), {"n": slider}, note_for("slider"))
    output = box.children[-1]
    assert [o["text"] for o in output.outputs] == ["n = 1\n"]
    for value in (2, 5, 7):  # quick moves: one drawing each time, never an accumulation
        slider.value = value
    assert [o["text"] for o in output.outputs] == ["n = 7\n"]
    assert slider in box.children
