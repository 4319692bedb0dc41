"""Hardware measurements: the FLOP arithmetic, the chapter's power argument, known peaks, durations."""

import pytest
import torch
from torch import nn

from d2lhelpers import environment
from d2lhelpers.hardware import (
    format_duration,
    matmul_tflops,
    parallel_throughput,
    published_peak,
    training_flops_per_image,
    training_images_per_second,
)
from d2lhelpers.models import alexnet


def test_the_chapters_arithmetic():
    assert parallel_throughput(16, 0.25) == (4.0, 1.0)  # 4x the work for the same power
    assert parallel_throughput(1, 1.0) == (1.0, 1.0)
    with pytest.raises(ValueError, match="at least one core"):
        parallel_throughput(0, 1.0)


def test_training_flops_count_three_passes_of_two_flop_per_multiply_add():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    assert training_flops_per_image(net, (1, 2, 2)) == 3 * 2 * 4 * 3
    # the book's AlexNet: 0.938 G multiply-adds per 224x224 image (notebook 03)
    assert training_flops_per_image(alexnet(), (1, 224, 224)) / 6 == pytest.approx(0.938e9, rel=1e-3)


def test_published_peaks_by_device_name():
    assert published_peak("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert published_peak("NVIDIA H100 PCIe", "fp32") == 51.0
    assert published_peak("Tesla V100-SXM2-16GB", "fp32") == 15.7
    assert published_peak("Tesla V100-SXM2-16GB", "bf16") is None  # no bf16 on a V100
    assert published_peak("Some Future GPU", "fp32") is None


def test_matmul_tflops_is_positive_and_refuses_nonsense():
    assert 0 < matmul_tflops(torch.device("cpu"), n=64, repeats=2) < 100
    with pytest.raises(ValueError, match="positive"):
        matmul_tflops(torch.device("cpu"), n=0)


def test_median_seconds_takes_the_median_after_the_warm_up(monkeypatch):
    from d2lhelpers import timing

    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # calls lasting 1, 3 and 2 s
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    calls = []
    assert timing.median_seconds(lambda: calls.append(1), torch.device("cpu"), repeats=3, warmup=2) == 2.0
    assert len(calls) == 5
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        timing.median_seconds(lambda: None, torch.device("cpu"), repeats=0)


def test_training_step_speed_on_a_tiny_network():
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
    before = net[1].weight.detach().clone()
    assert training_images_per_second(net, (1, 4, 4), torch.device("cpu"), batch_size=8, repeats=2) > 0
    assert not torch.equal(before, net[1].weight), "the steps update the weights"


@pytest.mark.parametrize("seconds, text", [(42, "42 s"), (210, "3.5 min"), (7.2 * 3600, "7.2 h"),
                                           (5.5 * 86400, "5.5 days"), (3 * 365.25 * 86400, "3.0 years")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text




@pytest.mark.parametrize("level, bf16, cap, kind", [
    ("AVX512", True, None, "AVX512, native bf16"),
    ("AVX2", False, None, "AVX2, no native bf16"),
    ("AVX2", False, ("ATEN_CPU_CAPABILITY", "avx2"), "AVX2, no native bf16 (limited by ATEN_CPU_CAPABILITY=avx2)"),
    ("DEFAULT", None, None, "DEFAULT, bf16 unknown"),
])
def test_a_record_names_the_cpu_kind_that_sets_its_speed(monkeypatch, level, bf16, cap, kind):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: level)
    monkeypatch.setattr(environment, "cpu_has_native_bf16", lambda: bf16)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    if cap:
        monkeypatch.setenv(*cap)
    assert environment.cpu_kind() == kind
    assert environment.machine_description().endswith(f" cores, {kind}")
