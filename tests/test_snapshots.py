"""conv1's filters kept during a run (snapshots.py): which steps, what is kept, and that a resumed run keeps them."""

import pytest
import torch

from d2lhelpers import runs
from d2lhelpers.data import FashionMNIST
from d2lhelpers.inspection import layer_names
from d2lhelpers.snapshots import FilterSnapshots, load_snapshots, snapshot_steps
from d2lhelpers.training import TrainSettings, train

SETTINGS = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-3)  # 2 steps an epoch


@pytest.fixture
def tiny_data():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    return FashionMNIST(images, labels, images[:32], labels[:32])


def tiny_alexnet():
    torch.manual_seed(0)
    return runs.alexnet(num_classes=10, in_channels=1, image_size=65)


def test_steps_are_early_ones_epoch_ends_and_the_last():
    assert snapshot_steps(469, 571) == (5, 20, 60, 150, 469, 571)
    assert snapshot_steps(100, 300, early=(10, 200)) == (10, 100, 200, 300)  # 200 is past the first epoch
    assert snapshot_steps(4, 3) == (3,)  # a run shorter than an epoch: its last step only
    with pytest.raises(ValueError, match="positive"):
        snapshot_steps(0, 10)


def test_a_snapshot_is_a_copy_taken_at_its_step():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    snapshots = FilterSnapshots(net, "conv1", steps=(2,))
    snapshots(1)
    assert snapshots.frames == {}
    snapshots(2)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert torch.equal(snapshots.frames[2] + 1.0, net[0].weight.detach())
    with pytest.raises(ValueError, match="conv1"):
        FilterSnapshots(net, "conv1", ()).load_state_dict({"layer": "conv2", "frames": {}})


def test_train_keeps_the_filters_at_the_steps_and_in_the_checkpoint(tmp_path, tiny_data):
    settings = SETTINGS
    net = tiny_alexnet()
    snapshots = FilterSnapshots(net, "conv1", steps=(1, 3))
    conv1 = layer_names(net)["conv1"].weight
    start = conv1.detach().clone()
    train(net, tiny_data, settings, torch.device("cpu"), checkpoint=tmp_path / "c.pt", snapshots=snapshots)
    assert sorted(snapshots.frames) == [1, 3]
    assert not torch.equal(snapshots.frames[1], start) and not torch.equal(snapshots.frames[1], snapshots.frames[3])
    saved = load_snapshots(tmp_path / "c.pt")
    assert sorted(saved) == [1, 3] and torch.equal(saved[3], snapshots.frames[3])
    resumed = FilterSnapshots(net, "conv1", steps=(1, 3))
    train(net, tiny_data, settings, torch.device("cpu"), checkpoint=tmp_path / "c.pt", snapshots=resumed)
    assert sorted(resumed.frames) == [1, 3], "a resumed run keeps the snapshots it had"


def test_train_and_save_stores_conv1_in_model_pt(tmp_path, monkeypatch, tiny_data):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    net = tiny_alexnet()
    runs.train_and_save(net, SETTINGS, torch.device("cpu"), "snap", tiny_data, precision="fp32")
    frames = load_snapshots(tmp_path / "snap" / "model.pt")
    assert sorted(frames) == [2, 4], "model.pt holds conv1 at the end of each epoch (2 steps each)"
    last = max(frames)
    assert torch.equal(frames[last], layer_names(net)["conv1"].weight.detach()), "the last one is the trained layer"


def test_an_older_model_file_has_no_snapshots(tmp_path):
    torch.save({"model": {}, "settings": {}}, tmp_path / "model.pt")
    assert load_snapshots(tmp_path / "model.pt") == {}
