"""What this machine offers: the set-up report, the record's machine line, the FLOP arithmetic, the chapter's power
argument, durations."""

import os

import pytest
import torch
import torchvision
from torch import nn

from d2lhelpers import data, hardware
from d2lhelpers.hardware import (
    environment_report,
    format_duration,
    matmul_tflops,
    parallel_throughput,
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


def test_matmul_tflops_is_positive_and_refuses_nonsense():
    assert 0 < matmul_tflops(torch.device("cpu"), n=64, repeats=2) < 100
    with pytest.raises(ValueError, match="positive"):
        matmul_tflops(torch.device("cpu"), n=0)


def test_training_step_speed_on_a_tiny_network():
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
    before = net[1].weight.detach().clone()
    assert training_images_per_second(net, (1, 4, 4), torch.device("cpu"), batch_size=8, repeats=2) > 0
    assert not torch.equal(before, net[1].weight), "the steps update the weights"


@pytest.mark.parametrize("seconds, text", [(42, "42 s"), (210, "3.5 min"), (7.2 * 3600, "7.2 h"),
                                           (5.5 * 86400, "5.5 days"), (3 * 365.25 * 86400, "3.0 years")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_a_record_names_the_cpu_model_its_cores_and_kind(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "cpu_kind", lambda: "AVX2, no native bf16")
    assert hardware.machine_description().endswith(f", {os.cpu_count()} cores, AVX2, no native bf16")


def test_describing_the_environment_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "candidate_sources", lambda data_dir=None: [tmp_path / "nothing"])
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", lambda *a, **k: pytest.fail("environment_report downloaded"))
    report = environment_report()
    assert report["Fashion-MNIST"].startswith("NOT AVAILABLE")
