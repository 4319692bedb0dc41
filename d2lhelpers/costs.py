"""What a network costs: parameters, multiply-adds and training memory, counted layer by layer.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

# Tensors of the size of the weights that training keeps, besides the weights themselves.
OPTIMIZER_STATE_COPIES = {"SGD": 0, "SGD with momentum": 1, "Adam": 2}


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in `module`."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def multiply_adds(layer: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds one example costs in `layer` (convolutions and linear layers; 0 for the others)."""
    per_example = output[0].numel()
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        return per_example * (layer.in_channels // layer.groups) * kh * kw
    if isinstance(layer, nn.Linear):
        return per_example * layer.in_features
    return 0


def layer_costs(net: nn.Sequential, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """One row per layer of `net`: its output shape, parameters and multiply-adds for one example.

    `input_shape` is one example's shape, e.g. (1, 224, 224); the batch axis is added here.
    """
    rows = []
    x = torch.zeros(1, *input_shape)
    with torch.no_grad():
        for index, layer in enumerate(net):
            x = layer(x)
            rows.append(
                {
                    "layer": f"{index}: {layer.__class__.__name__}",
                    "output shape": tuple(x.shape[1:]),
                    "parameters": count_parameters(layer),
                    "multiply-adds": multiply_adds(layer, x),
                }
            )
    return pd.DataFrame(rows)


def training_memory_bytes(num_parameters: int, optimizer: str = "SGD", bytes_per_value: int = 4) -> int:
    """Bytes for the weights, their gradients and the optimizer's state (activations not included)."""
    if optimizer not in OPTIMIZER_STATE_COPIES:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZER_STATE_COPIES)}")
    copies = 2 + OPTIMIZER_STATE_COPIES[optimizer]  # weights + gradients + state
    return copies * num_parameters * bytes_per_value
