"""Which arithmetic a training run uses (bf16, fp16 or fp32), decided from the hardware, with the reason.

Introduced in notebook 05 (training AlexNet).
- CUDA, compute capability 8.0 or newer (A100, RTX 30xx, H100): bf16 autocast. bf16 keeps fp32's range,
  so no loss scaling is needed.
- CUDA 7.x (V100, Colab's T4): fp16 autocast with a GradScaler. These GPUs have fp16 tensor cores but
  no bf16 ones: `torch.cuda.is_bf16_supported()` still says True there, because bf16 can be emulated, slowly.
- older CUDA GPUs, and Apple's MPS: fp32.
- CPU: fp32 at once on an x86 CPU without native bf16 instructions (AVX512-BF16 or AMX): there bf16 is
  emulated, many times slower, and timing it would take minutes. Otherwise bf16 only when a timed training
  step at the real batch size is clearly faster than in fp32.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from d2lhelpers.devices import memory_format
from d2lhelpers.timing import median_seconds

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}
CPU_BF16_MIN_SPEEDUP = 1 / 0.9  # bf16 must save at least 10% of a step's time to be worth its rounding
# oneDNN's instruction-set caps below AVX512_CORE_BF16: with one of them set, bf16 is emulated even on a CPU that has it
ONEDNN_CAPS_WITHOUT_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")


@dataclass(frozen=True)
class Precision:
    """What a run computes in: 'bf16', 'fp16' or 'fp32', and why it was chosen."""

    name: str
    reason: str = "chosen by the caller"

    def __post_init__(self) -> None:
        if self.name not in DTYPES:
            raise ValueError(f"unknown precision {self.name!r}: choose one of {', '.join(DTYPES)}")

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None for plain fp32."""
        return DTYPES[self.name]

    @property
    def needs_scaler(self) -> bool:
        """fp16's small range makes small gradients underflow to zero unless the loss is scaled first."""
        return self.name == "fp16"

    def __str__(self) -> str:
        return self.name


def as_precision(precision: Precision | str) -> Precision:
    """A Precision from itself or from its name."""
    return precision if isinstance(precision, Precision) else Precision(precision)


def decide_precision(device_type: str, capability: tuple[int, int] | None = None,
                     cpu_bf16_speedup: float | None = None, cpu_native_bf16: bool | None = None) -> Precision:
    """The rule, from facts about the hardware: a CUDA GPU's compute capability; a CPU's bf16 instructions
    (`cpu_has_native_bf16`) and measured bf16 speed-up."""
    if device_type == "cuda":
        if capability is None:
            raise ValueError("a CUDA device needs its compute capability, e.g. (7, 5)")
        major, minor = capability
        if major >= 8:
            return Precision("bf16", f"compute capability {major}.{minor} has bf16 tensor cores")
        if major == 7:
            return Precision("fp16", f"compute capability {major}.{minor} has fp16 tensor cores but no bf16 ones "
                                     "(bf16 would be emulated): fp16 with loss scaling")
        return Precision("fp32", f"compute capability {major}.{minor} has no tensor cores")
    if device_type == "mps":
        return Precision("fp32", "Apple MPS: fp32 (mixed precision is not measured to help here)")
    if device_type == "cpu":
        if cpu_native_bf16 is False:
            return Precision("fp32", f"this CPU ({cpu_capability()}) lacks native bf16 instructions "
                                     "(AVX512-BF16 or AMX): bf16 would be emulated, many times slower, so it is not timed")
        if cpu_bf16_speedup is None:
            return Precision("fp32", "this CPU has no bf16 kernels for these layers")
        verdict = "faster" if cpu_bf16_speedup >= CPU_BF16_MIN_SPEEDUP else "not clearly faster"
        name = "bf16" if cpu_bf16_speedup >= CPU_BF16_MIN_SPEEDUP else "fp32"
        return Precision(name, f"a training step measured {cpu_bf16_speedup:.2f}x as fast in bf16 as in fp32 "
                               f"on this CPU ({verdict})")
    return Precision("fp32", f"{device_type}: fp32")


