"""A layer's filters during training, kept at chosen steps: notebook 06 shows conv1 growing out of the noise.

Introduced in notebook 06. `runs.train_and_save` (notebook 05) records conv1 with every run; `train` stores the
snapshots in the checkpoint after each epoch (a resumed run keeps them) and `save_results` in model.pt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.inspection import get_layer

EARLY_STEPS = (5, 20, 60, 150)  # the first epoch, where the filters change fastest


def snapshot_steps(steps_per_epoch: int, total_steps: int, early: Iterable[int] = EARLY_STEPS) -> tuple[int, ...]:
    """The steps after which the filters are kept: a few early ones, the end of every epoch, the run's last step."""
    if steps_per_epoch < 1 or total_steps < 1:
        raise ValueError(f"steps must be positive, got {steps_per_epoch} per epoch and {total_steps} in all")
    ends = set(range(steps_per_epoch, total_steps, steps_per_epoch)) | {total_steps}
    return tuple(sorted({step for step in early if 0 < step < min(steps_per_epoch, total_steps)} | ends))


class FilterSnapshots:
    """Call it with the number of optimizer steps done; it keeps a copy of the layer's weights after each of `steps`."""

    def __init__(self, net: nn.Sequential, layer: str, steps: Iterable[int]) -> None:
        self.layer, self.steps = layer, frozenset(steps)
        self.weight = get_layer(net, layer).weight  # the parameter itself: the optimizer updates it in place
        self.frames: dict[int, torch.Tensor] = {}

    def __call__(self, step: int) -> None:
        if step in self.steps:
            self.frames[step] = self.weight.detach().to("cpu", torch.float32, copy=True)

    def state_dict(self) -> dict:
        return {"layer": self.layer, "frames": dict(self.frames)}

    def load_state_dict(self, state: dict) -> None:
        if state.get("layer") != self.layer:
            raise ValueError(f"these snapshots are of {state.get('layer')!r}, not {self.layer!r}")
        self.frames.update(state["frames"])


def conv1_snapshots(net: nn.Sequential, settings, n_train: int) -> FilterSnapshots:
    """conv1 kept at `snapshot_steps` of a run with these `TrainSettings` on `n_train` images."""
    return FilterSnapshots(net, "conv1", snapshot_steps(math.ceil(n_train / settings.batch_size),
                                                        settings.total_steps(n_train)))


def load_snapshots(path: Path) -> dict[int, torch.Tensor]:
    """The filters a run saved in its model.pt or checkpoint, by step; empty when it saved none (an older run)."""
    saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    return dict(sorted((saved.get("snapshots") or {}).get("frames", {}).items()))
