"""What this machine offers: the set-up check (00); its throughput, and the power many slow cores draw (02)."""

import contextlib
import importlib.metadata
import os
import platform
import sys

import torch
from torch import nn

from d2lhelpers.data import FashionMNISTError, default_results_dir, display_path, prepare_fashion_mnist
from d2lhelpers.devices import Precision, best_device, cpu_kind, median_seconds
from d2lhelpers.models import layer_costs
from d2lhelpers.training import train_step


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def accelerator_description() -> str:
    """A line naming the accelerator PyTorch will use, or saying there is none."""
    device = best_device()
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(0)
        return f"CUDA: {props.name}, {props.total_memory / 2**30:.0f} GiB (CUDA {torch.version.cuda})"
    return "Apple MPS (Metal) GPU" if device.type == "mps" else "none: PyTorch will run on the CPU"


def machine_description() -> str:
    """The GPU's name when there is one, else the CPU's model name, core count and kind (for benchmark records)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:  # Linux names the model there
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    return f"{cpu}, {os.cpu_count()} cores, {cpu_kind()}"


def environment_report() -> dict[str, str]:
    """Facts about this machine and installation, as name -> value lines; never downloads anything."""
    try:
        data = f"found and verified (MD5) in {display_path(prepare_fashion_mnist(allow_download=False)[0])}"
    except FashionMNISTError as error:
        data = f"NOT AVAILABLE: {str(error).splitlines()[0]}"
    return {"Python": f"{platform.python_version()} ({display_path(sys.executable)})", "platform": platform.platform(),
            "CPU cores": str(os.cpu_count()), "torch": torch.__version__, "torchvision": _version("torchvision"),
            "d2l": _version("d2l"), "accelerator": accelerator_description(), "device used": str(best_device()),
            "Fashion-MNIST": data, "results folder": display_path(default_results_dir())}


def matmul_tflops(device: torch.device, n: int = 2048, dtype: torch.dtype = torch.float32, repeats: int = 5) -> float:
    """Achieved TFLOP/s of an n x n by n x n matrix product (2 n^3 floating-point operations)."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n**3 / median_seconds(lambda: a @ b, device, repeats) / 1e12


def training_flops_per_image(net: nn.Sequential, input_shape: tuple[int, ...]) -> float:
    """Floating-point operations of one training step per image: 3 passes (forward, 2 backward) x 2 per multiply-add."""
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
    """Relative (throughput, power) of `cores` cores at `clock` times one core's speed: cores·clock, cores·clock²."""
    if cores < 1 or clock <= 0:
        raise ValueError(f"need at least one core and a positive clock, got cores={cores}, clock={clock}")
    return cores * clock, cores * clock**2
