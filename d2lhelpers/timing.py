"""Timing on any device: wait for the device, the median of repeated calls, and examples/s end to end.

Introduced in notebook 02 (why 2012: data and hardware) and notebook 04 (the Fashion-MNIST pipeline).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch


def synchronize(device: torch.device) -> None:
    """Wait for the device to finish its queued work, so that a timer reads real time."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int = 5, warmup: int = 1,
                   min_seconds: float = 0.0) -> float:
    """The median wall time of `fn()` over `repeats` runs (more until `min_seconds` in all), after `warmup` runs."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        fn()
    synchronize(device)
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


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
