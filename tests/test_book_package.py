"""What CONTRIBUTING.md says about the book's d2l package: §7.1's functions are in the installed 1.0.3 with the
zh-v2 book's signatures, the chapter 3/8 trainers of 0.17.6 are not, and the loader's workers can be set."""

import inspect
import re
import warnings
from pathlib import Path

import pytest
import torch
import torchvision
from d2l import torch as d2l

from repository import VERSIONS

ROOT = Path(__file__).resolve().parent.parent
D2L_VERSION = VERSIONS.D2L_VERSION
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()


def test_the_installed_package_is_the_declared_one():
    import d2l as package

    assert package.__version__ == D2L_VERSION


def test_the_functions_of_section_7_1_keep_the_books_signatures():
    assert list(inspect.signature(d2l.train_ch6).parameters) == ["net", "train_iter", "test_iter", "num_epochs", "lr", "device"]
    assert list(inspect.signature(d2l.load_data_fashion_mnist).parameters) == ["batch_size", "resize"]
    assert callable(d2l.try_gpu) and d2l.get_dataloader_workers() == 4  # the book's 4 workers


def test_what_contributing_lists_as_missing_is_missing():
    section = CONTRIBUTING[CONTRIBUTING.index("What 0.17.6's `torch.py` has and 1.0.3 lacks"):CONTRIBUTING.index("To run those chapters")]
    names = re.findall(r"`(\w+)`", section)
    assert {"train_ch3", "train_ch8", "predict_ch3", "evaluate_accuracy"} <= set(names)
    present = [name for name in names if hasattr(d2l, name)]
    assert not present, f"CONTRIBUTING.md says 1.0.3 lacks these, but it has them: {present}"


def test_the_loaders_workers_can_be_set(monkeypatch):
    """CONTRIBUTING.md's recipe: replace d2l.get_dataloader_workers before loading (offline: a fake data set)."""
    fake = lambda root, train, transform, download: torch.utils.data.TensorDataset(torch.zeros(8, 1, 28, 28))
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "This DataLoader will create 4 worker processes" on small machines
        train_iter, test_iter = d2l.load_data_fashion_mnist(4, resize=224)
    assert train_iter.num_workers == test_iter.num_workers == 4
    monkeypatch.setattr(d2l, "get_dataloader_workers", lambda: 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning with the workers set
        train_iter, test_iter = d2l.load_data_fashion_mnist(4, resize=224)
    assert train_iter.num_workers == test_iter.num_workers == 0
    assert "d2l.get_dataloader_workers = lambda: 2" in CONTRIBUTING
