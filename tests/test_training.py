"""The training loop on tiny synthetic data: it learns, resumes exactly, and fails clearly."""

from dataclasses import replace

import pytest
import torch
from torch import nn

from d2lhelpers.batches import FASHION_MNIST_MEAN, FASHION_MNIST_STD, augment_batch, batches, model_ready, to_model_input
from d2lhelpers.checkpoints import TrainingError
from d2lhelpers.data import FashionMNIST
from d2lhelpers.plots import confusion_matrix, most_confused
from d2lhelpers.models import alexnet
from d2lhelpers.training import TrainSettings, learning_rate, train
from synthetic import corner_squares, small_net

CPU = torch.device("cpu")


def tiny_data(n_train=192, n_test=64, seed=0) -> FashionMNIST:
    """Two easy classes (tests/synthetic.py)."""
    return corner_squares(n_train, n_test, seed)


SMALL = TrainSettings(image_size=65, epochs=3, batch_size=32, optimizer="adam", lr=1e-4, seed=1)


def test_the_loop_lowers_the_loss_and_learns():
    history = train(small_net(), tiny_data(), SMALL, CPU, precision="fp32")
    losses = [e["train_loss"] for e in history.epochs]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert history.last("test_acc") > 0.9
    assert all(e["examples_per_s"] > 0 and e["elapsed_s"] >= e["seconds"] for e in history.epochs)


def test_the_test_loss_is_the_cross_entropy_on_the_test_images():
    data, net = tiny_data(), small_net()
    history = train(net, data, TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-4), CPU,
                    precision="fp32")
    net.eval()
    with torch.no_grad():
        expected = nn.functional.cross_entropy(net(to_model_input(data.test_images, 65)), data.test_labels).item()
    assert history.last("test_loss") == pytest.approx(expected, rel=1e-4)


def test_label_smoothing_reaches_the_training_loss():
    # the full width: in three epochs it grows confident enough for the smoothed loss to stay visibly higher
    plain = train(small_net(width=1.0), tiny_data(), SMALL, CPU, precision="fp32")
    smoothed = train(small_net(width=1.0), tiny_data(), replace(SMALL, label_smoothing=0.2), CPU, precision="fp32")
    # both learn the two classes; smoothed targets (0.9, 0.1) keep the training loss of a confident network higher
    assert plain.last("test_acc") > 0.9 and smoothed.last("test_acc") > 0.9
    assert smoothed.last("train_loss") > plain.last("train_loss") + 0.05


def test_resuming_gives_the_same_run_as_no_interruption(tmp_path):
    settings = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-4, seed=3)
    data = tiny_data()
    straight = small_net()
    full = train(straight, data, settings, CPU, checkpoint=tmp_path / "a.pt", precision="fp32")

    def stop_after_first_epoch(history):
        if len(history.epochs) == 1:
            raise KeyboardInterrupt

    interrupted = train(small_net(), data, settings, CPU, checkpoint=tmp_path / "b.pt", precision="fp32",
                        on_epoch_end=stop_after_first_epoch)
    assert interrupted.interrupted and len(interrupted.epochs) == 1  # the history is kept
    assert torch.load(tmp_path / "b.pt", weights_only=False)["history"]["epochs"][0]["epoch"] == 1

    resumed_net = small_net()
    resumed = train(resumed_net, data, settings, CPU, checkpoint=tmp_path / "b.pt", precision="fp32")
    assert not resumed.interrupted and len(resumed.epochs) == 2
    for key in ("train_loss", "train_acc", "test_acc"):
        assert resumed.last(key) == pytest.approx(full.last(key), rel=1e-5)
    for a, b in zip(straight.state_dict().values(), resumed_net.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_bf16_mixed_precision_trains_on_cpu_and_differs_from_fp32():
    settings = TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="sgd", lr=0.01)
    nets = {name: small_net() for name in ("bf16", "fp32")}
    histories = {name: train(net, tiny_data(64, 32), settings, CPU, precision=name) for name, net in nets.items()}
    assert histories["bf16"].precision == "bf16" and histories["bf16"].precision_reason == "chosen by the caller"
    assert torch.isfinite(torch.tensor(histories["bf16"].last("train_loss")))
    # bf16 rounds: the same seeded run ends with close but not identical weights
    a, b = nets["bf16"][0].weight, nets["fp32"][0].weight
    assert not torch.equal(a, b) and torch.allclose(a, b, atol=1e-2)


