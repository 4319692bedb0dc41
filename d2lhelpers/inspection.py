"""Looking inside a trained network: filter grids, feature maps, top-activating images, filter similarity.

Introduced in notebook 06 (what the first layer learns). Layers of a flat nn.Sequential are named by
kind and position: conv1..conv5, relu1.., pool1.., fc1..; `layer_names(net)` lists them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

_KINDS: dict[type[nn.Module], str] = {
    nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool", nn.AvgPool2d: "pool", nn.Linear: "fc",
    nn.Dropout: "dropout", nn.Flatten: "flatten", nn.Sigmoid: "sigmoid", nn.LocalResponseNorm: "lrn",
}  # fmt: skip


def layer_names(net: nn.Sequential) -> dict[str, nn.Module]:
    """Readable names for the layers of a flat nn.Sequential: conv1, relu1, pool1, ..., fc1, ..."""
    counts: dict[str, int] = {}
    names = {}
    for module in net:
        kind = next((name for cls, name in _KINDS.items() if isinstance(module, cls)), type(module).__name__.lower())
        counts[kind] = counts.get(kind, 0) + 1
        names[f"{kind}{counts[kind]}"] = module
    return names


def get_layer(net: nn.Sequential, name: str) -> nn.Module:
    """The layer called `name` (see `layer_names`); a ValueError lists the valid names otherwise."""
    names = layer_names(net)
    if name not in names:
        raise ValueError(f"no layer called {name!r}; this network has: {', '.join(names)}")
    return names[name]


def check_channels(channels: Sequence[int], available: int, layer: str) -> list[int]:
    """The channel indices as a list, or a ValueError that gives the valid range."""
    channels = [int(c) for c in channels]
    bad = [c for c in channels if not 0 <= c < available]
    if bad:
        raise ValueError(f"channel(s) {bad} out of range for {layer}: it has {available} channels, 0 to {available - 1}")
    return channels


@torch.no_grad()
def capture_activations(net: nn.Sequential, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """Run `x` through `net` in eval mode and return the outputs of the named layers.

    Forward hooks record the outputs; they are removed afterwards, even when the forward pass fails.
    """
    modules = {name: get_layer(net, name) for name in layers}
    captured: dict[str, torch.Tensor] = {}

    def recorder(name: str) -> Callable:
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            captured[name] = output.detach().clone()  # ReLU(inplace=True) would overwrite a plain view
        return hook

    handles = [module.register_forward_hook(recorder(name)) for name, module in modules.items()]
    was_training = net.training
    try:
        net.eval()
        net(x)
    finally:
        for handle in handles:
            handle.remove()
        net.train(was_training)
    return {name: captured[name] for name in layers}


@torch.no_grad()
def top_activating(
    net: nn.Sequential, images: torch.Tensor, layer: str, channels: Sequence[int], k: int = 8,
    prepare: Callable[[torch.Tensor], torch.Tensor] = lambda x: x, batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each channel of `layer`, the k images whose strongest response in that channel is largest.

    `prepare` turns a batch of `images` into the network's input. Returns (scores, indices), both
    (len(channels), k), best first.
    """
    scores = []
    for start in range(0, len(images), batch_size):
        output = capture_activations(net, prepare(images[start : start + batch_size]), [layer])[layer]
        channels = check_channels(channels, output.shape[1], layer)
        scores.append(output[:, channels].flatten(2).amax(dim=2) if output.dim() == 4 else output[:, channels])
    all_scores = torch.cat(scores).T  # (channels, images)
    if k > all_scores.shape[1]:
        raise ValueError(f"k={k} is more than the {all_scores.shape[1]} images given")
    return all_scores.topk(k, dim=1)


