"""The device's timers, the CPU's kind, and the precision rule, every branch on a CPU: CUDA capabilities, MPS and the
CPU's bf16 instructions by mocking the device queries."""

import platform

import pytest
import torch

from d2lhelpers import devices
from d2lhelpers.devices import Precision, autocast, choose_precision, cpu_bf16_speedup, decide_precision, make_scaler
from d2lhelpers.models import alexnet

CUDA = torch.device("cuda")


@pytest.mark.parametrize("capability, name, scaler", [
    ((9, 0), "bf16", False),  # H100
    ((8, 0), "bf16", False),  # A100
    ((8, 6), "bf16", False),  # RTX 30xx
    ((7, 5), "fp16", True),  # Colab's T4: bf16 would be emulated
    ((7, 0), "fp16", True),  # V100
    ((6, 1), "fp32", False),  # GTX 10xx: no tensor cores
])
def test_cuda_precision_follows_the_compute_capability(monkeypatch, capability, name, scaler):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what a T4 answers too
    chosen = choose_precision(alexnet(image_size=65), 65, CUDA)
    assert (chosen.name, make_scaler(torch.device("cpu"), chosen).is_enabled()) == (name, scaler)
    assert f"{capability[0]}.{capability[1]}" in chosen.reason


def test_mps_trains_in_fp32():
    chosen = choose_precision(alexnet(image_size=65), 65, torch.device("mps"))
    assert chosen.name == "fp32" and "MPS" in chosen.reason and chosen.dtype is None


def cpu(monkeypatch, machine: str, avx512_bf16: bool = False, amx: bool = False) -> None:
    """Pretend to be a CPU of architecture `machine` with (or without) x86's bf16 instructions."""
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)  # a run limited to AVX2 would change every answer
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)


def test_an_x86_cpu_without_native_bf16_trains_in_fp32_without_timing_it(monkeypatch):
    cpu(monkeypatch, "x86_64")
    monkeypatch.setattr(devices, "cpu_bf16_speedup", lambda *args: pytest.fail("emulated bf16 was timed"))
    chosen = choose_precision(alexnet(image_size=65), 65, torch.device("cpu"), batch_size=2)
    assert chosen.name == "fp32" and "no native bf16" in chosen.reason
    assert devices.cpu_has_native_bf16() is False


def test_median_seconds_takes_the_median_after_the_warm_up(monkeypatch):
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # calls lasting 1, 3 and 2 s
    monkeypatch.setattr(devices.time, "perf_counter", lambda: next(clock))
    calls = []
    assert devices.median_seconds(lambda: calls.append(1), torch.device("cpu"), repeats=3) == 2.0
    assert len(calls) == 4  # one untimed warm-up call, then the three timed ones
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        devices.median_seconds(lambda: None, torch.device("cpu"), repeats=0)


@pytest.mark.parametrize("level, native, cap, kind", [
    ("AVX512", True, None, "AVX512, native bf16"),  # as benchmarks/series-cpu.json names it
    ("AVX2", False, ("ONEDNN_MAX_CPU_ISA", "AVX2"), "AVX2, no native bf16 (limited by ONEDNN_MAX_CPU_ISA=AVX2)"),
    ("AVX2", False, ("ATEN_CPU_CAPABILITY", "avx2"), "AVX2, no native bf16 (limited by ATEN_CPU_CAPABILITY=avx2)"),
    ("AVX2", False, None, "AVX2, no native bf16"),
    ("DEFAULT", None, None, "DEFAULT, bf16 unknown"),
])
def test_the_cpu_kind_names_the_level_and_native_bf16(monkeypatch, level, native, cap, kind):
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: level)
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: native)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    if cap:
        monkeypatch.setenv(*cap)
    assert devices.cpu_kind() == kind
    if native is False:  # the precision rule gives the same description as its reason
        assert f"this CPU is {kind}:" in decide_precision("cpu", cpu_native_bf16=False).reason


@pytest.mark.parametrize("machine, avx512_bf16, amx, native", [
    ("x86_64", True, False, True),  # AVX512-BF16 (Cooper Lake, Zen 4)
    ("AMD64", False, True, True),  # AMX (Sapphire Rapids), as Windows names x86-64
    ("aarch64", False, False, None),  # ARM: torch does not say, so the timed step decides
])
def test_a_cpu_with_or_perhaps_with_native_bf16_times_a_step(monkeypatch, machine, avx512_bf16, amx, native):
    cpu(monkeypatch, machine, avx512_bf16, amx)
    assert devices.cpu_has_native_bf16() is native
    monkeypatch.setattr(devices, "cpu_bf16_speedup", lambda *args: 2.0)
    assert choose_precision(alexnet(image_size=65), 65, torch.device("cpu"), batch_size=2).name == "bf16"


