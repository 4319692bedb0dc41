"""Notebook 07's experiment helpers: initialisations, gradient norms, the model variants."""

import dataclasses
import statistics

import pytest
import torch
from torch import nn

from d2lhelpers import ablations
from d2lhelpers.ablations import (Experiment, initialise, layer_gradient_norms, steps_to_error, summarise, summary_table,
                                  train_seeds, train_variant)
from d2lhelpers.data import FashionMNIST
from d2lhelpers.models import alexnet, alexnet_2012, count_parameters
from d2lhelpers.training import History, TrainSettings
from d2lhelpers.verdicts import verdict, welch_interval
from synthetic import corner_squares


def test_xavier_initialisation_matches_its_formula_and_zeroes_biases():
    torch.manual_seed(0)
    net = initialise(nn.Sequential(nn.Linear(300, 200), nn.Conv2d(3, 8, 5)), "xavier")
    bound = (6 / (300 + 200)) ** 0.5
    assert net[0].weight.abs().max() <= bound and net[0].weight.abs().max() > 0.9 * bound
    assert net[0].bias.abs().max() == 0 and net[1].bias.abs().max() == 0
    with pytest.raises(ValueError, match="pytorch, xavier"):
        initialise(net, "he")


def test_pytorch_initialisation_redraws_the_weights():
    net = nn.Sequential(nn.Linear(10, 10))
    nn.init.zeros_(net[0].weight)
    initialise(net, "pytorch")
    assert net[0].weight.abs().max() > 0


def test_sigmoid_gradients_vanish_towards_the_input():
    torch.manual_seed(0)
    x, y = torch.randn(16, 1, 65, 65), torch.randint(0, 10, (16,))
    relu = layer_gradient_norms(alexnet(image_size=65), x, y)
    torch.manual_seed(0)
    sigmoid_net = alexnet(image_size=65, activation=nn.Sigmoid)
    sigmoid = layer_gradient_norms(sigmoid_net, x, y)
    assert list(relu.index) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2", "fc3"]
    assert relu["conv1"] > 100 * sigmoid["conv1"]
    assert sigmoid["conv1"] < sigmoid["fc3"] / 1000
    assert all(p.grad is None for p in sigmoid_net.parameters()), "gradients are cleared afterwards"


def test_variants_change_only_what_they_say():
    base, lrn, avg = alexnet(image_size=65), alexnet(image_size=65, lrn=True), alexnet(image_size=65, pooling="avg")
    assert count_parameters(base) == count_parameters(lrn) == count_parameters(avg)
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in lrn) == 2
    assert sum(isinstance(m, nn.AvgPool2d) for m in avg) == 3 and not any(isinstance(m, nn.MaxPool2d) for m in avg)
    assert all(m.p == 0 for m in alexnet(dropout=0.0) if isinstance(m, nn.Dropout))
    with pytest.raises(ValueError, match="pooling must be one of max, avg"):
        alexnet(pooling="median")


def test_the_2012_network():
    net = alexnet_2012()
    assert count_parameters(net) == 60_965_224
    assert [m.groups for m in net if isinstance(m, nn.Conv2d)] == [1, 2, 1, 2, 2]
    with torch.no_grad():
        assert net.eval()(torch.zeros(1, 3, 227, 227)).shape == (1, 1000)


def test_train_variant_measures_both_accuracies_in_eval_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    data = FashionMNIST(images, labels, images[:32], labels[:32])
    settings = TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-3)
    torch.manual_seed(0)
    result = train_variant("tiny", alexnet(image_size=65), data, settings, torch.device("cpu"), "runs")
    assert not (tmp_path / "runs" / "tiny.pt").exists(), "a finished run keeps a small record, not its checkpoint"
    again = train_variant("tiny", alexnet(image_size=65), data, settings, torch.device("cpu"), "runs")
    assert (again["train_acc"], again["test_acc"]) == (result["train_acc"], result["test_acc"])
    assert again["history"].epochs == result["history"].epochs, "the finished run is reused, not trained again"
    assert result["gap"] == pytest.approx(result["train_acc"] - result["test_acc"])


