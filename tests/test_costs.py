"""Multiply-add and memory counts, checked against hand counts and direct computation."""

import pytest
import torch
from torch import nn

from d2lhelpers.costs import layer_costs, multiply_adds, training_memory_bytes
from d2lhelpers.models import alexnet


def test_conv_multiply_adds_match_an_explicit_unfold():
    conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, groups=1)
    x = torch.randn(1, 3, 9, 9)
    out = conv(x)
    patches = nn.functional.unfold(x, 3, padding=1, stride=2)  # (1, 3*3*3, L)
    assert multiply_adds(conv, out) == patches.shape[1] * patches.shape[2] * 8


def test_grouped_conv_and_linear():
    grouped = nn.Conv2d(4, 8, kernel_size=3, groups=2)
    assert multiply_adds(grouped, grouped(torch.zeros(1, 4, 5, 5))) == 8 * 3 * 3 * 2 * 3 * 3
    linear = nn.Linear(20, 5)
    assert multiply_adds(linear, linear(torch.zeros(1, 20))) == 100
    assert multiply_adds(nn.ReLU(), torch.zeros(1, 7)) == 0


def test_alexnet_costs_table():
    table = layer_costs(alexnet(), (1, 224, 224))
    assert table["parameters"].sum() == sum(p.numel() for p in alexnet().parameters())
    assert table.loc[0, "output shape"] == (96, 54, 54)
    assert table.loc[0, "multiply-adds"] == 96 * 54 * 54 * 11 * 11
    assert 0.93e9 < table["multiply-adds"].sum() < 0.95e9  # about 0.94 G per image, as published


def test_training_memory():
    assert training_memory_bytes(1000) == 8000
    assert training_memory_bytes(1000, "Adam", bytes_per_value=2) == 8000
    with pytest.raises(ValueError, match="unknown optimizer"):
        training_memory_bytes(10, "RMSprop")


def test_with_thousands():
    import pandas as pd

    from d2lhelpers.tables import with_thousands

    table = pd.DataFrame({"a": [1234567, None], "b": [0.5, 2.0], "c": ["x", "y"]})
    shown = with_thousands(table)
    assert shown["a"].tolist() == ["1,234,567", ""]
    assert shown["b"].tolist() == [0.5, "2"]
    assert shown["c"].tolist() == ["x", "y"]
