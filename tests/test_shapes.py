"""conv_output_size and friends against real PyTorch layers."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from d2lhelpers.shapes import conv_output_size, smallest_valid_input, spatial_sizes


@st.composite
def layer_configs(draw):
    kernel = draw(st.integers(1, 11))
    stride = draw(st.integers(1, 5))
    padding = draw(st.integers(0, kernel // 2))  # PyTorch pooling allows at most half the kernel
    n = draw(st.integers(kernel, 64))  # at least one window fits
    return n, kernel, stride, padding


@settings(max_examples=150, deadline=None)
@given(layer_configs(), st.sampled_from(["conv", "maxpool", "avgpool"]))
def test_formula_matches_pytorch_layers(config, kind):
    n, kernel, stride, padding = config
    layer = {
        "conv": lambda: nn.Conv2d(1, 1, kernel, stride=stride, padding=padding),
        "maxpool": lambda: nn.MaxPool2d(kernel, stride=stride, padding=padding),
        "avgpool": lambda: nn.AvgPool2d(kernel, stride=stride, padding=padding),
    }[kind]()
    with torch.no_grad():
        actual = layer(torch.zeros(1, 1, n, n)).shape[-1]
    assert conv_output_size(n, kernel, stride, padding) == actual


def test_book_examples():
    assert conv_output_size(224, 11, stride=4, padding=1) == 54  # the book's conv1
    assert conv_output_size(227, 11, stride=4) == 55  # the paper's conv1
    assert conv_output_size(54, 3, stride=2) == 26
    assert conv_output_size(8, 3) == 6 and conv_output_size(8, 3, padding=1) == 8


@pytest.mark.parametrize("bad", [dict(kernel_size=0), dict(stride=0), dict(padding=-1)])
def test_invalid_arguments_are_refused(bad):
    args = dict(n=10, kernel_size=3, stride=1, padding=0) | bad
    with pytest.raises(ValueError, match="need kernel_size >= 1"):
        conv_output_size(**args)


def test_non_integer_size_is_refused():
    with pytest.raises(TypeError, match="n must be an int"):
        conv_output_size(10.0, 3)


def test_spatial_sizes_and_smallest_input_of_a_stack():
    layers = [nn.Conv2d(1, 1, 5), nn.ReLU(), nn.MaxPool2d(2)]
    assert spatial_sizes(layers, 28) == [24, 24, 12]
    assert smallest_valid_input(layers) == 6  # 6 -> 2 -> 1; 5 -> 1 -> 0
    with torch.no_grad():
        assert nn.Sequential(*layers)(torch.zeros(1, 1, 6, 6)).shape[-1] == 1
        with pytest.raises(RuntimeError):
            nn.Sequential(*layers)(torch.zeros(1, 1, 5, 5))
