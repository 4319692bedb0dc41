"""Notebook 03's figures of a convolution: where its window goes (a grid, or one axis as a strip) and one
output value computed step by step.

Introduced in notebook 03 (AlexNet layer by layer); the geometry they draw is `windows.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from d2lhelpers.plots import FONT, readable
from d2lhelpers.windows import (cell_ranges, conv_step_terms, covered_cells, uncovered_input_cells, window_count,
                                window_positions)

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
    out = window_count(n, k, s, p)
    row, col = (out - 1, out - 1) if position is None else position
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"position {(row, col)} is outside the {out}x{out} output")
    m = n + 2 * p
    covered = covered_cells(n, k, s, p)
    starts = window_positions(n, k, s, p)
    cell = min(0.4, 3.4 / m)  # inches per cell: large inputs shrink, so that the figure fits a slide at full size
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
    out = window_count(n, k, s, p)
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
    verdict = f"input cells never covered: {cell_ranges(lost)}" if lost else "every input cell is covered"
    title = f"{label + ': ' if label else ''}n={n}, k={k}, s={s}, p={p} → {out} windows ({shown}; {verdict})"
    ax.set_title(title, fontsize=11, loc="left")
    return fig


@readable
def draw_window_strips(layers: Sequence[tuple[str, int, int, int, int]], max_cells: int = 40) -> plt.Figure:
    """Several layers' strips, one under the other: (label, n, kernel_size, stride, padding) each (notebook 03)."""
    lanes = [min(window_count(n, k, s, p), -(-k // s)) for _, n, k, s, p in layers]
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


def _conv_step_size(image: torch.Tensor, kernel: torch.Tensor, cell: float = 0.45) -> tuple[float, float]:
    """Figure size in inches of one frame, so that every panel's cells are `cell` inches wide."""
    units = image.shape[1] + kernel.shape[1] + 1 + image.shape[1] - kernel.shape[1] + 1
    return units * cell + 1.0, image.shape[0] * cell + 1.1


@readable
def draw_conv_step(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, steps_done: int) -> plt.Figure:
    """Input with the window, kernel and output after `steps_done` of the multiply-adds of output pixel (row, col)
    (notebook 03): gold cells are done, the red one is the current product, earlier outputs are filled in."""
    terms = conv_step_terms(image, kernel, row, col)
    if not 0 <= steps_done <= len(terms):
        raise ValueError(f"steps_done must be between 0 and {len(terms)}, got {steps_done}")
    kh, kw = kernel.shape
    fig = plt.figure(figsize=_conv_step_size(image, kernel), layout="constrained")
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
    return fig

