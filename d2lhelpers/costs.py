"""What a network costs: parameters, multiply-adds and training memory, counted layer by layer.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

from collections.abc import Iterable

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


def optimizer_state_bytes(optimizer: torch.optim.Optimizer, parameters: Iterable[nn.Parameter] | None = None) -> int:
    """Bytes of every tensor in the optimizer's state (momentum buffers, moment estimates, step counts).

    Introduced in notebook 03. The state exists only after the first `optimizer.step()`. `parameters`
    restricts the count to those parameters' state (e.g. one layer's).
    """
    wanted = None if parameters is None else {id(p) for p in parameters}
    total = 0
    for parameter, state in optimizer.state.items():
        if wanted is None or id(parameter) in wanted:
            total += sum(value.nbytes for value in state.values() if isinstance(value, torch.Tensor))
    return total


def saved_for_backward(net: nn.Sequential, x: torch.Tensor) -> pd.DataFrame:
    """The tensors autograd keeps from one training-mode forward pass of `x` for the backward pass.

    Introduced in notebook 03. One row per distinct tensor storage (a view such as Flatten's output
    shares its input's): the layer whose forward pass first saved it, what it is to that layer
    ("input", "output" or "other", e.g. max-pooling indices or a dropout mask), its shape, dtype and
    bytes. The parameters, which backward also uses, are left out: they are counted separately.
    """
    parameters = {p.untyped_storage().data_ptr() for p in net.parameters()}
    rows: dict[int, dict[str, object]] = {}
    current: dict[str, object] = {}
    outputs = []  # kept alive, so that no freed storage is reused and mistaken for another tensor

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in parameters and pointer not in rows:
            role = "input" if pointer == current["input"] else "other"
            rows[pointer] = {"layer": current["layer"], "saved": role, "shape": tuple(tensor.shape),
                             "dtype": str(tensor.dtype).removeprefix("torch."), "bytes": tensor.untyped_storage().nbytes()}
        return tensor

    was_training = net.training
    net.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            for index, layer in enumerate(net):
                current.update(layer=f"{index}: {layer.__class__.__name__}", input=x.untyped_storage().data_ptr())
                x = layer(x)
                outputs.append(x)
                produced = rows.get(x.untyped_storage().data_ptr())
                if produced is not None and produced["layer"] == current["layer"]:
                    produced["saved"] = "output"  # e.g. ReLU keeps its result, not its input
    finally:
        net.train(was_training)
    return pd.DataFrame(list(rows.values()), columns=["layer", "saved", "shape", "dtype", "bytes"])
