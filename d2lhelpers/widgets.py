"""Interactive figures drawn in place, a sentence in place of their repr where no kernel renders them (03, 06)."""

import html
from collections.abc import Callable, Sequence
from typing import Any

VIEW = "application/vnd.jupyter.widget-view+json"
RUN_AGAIN = "If moving a control changes nothing, the kernel behind it has stopped: run this cell again (Shift+Enter)."


def note_for(controls: str) -> str:
    """The line a reader without a kernel sees in place of the widget."""
    return f"Interactive: run this cell to move the {controls}; the figure below shows the same idea."


def widget_bundle(widget: Any, note: str) -> dict[str, Any]:
    """The widget's live view, with `note` as its plain text and HTML (what is shown where no kernel renders it)."""
    if not note.strip():
        raise ValueError("note is empty: say what the widget does and that running the cell brings it to life")
    view = (getattr(widget, "_repr_mimebundle_", lambda: None)() or {}).get(VIEW)
    if view is None:
        raise TypeError(f"{type(widget).__name__} has no widget view: pass an ipywidgets widget, e.g. a VBox")
    return {VIEW: view, "text/plain": note, "text/html": f"<p><em>{html.escape(note)}</em></p>"}


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
    display(widget_bundle(box, note), raw=True)
    return box
