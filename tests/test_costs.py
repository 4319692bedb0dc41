"""Multiply-add and memory counts, checked against hand counts and direct computation."""

import pytest
import torch
from torch import nn

from d2lhelpers.costs import layer_costs, multiply_adds, optimizer_state_bytes, saved_for_backward, training_memory_bytes
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


def autograd_saved_bytes(output: torch.Tensor, parameters) -> int:
    """Bytes of the distinct non-parameter tensors that the graph behind `output` saved (its _saved_* attributes)."""
    skip = {p.untyped_storage().data_ptr() for p in parameters}
    seen, stack, visited = {}, [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in visited:
            continue
        visited.add(node)
        for name in dir(node):
            if name.startswith("_saved_"):
                value = getattr(node, name)
                if isinstance(value, torch.Tensor) and value.untyped_storage().data_ptr() not in skip:
                    seen[value.untyped_storage().data_ptr()] = value.untyped_storage().nbytes()
        stack += [next_node for next_node, _ in node.next_functions]
    return sum(seen.values())


def small_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3), nn.Dropout(0.5))


def test_saved_for_backward_lists_what_autograd_keeps():
    torch.manual_seed(0)
    net = small_net().eval()
    x = torch.randn(2, 1, 6, 6)
    table = saved_for_backward(net, x)
    assert not net.training  # the mode is restored
    net.train()
    assert table["bytes"].sum() == autograd_saved_bytes(net(x), net.parameters())
    rows = {(row.layer, row.saved): (row.shape, row.dtype) for row in table.itertuples()}
    assert rows[("0: Conv2d", "input")] == ((2, 1, 6, 6), "float32")
    assert rows[("1: ReLU", "output")] == ((2, 2, 4, 4), "float32")  # ReLU keeps its result, not its input
    assert rows[("2: MaxPool2d", "other")] == ((2, 2, 2, 2), "int64")  # the indices of the maxima
    assert ("4: Linear", "input") in rows  # the pooled maps, seen through Flatten's view: counted once
    assert not any(layer.startswith("3: Flatten") for layer, _ in rows)
    assert ("5: Dropout", "other") in rows  # its mask


def test_saved_for_backward_grows_with_the_batch():
    net = alexnet()
    one = saved_for_backward(net, torch.zeros(1, 1, 224, 224))["bytes"].sum()
    two = saved_for_backward(net, torch.zeros(2, 1, 224, 224))["bytes"].sum()
    assert two == 2 * one
    assert one == autograd_saved_bytes(net.train()(torch.zeros(1, 1, 224, 224)), net.parameters())


@pytest.mark.parametrize(("make", "copies"), [
    (lambda p: torch.optim.SGD(p, lr=0.1), 0),
    (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 1),
    (lambda p: torch.optim.Adam(p), 2),
])
def test_optimizer_state_bytes(make, copies):
    net = small_net()
    net(torch.randn(2, 1, 6, 6)).sum().backward()
    optimizer = make(net.parameters())
    assert optimizer_state_bytes(optimizer) == 0  # no state before the first step
    optimizer.step()
    n = sum(p.numel() for p in net.parameters())
    tensors = len(list(net.parameters()))
    measured = optimizer_state_bytes(optimizer)
    assert copies * 4 * n <= measured <= copies * 4 * n + 8 * tensors * (copies == 2)  # Adam adds a step count
    assert measured + 8 * n == pytest.approx(training_memory_bytes(n, ["SGD", "SGD with momentum", "Adam"][copies]), abs=64)
    linear = net[4]
    part = optimizer_state_bytes(optimizer, linear.parameters())
    assert copies * 4 * 27 <= part <= copies * 4 * 27 + 16 * (copies == 2)  # 8x3 weights + 3 biases
