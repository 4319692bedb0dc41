"""Looking inside a network: layer names, hooks, top-k, filter grids and similarity."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from d2lhelpers.features import gabor_bank, sobel_kernels
from d2lhelpers.inspection import (
    blurred_random_filters,
    capture_activations,
    filter_grid,
    filter_similarity,
    get_layer,
    layer_names,
    neighbour_correlation,
    orientation_coherence,
    random_filters,
    top_activating,
)
from d2lhelpers.models import alexnet


def tiny_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                         nn.Conv2d(4, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def test_alexnet_layer_names():
    names = list(layer_names(alexnet(image_size=65)))
    assert names[:3] == ["conv1", "relu1", "pool1"]
    assert [n for n in names if n.startswith("conv")] == [f"conv{i}" for i in range(1, 6)]
    assert [n for n in names if n.startswith("fc")] == ["fc1", "fc2", "fc3"]


def test_unknown_layer_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"no layer called 'conv9'.*conv1, relu1, pool1, conv2"):
        get_layer(tiny_net(), "conv9")


def test_hooks_capture_the_intended_layers_and_are_removed():
    torch.manual_seed(0)
    net = tiny_net().train()
    x = torch.randn(5, 1, 8, 8)
    captured = capture_activations(net, x, ["conv1", "relu1", "relu2", "fc1"])
    with torch.no_grad():
        conv1 = net[0](x)
        expected_relu2 = net[4](net[3](net[2](torch.relu(conv1))))
    # the conv output is kept as it was, even though the in-place ReLU after it overwrites the tensor
    assert torch.allclose(captured["conv1"], conv1) and captured["conv1"].min() < 0
    assert torch.allclose(captured["relu1"], torch.relu(conv1))
    assert torch.allclose(captured["relu2"], expected_relu2)
    assert captured["fc1"].shape == (5, 3)
    assert all(not m._forward_hooks for m in net)
    assert net.training, "the network's mode is restored"


def test_hooks_are_removed_when_the_forward_pass_fails():
    net = tiny_net()
    with pytest.raises(RuntimeError):
        capture_activations(net, torch.randn(2, 3, 8, 8), ["relu1"])  # 3 channels: wrong
    assert all(not m._forward_hooks for m in net)


def test_top_k_is_correct_on_a_synthetic_case():
    net = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU())
    with torch.no_grad():
        net[0].weight[:] = torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1)  # channel 0: brightness, 1: darkness
    images = torch.zeros(10, 1, 4, 4)
    for i in range(10):
        images[i, 0, i % 4, 0] = i - 4.5  # one pixel, from -4.5 to 4.5
    scores, indices = top_activating(net, images, "relu1", channels=[0, 1], k=3, batch_size=4)
    assert indices[0].tolist() == [9, 8, 7] and indices[1].tolist() == [0, 1, 2]
    assert torch.allclose(scores[0], torch.tensor([4.5, 3.5, 2.5]))


def test_top_k_refuses_a_channel_out_of_range():
    with pytest.raises(ValueError, match=r"channel\(s\) \[4\] out of range for relu1: it has 4 channels, 0 to 3"):
        top_activating(tiny_net(), torch.randn(3, 1, 8, 8), "relu1", channels=[0, 4], k=2)
    with pytest.raises(ValueError, match="k=5 is more than the 3 images"):
        top_activating(tiny_net(), torch.randn(3, 1, 8, 8), "relu1", channels=[0], k=5)


def test_filter_grid_shape_and_normalisation():
    weights = torch.zeros(10, 1, 3, 3)
    weights[0, 0, 0, 0] = 2.0  # a strong filter
    weights[1, 0, 1, 1] = -0.5  # a weak one
    grid = filter_grid(weights, ncols=4, normalise="per_filter", padding=1)
    assert grid.shape == (3 * 4 - 1, 4 * 4 - 1)
    assert grid[0, 0] == 1.0 and grid[1, 5] == 0.0, "each filter's extreme reaches the end of the scale"
    assert grid[0, 1] == 0.5, "zero is mid-grey"
    shared = filter_grid(weights, ncols=4, normalise="shared")
    assert shared[0, 0] == 1.0 and shared[1, 5] == pytest.approx(0.375), "one scale for all filters"
    assert grid.min() >= 0 and grid.max() <= 1
    assert filter_grid(torch.randn(5, 3, 11, 11), ncols=5).shape == (11, 59, 3)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        filter_grid(torch.randn(5, 2, 3, 3))


def test_similarity_finds_a_gabor_planted_among_noise():
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(20, 11, 11, generator=generator)
    gabor = gabor_bank(11)[0, 0] / gabor_bank(11)[0, 0].norm()
    gabor_like = -3 * gabor + 0.05 * torch.randn(11, 11, generator=generator)
    candidates = torch.cat([noise[:7], gabor_like[None], noise[7:]])
    similarity = filter_similarity(gabor[None], candidates)[0]
    assert similarity.abs().argmax() == 7 and similarity[7] < -0.9
    assert filter_similarity(noise, gabor[None]).abs().max() < 0.5


def test_similarity_ignores_brightness_and_strength_and_resizes():
    sobel = sobel_kernels()[0, 0]
    assert filter_similarity((5 * sobel + 3)[None], sobel[None]).item() == pytest.approx(1.0)
    assert filter_similarity(torch.randn(4, 11, 11), sobel[None]).shape == (4, 1)


def oriented_patterns(size: int = 11) -> dict[str, torch.Tensor]:
    """A grating, a bar and an edge at angles that are not multiples of 45 degrees."""
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                          indexing="ij")
    c = (size - 1) / 2
    along = (x - c) * math.cos(0.4) + (y - c) * math.sin(0.4)  # distance across the stripes
    return {"grating": torch.cos(1.3 * along), "bar": torch.exp(-(along**2) / 2), "edge": torch.tanh(along)}


def test_coherence_is_one_for_oriented_patterns_and_low_for_noise_and_blobs():
    patterns = oriented_patterns()
    coherence = orientation_coherence(torch.stack(list(patterns.values())))
    assert coherence.shape == (3,) and coherence.min() > 0.99, dict(zip(patterns, coherence.tolist()))
    assert coherence.max() <= 1 + 1e-6
    noise = torch.randn(200, 1, 11, 11, generator=torch.Generator().manual_seed(0))
    assert orientation_coherence(noise).mean() < 0.3
    y, x = torch.meshgrid(torch.arange(11.0), torch.arange(11.0), indexing="ij")
    blob = torch.exp(-((x - 5) ** 2 + (y - 5) ** 2) / 8)  # centre-surround-like: no orientation
    assert orientation_coherence(blob[None]).item() < 0.01


def test_coherence_ignores_scale_sign_and_offset():
    noise = torch.randn(6, 1, 11, 11, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(orientation_coherence(-1e-3 * noise + 0.01), orientation_coherence(noise), atol=1e-4)


def test_coherence_matches_the_eigenvalues_of_numpys_structure_tensor():
    filters = torch.randn(5, 3, 9, 9, generator=torch.Generator().manual_seed(2))  # colour filters too
    expected = []
    for f in filters.numpy().astype(np.float64):
        gy, gx = np.gradient(f, axis=(1, 2))  # central differences inside, one-sided at the borders
        gx, gy = gx[:, 1:-1, 1:-1], gy[:, 1:-1, 1:-1]
        tensor = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
        small, large = np.linalg.eigvalsh(tensor)
        expected.append((large - small) / (large + small))
    assert np.allclose(orientation_coherence(filters).numpy(), expected, atol=1e-5)


def test_coherence_refuses_filters_it_cannot_measure():
    with pytest.raises(ValueError, match=r"\(K, k, k\) or \(K, C, k, k\)"):
        orientation_coherence(torch.randn(11, 11))


def test_random_baselines_have_the_reference_norms_and_blur_makes_them_smooth():
    generator = torch.Generator().manual_seed(3)
    reference = torch.randn(96, 1, 11, 11, generator=generator) * torch.linspace(0.01, 1, 96).view(-1, 1, 1, 1)
    noise = random_filters(reference, generator)
    blurred = blurred_random_filters(reference, 1.5, generator)
    for filters in (noise, blurred):
        assert filters.shape == reference.shape
        assert torch.allclose(filters.flatten(1).norm(dim=1), reference.flatten(1).norm(dim=1), rtol=1e-5)
    assert abs(neighbour_correlation(noise)) < 0.1
    assert neighbour_correlation(blurred) > 0.7 > neighbour_correlation(blurred_random_filters(reference, 0.5, generator))
    # blurring without padding: the border is as smooth as the middle, and no direction is preferred
    rows = torch.corrcoef(torch.stack([blurred[..., 0, :].flatten(), blurred[..., 1, :].flatten()]))[0, 1]
    columns = torch.corrcoef(torch.stack([blurred[..., :, 0].flatten(), blurred[..., :, 1].flatten()]))[0, 1]
    assert abs(rows - columns) < 0.1 and rows > 0.7
    # smooth but unoriented: more coherent than white noise (fewer independent gradients), far below a bar
    assert 0.15 < orientation_coherence(noise).mean() < orientation_coherence(blurred).mean() < 0.5


def test_neighbour_correlation_of_a_ramp_and_a_blur_that_needs_a_width():
    ramp = torch.arange(11.0).expand(4, 1, 11, 11) * torch.tensor([1.0, 2, 3, 4]).view(-1, 1, 1, 1)
    assert neighbour_correlation(ramp) > 0.9
    with pytest.raises(ValueError, match="sigma must be positive"):
        blurred_random_filters(ramp, 0.0)
