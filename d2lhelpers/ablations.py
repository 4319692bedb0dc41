"""Experiments on AlexNet's ingredients: gradients at initialisation, and variants trained side by side.

Introduced in notebook 07 (what made AlexNet work).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from d2lhelpers.inspection import layer_names
from d2lhelpers.batches import to_model_input
from d2lhelpers.paths import results_folder
from d2lhelpers.training import TrainSettings, evaluate, train

INITIALISATIONS = ("pytorch", "xavier")


def initialise(net: nn.Module, scheme: str) -> nn.Module:
    """Re-draw the weights of every Conv2d and Linear layer in place, and return `net`.

    "pytorch": PyTorch's default (Kaiming-uniform with a=sqrt(5), scaled to the fan-in);
    "xavier": Xavier-uniform (Glorot and Bengio, 2010) with zero biases, what the book's train_ch6 uses.
    """
    if scheme not in INITIALISATIONS:
        raise ValueError(f"scheme must be one of {', '.join(INITIALISATIONS)}, got {scheme!r}")
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            else:
                module.reset_parameters()
    return net


def layer_gradient_norms(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> pd.Series:
    """Mean |gradient| of each conv and linear layer's weights for one batch, named conv1.., fc1..

    The network is left in training mode with its gradients cleared.
    """
    net.train()
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(x), y).backward()
    norms = {name: module.weight.grad.abs().mean().item() for name, module in layer_names(net).items()
             if isinstance(module, (nn.Conv2d, nn.Linear))}
    net.zero_grad(set_to_none=True)
    return pd.Series(norms, name="mean |gradient|")


def train_variant(name: str, net: nn.Module, data, settings: TrainSettings, device: torch.device, run: str,
                  train_eval_examples: int = 5_000) -> dict[str, object]:
    """Train one variant (resuming its checkpoint in results/<run>/<name>.pt) and measure it.

    Returns its history, and the train and test accuracy both measured in evaluation mode (dropout
    off), so that their difference is the generalisation gap.
    """
    checkpoint = results_folder(run) / f"{name}.pt"
    history = train(net, data, settings, device, checkpoint=checkpoint)
    n_train = settings.train_examples or len(data.train_images)
    n_eval = min(n_train, train_eval_examples)
    train_acc, _ = evaluate(net, data.train_images[:n_eval].to(device), data.train_labels[:n_eval].to(device),
                            settings.image_size, history.precision)
    test_acc = history.last("test_acc")
    return {"variant": name, "history": history, "train_acc": train_acc, "test_acc": test_acc,
            "gap": train_acc - test_acc, "minutes": history.last("elapsed_s") / 60, "interrupted": history.interrupted}


def summary_table(runs: list[dict[str, object]]) -> pd.DataFrame:
    """One row per trained variant: accuracies (evaluation mode), the gap, and the training time."""
    table = pd.DataFrame([{k: run[k] for k in ("variant", "train_acc", "test_acc", "gap", "minutes")} for run in runs])
    return table.set_index("variant").round(3)


def example_batch(data, settings: TrainSettings, n: int = 64, device: torch.device | None = None):
    """The first n training images, ready for the network, and their labels."""
    x = to_model_input(data.train_images[:n], settings.image_size)
    y = data.train_labels[:n]
    return (x.to(device), y.to(device)) if device is not None else (x, y)