@pytest.mark.parametrize("variable, value, capped", [
    ("ONEDNN_MAX_CPU_ISA", "AVX2", True),
    ("ONEDNN_MAX_CPU_ISA", "avx512_core", True),  # AVX-512 without its bf16 extension
    ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16", False),
    ("ONEDNN_MAX_CPU_ISA", "ALL", False),
    ("ATEN_CPU_CAPABILITY", "avx2", True),
    ("ATEN_CPU_CAPABILITY", "default", True),
    ("ATEN_CPU_CAPABILITY", "avx512", False),
])
def test_a_cap_on_the_instruction_set_counts_as_no_native_bf16(monkeypatch, variable, value, capped):
    cpu(monkeypatch, "x86_64", avx512_bf16=True, amx=True)
    monkeypatch.setenv(variable, value)
    assert devices.cpu_has_native_bf16() is (False if capped else True)
    if capped:  # fp32 at once, and the reason names the variable a student set
        monkeypatch.setattr(devices, "cpu_bf16_speedup", lambda *args: pytest.fail("emulated bf16 was timed"))
        chosen = choose_precision(alexnet(image_size=65), 65, torch.device("cpu"), batch_size=2)
        assert chosen.name == "fp32" and f"{variable}={value}" in chosen.reason


@pytest.mark.parametrize("fp32_s, bf16_s, name", [(1.0, 0.5, "bf16"), (1.0, 0.95, "fp32"), (1.0, 2.0, "fp32")])
def test_cpu_keeps_bf16_only_when_measured_clearly_faster(monkeypatch, fp32_s, bf16_s, name):
    cpu(monkeypatch, "x86_64", avx512_bf16=True)
    monkeypatch.setattr(devices, "cpu_bf16_speedup", lambda *args: fp32_s / bf16_s)
    chosen = choose_precision(alexnet(image_size=65), 65, torch.device("cpu"), batch_size=2)
    assert chosen.name == name and f"{fp32_s / bf16_s:.2f}x as fast" in chosen.reason


def test_the_cpu_probe_times_both_precisions_on_the_real_model():
    net = alexnet(image_size=65)
    assert cpu_bf16_speedup(net, 65, batch_size=4) > 0
    assert all(p.grad is None for p in net.parameters())  # the probe leaves no gradients behind


def probe_with(monkeypatch, error: BaseException) -> float | None:
    """The probe's answer when the bf16 forward pass raises `error` (fp32 runs for real)."""
    forward_loss = devices.forward_loss

    def failing_in_bf16(net, x, y, precision):
        if precision == "bf16":
            raise error
        return forward_loss(net, x, y, precision)

    monkeypatch.setattr(devices, "forward_loss", failing_in_bf16)
    return cpu_bf16_speedup(alexnet(image_size=65), 65, batch_size=2)


def test_a_cpu_without_bf16_kernels_falls_back_to_fp32(monkeypatch):
    assert probe_with(monkeypatch, RuntimeError('"addmm_impl_cpu_" not implemented for \'BFloat16\'')) is None
    assert decide_precision("cpu", cpu_bf16_speedup=None).name == "fp32"


@pytest.mark.parametrize("error", [RuntimeError("mat1 and mat2 shapes cannot be multiplied (64x10 and 6400x4096)"),
                                   torch.OutOfMemoryError("CUDA out of memory")])
def test_other_errors_in_the_probe_are_not_hidden(monkeypatch, error):
    with pytest.raises(type(error), match=str(error)[:20]):
        probe_with(monkeypatch, error)


def test_unknown_precision_names_are_refused():
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        Precision("fp8")


def test_autocast_and_scaler_follow_the_precision():
    x = torch.randn(4, 4)
    with autocast(torch.device("cpu"), "bf16"):
        assert (x @ x).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), Precision("fp32")):
        assert (x @ x).dtype == torch.float32
    assert not make_scaler(torch.device("cpu"), "bf16").is_enabled()


@pytest.mark.cuda
def test_on_a_real_cuda_gpu_the_chosen_precision_trains():
    from d2lhelpers.training import TrainSettings, train
    from synthetic import corner_squares as tiny_data

    net = alexnet(num_classes=2, image_size=65)
    history = train(net, tiny_data(), TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-4),
                    CUDA)
    capability = torch.cuda.get_device_capability()
    assert history.precision == decide_precision("cuda", capability).name
    assert history.last("test_acc") > 0.9


@pytest.mark.cuda
def test_fp16_with_loss_scaling_trains_on_a_real_cuda_gpu():
    from d2lhelpers.training import TrainSettings, train
    from synthetic import corner_squares as tiny_data

    net = alexnet(num_classes=2, image_size=65)
    settings = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-4)
    history = train(net, tiny_data(), settings, CUDA, precision="fp16")
    assert history.precision == "fp16" and history.last("test_acc") > 0.9