def corner_data(n_train=96, n_test=64, seed=0) -> FashionMNIST:
    """Two easy classes (tests/synthetic.py)."""
    return corner_squares(n_train, n_test, seed)


def test_train_seeds_averages_over_seeds_that_change_the_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    settings = TrainSettings(image_size=28, epochs=1, batch_size=32, optimizer="sgd", lr=0.05, momentum=0.9)
    initial = []

    def make_net():
        net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))
        initial.append(net[1].weight.detach().clone())
        return net

    result = train_seeds("linear", make_net, corner_data(), settings, torch.device("cpu"), "seeds", seeds=(0, 1, 2),
                         precision="fp32", label="a linear model")
    assert [p.name for p in sorted((tmp_path / "seeds").glob("*.json"))] == [f"linear-seed{s}.json" for s in range(3)]
    assert not torch.equal(initial[0], initial[1]), "each seed draws other initial weights"
    torch.manual_seed(1)
    assert torch.equal(initial[1], nn.Linear(28 * 28, 2).weight), "seed s is torch.manual_seed(s)"
    for key in ("train_acc", "test_acc", "test_loss", "gap"):
        values = [r[key] for r in result["runs"]]
        assert result[key] == pytest.approx(statistics.mean(values))
        assert result[f"{key}_std"] == pytest.approx(torch.tensor(values).std().item(), abs=1e-6)  # n - 1, like torch
    assert result["test_acc"] > 0.9, "the easy task is learned"
    assert result["parameters"] == 28 * 28 * 2 + 2 and result["seeds"] == [0, 1, 2]
    table = summary_table([result])
    assert table.loc["a linear model", "test_acc"] == f"{result['test_acc']:.3f} ± {result['test_acc_std']:.3f}"
    assert list(table.columns) == ["seeds", "train_acc", "test_acc", "test_loss", "gap", "parameters", "minutes, all seeds"]
    with pytest.raises(ValueError, match="at least two different seeds"):
        train_seeds("linear", make_net, corner_data(), settings, torch.device("cpu"), "seeds", seeds=(0, 0))


def test_a_close_call_is_judged_on_the_seeds_fixed_before_looking(tmp_path, monkeypatch):
    """Adding seeds once a verdict looks close is optional stopping: every variant trains the design's seeds, once."""
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    accuracy = {"a": [0.82, 0.84, 0.86, 0.95, 0.95], "b": [0.78, 0.80, 0.82, 0.70, 0.70]}  # by seed
    trained = []

    def fake_train_variant(name, net, data, settings, device, run, precision=None):
        variant, seed = name.removesuffix(f"-seed{settings.seed}"), settings.seed
        trained.append((variant, seed))
        history = History(epochs=[{"train_loss": 0.5, "test_acc": accuracy[variant][seed], "elapsed_s": 60.0}])
        return {"variant": name, "seed": seed, "history": history, "train_acc": 1.0, "test_acc": accuracy[variant][seed],
                "test_loss": 0.5, "top_class_share": 0.2, "gap": 1.0 - accuracy[variant][seed], "minutes": 1.0,
                "interrupted": False}

    monkeypatch.setattr(ablations, "train_variant", fake_train_variant)
    lab = Experiment(None, torch.device("cpu"), "lab", "fp32", seeds=(0, 1, 2))
    for label in ("a", "b"):
        lab.train(label, label, lambda: nn.Linear(2, 2), TrainSettings(image_size=28, epochs=1))
    close = lab.compare("a", "b")
    assert trained == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2)], "no seed trained after the verdict"
    assert close.low < 0 < close.high and -close.low < 0.2 * (close.high - close.low), "a null whose interval ends near 0"
    assert lab.results["a"]["seeds"] == lab.results["b"]["seeds"] == [0, 1, 2]
    assert close.seeds == 3 and (close.low, close.high) == welch_interval(accuracy["a"][:3], accuracy["b"][:3])


