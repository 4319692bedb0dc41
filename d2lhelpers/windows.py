"""Where a convolution's window goes, along one axis of its padded input, and what one output value sums.

Introduced in notebook 03 (AlexNet layer by layer): the output-size formula (`shapes.py`) made visible.
Positions are counted along one axis of the *padded* input: cell 0 is the first padding cell, the input's
own cells are p .. p + n - 1. `drawings.py` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from d2lhelpers.shapes import conv_output_size


def window_count(n: int, kernel_size: int, stride: int, padding: int) -> int:
    """The number of window positions (the output size); a ValueError when the window does not fit even once."""
    out = conv_output_size(n, kernel_size, stride, padding)  # checks the types and ranges
    if n < 1 or out < 1:
        raise ValueError(
            f"a {kernel_size}-wide window does not fit an input of {n} padded by {padding} on each side "
            f"({n + 2 * padding} cells): use a smaller kernel, more padding or a larger input"
        )
    return out


def window_positions(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """First padded cell of every window position along one axis (notebook 03); as many as the formula's output."""
    out = window_count(n, kernel_size, stride, padding)
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
    out = window_count(n, k, s, p)
    span = n + 2 * p - k
    text = f"output size = ⌊(n − k + 2p) / s⌋ + 1 = ⌊({n} − {k} + 2·{p}) / {s}⌋ + 1 = ⌊{span}/{s}⌋ + 1 = {out}"
    if span % s == 0:
        note = f"{span} is a multiple of {s}: the last window ends on the last padded cell"
    else:
        note = f"{span}/{s} = {span / s:.2f} is not whole: the floor drops the last {span % s} padded cell(s)"
    if s > k:
        note += f"; the stride {s} is larger than the kernel {k}, so the cells between windows are skipped"
    lost = uncovered_input_cells(n, k, s, p)
    lost_text = f"input cells never covered: {cell_ranges(lost)} (of 0–{n - 1})" if lost else "every input cell is covered"
    return f"{text}\n{note}\n{lost_text}"


def cell_ranges(cells: Sequence[int]) -> str:
    """Cell numbers as ranges: [3, 4, 5, 9] -> '3–5, 9'."""
    parts, start = [], None
    for i, cell in enumerate(cells):
        if start is None:
            start = cell
        if i + 1 == len(cells) or cells[i + 1] != cell + 1:
            parts.append(str(start) if start == cell else f"{start}–{cell}")
            start = None
    return ", ".join(parts)


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
