"""Figures of a convolution (03): where its window goes (a grid, or one axis as a strip), one output value step by step."""

from collections.abc import Sequence
from itertools import product

import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from d2lhelpers.plots import FONT
from d2lhelpers.shapes import cell_ranges, conv_step_terms, uncovered_input_cells, window_positions

_INPUT, _PADDING, _LOST, _WINDOW = "white", "#d9d9d9", "#f4a6a6", "tab:blue"


def _cell(ax: plt.Axes, x: int, y: int, padding: bool, lost: bool) -> None:
    """One input cell: white, grey padding, or hatched red when no window covers it."""
    colour = _PADDING if padding else _LOST if lost else _INPUT
    ax.add_patch(Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="gray", linewidth=0.6, hatch="xx" if lost else None))


def _geometry_legend(fig: plt.Figure, lost: bool, strip: bool = False) -> None:
    """Legend of the colours, under the figure."""
    handles = [Patch(facecolor=_INPUT, edgecolor="gray", label="input"),
               Patch(facecolor=_PADDING, edgecolor="gray", label="padding (zeros)")]
    if lost:
        handles.append(Patch(facecolor=_LOST, edgecolor="gray", hatch="xx", label="input never covered"))
    if strip:
        handles.append(Patch(facecolor=_WINDOW, alpha=0.35, label="window positions, numbered (last one dark)"))
    else:
        handles += [Patch(facecolor="none", edgecolor=_WINDOW, linewidth=2.5, label="window at one position"),
                    Line2D([], [], marker="o", linestyle="none", color=_WINDOW, label="window centres: one per output pixel")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=FONT)


