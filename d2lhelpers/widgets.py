"""Interactive figures drawn in place, a sentence in place of their repr where no kernel renders them (03, 06)."""

import html
from collections.abc import Callable, Sequence
from typing import Any

VIEW = "application/vnd.jupyter.widget-view+json"
RUN_AGAIN = "If moving a control changes nothing, the kernel behind it has stopped: run this cell again (Shift+Enter)."


def note_for(controls: str) -> str:
    """The line a reader without a kernel sees in place of the widget."""
    return f"Interactive: run this cell to move the {controls}; the figure below shows the same idea."


def captured_outputs(function: Callable[..., Any], **kwargs: Any) -> tuple[dict[str, Any], ...]:
    """What `function(**kwargs)` prints and displays, as notebook outputs; the figures it drew are closed."""
    import matplotlib.pyplot as plt
    from IPython.utils.capture import capture_output

    before = set(plt.get_fignums())
    with capture_output(display=True) as captured:
        try:
            function(**kwargs)
        finally:
            for number in set(plt.get_fignums()) - before:  # the figures it drew, shown or not
                plt.close(number)
    outputs = [{"output_type": "stream", "name": name, "text": text}
               for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)) if text]
    outputs += [{"output_type": "display_data", "data": dict(shown.data), "metadata": dict(shown.metadata or {})}
                for shown in captured.outputs]
    return tuple(outputs)


def interact_in_place(function: Callable[..., Any], controls: dict[str, Any], note: str,
                      above: Sequence[Any] = ()) -> Any:
    """Display `controls` (`function`'s arguments) over its output, redrawn whole at each change; return the box."""
    import ipywidgets as widgets
    from IPython.display import display

    output = widgets.Output()

    def redraw(_change: Any = None) -> None:  # outputs set directly: a fast slider cannot leak to JupyterLab's log
        output.outputs = captured_outputs(function, **{name: control.value for name, control in controls.items()})

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([*above, *controls.values(), widgets.HTML(f"<small>{html.escape(RUN_AGAIN)}</small>"), output])
    view = box._repr_mimebundle_()[VIEW]  # live where a kernel is; the note is what shows where none renders it
    display({VIEW: view, "text/plain": note, "text/html": f"<p><em>{html.escape(note)}</em></p>"}, raw=True)
    return box
