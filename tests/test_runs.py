"""The trained AlexNet of a profile: loaded when saved, trained (and saved) otherwise; results read back."""

import dataclasses

import pytest
import torch

from d2lhelpers import runs
from d2lhelpers.checkpoints import TrainingError, load_results
from d2lhelpers.data import FashionMNIST
from d2lhelpers.profiles import PROFILES
from d2lhelpers.training import TrainSettings

TINY = dataclasses.replace(PROFILES["ci"], name="tiny",
                           training=TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-3))


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    monkeypatch.setattr(runs, "load_fashion_mnist", lambda: FashionMNIST(images, labels, images[:32], labels[:32]))
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
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


def test_the_seeded_alexnet_is_reproducible_with_a_small_first_layer():
    a, b, other = runs.initial_alexnet(TINY), runs.initial_alexnet(TINY), runs.initial_alexnet(TINY, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[3].weight, other[3].weight)
    assert a.image_size == TINY.training.image_size
    assert a[0].weight.std().item() == pytest.approx(runs.FIRST_LAYER_INIT_STD, rel=0.1)
    assert a[3].weight.std().item() > 10 * runs.FIRST_LAYER_INIT_STD  # the other layers keep PyTorch's default
    assert torch.count_nonzero(a[0].bias) == 0


def test_an_interrupted_train_and_save_saves_no_model(sandbox):
    def stop(history):
        raise KeyboardInterrupt

    history = runs.train_and_save(runs.initial_alexnet(TINY), TINY.training, torch.device("cpu"), "stopped",
                                  on_epoch_end=stop, precision="fp32")
    assert history.interrupted and not (sandbox / "stopped" / "model.pt").exists()
    assert (sandbox / "stopped" / "checkpoint.pt").is_file()


def test_a_model_saved_with_other_settings_is_refused(sandbox):
    runs.trained_alexnet(TINY, torch.device("cpu"))
    other = dataclasses.replace(TINY, training=TrainSettings(image_size=65, epochs=2))
    with pytest.raises(TrainingError, match="other settings"):
        runs.trained_alexnet(other, torch.device("cpu"))


def test_a_model_planned_to_a_budget_is_loaded_with_its_plan(sandbox):
    budgeted = dataclasses.replace(TINY, training=dataclasses.replace(TINY.training, epochs=3, time_budget_s=1e-3))
    _, source = runs.trained_alexnet(budgeted, torch.device("cpu"))  # the budget affords one step
    assert "trained here" in source
    assert torch.load(sandbox / "alexnet-tiny" / "model.pt", weights_only=True)["settings"]["max_steps"] == 1
    _, source = runs.trained_alexnet(budgeted, torch.device("cpu"))
    assert source.startswith("loaded")


def test_load_results_is_none_when_nothing_ran(sandbox):
    assert load_results("alexnet-nothing") is None


def test_imagenet_weights_are_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert runs.imagenet_alexnet() is None
    assert runs.imagenet_alexnet_path().parent == tmp_path / "checkpoints"


def test_the_first_layer_start_is_the_profiles():
    assert PROFILES["gpu"].first_layer_std is None  # the book's plain SGD keeps PyTorch's default
    assert PROFILES["ci"].first_layer_std == PROFILES["cpu"].first_layer_std == runs.FIRST_LAYER_INIT_STD
    gpu_like = dataclasses.replace(TINY, first_layer_std=None)
    assert runs.initial_alexnet(gpu_like)[0].weight.std().item() > 10 * runs.FIRST_LAYER_INIT_STD
    wide = dataclasses.replace(TINY, first_layer_std=0.02)
    assert abs(runs.initial_alexnet(wide)[0].weight.std().item() - 0.02) < 0.004


def test_the_first_layer_start_can_be_chosen():
    default = runs.initial_alexnet(TINY, first_layer_std="default")[0].weight
    small = runs.initial_alexnet(TINY, first_layer_std=0.01)[0].weight
    assert default.std().item() > 10 * 0.001 and abs(small.std().item() - 0.01) < 0.002
    assert torch.equal(runs.initial_alexnet(TINY)[0].weight, runs.initial_alexnet(TINY, first_layer_std=runs.FIRST_LAYER_INIT_STD)[0].weight)
    with pytest.raises(ValueError, match="positive number"):
        runs.initial_alexnet(TINY, first_layer_std=-1.0)
