"""Output sizes of convolution and pooling, and where a window goes along one padded axis: input cells p .. p + n - 1 (03)."""

from collections.abc import Iterable, Sequence
from itertools import groupby

import torch
from torch import nn


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output size along one axis: floor((n - k + 2p + s) / s), with p the padding on *each* side.

    Valid for convolution and pooling (dilation 1, no ceil mode). The book writes p_h for the total
    padding of both sides, so its formula reads floor((n - k + p + s) / s). Returns 0 or less when
    the window no longer fits the padded input.
    """
    for name, value in (("n", n), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}")
    if kernel_size < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"need kernel_size >= 1, stride >= 1, padding >= 0; got {kernel_size=}, {stride=}, {padding=}"
        )
    return (n - kernel_size + 2 * padding + stride) // stride


def spatial_sizes(layers: Iterable[nn.Module], n: int) -> list[int]:
    """The spatial size (height, square input) after each layer, in order; only convolution and pooling change it."""
    sizes = []
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p, d = (v if isinstance(v, int) else v[0] for v in
                          (layer.kernel_size, layer.stride, layer.padding, getattr(layer, "dilation", 1)))
            if d != 1 or getattr(layer, "ceil_mode", False):
                raise ValueError(f"{layer} uses dilation or ceil_mode, which conv_output_size does not model")
            n = conv_output_size(n, k, s, p)
        sizes.append(n)
    return sizes


def smallest_valid_input(layers: Iterable[nn.Module], limit: int = 10_000) -> int:
    """Smallest square input size for which every layer's output is at least 1x1."""
    layers = list(layers)
    n = next((n for n in range(1, limit + 1) if min(spatial_sizes(layers, n), default=n) >= 1), None)
    if n is None:
        raise ValueError(f"no input size up to {limit} fits these layers")
    return n


def window_positions(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """First padded cell of every window position along one axis: as many as the output size."""
    out = conv_output_size(n, kernel_size, stride, padding)
    if n < 1 or out < 1:
        raise ValueError(f"a {kernel_size}-wide window does not fit an input of {n} padded by {padding} on each "
                         f"side ({n + 2 * padding} cells): use a smaller kernel, more padding or a larger input")
    return [i * stride for i in range(out)]


def uncovered_input_cells(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """Input cells (0 .. n-1, padding excluded) that no window position covers."""
    starts = window_positions(n, kernel_size, stride, padding)
    covered = {i for start in starts for i in range(start, start + kernel_size)}
    return [i for i in range(n) if i + padding not in covered]


def cell_ranges(cells: Sequence[int]) -> str:
    """Cell numbers as ranges: [3, 4, 5, 9] -> '3–5, 9'."""
    runs = [[cell for _, cell in run] for _, run in groupby(enumerate(cells), lambda pair: pair[1] - pair[0])]
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)  # a run: cell - index constant


def output_size_text(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> str:
    """The output-size formula with the numbers filled in, and what the floor drops."""
    k, s, p = kernel_size, stride, padding
    out, span = len(window_positions(n, k, s, p)), n + 2 * p - k
    text = f"output size = ⌊(n − k + 2p) / s⌋ + 1 = ⌊({n} − {k} + 2·{p}) / {s}⌋ + 1 = ⌊{span}/{s}⌋ + 1 = {out}"
    note = (f"{span} is a multiple of {s}: the last window ends on the last padded cell" if span % s == 0 else
            f"{span}/{s} = {span / s:.2f} is not whole: the floor drops the last {span % s} padded cell(s)")
    if s > k:
        note += f"; the stride {s} is larger than the kernel {k}, so the cells between windows are skipped"
    lost = uncovered_input_cells(n, k, s, p)
    lost_text = f"input cells never covered: {cell_ranges(lost)} (of 0–{n - 1})" if lost else "every input cell is covered"
    return f"{text}\n{note}\n{lost_text}"


def conv_step_terms(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int) -> list[tuple[int, int, float, float]]:
    """The multiply-adds of output (row, col) of a stride-1, unpadded, unflipped convolution: (i, j, input, weight)."""
    if image.dim() != 2 or kernel.dim() != 2:
        raise ValueError(f"expected a 2-D image and a 2-D kernel, got shapes {tuple(image.shape)} and {tuple(kernel.shape)}")
    kh, kw = kernel.shape
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"output pixel {(row, col)} is outside the {rows}x{cols} output")
    return [(row + a, col + b, float(image[row + a, col + b]), float(kernel[a, b])) for a in range(kh) for b in range(kw)]