def _draw_strip(ax: plt.Axes, label: str, n: int, k: int, s: int, p: int, max_cells: int) -> None:
    """One axis of the padded input (its last `max_cells` cells, where the floor acts), each window a numbered bar."""
    starts = window_positions(n, k, s, p)
    out, m, lost = len(starts), n + 2 * p, uncovered_input_cells(n, k, s, p)
    first = max(0, m - max_cells)
    lanes = min(out, -(-k // s))  # bars that overlap go in different lanes
    for c in range(first, m):
        _cell(ax, c, 0, not p <= c < p + n, c - p in lost)
    for i, start in enumerate(starts):
        if start + k <= first:
            continue
        y, left = -0.8 - 0.55 * (i % lanes), max(start, first) + 0.08
        ax.add_patch(Rectangle((left, y), start + k - 0.08 - left, 0.45, facecolor=_WINDOW,
                               alpha=0.9 if i == out - 1 else 0.35, edgecolor=_WINDOW))
        if start >= first:
            ax.text(start + k / 2, y + 0.22, str(i + 1), ha="center", va="center", fontsize=FONT,
                    color="white" if i == out - 1 else "black")
    ticks = [c for c in range(first, m) if (c - p) % 5 == 0 and 0 <= c - p < n]
    ticks += [c for c in (p, p + n - 1) if c >= first and all(abs(c - t) > 2 for t in ticks)]
    ax.set_xticks([c + 0.5 for c in ticks], [str(c - p) for c in ticks], fontsize=FONT)
    ax.tick_params(axis="x", length=0, pad=2)
    ax.spines[:].set_visible(False)
    ax.set(xlim=(first - 0.2, first + max_cells + 0.2), ylim=(-0.3 - 0.55 * lanes, 1.05), yticks=[])
    shown = f"last {m - first} of {m} padded cells" if first else f"all {m} padded cells"
    verdict = f"input cells never covered: {cell_ranges(lost)}" if lost else "every input cell is covered"
    ax.set_title(f"{label}: n={n}, k={k}, s={s}, p={p} → {out} windows ({shown}; {verdict})", fontsize=11, loc="left")


def draw_window_strips(layers: Sequence[tuple[str, int, int, int, int]], max_cells: int = 40) -> plt.Figure:
    """Layers' strips, one under the other: (label, n, kernel_size, stride, padding) each."""
    heights = [1.2 + 0.35 * min(len(window_positions(n, k, s, p)), -(-k // s)) for _, n, k, s, p in layers]
    fig, axes = plt.subplots(len(layers), 1, figsize=(max_cells * 0.25 + 1.0, sum(heights) + 0.7), layout="constrained",
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, layer in zip(axes[:, 0], layers):
        _draw_strip(ax, *layer, max_cells)
    _geometry_legend(fig, any(uncovered_input_cells(n, k, s, p) for _, n, k, s, p in layers), strip=True)
    return fig


def draw_window(n: int, kernel_size: int, stride: int = 1, padding: int = 0, label: str | None = None) -> plt.Figure:
    """The padded input as a grid (padding, every window centre, the last window, cells never covered) beside the
    output; beyond 24 padded cells, one axis as a strip named `label`."""
    if n + 2 * padding > 24:
        return draw_window_strips([(label or "one axis", n, kernel_size, stride, padding)])
    k, s, p = kernel_size, stride, padding
    starts = window_positions(n, k, s, p)
    out, last = len(starts), starts[-1]
    m, lost = n + 2 * p, {c + p for c in uncovered_input_cells(n, k, s, p)}
    cell = min(0.4, 3.4 / m)  # inches per cell: large inputs shrink, so that the figure fits a slide at full size
    fig, (ax, out_ax) = plt.subplots(1, 2, figsize=((m + max(out, 4)) * cell + 1.5, max(m * cell, 2.5) + 1.6),
                                     layout="constrained", gridspec_kw={"width_ratios": [m, max(out, 4)]})
    for r, c in product(range(m), repeat=2):
        padded = not (p <= r < p + n and p <= c < p + n)
        _cell(ax, c, r, padded, not padded and (r in lost or c in lost))
    centres = [start + k / 2 for start in starts]
    ax.scatter([x for _ in centres for x in centres], [y for y in centres for _ in centres],
               s=max(10, 80 * cell), color=_WINDOW, zorder=3)
    ax.add_patch(Rectangle((last, last), k, k, facecolor=_WINDOW, alpha=0.18, zorder=2))
    ax.add_patch(Rectangle((last, last), k, k, fill=False, edgecolor=_WINDOW, linewidth=3, zorder=4))
    ax.set(xlim=(-0.1, m + 0.1), ylim=(m + 0.1, -0.1), aspect="equal")
    ax.set_title(f"input {n}×{n}, padding {p}, kernel {k}×{k}, stride {s}", fontsize=12)
    ax.axis("off")
    for r, c in product(range(out), repeat=2):
        current = r == c == out - 1
        out_ax.add_patch(Rectangle((c, r), 1, 1, facecolor=_WINDOW if current else "white", alpha=0.6 if current else 1,
                                   edgecolor="gray", linewidth=0.6))
    top = (m - out) / 2  # the output drawn with the input's cell size, centred vertically
    out_ax.set(xlim=(-0.1, max(out, 4) + 0.1), ylim=(out + top + 0.1, -top - 0.1), aspect="equal")
    out_ax.set_title(f"output {out}×{out}", fontsize=12)
    out_ax.axis("off")
    _geometry_legend(fig, bool(lost))
    return fig


def _number_grid(ax: plt.Axes, values: torch.Tensor, title: str, cmap: str, vmin: float, vmax: float,
                 fmt: str = "{:.1f}", shown: torch.Tensor | None = None) -> None:
    """Values as coloured cells with their numbers written in, under `title`; cells where `shown` is False stay blank."""
    shown = torch.ones_like(values, dtype=torch.bool) if shown is None else shown
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.imshow(values.float().masked_fill(~shown, float("nan")).numpy(), cmap=colours, vmin=vmin, vmax=vmax)
    ax.add_patch(Rectangle((-0.5, -0.5), values.shape[1], values.shape[0], fill=False, edgecolor="gray"))
    for (i, j), value in zip(shown.nonzero().tolist(), values[shown].tolist()):
        level = (value - vmin) / (vmax - vmin) if vmax > vmin else 0.5
        dark = level < 0.45 if cmap == "gray" else abs(level - 0.5) > 0.35
        ax.text(j, i, fmt.format(value).replace("-", "−"), ha="center", va="center", fontsize=FONT,
                color="white" if dark else "black")
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=12)


def draw_conv_step(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, steps_done: int) -> plt.Figure:
    """Input, kernel and output after `steps_done` multiply-adds of output (row, col): done gold, current red."""
    terms = conv_step_terms(image, kernel, row, col)
    if not 0 <= steps_done <= len(terms):
        raise ValueError(f"steps_done must be between 0 and {len(terms)}, got {steps_done}")
    kh, kw = kernel.shape
    units = image.shape[1] + kw + 1 + image.shape[1] - kw + 1  # every panel's cells 0.45 inches wide
    fig = plt.figure(figsize=(units * 0.45 + 1.0, image.shape[0] * 0.45 + 1.1), layout="constrained")
    full = torch.nn.functional.conv2d(image[None, None].float(), kernel[None, None].float())[0, 0]
    in_ax, k_ax, out_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [image.shape[1], kw + 1, full.shape[1]]})
    _number_grid(in_ax, image, f"input {image.shape[0]}×{image.shape[1]}", "gray", 0.0, max(1.0, float(image.max())))
    for i, j, _, _ in terms[:steps_done]:
        in_ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="gold", alpha=0.45))
    in_ax.add_patch(Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, edgecolor=_WINDOW, linewidth=3))
    limit = max(1.0, float(kernel.abs().max()))
    _number_grid(k_ax, kernel, f"kernel {kh}×{kw}", "RdBu_r", -limit, limit, fmt="{:g}")
    partial = sum(x * w for _, _, x, w in terms[:steps_done])
    caption = f"step 0 of {len(terms)}: output ({row}, {col}) starts at 0"
    if steps_done:  # the current multiply-add, in red, and the sum before and after it
        i, j, x, w = terms[steps_done - 1]
        for ax, (r, c) in ((in_ax, (i, j)), (k_ax, divmod(steps_done - 1, kw))):
            ax.add_patch(Rectangle((c - 0.45, r - 0.45), 0.9, 0.9, fill=False, edgecolor="red", linewidth=2.5, zorder=3))
        before, after = (round(value, 6) + 0.0 for value in (partial - x * w, partial))  # + 0.0: no "-0.00"
        caption = (f"step {steps_done} of {len(terms)}: {before:.2f} + ({w:g})·({x:.2f}) = {after:.2f}"
                   + (" (done)" if steps_done == len(terms) else "")).replace("-", "−")
    values = full.clone()
    values[row, col] = partial
    shown = torch.arange(full.numel()).reshape(full.shape) < row * full.shape[1] + col  # earlier outputs, reading order
    shown[row, col] = steps_done > 0
    limit = max(1.0, float(full.abs().max()))
    _number_grid(out_ax, values, f"output {full.shape[0]}×{full.shape[1]}", "RdBu_r", -limit, limit, fmt="{:.2f}",
                 shown=shown)
    out_ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=_WINDOW, linewidth=3))
    fig.suptitle(caption, fontsize=12)
    return fig
