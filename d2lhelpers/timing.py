"""Throughput measured end to end: data preparation and device work included.

Introduced in notebook 04 (the Fashion-MNIST pipeline).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch


def synchronize(device: torch.device) -> None:
    """Wait for the device to finish its queued work, so that a timer reads real time."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def examples_per_second(
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    n_batches: int,
    device: torch.device,
    work: Callable[[torch.Tensor, torch.Tensor], object] | None = None,
    warmup: int = 1,
) -> float:
    """Examples/s over `n_batches` batches after `warmup` ones, each fetched (and passed to `work`)."""
    iterator = iter(batches)
    for _ in range(warmup):
        x, y = next(iterator)
        if work is not None:
            work(x.to(device), y.to(device))
    synchronize(device)
    count, start = 0, time.perf_counter()
    for _ in range(n_batches):
        x, y = next(iterator)
        x, y = x.to(device), y.to(device)
        if work is not None:
            work(x, y)
        count += len(y)
    synchronize(device)
    return count / (time.perf_counter() - start)
