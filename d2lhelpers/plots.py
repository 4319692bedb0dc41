"""Figures readable when projected: image grids, training curves, a confusion matrix, convolution windows.

Introduced in notebooks 04 (image grids) and 05 (training curves, confusion matrix); the window
geometry and the stepped convolution at the end come from notebook 03.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from d2lhelpers.shapes import conv_output_size

FONT = 11  # pt, the smallest text of every figure: at 100 dpi, 15 px, readable in a notebook and on a slide


def readable(draw: Callable[..., plt.Figure]) -> Callable[..., plt.Figure]:
    """Make `draw`'s figure with FONT as matplotlib's default size (labels, ticks, legends, titles)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs) -> plt.Figure:
        with plt.rc_context({"font.size": FONT}):
            return draw(*args, **kwargs)

    return wrapper


@readable
def show_images(
    images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 8, scale: float = 1.5,
    suptitle: str | None = None,
) -> plt.Figure:
    """A grid of grayscale images (N, H, W) or (N, 1, H, W), each with its title."""
    images = images.detach().float().cpu()
    if images.dim() == 4:
        images = images[:, 0]
    nrows = -(-len(images) // ncols)
    title_lines = max((t.count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    height = nrows * (scale + 0.25 * title_lines) + (0.4 if suptitle else 0.0)  # room for titles, in inches
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray")
            if titles is not None:
                ax.set_title(titles[i], fontsize=FONT)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


@readable
def plot_history(epochs: Sequence[dict[str, float]], title: str = "Training AlexNet", ax: plt.Axes | None = None) -> plt.Figure:
    """Train loss, train accuracy and test accuracy against the epoch."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    fig = ax.figure
    x = [e["epoch"] for e in epochs]
    ax.plot(x, [e["train_loss"] for e in epochs], "o-", label="train loss")
    ax.plot(x, [e["train_acc"] for e in epochs], "s--", label="train accuracy")
    ax.plot(x, [e["test_acc"] for e in epochs], "^-", label="test accuracy")
    ax.set(xlabel="epoch", ylabel="loss / accuracy", title=title)
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


class LivePlot:
    """Redraws the training curves in place after every epoch (in Jupyter; silent elsewhere)."""

    def __init__(self, title: str = "Training AlexNet"):
        self.title = title
        self.handle = None

    def __call__(self, history) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        fig = plot_history(history.epochs, self.title)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)

    def close(self, note: str = "(training finished: the curves are drawn below)") -> None:
        """Replace the live figure by a one-line note, so that a saved notebook shows the curves once."""
        if self.handle is not None:
            from IPython.display import Markdown

            self.handle.update(Markdown(note))


@readable
def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str], title: str = "Confusion matrix") -> plt.Figure:
    """Counts of (true class, predicted class), with the counts written in the cells."""
    fig, ax = plt.subplots(figsize=(7.5, 5.4))  # at most 560 px high: a slide shows it at full size
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    high = matrix.max().item() / 2
    for i in ticks:
        for j in ticks:
            count = int(matrix[i, j])
            ax.text(j, i, count, ha="center", va="center", fontsize=FONT, color="white" if count > high else "black")
    fig.tight_layout()
    return fig


@readable
def plot_accuracy_vs_time(
    rows: Sequence[dict], published: dict[str, float] | None = None,
    title: str = "Test accuracy against time",
) -> plt.Figure:
    """Each pipeline as a point (total seconds, log scale; accuracy); published figures as dashed lines.

    Introduced in notebook 01. `rows` need "name", "total_s" and "accuracy".
    """
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for row in rows:
        ax.scatter(row["total_s"], row["accuracy"], s=60, zorder=3)
        ax.annotate(row["name"], (row["total_s"], row["accuracy"]), xytext=(6, 4), textcoords="offset points", fontsize=FONT)
    for label, value in (published or {}).items():
        ax.axhline(value, color="gray", linestyle="--", linewidth=0.8)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                    textcoords="offset points", fontsize=FONT, color="dimgray")
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
    ax.set(xlabel="time: features + training + prediction (seconds, log scale)", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


@readable
def plot_runs(runs: Sequence[dict], title: str) -> plt.Figure:
    """Training loss and test accuracy against the epoch, one line per variant (notebook 07).

    `runs` are the dicts of `d2lhelpers.ablations.train_variant`: "variant" and "history".
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        epochs = run["history"].epochs
        x = [e["epoch"] for e in epochs]
        loss_ax.plot(x, [e["train_loss"] for e in epochs], "o-", label=run["variant"])
        acc_ax.plot(x, [e["test_acc"] for e in epochs], "o-", label=run["variant"])
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="Training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


@readable
def plot_gradient_norms(norms: pd.DataFrame, title: str) -> plt.Figure:
    """Mean |gradient| per layer (rows) for several set-ups (columns), on a log scale (notebook 07)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for column in norms.columns:
        ax.plot(norms.index, norms[column], "o-", label=column)
    ax.set(yscale="log", xlabel="layer (input → output)", ylabel="mean |gradient| of the weights (log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------
# Where a window goes: the output-size formula drawn (notebook 03).
# Pure geometry first (window_positions, covered_cells, ...), then the figures that draw it. Positions
# are counted along one axis of the *padded* input: cell 0 is the first padding cell, the input's own
# cells are p .. p + n - 1.


def _check_window(n: int, kernel_size: int, stride: int, padding: int) -> int:
    """The number of window positions; a ValueError when the window does not fit even once."""
    out = conv_output_size(n, kernel_size, stride, padding)  # checks the types and ranges
    if n < 1 or out < 1:
        raise ValueError(
            f"a {kernel_size}-wide window does not fit an input of {n} padded by {padding} on each side "
            f"({n + 2 * padding} cells): use a smaller kernel, more padding or a larger input"
        )
    return out


def window_positions(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """First padded cell of every window position along one axis (notebook 03); as many as the formula's output."""
    out = _check_window(n, kernel_size, stride, padding)
    return [i * stride for i in range(out)]


def covered_cells(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[bool]:
    """For each of the n + 2p padded cells along one axis, whether some window position covers it (notebook 03)."""
    covered = [False] * (n + 2 * padding)
    for start in window_positions(n, kernel_size, stride, padding):
        covered[start : start + kernel_size] = [True] * kernel_size
    return covered


def uncovered_input_cells(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """Input cells (0 .. n-1, padding excluded) that no window position covers (notebook 03)."""
    covered = covered_cells(n, kernel_size, stride, padding)
    return [i for i in range(n) if not covered[i + padding]]


def output_size_text(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> str:
    """The output-size formula with the numbers filled in, and what the floor drops (notebook 03)."""
    k, s, p = kernel_size, stride, padding
    out = _check_window(n, k, s, p)
    span = n + 2 * p - k
    text = f"output size = ⌊(n − k + 2p) / s⌋ + 1 = ⌊({n} − {k} + 2·{p}) / {s}⌋ + 1 = ⌊{span}/{s}⌋ + 1 = {out}"
    if span % s == 0:
        note = f"{span} is a multiple of {s}: the last window ends on the last padded cell"
    else:
        note = f"{span}/{s} = {span / s:.2f} is not whole: the floor drops the last {span % s} padded cell(s)"
    if s > k:
        note += f"; the stride {s} is larger than the kernel {k}, so the cells between windows are skipped"
    lost = uncovered_input_cells(n, k, s, p)
    lost_text = f"input cells never covered: {_ranges(lost)} (of 0–{n - 1})" if lost else "every input cell is covered"
    return f"{text}\n{note}\n{lost_text}"


def _ranges(cells: Sequence[int]) -> str:
    """[3, 4, 5, 9] -> '3–5, 9'."""
    parts, start = [], None
    for i, cell in enumerate(cells):
        if start is None:
            start = cell
        if i + 1 == len(cells) or cells[i + 1] != cell + 1:
            parts.append(str(start) if start == cell else f"{start}–{cell}")
            start = None
    return ", ".join(parts)


_INPUT, _PADDING, _LOST = "white", "#d9d9d9", "#f4a6a6"
_WINDOW = "tab:blue"


def _geometry_legend(target, lost: bool, strip: bool = False, ncol: int = 5) -> None:
    """Legend of the colours, under the axes or figure `target`."""
    handles = [Patch(facecolor=_INPUT, edgecolor="gray", label="input"),
               Patch(facecolor=_PADDING, edgecolor="gray", label="padding (zeros)")]
    if lost:
        handles.append(Patch(facecolor=_LOST, edgecolor="gray", hatch="xx", label="input never covered"))
    if strip:
        handles.append(Patch(facecolor=_WINDOW, alpha=0.35, label="window positions, numbered (last one dark)"))
    else:
        handles += [Patch(facecolor="none", edgecolor=_WINDOW, linewidth=2.5, label="window at one position"),
                    Line2D([], [], marker="o", linestyle="none", color=_WINDOW, label="window centres: one per output pixel")]
    if isinstance(target, plt.Axes):
        target.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=ncol, frameon=False, fontsize=FONT)
    else:
        target.legend(handles=handles, loc="outside lower center", ncol=min(ncol, 3), frameon=False, fontsize=FONT)


@readable
def draw_window_grid(
    n: int, kernel_size: int, stride: int = 1, padding: int = 0, position: tuple[int, int] | None = None,
) -> plt.Figure:
    """The padded input as a grid (padding ring, the window at `position`, every window centre, input cells never
    covered) beside the output grid (notebook 03). `position` is the output pixel (row, col), default the last."""
    k, s, p = kernel_size, stride, padding
    out = _check_window(n, k, s, p)
    row, col = (out - 1, out - 1) if position is None else position
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"position {(row, col)} is outside the {out}x{out} output")
    m = n + 2 * p
    covered = covered_cells(n, k, s, p)
    starts = window_positions(n, k, s, p)
    cell = min(0.4, 6.5 / m)  # inches per cell: large inputs shrink to fit
    fig, (ax, out_ax) = plt.subplots(
        1, 2, figsize=((m + max(out, 4)) * cell + 1.5, max(m * cell, 2.5) + 1.6), layout="constrained",
        gridspec_kw={"width_ratios": [m, max(out, 4)]},
    )
    lost_any = False
    for r in range(m):
        for c in range(m):
            is_padding = not (p <= r < p + n and p <= c < p + n)
            lost = not is_padding and not (covered[r] and covered[c])
            lost_any |= lost
            colour = _PADDING if is_padding else _LOST if lost else _INPUT
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="gray", linewidth=0.6, hatch="xx" if lost else None))
    centres = [start + k / 2 for start in starts]
    ax.scatter([x for _ in centres for x in centres], [y for y in centres for _ in centres],
               s=max(10, 80 * cell), color=_WINDOW, zorder=3)
    ax.add_patch(Rectangle((starts[col], starts[row]), k, k, facecolor=_WINDOW, alpha=0.18, zorder=2))
    ax.add_patch(Rectangle((starts[col], starts[row]), k, k, fill=False, edgecolor=_WINDOW, linewidth=3, zorder=4))
    ax.set(xlim=(-0.1, m + 0.1), ylim=(m + 0.1, -0.1), aspect="equal")
    ax.set_title(f"input {n}×{n}, padding {p}, kernel {k}×{k}, stride {s}", fontsize=12)
    ax.axis("off")
    for r in range(out):
        for c in range(out):
            current = (r, c) == (row, col)
            out_ax.add_patch(Rectangle((c, r), 1, 1, facecolor=_WINDOW if current else "white", alpha=0.6 if current else 1,
                                       edgecolor="gray", linewidth=0.6))
    # the output drawn with the input's cell size, centred vertically
    top = (m - out) / 2
    out_ax.set(xlim=(-0.1, max(out, 4) + 0.1), ylim=(out + top + 0.1, -top - 0.1), aspect="equal")
    out_ax.set_title(f"output {out}×{out}", fontsize=12)
    out_ax.axis("off")
    _geometry_legend(fig, lost_any)
    return fig


@readable
def draw_window_strip(
    n: int, kernel_size: int, stride: int = 1, padding: int = 0, label: str | None = None,
    max_cells: int = 40, ax: plt.Axes | None = None,
) -> plt.Figure:
    """One axis of the padded input as a strip of cells, every window position as a numbered bar under it
    (notebook 03). Inputs longer than `max_cells` show only their last `max_cells` cells, where the floor acts."""
    k, s, p = kernel_size, stride, padding
    out = _check_window(n, k, s, p)
    m = n + 2 * p
    covered = covered_cells(n, k, s, p)
    starts = window_positions(n, k, s, p)
    first = max(0, m - max_cells)
    lanes = min(out, -(-k // s))  # bars that overlap go in different lanes
    if ax is None:
        _, ax = plt.subplots(figsize=(max_cells * 0.25 + 1.0, 1.3 + 0.35 * lanes), layout="constrained")
    fig = ax.figure
    for c in range(first, m):
        is_padding = not p <= c < p + n
        lost = not is_padding and not covered[c]
        colour = _PADDING if is_padding else _LOST if lost else _INPUT
        ax.add_patch(Rectangle((c, 0), 1, 1, facecolor=colour, edgecolor="gray", linewidth=0.6, hatch="xx" if lost else None))
    for i, start in enumerate(starts):
        if start + k <= first:
            continue
        y = -0.8 - 0.55 * (i % lanes)
        left = max(start, first) + 0.08
        ax.add_patch(Rectangle((left, y), start + k - 0.08 - left, 0.45, facecolor=_WINDOW,
                               alpha=0.9 if i == out - 1 else 0.35, edgecolor=_WINDOW))
        if start >= first:
            ax.text(start + k / 2, y + 0.22, str(i + 1), ha="center", va="center", fontsize=FONT,
                    color="white" if i == out - 1 else "black")
    ticks = [c for c in range(first, m) if (c - p) % 5 == 0 and 0 <= c - p < n]
    ticks += [c for c in (p, p + n - 1) if c >= first and all(abs(c - t) > 2 for t in ticks)]
    ax.set_xticks([c + 0.5 for c in ticks], [str(c - p) for c in ticks], fontsize=FONT)
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0, pad=2)
    ax.spines[:].set_visible(False)
    ax.set(xlim=(first - 0.2, first + max_cells + 0.2), ylim=(-0.3 - 0.55 * lanes, 1.05))
    shown = f"last {m - first} of {m} padded cells" if first else f"all {m} padded cells"
    lost = uncovered_input_cells(n, k, s, p)
    verdict = f"input cells never covered: {_ranges(lost)}" if lost else "every input cell is covered"
    title = f"{label + ': ' if label else ''}n={n}, k={k}, s={s}, p={p} → {out} windows ({shown}; {verdict})"
    ax.set_title(title, fontsize=11, loc="left")
    return fig


@readable
def draw_window_strips(layers: Sequence[tuple[str, int, int, int, int]], max_cells: int = 40) -> plt.Figure:
    """Several layers' strips, one under the other: (label, n, kernel_size, stride, padding) each (notebook 03)."""
    lanes = [min(_check_window(n, k, s, p), -(-k // s)) for _, n, k, s, p in layers]
    heights = [1.2 + 0.35 * lane for lane in lanes]
    fig, axes = plt.subplots(len(layers), 1, figsize=(max_cells * 0.25 + 1.0, sum(heights) + 0.7), layout="constrained",
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (label, n, k, s, p) in zip(axes[:, 0], layers):
        draw_window_strip(n, k, s, p, label=label, max_cells=max_cells, ax=ax)
    lost = any(uncovered_input_cells(n, k, s, p) for _, n, k, s, p in layers)
    _geometry_legend(fig, lost, strip=True)
    return fig


def draw_window(n: int, kernel_size: int, stride: int = 1, padding: int = 0, label: str | None = None) -> plt.Figure:
    """The 2-D grid for small inputs (at most 24 padded cells), one axis as a strip for larger ones (notebook 03)."""
    if n + 2 * padding <= 24:
        return draw_window_grid(n, kernel_size, stride, padding)
    return draw_window_strips([(label or "one axis", n, kernel_size, stride, padding)])


# One convolution step: one output value is one dot product (notebook 03).


def conv_step_terms(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int) -> list[tuple[int, int, float, float]]:
    """The multiply-adds of output pixel (row, col) of a stride-1, unpadded convolution: (i, j, input, weight) in
    reading order, with (i, j) in the input (notebook 03). PyTorch's conv2d does not flip the kernel, nor does this."""
    if image.dim() != 2 or kernel.dim() != 2:
        raise ValueError(f"expected a 2-D image and a 2-D kernel, got shapes {tuple(image.shape)} and {tuple(kernel.shape)}")
    kh, kw = kernel.shape
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"output pixel {(row, col)} is outside the {rows}x{cols} output")
    return [(row + a, col + b, float(image[row + a, col + b]), float(kernel[a, b])) for a in range(kh) for b in range(kw)]


def _number_grid(ax: plt.Axes, values: torch.Tensor, cmap: str, vmin: float, vmax: float, fmt: str = "{:.1f}",
                 shown: torch.Tensor | None = None) -> None:
    """Values as coloured cells with their numbers written in; cells where `shown` is False stay blank."""
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    hidden = torch.zeros_like(values, dtype=torch.bool) if shown is None else ~shown
    ax.imshow(values.float().masked_fill(hidden, float("nan")).numpy(), cmap=colours, vmin=vmin, vmax=vmax)
    ax.add_patch(Rectangle((-0.5, -0.5), values.shape[1], values.shape[0], fill=False, edgecolor="gray"))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if shown is not None and not shown[i, j]:
                continue
            value = float(values[i, j])
            level = (value - vmin) / (vmax - vmin) if vmax > vmin else 0.5
            dark = level < 0.45 if cmap == "gray" else abs(level - 0.5) > 0.35
            ax.text(j, i, fmt.format(value).replace("-", "−"), ha="center", va="center", fontsize=FONT,
                    color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])


def _conv_step_caption(terms: Sequence[tuple[int, int, float, float]], steps_done: int, row: int, col: int) -> str:
    """'step 2 of 9: 0.30 + (−1)·(0.40) = −0.10': the running sum after `steps_done` multiply-adds."""
    if steps_done == 0:
        return f"step 0 of {len(terms)}: output ({row}, {col}) starts at 0"
    partial = sum(x * w for _, _, x, w in terms[:steps_done])
    _, _, x, w = terms[steps_done - 1]
    before = round(partial - x * w, 6) + 0.0  # + 0.0: no "-0.00"
    done = " (done)" if steps_done == len(terms) else ""
    text = f"step {steps_done} of {len(terms)}: {before:.2f} + ({w:g})·({x:.2f}) = {round(partial, 6) + 0.0:.2f}{done}"
    return text.replace("-", "−")


def _draw_conv_step(fig, image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, steps_done: int) -> None:
    """Draw one frame of the stepped convolution into a figure or subfigure."""
    terms = conv_step_terms(image, kernel, row, col)
    if not 0 <= steps_done <= len(terms):
        raise ValueError(f"steps_done must be between 0 and {len(terms)}, got {steps_done}")
    kh, kw = kernel.shape
    full = torch.nn.functional.conv2d(image[None, None].float(), kernel[None, None].float())[0, 0]
    in_ax, k_ax, out_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [image.shape[1], kw + 1, full.shape[1]]})
    _number_grid(in_ax, image, "gray", 0.0, max(1.0, float(image.max())))
    for i, j, _, _ in terms[:steps_done]:
        in_ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="gold", alpha=0.45))
    in_ax.add_patch(Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, edgecolor=_WINDOW, linewidth=3))
    in_ax.set_title(f"input {image.shape[0]}×{image.shape[1]}", fontsize=12)
    limit = max(1.0, float(kernel.abs().max()))
    _number_grid(k_ax, kernel, "RdBu_r", -limit, limit, fmt="{:g}")
    k_ax.set_title(f"kernel {kh}×{kw}", fontsize=12)
    if steps_done:
        i, j, _, _ = terms[steps_done - 1]
        a, b = divmod(steps_done - 1, kw)
        for ax, (y, x) in ((in_ax, (i, j)), (k_ax, (a, b))):
            ax.add_patch(Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, fill=False, edgecolor="red", linewidth=2.5, zorder=3))
    values = full.clone()
    values[row, col] = sum(x * w for _, _, x, w in terms[:steps_done])
    shown = torch.arange(full.numel()).reshape(full.shape) < row * full.shape[1] + col  # earlier outputs, reading order
    shown[row, col] = steps_done > 0
    limit = max(1.0, float(full.abs().max()))
    _number_grid(out_ax, values, "RdBu_r", -limit, limit, fmt="{:.2f}", shown=shown)
    out_ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=_WINDOW, linewidth=3))
    out_ax.set_title(f"output {full.shape[0]}×{full.shape[1]}", fontsize=12)
    fig.suptitle(_conv_step_caption(terms, steps_done, row, col), fontsize=12)


