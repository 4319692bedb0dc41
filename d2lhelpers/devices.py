"""Choosing the device and placing a model and its data on it, fast: CUDA, then Apple's MPS, then the CPU;
and telling when it ran out of memory.

Introduced in notebook 00 (start here); the placement rules in notebook 05 (training AlexNet).
"""

from __future__ import annotations

import torch
from torch import nn

# Devices whose convolutions are faster on channels-last tensors (cuDNN, oneDNN).
CHANNELS_LAST_DEVICES = ("cuda", "cpu")


def best_device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def prepare_model(net: nn.Module, device: torch.device) -> nn.Module:
    """`net` on `device`, channels-last where its convolutions prefer that; on CUDA, cuDNN picks its fastest kernels."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: time the candidate kernels once, keep the best
    net.to(device)
    if device.type in CHANNELS_LAST_DEVICES:
        net.to(memory_format=torch.channels_last)
    return net


def memory_format(x: torch.Tensor) -> torch.Tensor:
    """A 4-D batch in channels-last layout where the device's convolutions prefer it."""
    if x.dim() == 4 and x.device.type in CHANNELS_LAST_DEVICES:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` copied to `device`; from pinned memory without blocking when the target is a CUDA GPU."""
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def is_out_of_memory(error: BaseException) -> bool:
    """True for a device's or the host's out-of-memory error."""
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and ("out of memory" in str(error) or "can't allocate memory" in str(error))
    )