def autocast(device: torch.device, precision: Precision | str):
    """Autocast to the precision's dtype on `device`; a no-op context for fp32."""
    dtype = as_precision(precision).dtype
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def make_scaler(device: torch.device, precision: Precision | str) -> torch.amp.GradScaler:
    """A GradScaler that scales the loss for fp16 and does nothing otherwise."""
    enabled = as_precision(precision).needs_scaler
    return torch.amp.GradScaler(device.type if enabled else "cpu", enabled=enabled)


def is_missing_kernel(error: BaseException) -> bool:
    """True for the error PyTorch raises when an operation has no kernel for a dtype on this device."""
    message = str(error)
    return isinstance(error, NotImplementedError) or (
        isinstance(error, RuntimeError) and ("not implemented for" in message or "Could not run" in message)
    )


def cpu_bf16_speedup(step_seconds: Callable[[str], float]) -> float | None:
    """fp32 time / bf16 time of one training step, or None when this CPU lacks bf16 kernels."""
    fp32 = step_seconds("fp32")
    try:
        bf16 = step_seconds("bf16")
    except (RuntimeError, NotImplementedError) as error:
        if is_missing_kernel(error):
            return None
        raise
    return fp32 / bf16


def forward_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 precision: Precision | str) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward pass and its cross-entropy loss in the precision's autocast: (loss, logits). A training step
    (`training.train_step`) and the CPU probe below both run it."""
    with autocast(x.device, precision):
        logits = net(memory_format(x))
        return F.cross_entropy(logits, y), logits


def cpu_isa_capped_below_bf16() -> str | None:
    """The environment variable that limits PyTorch to instructions without bf16 (`ONEDNN_MAX_CPU_ISA=AVX2`,
    `ATEN_CPU_CAPABILITY=avx2`: how an AVX-512 machine plays an AVX2 laptop), as NAME=value; None when unlimited."""
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip()
    if onednn.upper() in ONEDNN_CAPS_WITHOUT_BF16:
        return f"ONEDNN_MAX_CPU_ISA={onednn}"
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip()
    if aten and not aten.lower().startswith("avx512"):
        return f"ATEN_CPU_CAPABILITY={aten}"
    return None


def cpu_capability() -> str:
    """PyTorch's instruction-set level for this CPU (e.g. AVX2), with the variable that limits it, if one does."""
    cap = cpu_isa_capped_below_bf16()
    level = torch.backends.cpu.get_cpu_capability()
    return f"{level}, limited by {cap}" if cap else level


def cpu_has_native_bf16() -> bool | None:
    """Whether this CPU computes in bf16 natively: on x86, AVX512-BF16 or AMX, unless an environment variable
    limits the instruction set below them; None on other CPUs (ARM, ...), where torch does not say and the
    timed step decides."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return None
    if cpu_isa_capped_below_bf16():
        return False
    queries = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(query() for query in queries if query is not None)


def cpu_step_timer(net: nn.Module, image_size: int, batch_size: int, in_channels: int = 1) -> Callable[[str], float]:
    """A function that times one forward and backward pass of `net` on a random batch, in a precision given by name."""
    x = torch.randn(batch_size, in_channels, image_size, image_size)
    y = torch.zeros(batch_size, dtype=torch.long)

    def step_seconds(name: str) -> float:
        seconds = median_seconds(lambda: forward_loss(net, x, y, Precision(name))[0].backward(), torch.device("cpu"),
                                 repeats=3)
        net.zero_grad(set_to_none=True)
        return seconds

    return step_seconds


def choose_precision(net: nn.Module, image_size: int, device: torch.device, batch_size: int = 128,
                     in_channels: int = 1) -> Precision:
    """The precision to train `net` in on `device` (see the module's docstring). On a CPU with native bf16 it
    times a step at the real batch size, since small batches hide bf16's gain."""
    if device.type == "cuda":
        return decide_precision("cuda", capability=torch.cuda.get_device_capability(device))
    if device.type != "cpu":
        return decide_precision(device.type)
    if cpu_has_native_bf16() is False:
        return decide_precision("cpu", cpu_native_bf16=False)
    speedup = cpu_bf16_speedup(cpu_step_timer(net, image_size, batch_size, in_channels))
    return decide_precision("cpu", cpu_bf16_speedup=speedup)
