"""What a run saves (checkpoints.py): checkpoints, the one record format, and conv1's filters kept during a run."""

import pytest
import torch
from torch import nn

from d2lhelpers import checkpoints, runs
from d2lhelpers.checkpoints import (FilterSnapshots, TrainingError, changed_settings, load_checkpoint, load_record,
                                    load_snapshots, save_checkpoint, save_record, save_results, snapshot_steps)
from d2lhelpers.data import FashionMNIST
from d2lhelpers.inspection import layer_names
from d2lhelpers.models import alexnet
from d2lhelpers.training import History, TrainSettings, train

SETTINGS = TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=1e-3)  # 2 steps an epoch


@pytest.fixture
def tiny_data():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    return FashionMNIST(images, labels, images[:32], labels[:32])


def tiny_alexnet():
    torch.manual_seed(0)
    return alexnet(num_classes=10, in_channels=1, image_size=65)


def test_a_record_is_read_back_only_with_the_settings_it_was_made_with(tmp_path):
    history = History(epochs=[{"epoch": 1, "test_acc": 0.5}])
    save_record(tmp_path / "runs" / "r.json", SETTINGS, history, train_acc=0.75)
    record = load_record(tmp_path / "runs" / "r.json", SETTINGS)
    assert record["train_acc"] == 0.75 and History(**record["history"]) == history
    assert record["settings"] == load_record(tmp_path / "runs" / "r.json")["settings"]
    longer = TrainSettings(**{**record["settings"], "epochs": 3})
    assert load_record(tmp_path / "runs" / "r.json", longer) is None, "another run's record is not reused"
    assert changed_settings(record["settings"], longer) == {"epochs": (2, 3)}
    assert load_record(tmp_path / "missing.json") is None


def test_checkpoint_from_another_architecture_names_the_mismatch(tmp_path):
    path = tmp_path / "small.pt"
    net = alexnet(image_size=65)
    save_checkpoint(path, net, torch.optim.SGD(net.parameters(), lr=0.1), TrainSettings(image_size=65), History())
    with pytest.raises(TrainingError, match=r"14.weight has shape \(4096, 256\) in the file and \(4096, 6400\) here"):
        load_checkpoint(path, alexnet(image_size=224))
    with pytest.raises(TrainingError, match=r"another architecture.*: 10.bias only in the file; 10.weight only in"):
        load_checkpoint(path, nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TrainingError, match=r"other settings \(saved, now\): \{'image_size': \(65, 224\)\}"):
        load_checkpoint(path, alexnet(image_size=65), TrainSettings(image_size=224))


def test_checkpoints_store_and_restore_the_cuda_generators_too(tmp_path, monkeypatch):
    cuda_state = [torch.arange(8, dtype=torch.uint8)]
    restored = []
    net = tiny_alexnet()  # seeded before the fakes: on a real GPU, manual_seed would reach the faked CUDA state
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: cuda_state)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    save_checkpoint(tmp_path / "g.pt", net, torch.optim.SGD(net.parameters(), lr=0.1), SETTINGS, History())
    saved = torch.load(tmp_path / "g.pt", weights_only=True)
    assert torch.equal(saved["rng"]["cuda"][0], cuda_state[0])
    checkpoints.restore_rng_states(saved["rng"])
    assert torch.equal(restored[0][0], cuda_state[0])


def test_steps_are_early_ones_epoch_ends_and_the_last():
    assert snapshot_steps(469, 571) == (5, 20, 60, 150, 469, 571)
    assert snapshot_steps(100, 300) == (5, 20, 60, 100, 200, 300)  # 150 is past the first epoch
    assert snapshot_steps(4, 3) == (3,)  # a run shorter than an epoch: its last step only


def test_a_snapshot_is_a_copy_taken_at_its_step():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    snapshots = FilterSnapshots(net, "conv1", steps=(2,))
    snapshots(1)
    assert snapshots.frames == {}
    snapshots(2)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert torch.equal(snapshots.frames[2] + 1.0, net[0].weight.detach())


def test_train_keeps_the_filters_at_the_steps_and_in_the_checkpoint(tmp_path, tiny_data):
    net = tiny_alexnet()
    snapshots = FilterSnapshots(net, "conv1", steps=(1, 3))
    start = layer_names(net)["conv1"].weight.detach().clone()
    train(net, tiny_data, SETTINGS, torch.device("cpu"), checkpoint=tmp_path / "c.pt", snapshots=snapshots)
    assert sorted(snapshots.frames) == [1, 3]
    assert not torch.equal(snapshots.frames[1], start) and not torch.equal(snapshots.frames[1], snapshots.frames[3])
    saved = load_snapshots(tmp_path / "c.pt")
    assert sorted(saved) == [1, 3] and torch.equal(saved[3], snapshots.frames[3])
    resumed = FilterSnapshots(net, "conv1", steps=(1, 3))
    train(net, tiny_data, SETTINGS, torch.device("cpu"), checkpoint=tmp_path / "c.pt", snapshots=resumed)
    assert sorted(resumed.frames) == [1, 3], "a resumed run keeps the snapshots it had"


def test_train_and_save_stores_conv1_in_model_pt(tmp_path, monkeypatch, tiny_data):
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    net = tiny_alexnet()
    runs.train_and_save(net, SETTINGS, torch.device("cpu"), "snap", tiny_data, precision="fp32")
    frames = load_snapshots(tmp_path / "snap" / "model.pt")
    assert sorted(frames) == [2, 4], "model.pt holds conv1 at the end of each epoch (2 steps each)"
    assert torch.equal(frames[max(frames)], layer_names(net)["conv1"].weight.detach()), "the last is the trained layer"
    assert load_record(tmp_path / "snap" / "results.json", SETTINGS)["test_acc"] is not None


def test_a_run_saved_without_snapshots_has_none(tmp_path):
    save_results(tmp_path, tiny_alexnet(), History(), SETTINGS, {"test_acc": 0.1})
    assert load_snapshots(tmp_path / "model.pt") == {}
    assert load_record(tmp_path / "results.json", SETTINGS)["test_acc"] == 0.1
