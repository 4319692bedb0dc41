"""The networks (sizes, the derived flatten size, refusing too-small inputs, seeded weights) and what they cost,
checked against hand counts and direct computation."""

import pandas as pd
import pytest
import torch
from torch import nn

from d2lhelpers.models import (alexnet, alexnet_2012, alexnet_features, count_parameters, layer_costs, lenet,
                               multiply_adds, paper_lrn, saved_for_backward, small_cnn,
                               training_memory_bytes)
from d2lhelpers.plots import with_thousands
from d2lhelpers.shapes import smallest_valid_input, spatial_sizes


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
    net = small_cnn(num_classes=10).eval()
    with torch.no_grad():
        assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert sum(isinstance(m, nn.Conv2d) for m in net) == 2


def test_a_model_fed_another_size_names_both_sizes_and_the_fix():
    net = alexnet(image_size=65)
    with pytest.raises(ValueError, match=r"built for batches of 1x65x65 images .* got 1x224x224.*to_model_input\(images, 65\)"):
        net(torch.zeros(2, 1, 224, 224))
    with pytest.raises(ValueError, match=r"got 3x65x65"):
        net(torch.zeros(2, 3, 65, 65))
    assert net.image_size == 65 and type(net[:3]) is nn.Sequential  # a slice takes any input


@pytest.mark.parametrize("net", [alexnet(lrn=True), alexnet_2012()], ids=["alexnet(lrn=True)", "alexnet_2012"])
def test_local_response_normalisation_has_the_papers_parameters(net):
    layers = [m for m in net if isinstance(m, nn.LocalResponseNorm)]
    assert len(layers) == 2
    for lrn in layers:  # PyTorch divides alpha by size: the paper's alpha=1e-4 is 5e-4 here
        assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, pytest.approx(5e-4), 0.75, 2.0)


def test_paper_lrn_matches_the_papers_formula():
    a = torch.randn(1, 8, 3, 3) * 30
    n, k, alpha, beta = 5, 2.0, 1e-4, 0.75
    squares = torch.nn.functional.pad(a**2, (0, 0, 0, 0, n // 2, n // 2))
    sums = torch.stack([squares[:, i : i + n].sum(dim=1) for i in range(8)], dim=1)
    torch.testing.assert_close(paper_lrn()(a), a / (k + alpha * sums) ** beta)


@pytest.mark.parametrize("shape", [(2, 12, 15, 15), (3, 3, 4, 4), (2, 32, 7, 7)], ids=["12 channels", "fewer than n", "32 channels"])
def test_faster_lrn_gives_pytorchs_values_and_gradients(shape):
    ours, theirs = paper_lrn(), nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)
    a = (torch.randn(shape) * 30).contiguous(memory_format=torch.channels_last).requires_grad_()
    b = a.detach().clone().requires_grad_()
    torch.testing.assert_close(ours(a), theirs(b))
    weights = torch.randn(shape)
    (ours(a) * weights).sum().backward()
    (theirs(b) * weights).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)
    assert isinstance(ours, nn.LocalResponseNorm) and repr(ours) == repr(theirs)


@pytest.mark.parametrize("layers, width", [(1, 4096), (2, 1024), (0, 4096)])
def test_hidden_layers_and_width(layers, width):
    net = alexnet(image_size=65, hidden_layers=layers, hidden_width=width)
    linear = [m for m in net if isinstance(m, nn.Linear)]
    assert len(linear) == layers + 1 and all(m.out_features == width for m in linear[:-1])
    with torch.no_grad():
        assert net.eval()(torch.zeros(1, 1, 65, 65)).shape == (1, 10)


def test_a_seed_gives_the_books_alexnet():
    """d2l 7.1's code, as the book writes it: the same layers and, from the same seed, the same weights."""
    torch.manual_seed(0)
    book = nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(), nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(4096, 10))
    torch.manual_seed(0)
    features = alexnet_features()
    torch.manual_seed(0)
    net = alexnet()
    assert str(list(net)) == str(list(book)) and str(list(features)) == str(list(book[:13]))
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), book.state_dict().values(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(features.state_dict().values(), book[:13].state_dict().values(), strict=True))


