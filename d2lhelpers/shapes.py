"""Output sizes of convolution and pooling layers, computed without running them.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from torch import nn

IntOrPair = Union[int, tuple[int, ...]]

# Layers that change the spatial size; every other layer keeps it.
SIZE_CHANGING_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


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


def _first(value: IntOrPair) -> int:
    """The height component of an int-or-tuple layer argument."""
    return value if isinstance(value, int) else int(value[0])


def layer_output_size(layer: nn.Module, n: int) -> int:
    """Spatial size (height) after `layer` for a square input of size `n`; unchanged for other layers."""
    if not isinstance(layer, SIZE_CHANGING_LAYERS):
        return n
    if _first(getattr(layer, "dilation", 1)) != 1 or getattr(layer, "ceil_mode", False):
        raise ValueError(f"{layer} uses dilation or ceil_mode, which conv_output_size does not model")
    return conv_output_size(n, _first(layer.kernel_size), _first(layer.stride), _first(layer.padding))


def spatial_sizes(layers: Iterable[nn.Module], n: int) -> list[int]:
    """The spatial size after each layer, in order, predicted by `conv_output_size`."""
    sizes = []
    for layer in layers:
        n = layer_output_size(layer, n)
        sizes.append(n)
    return sizes


def smallest_valid_input(layers: Iterable[nn.Module], limit: int = 10_000) -> int:
    """Smallest square input size for which every layer's output is at least 1x1."""
    layers = list(layers)
    for n in range(1, limit + 1):
        sizes = spatial_sizes(layers, n)
        if min(sizes, default=n) >= 1:
            return n
    raise ValueError(f"no input size up to {limit} fits these layers")
