"""The trained AlexNet of a profile: loaded when saved, trained (and saved) otherwise; results read back."""

import pytest
import torch

from d2lhelpers import runs, training
from d2lhelpers.data import FashionMNIST
from d2lhelpers.profiles import BaselineSettings, Profile
from d2lhelpers.training import TrainingError, TrainSettings, load_results

TINY = Profile("tiny", "a test", TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-3),
               BaselineSettings(None, 10, 1), TrainSettings(image_size=65, epochs=1))


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    monkeypatch.setattr(runs, "load_fashion_mnist", lambda: FashionMNIST(images, labels, images[:32], labels[:32]))
    monkeypatch.setattr(training, "results_folder", lambda run: tmp_path / run)
    monkeypatch.setattr(runs, "results_folder", lambda run: tmp_path / run)
    return tmp_path


def test_trains_and_saves_when_nothing_is_saved_then_loads(sandbox):
    net, source = runs.trained_alexnet(TINY, torch.device("cpu"))
    assert "trained here" in source and (sandbox / "alexnet-tiny" / "model.pt").is_file()
    assert not net.training
    assert load_results("alexnet-tiny")["profile"] == "tiny"
    again, source = runs.trained_alexnet(TINY, torch.device("cpu"))
    assert source.startswith("loaded")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    initial = runs.initial_alexnet(TINY)
    assert not torch.equal(initial[0].weight, net[0].weight), "the loaded weights are the trained ones"


def test_a_model_saved_with_other_settings_is_refused(sandbox):
    runs.trained_alexnet(TINY, torch.device("cpu"))
    other = Profile("tiny", "a test", TrainSettings(image_size=65, epochs=2), TINY.baselines, TINY.ablation)
    with pytest.raises(TrainingError, match="other settings"):
        runs.trained_alexnet(other, torch.device("cpu"))


def test_load_results_is_none_when_nothing_ran(sandbox):
    assert load_results("alexnet-nothing") is None


def test_imagenet_weights_are_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert runs.imagenet_alexnet() is None
    assert runs.imagenet_alexnet_path().parent == tmp_path / "checkpoints"