@pytest.mark.parametrize("shape", [{}, {"width": 0.125, "extra_convs": 1}, {"lrn": True, "pool_after": (1, 3, 5)},
                                   {"first_conv": (5, 2, 3), "image_size": 28}])
def test_a_seed_draws_only_the_weights_of_the_layers_built(shape):
    """The book's layers serve as a template for the reshaped ones without drawing weights of their own."""
    torch.manual_seed(0)
    net = alexnet(**{"image_size": 65, **shape})
    torch.manual_seed(0)
    fresh = nn.ModuleList(nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding)
                          if isinstance(m, nn.Conv2d) else nn.Linear(m.in_features, m.out_features)
                          for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), fresh.parameters(), strict=True))


def test_the_shape_arguments_default_to_the_books_alexnet():
    book = alexnet(image_size=224)
    same = alexnet(image_size=224, width=1.0, extra_convs=0, pool_after=(1, 2, 5), first_conv=(11, 4, 1))
    assert str(book) == str(same) and count_parameters(book) == 46_764_746


def test_width_depth_and_pooling_placement_change_what_they_say():
    convs = lambda net: [m for m in net if isinstance(m, nn.Conv2d)]
    wider = alexnet(image_size=65, width=1.5)
    assert [c.out_channels for c in convs(wider)] == [144, 384, 576, 576, 384]
    deeper = alexnet(image_size=65, extra_convs=2)
    assert [c.out_channels for c in convs(deeper)] == [96, 256, 384, 384, 384, 384, 256]
    late = alexnet(image_size=65, pool_after=(1, 3, 5))
    pools_after = [sum(isinstance(m, nn.Conv2d) for m in late[:i]) for i, m in enumerate(late) if isinstance(m, nn.MaxPool2d)]
    assert pools_after == [1, 3, 5]
    deeper_pools = [sum(isinstance(m, nn.Conv2d) for m in deeper[:i]) for i, m in enumerate(deeper) if isinstance(m, nn.MaxPool2d)]
    assert deeper_pools == [1, 2, 7], "the extra layers come after conv4, and the last pooling layer after the last conv"
    with pytest.raises(ValueError, match="pool_after names the book's convolution layers 1..5"):
        alexnet(image_size=65, pool_after=(1, 6))


def test_a_native_28_pixel_alexnet_matches_the_65_pixel_maps_after_conv1():
    native = alexnet(image_size=28, first_conv=(5, 2, 3))
    resized = alexnet(image_size=65)
    assert spatial_sizes(native[:13], 28)[1:] == spatial_sizes(resized[:13], 65)[1:]
    assert native(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_non_overlapping_pooling_changes_only_the_pooling_windows():
    overlapping, separate = alexnet(image_size=65, width=0.125), alexnet(image_size=65, width=0.125, pool_window=(2, 2))
    pools = [m for m in separate if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 3 and all((p.kernel_size, p.stride) == (2, 2) for p in pools)
    assert [(p.kernel_size, p.stride) for p in overlapping if isinstance(p, nn.MaxPool2d)] == [(3, 2)] * 3
    assert separate(torch.zeros(2, 1, 65, 65)).shape == (2, 10)


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
    assert training_memory_bytes(1000, "Adam") == 16000
    with pytest.raises(ValueError, match="unknown optimizer"):
        training_memory_bytes(10, "RMSprop")


def test_with_thousands():
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


@pytest.mark.parametrize(("make", "name"), [
    (lambda p: torch.optim.SGD(p, lr=0.1), "SGD"),
    (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), "SGD with momentum"),
    (lambda p: torch.optim.Adam(p), "Adam"),
])
def test_training_memory_bytes_counts_the_optimizers_state(make, name):
    net = small_net()
    net(torch.randn(2, 1, 6, 6)).sum().backward()
    optimizer = make(net.parameters())
    optimizer.step()
    n = sum(p.numel() for p in net.parameters())
    state = sum(v.nbytes for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor))
    assert state + 8 * n == pytest.approx(training_memory_bytes(n, name), abs=64)  # weights, gradients, state