class RunsOutOfMemory(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_suggests_a_smaller_batch():
    settings = TrainSettings(image_size=65, epochs=1, batch_size=256)
    with pytest.raises(TrainingError, match=r"Out of memory .* batch_size=256 .* Try batch_size=128.*image_size"):
        train(RunsOutOfMemory(), tiny_data(64, 32), settings, CPU, precision="fp32")


def test_resuming_with_other_settings_is_refused(tmp_path):
    data = tiny_data(64, 32)
    first = TrainSettings(image_size=65, epochs=1, batch_size=32, lr=0.01)
    train(small_net(), data, first, CPU, checkpoint=tmp_path / "c.pt", precision="fp32")
    with pytest.raises(TrainingError, match=r"other settings.*'lr': \(0.01, 0.001\)"):
        train(small_net(), data, TrainSettings(image_size=65, epochs=1, batch_size=32, lr=0.001), CPU,
              checkpoint=tmp_path / "c.pt", precision="fp32")


@pytest.mark.parametrize("bad, message", [({"optimizer": "rmsprop"}, "choose 'sgd' or 'adam'"),
                                          ({"schedule": "step"}, "choose 'constant' or 'cosine'"),
                                          ({"batch_size": 0}, "batch_size must be positive"),
                                          ({"lr": 0.0}, "lr must be positive"),
                                          ({"label_smoothing": 1.0}, r"label_smoothing .* in \[0, 1\)")])
def test_settings_refuse_nonsense(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**bad)


def test_a_model_built_for_another_size_is_refused_before_training():
    with pytest.raises(ValueError, match=r"built for 224x224 images but the settings train at 65x65.*alexnet\(image_size=65\)"):
        train(alexnet(image_size=224), tiny_data(32, 32), TrainSettings(image_size=65, epochs=1), CPU, precision="fp32")


def test_out_of_memory_keeps_the_history_and_checkpoint(tmp_path):
    class FailsInSecondEpoch(nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.calls = small_net(), 0

        def forward(self, x):
            self.calls += self.training
            if self.calls > 7:  # 6 training batches in the first epoch
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return self.net(x)

    settings = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-4)
    with pytest.raises(TrainingError, match=r"batch_size=32.*The 1 finished epoch\(s\) are kept in .*c.pt") as caught:
        train(FailsInSecondEpoch(), tiny_data(), settings, CPU, checkpoint=tmp_path / "c.pt", precision="fp32")
    assert len(caught.value.history.epochs) == 1
    assert torch.load(tmp_path / "c.pt", weights_only=True)["history"]["epochs"][0]["epoch"] == 1


def test_other_errors_are_not_disguised_as_out_of_memory():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        train(Broken(), tiny_data(32, 32), TrainSettings(image_size=65, epochs=1), CPU, precision="fp32")


def test_model_input_is_resized_and_standardised():
    images = torch.full((3, 28, 28), 255, dtype=torch.uint8)
    x = to_model_input(images, 65)
    assert x.shape == (3, 1, 65, 65) and x.dtype == torch.float32
    torch.testing.assert_close(x, torch.full_like(x, (1 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD))


def test_shuffled_batches_cover_every_example_once():
    data = tiny_data(100, 10)
    seen = torch.cat([y for _, y in batches(torch.arange(100)[:, None, None].expand(100, 28, 28).to(torch.uint8),
                                            torch.arange(100), 32, 28, torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(100)) and seen.tolist() != list(range(100))
    assert sum(len(y) for _, y in batches(data.train_images, data.train_labels, 32, 65)) == 100


@pytest.mark.parametrize("augment", [False, True])
def test_batches_from_a_set_resized_once_equal_those_resized_batch_by_batch(augment):
    data = tiny_data(50, 10)
    ready = model_ready(data.train_images, 65)
    assert ready.dtype == torch.float32 and ready.shape == (50, 1, 65, 65)
    once, each = (list(batches(images, data.train_labels, 16, 65, torch.Generator().manual_seed(3), augment))
                  for images in (ready, data.train_images))
    assert len(once) == len(each) == 4
    for (x1, y1), (x2, y2) in zip(once, each):
        torch.testing.assert_close(x1, x2)
        assert torch.equal(y1, y2)
    assert model_ready(data.train_images, 65, max_bytes=1000) is data.train_images  # too large: stays uint8


def test_augmentation_keeps_shape_and_is_reproducible():
    x = to_model_input(tiny_data(8, 8).train_images, 65)
    a = augment_batch(x, torch.Generator().manual_seed(5))
    b = augment_batch(x, torch.Generator().manual_seed(5))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)


def test_augmentation_flips_and_shifts():
    x = torch.zeros(1, 1, 20, 20)
    x[0, 0, 10, 2] = 1.0  # one bright pixel near the left edge
    found_mirrored = False
    for seed in range(20):
        out = augment_batch(x, torch.Generator().manual_seed(seed), max_shift=0.1)
        col = (out[0, 0] == out[0, 0].max()).nonzero()[0, 1].item()
        assert abs(col - 2) <= 2 or abs(col - 17) <= 2  # shifted by at most 2 pixels, maybe mirrored
        found_mirrored |= abs(col - 17) <= 2
    assert found_mirrored


def test_confusion_matrix_and_most_confused():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    predicted = torch.tensor([0, 1, 1, 2, 2, 2])
    matrix = confusion_matrix(labels, predicted, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 2], [0, 0, 1]]
    assert most_confused(matrix, ["a", "b", "c"], k=2) == [("b", "c", 2), ("a", "b", 1)]
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(labels, predicted[:3], 3)


def test_learning_rate_schedules():
    constant = TrainSettings(lr=0.1)
    cosine = TrainSettings(lr=0.1, schedule="cosine")
    assert learning_rate(constant, 7, 10) == 0.1
    assert learning_rate(cosine, 0, 10) == pytest.approx(0.1)
    assert learning_rate(cosine, 5, 10) == pytest.approx(0.05)
    assert learning_rate(cosine, 10, 10) == pytest.approx(0.0, abs=1e-12)


def test_the_loop_written_out_in_notebook_05_is_the_helpers_loop():
    """Notebook 05 shows the epoch loop by hand; on a seeded run it must end with the same weights as `train`."""
    import ast
    import json
    from pathlib import Path

    notebook = json.loads((Path(__file__).parent.parent / "notebooks" / "05_training_alexnet.ipynb").read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    [loop] = [c for c in notebook["cells"] if "epoch-loop" in c["metadata"].get("tags", [])]
    imports = [n for n in ast.parse(next(s for s in code if "from d2lhelpers" in s)).body
               if isinstance(n, (ast.Import, ast.ImportFrom))]  # the notebook's own imports, nothing else it runs
    namespace = {}
    exec(compile(ast.Module(imports, type_ignores=[]), "imports", "exec"), namespace)
    exec("".join(loop["source"]), namespace)

    settings = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="sgd", lr=0.01, momentum=0.9,
                             schedule="cosine", augment=True, seed=4)
    data = tiny_data(96, 32)
    by_hand, helper = small_net(), small_net()
    accuracy = namespace["train_by_hand"](by_hand, data, settings, CPU, "fp32")
    history = train(helper, data, settings, CPU, precision="fp32")
    assert accuracy == pytest.approx(history.last("test_acc"))
    for (name, a), b in zip(by_hand.named_parameters(), helper.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"{name} differs")
    assert not torch.equal(by_hand[0].weight, small_net()[0].weight), "training changed the weights"


def test_a_finished_run_reloaded_keeps_the_precision_it_trained_in(tmp_path):
    settings = TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-4)
    trained = train(small_net(), tiny_data(64, 32), settings, CPU, checkpoint=tmp_path / "p.pt", precision="fp32")
    reloaded = train(small_net(), tiny_data(64, 32), settings, CPU, checkpoint=tmp_path / "p.pt", precision="bf16")
    assert trained.precision == reloaded.precision == "fp32" and reloaded.epochs == trained.epochs
