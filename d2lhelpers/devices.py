"""The device (CUDA, MPS, CPU): model and data placed there, timers that wait for it, the precision it trains in."""

import os
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

CHANNELS_LAST_DEVICES = ("cuda", "cpu")  # their convolutions (cuDNN, oneDNN) are faster on channels-last tensors
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}
# oneDNN's instruction-set caps below AVX512_CORE_BF16: with one of them set, bf16 is emulated even on a CPU that has it
ONEDNN_CAPS_WITHOUT_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")


def best_device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("mps" if torch.backends.mps.is_available() else "cpu")


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
        isinstance(error, RuntimeError) and ("out of memory" in str(error) or "can't allocate memory" in str(error)))


def synchronize(device: torch.device) -> None:
    """Wait for the device to finish its queued work, so that a timer reads real time."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int = 5, min_seconds: float = 0.0) -> float:
    """The median wall time of `fn()` over `repeats` runs (more until `min_seconds` in all), after one warm-up run."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    fn()
    synchronize(device)
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def examples_per_second(batches: Iterable[tuple[torch.Tensor, torch.Tensor]], n_batches: int, device: torch.device,
                        work: Callable[[torch.Tensor, torch.Tensor], object] | None = None, warmup: int = 1) -> float:
    """Examples/s over `n_batches` batches after `warmup` ones, each fetched, moved to `device`, given to `work`."""
    iterator = iter(batches)
    for _ in range(warmup):
        x, y = next(iterator)
        if work is not None:
            work(x.to(device), y.to(device))
    synchronize(device)
    count, start = 0, time.perf_counter()
    for _ in range(n_batches):
        x, y = (t.to(device) for t in next(iterator))
        if work is not None:
            work(x, y)
        count += len(y)
    synchronize(device)
    return count / (time.perf_counter() - start)


def _isa_cap() -> str | None:
    """The variable that limits PyTorch to instructions without bf16 (e.g. ONEDNN_MAX_CPU_ISA=AVX2), or None."""
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip()
    if onednn.upper() in ONEDNN_CAPS_WITHOUT_BF16:
        return f"ONEDNN_MAX_CPU_ISA={onednn}"
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip()
    return f"ATEN_CPU_CAPABILITY={aten}" if aten and not aten.lower().startswith("avx512") else None


def cpu_has_native_bf16() -> bool | None:
    """Whether this x86 CPU has AVX512-BF16 or AMX, not capped by `_isa_cap`; None on other CPUs (a step decides)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return None
    queries = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return not _isa_cap() and any(query() for query in queries if query is not None)


def cpu_kind() -> str:
    """PyTorch's instruction-set level and native bf16, which set the `cpu` profile's speed: 'AVX512, native bf16'."""
    bf16 = {True: "native bf16", False: "no native bf16", None: "bf16 unknown"}[cpu_has_native_bf16()]
    cap = _isa_cap()
    return f"{torch.backends.cpu.get_cpu_capability()}, {bf16}" + (f" (limited by {cap})" if cap else "")


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

    def __str__(self) -> str:
        return self.name


def as_precision(precision: Precision | str) -> Precision:
    """A Precision from itself or from its name."""
    return precision if isinstance(precision, Precision) else Precision(precision)


def decide_precision(device_type: str, capability: tuple[int, int] | None = None,
                     cpu_bf16_speedup: float | None = None, cpu_native_bf16: bool | None = None) -> Precision:
    """The rule, from a CUDA GPU's compute capability, or a CPU's native bf16 and measured bf16 speed-up."""
    if device_type == "cuda":
        major, minor = capability
        if major >= 8:
            return Precision("bf16", f"compute capability {major}.{minor} has bf16 tensor cores")
        if major == 7:  # torch.cuda.is_bf16_supported() says True here too: bf16 runs emulated, slowly
            return Precision("fp16", f"compute capability {major}.{minor} has fp16 tensor cores but no bf16 ones "
                                     "(bf16 would be emulated): fp16 with loss scaling")
        return Precision("fp32", f"compute capability {major}.{minor} has no tensor cores")
    if device_type == "mps":
        return Precision("fp32", "Apple MPS: fp32 (mixed precision is not measured to help here)")
    if device_type == "cpu":
        if cpu_native_bf16 is False:  # timing software-emulated bf16 would measure the emulation, not bf16 arithmetic
            return Precision("fp32", f"this CPU is {cpu_kind()}: without AVX512-BF16 or AMX, PyTorch would emulate "
                                     "bf16 in software, so bf16 is not timed")
        if cpu_bf16_speedup is None:
            return Precision("fp32", "this CPU has no bf16 kernels for these layers")
        faster = cpu_bf16_speedup >= 1 / 0.9  # bf16 must save at least 10% of a step's time to be worth its rounding
        return Precision("bf16" if faster else "fp32", f"a training step measured {cpu_bf16_speedup:.2f}x as fast "
                         f"in bf16 as in fp32 on this CPU ({'faster' if faster else 'not clearly faster'})")
    return Precision("fp32", f"{device_type}: fp32")


def autocast(device: torch.device, precision: Precision | str):
    """Autocast to the precision's dtype on `device`; a no-op context for fp32."""
    dtype = as_precision(precision).dtype
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def make_scaler(device: torch.device, precision: Precision | str) -> torch.amp.GradScaler:
    """A GradScaler that scales the loss for fp16 (whose small gradients underflow otherwise), a no-op otherwise."""
    enabled = as_precision(precision).name == "fp16"
    return torch.amp.GradScaler(device.type if enabled else "cpu", enabled=enabled)


def is_missing_kernel(error: BaseException) -> bool:
    """True for the error PyTorch raises when an operation has no kernel for a dtype on this device."""
    return isinstance(error, NotImplementedError) or (
        isinstance(error, RuntimeError) and ("not implemented for" in str(error) or "Could not run" in str(error)))


def forward_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: Precision | str,
                 label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward pass and its cross-entropy loss in the precision's autocast: (loss, logits)."""
    with autocast(x.device, precision):
        logits = net(memory_format(x))
        return F.cross_entropy(logits, y, label_smoothing=label_smoothing), logits


def cpu_bf16_speedup(net: nn.Module, image_size: int, batch_size: int) -> float | None:
    """fp32 time / bf16 time of a forward and backward pass of `net` on a random batch; None without bf16 kernels."""
    x, y = torch.randn(batch_size, 1, image_size, image_size), torch.zeros(batch_size, dtype=torch.long)
    seconds = {}
    try:
        for name in ("fp32", "bf16"):
            seconds[name] = median_seconds(lambda: forward_loss(net, x, y, name)[0].backward(), x.device, repeats=3)
            net.zero_grad(set_to_none=True)
    except Exception as error:
        if not is_missing_kernel(error):
            raise
        return None
    return seconds["fp32"] / seconds["bf16"]


def choose_precision(net: nn.Module, image_size: int, device: torch.device, batch_size: int = 128) -> Precision:
    """The precision to train `net` in on `device`; a CPU with bf16 times a step at the real batch size."""
    if device.type == "cuda":
        return decide_precision("cuda", capability=torch.cuda.get_device_capability(device))
    if device.type != "cpu":
        return decide_precision(device.type)
    if cpu_has_native_bf16() is False:
        return decide_precision("cpu", cpu_native_bf16=False)
    return decide_precision("cpu", cpu_bf16_speedup=cpu_bf16_speedup(net, image_size, batch_size))