def filter_grid(weights: torch.Tensor, ncols: int = 16, normalise: str = "per_filter", padding: int = 1) -> torch.Tensor:
    """Lay conv weights (K, C, k, k) out as one image, with zero shown as mid-grey (0.5).

    normalise="per_filter" scales each filter by its own largest |weight| (shapes are visible even
    in weak filters); "shared" uses one scale for all (strengths are comparable). Values lie in
    [0, 1]. Returns (rows*(k+p)-p, ncols*(k+p)-p) for C=1 and (..., ..., 3) for C=3.
    """
    if weights.dim() != 4 or weights.shape[1] not in (1, 3):
        raise ValueError(f"expected conv weights shaped (filters, 1 or 3 channels, k, k), got {tuple(weights.shape)}")
    if normalise not in ("per_filter", "shared"):
        raise ValueError(f"normalise must be 'per_filter' or 'shared', got {normalise!r}")
    w = weights.detach().float().cpu()
    if normalise == "per_filter":
        scale = w.abs().amax(dim=(1, 2, 3), keepdim=True)
    else:
        scale = w.abs().max().expand(len(w), 1, 1, 1)
    w = 0.5 + 0.5 * w / scale.clamp_min(1e-12)
    n, c, k, _ = w.shape
    rows = -(-n // ncols)
    grid = torch.ones(c, rows * (k + padding) - padding, ncols * (k + padding) - padding)
    for i in range(n):
        r, col = divmod(i, ncols)
        grid[:, r * (k + padding) : r * (k + padding) + k, col * (k + padding) : col * (k + padding) + k] = w[i]
    return grid[0] if c == 1 else grid.permute(1, 2, 0)


def filter_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Normalised correlation between every filter of `a` (M, k, k) and of `b` (N, k, k): (M, N) in [-1, 1].

    Each filter is centred (mean removed) and scaled to unit length, so only its pattern counts, not
    its brightness or strength. A filter and its negative score -1: use .abs() to allow for sign.
    `b` is resized to `a`'s size when they differ.
    """
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    if a.shape[-2:] != b.shape[-2:]:
        b = F.interpolate(b[:, None], size=a.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return F.normalize(a, dim=1, eps=1e-12) @ F.normalize(b, dim=1, eps=1e-12).T


def best_matches(reference: dict[str, torch.Tensor], candidates: torch.Tensor) -> list[dict[str, object]]:
    """For each named reference filter, the candidate (N, k, k) most similar to it, allowing for sign."""
    similarity = filter_similarity(torch.stack(list(reference.values())), candidates)
    best = similarity.abs().max(dim=1)
    return [
        {"reference": name, "index": int(i), "similarity": float(v), "sign": 1 if similarity[row, i] > 0 else -1}
        for row, (name, v, i) in enumerate(zip(reference, best.values, best.indices))
    ]


def _as_kernels(weights: torch.Tensor) -> torch.Tensor:
    """Filters as a float (K, C, k, k) tensor on the CPU; (K, k, k) gains a channel axis."""
    w = weights.detach().float().cpu()
    if w.dim() == 3:
        w = w[:, None]
    if w.dim() != 4 or w.shape[-1] < 3 or w.shape[-2] < 3:
        raise ValueError(f"expected filters shaped (K, k, k) or (K, C, k, k) with k >= 3, got {tuple(weights.shape)}")
    return w


def gaussian_kernel(sigma: float, radius: int | None = None) -> torch.Tensor:
    """A normalised 2-D Gaussian (2r+1, 2r+1) with r = ceil(3 sigma) unless given."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    radius = int(math.ceil(3 * sigma)) if radius is None else radius
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g2 = g[:, None] * g[None, :]
    return g2 / g2.sum()


def neighbour_correlation(weights: torch.Tensor) -> float:
    """Correlation between each weight and its right-hand neighbour, over all filters: 0 for noise, 1 for smooth."""
    w = _as_kernels(weights)
    left, right = w[..., :-1].flatten(), w[..., 1:].flatten()
    return torch.corrcoef(torch.stack([left, right]))[0, 1].item()


def orientation_coherence(weights: torch.Tensor, window_sigma: float | None = None) -> torch.Tensor:
    """How strongly each filter has one orientation: (K,) in [0, 1]; 1 for a bar, an edge or a grating.

    The structure tensor J = sum of g g^T over the filter's gradients g (central differences, interior
    pixels, summed over channels) has eigenvalues l1 >= l2; the coherence is (l1 - l2) / (l1 + l2):
    1 when all gradients are parallel, near 0 for a blob or for noise with many pixels. With
    `window_sigma`, J is summed locally in a Gaussian window instead, and the local coherences are
    averaged weighted by gradient energy (l1 + l2). Either way it does not depend on a filter's scale.
    Introduced in notebook 06.
    """
    w = _as_kernels(weights)
    gx = (w[..., 1:-1, 2:] - w[..., 1:-1, :-2]) / 2  # interior only: no padding, no made-up borders
    gy = (w[..., 2:, 1:-1] - w[..., :-2, 1:-1]) / 2
    tensor = torch.stack([(gx * gx).sum(1), (gy * gy).sum(1), (gx * gy).sum(1)], dim=1)  # (K, 3, k-2, k-2)
    if window_sigma is None:
        tensor = tensor.sum(dim=(2, 3), keepdim=True)
    else:
        window = gaussian_kernel(window_sigma)
        smoothed = F.conv2d(tensor.reshape(-1, 1, *tensor.shape[-2:]), window[None, None], padding=window.shape[-1] // 2)
        tensor = smoothed.reshape(tensor.shape)
    jxx, jyy, jxy = tensor.unbind(1)
    energy = jxx + jyy  # l1 + l2
    difference = torch.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)  # l1 - l2
    return difference.flatten(1).sum(1) / energy.flatten(1).sum(1).clamp_min(1e-30)


def _with_norms_of(filters: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """`filters` rescaled so that each has the same length (L2 norm) as the matching filter of `reference`."""
    norms = reference.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return filters / filters.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, 1, 1, 1) * norms


def random_filters(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """White Gaussian noise shaped like the filters `like` (K, C, k, k), each with the same norm as its counterpart."""
    like = _as_kernels(like)
    return _with_norms_of(torch.randn(like.shape, generator=generator), like)


def blurred_random_filters(like: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise smoothed by a Gaussian of `sigma` px, shaped like `like` (K, C, k, k) and with its per-filter norms.

    The noise is drawn larger and blurred without padding, so the borders are as smooth as the middle:
    smooth, but with no preferred orientation (notebook 06's fair baseline for learned filters).
    """
    like = _as_kernels(like)
    window = gaussian_kernel(sigma)
    radius = window.shape[-1] // 2
    k, c = like.shape[-1], like.shape[1]
    noise = torch.randn(len(like) * c, 1, like.shape[-2] + 2 * radius, k + 2 * radius, generator=generator)
    blurred = F.conv2d(noise, window[None, None]).reshape(like.shape)
    return _with_norms_of(blurred, like)
