"""What the reader's machine offers: Python, PyTorch, accelerators, d2l and the data.

Introduced in notebook 00 (start here).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

import torch

from d2lhelpers.data import FashionMNISTError, prepare_fashion_mnist
from d2lhelpers.devices import best_device
from d2lhelpers.paths import default_results_dir, display_path
from d2lhelpers.precision import cpu_has_native_bf16, cpu_isa_capped_below_bf16


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
    if device.type == "mps":
        return "Apple MPS (Metal) GPU"
    return "none: PyTorch will run on the CPU"


def cpu_kind() -> str:
    """The CPU's instruction-set level as PyTorch uses it, and whether it has native bf16: the two facts that set
    the `cpu` profile's speed (about 3x between an AVX2 laptop and an AVX-512 BF16 machine)."""
    level = torch.backends.cpu.get_cpu_capability()
    native = cpu_has_native_bf16()
    bf16 = {True: "native bf16", False: "no native bf16", None: "bf16 unknown"}[native]
    cap = cpu_isa_capped_below_bf16()
    return f"{level}, {bf16}" + (f" (limited by {cap})" if cap else "")


def machine_description() -> str:
    """The GPU's name when there is one, else the CPU's model name, core count and kind (for benchmark records)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {cpu_kind()}"


def environment_report() -> dict[str, str]:
    """Facts about this machine and installation, as name -> value lines; never downloads anything."""
    try:
        raw, _ = prepare_fashion_mnist(allow_download=False)
        data = f"found and verified (MD5) in {display_path(raw)}"
    except FashionMNISTError as error:
        data = f"NOT AVAILABLE: {str(error).splitlines()[0]}"
    return {
        "Python": f"{platform.python_version()} ({display_path(sys.executable)})",
        "platform": platform.platform(),
        "CPU cores": str(os.cpu_count()),
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "d2l": _version("d2l"),
        "accelerator": accelerator_description(),
        "device used": str(best_device()),
        "Fashion-MNIST": data,
        "results folder": display_path(default_results_dir()),
    }
