"""The AlexNet builder: sizes, the derived flatten size, and refusing too-small inputs."""

import pytest
import torch
from torch import nn

from d2lhelpers.costs import count_parameters
from d2lhelpers.models import alexnet, alexnet_features, lenet
from d2lhelpers.shapes import smallest_valid_input


def test_book_alexnet_at_224():
    net = alexnet()
    flatten = next(i for i, layer in enumerate(net) if isinstance(layer, nn.Flatten))
    assert net[flatten + 1].in_features == 6400 == 256 * 5 * 5
    with torch.no_grad():
        assert net.eval()(torch.zeros(2, 1, 224, 224)).shape == (2, 10)
    # 5 conv + 3 linear layers, as in the book
    assert sum(isinstance(m, nn.Conv2d) for m in net) == 5
    assert sum(isinstance(m, nn.Linear) for m in net) == 3


@pytest.mark.parametrize("size", [65, 66, 96, 100, 127, 227])
def test_any_valid_size_runs(size):
    net = alexnet(num_classes=7, in_channels=3, image_size=size).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, size, size)).shape == (1, 7)


def test_smallest_valid_size_is_65():
    assert smallest_valid_input(alexnet_features()) == 65


@pytest.mark.parametrize("size", [1, 28, 64])
def test_too_small_input_is_refused_with_the_minimum(size):
    with pytest.raises(ValueError, match=r"too small.*smallest valid image_size is 65"):
        alexnet(image_size=size)


def test_parameter_counts():
    # Hand count of the book's AlexNet: conv weights + biases, then the three linear layers.
    conv = (96 * 1 * 11 * 11 + 96) + (256 * 96 * 25 + 256) + (384 * 256 * 9 + 384) + (384 * 384 * 9 + 384) + (256 * 384 * 9 + 256)
    linear = (6400 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 10 + 10)
    assert count_parameters(alexnet()) == conv + linear
    assert count_parameters(lenet()) == 156 + 2416 + 48120 + 10164 + 850
    with torch.no_grad():
        assert lenet()(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_small_cnn_for_28x28():
    from d2lhelpers.models import small_cnn

    net = small_cnn(num_classes=10).eval()
    with torch.no_grad():
        assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert sum(isinstance(m, nn.Conv2d) for m in net) == 2