def _conv_step_size(image: torch.Tensor, kernel: torch.Tensor, cell: float = 0.45) -> tuple[float, float]:
    """Figure size in inches of one frame, so that every panel's cells are `cell` inches wide."""
    units = image.shape[1] + kernel.shape[1] + 1 + image.shape[1] - kernel.shape[1] + 1
    return units * cell + 1.0, image.shape[0] * cell + 1.1


@readable
def draw_conv_step(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, steps_done: int) -> plt.Figure:
    """Input with the window, kernel and output after `steps_done` of the multiply-adds of output pixel (row, col)
    (notebook 03): gold cells are done, the red one is the current product, earlier outputs are filled in."""
    fig = plt.figure(figsize=_conv_step_size(image, kernel), layout="constrained")
    _draw_conv_step(fig, image, kernel, row, col, steps_done)
    return fig


@readable
def draw_conv_steps(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, steps: Sequence[int] = (1, 2, 9)) -> plt.Figure:
    """A static sequence of `draw_conv_step` frames, one row each, for slides and saved notebooks (notebook 03).

    The default steps suit a 3x3 kernel: the first two multiply-adds and the ninth, the last.
    """
    width, height = _conv_step_size(image, kernel)
    fig = plt.figure(figsize=(width, height * len(steps)), layout="constrained")
    for sub, steps_done in zip(fig.subfigures(len(steps), 1), steps):
        _draw_conv_step(sub, image, kernel, row, col, steps_done)
    return fig