def test_saved_loads_another_notebooks_runs_and_never_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    settings = TrainSettings(image_size=28, epochs=1, batch_size=32, optimizer="sgd", lr=0.05)
    linear = lambda: nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))  # noqa: E731
    reader = Experiment(corner_data(), torch.device("cpu"), "lab", "fp32", seeds=(0, 1))
    assert reader.saved("a", "a", linear, settings) is None and not (tmp_path / "lab").exists(), "nothing trained"
    trainer = Experiment(corner_data(), torch.device("cpu"), "lab", "fp32", seeds=(0, 1))
    trainer.train("a", "a", linear, settings, seeds=range(5))
    (tmp_path / "lab" / "a-seed1.json").rename(tmp_path / "lab" / "moved.json")
    assert reader.saved("a", "a", linear, settings) is None, "a missing seed: not loaded"
    (tmp_path / "lab" / "moved.json").rename(tmp_path / "lab" / "a-seed1.json")
    loaded = reader.saved("a", "a", linear, settings)
    assert loaded["seeds"] == [0, 1], "the design's seeds only, not another seed recorded"
    assert loaded["runs"][0]["test_acc"] == trainer.results["a"]["runs"][0]["test_acc"]
    assert reader.saved("a", "a", linear, dataclasses.replace(settings, lr=0.01)) is None, "other settings: not loaded"


def test_a_record_made_with_other_settings_is_trained_again(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    settings = TrainSettings(image_size=28, epochs=1, batch_size=32, optimizer="sgd", lr=0.05)
    data = corner_data()
    first = train_variant("v", nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2)), data, settings, torch.device("cpu"), "r")
    longer = dataclasses.replace(settings, epochs=2)
    second = train_variant("v", nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2)), data, longer, torch.device("cpu"), "r")
    assert len(first["history"].epochs) == 1 and len(second["history"].epochs) == 2


def test_a_comparison_needs_the_same_seeds_on_both_sides():
    def run(seed: int, test_acc: float) -> dict[str, object]:
        return {"seed": seed, "train_acc": test_acc + 0.01, "test_acc": test_acc, "test_loss": 1 - test_acc, "gap": 0.01,
                "minutes": 1.0, "interrupted": False}

    lab = Experiment(None, torch.device("cpu"), "r", "fp32")
    lab.results["baseline"] = summarise("baseline", [run(s, a) for s, a in enumerate((0.80, 0.82, 0.84, 0.70, 0.72))], 10)
    lab.results["other"] = summarise("other", [run(s, a) for s, a in enumerate((0.81, 0.83, 0.85))], 10)
    with pytest.raises(ValueError, match=r"seeds \[0, 1, 2\].*\[0, 1, 2, 3, 4\].*same seeds"):
        lab.compare("other", "baseline")
    lab.results["baseline"] = summarise("baseline", lab.results["baseline"]["runs"][:3], 10)
    assert lab.compare("other", "baseline").difference == pytest.approx(0.01)


def test_steps_to_error_finds_the_first_block_at_or_below_the_target():
    history = History(epochs=[{"train_errors": [[20, 0.6], [40, 0.3]]}, {"train_errors": [[60, 0.25], [80, 0.1], [90, 0.3]]}])
    assert steps_to_error(history, 0.25) == 60
    assert steps_to_error(history, 0.1) == 80
    assert steps_to_error(history, 0.05) is None, "a target never reached is None, not the last step"


def test_the_training_error_is_recorded_per_block_of_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    settings = TrainSettings(image_size=28, epochs=2, batch_size=4, optimizer="sgd", lr=0.05, train_examples=96)
    torch.manual_seed(0)
    result = train_variant("blocks", nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2)), corner_data(), settings,
                           torch.device("cpu"), "r", "fp32")
    blocks = [block for epoch in result["history"].epochs for block in epoch["train_errors"]]
    assert [step for step, _ in blocks] == [20, 24, 44, 48], "blocks of 20 steps, and the rest of each 24-step epoch"
    assert all(0 <= error <= 1 for _, error in blocks) and blocks[-1][1] < blocks[0][1], "the error falls as it learns"
    steps = steps_to_error(result["history"], 0.25)
    assert steps is not None and steps in [step for step, error in blocks if error <= 0.25]
