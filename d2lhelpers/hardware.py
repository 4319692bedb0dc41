"""Measuring the hardware: matrix-multiply and AlexNet throughput, known peaks, the power arithmetic.

Introduced in notebook 02 (why 2012: data and hardware).
"""

from __future__ import annotations

import torch
from torch import nn

from d2lhelpers.costs import layer_costs
from d2lhelpers.precision import Precision, cpu_has_native_bf16  # notebook 02 imports it from here too
from d2lhelpers.timing import median_seconds
from d2lhelpers.training import train_step

# Dense peak TFLOP/s by precision, as published by the vendors (not measured here).
PUBLISHED_PEAKS_TFLOPS: dict[str, dict[str, float]] = {
    "GTX 580": {"fp32": 1.58},
    "V100": {"fp32": 15.7},
    "H100 SXM": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4},
    "H100 PCIe": {"fp32": 51.0, "tf32": 378.0, "bf16": 756.0},
}


def published_peak(device_name: str, precision: str) -> float | None:
    """The published peak TFLOP/s of a known device (by its torch.cuda name), or None when unknown."""
    name = device_name.upper()
    if "H100" in name:
        key = "H100 PCIe" if "PCIE" in name else "H100 SXM"
    else:
        key = next((k for k in PUBLISHED_PEAKS_TFLOPS if k.upper() in name), None)
    return PUBLISHED_PEAKS_TFLOPS[key].get(precision) if key else None


def matmul_tflops(device: torch.device, n: int = 2048, dtype: torch.dtype = torch.float32, repeats: int = 5) -> float:
    """Achieved TFLOP/s of an n x n by n x n matrix product (2 n^3 floating-point operations)."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = median_seconds(lambda: a @ b, device, repeats)
    return 2 * n**3 / seconds / 1e12


def training_flops_per_image(net: nn.Sequential, input_shape: tuple[int, ...]) -> float:
    """Floating-point operations of one training step per image: 3 passes (forward, two backward) x 2 per multiply-add."""
    return 3 * 2 * float(layer_costs(net, input_shape)["multiply-adds"].sum())


def training_images_per_second(net: nn.Module, input_shape: tuple[int, ...], device: torch.device,
                                batch_size: int = 32, repeats: int = 3, precision: Precision | str = "fp32") -> float:
    """Images/s of full training steps (forward, backward, SGD update) on random data; no data loading."""
    net = net.to(device).train()
    x = torch.randn(batch_size, *input_shape, device=device)
    with torch.no_grad():
        classes = net(x[:1]).shape[1]
    y = torch.randint(0, classes, (batch_size,), device=device)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3)
    return batch_size / median_seconds(lambda: train_step(net, optimizer, x, y, precision), device, repeats)


def format_duration(seconds: float) -> str:
    """A duration in the largest sensible unit: 42 s, 3.5 min, 7.2 h, 5.6 days, 3.1 years."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 1.5 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def parallel_throughput(cores: int, clock: float) -> tuple[float, float]:
    """Relative (throughput, power) of `cores` cores at `clock` times the speed of one fast core.

    The chapter's arithmetic: throughput grows with cores x clock, power with cores x clock^2
    (power rises with the square of the clock frequency).
    """
    if cores < 1 or clock <= 0:
        raise ValueError(f"need at least one core and a positive clock, got cores={cores}, clock={clock}")
    return cores * clock, cores * clock**2
