"""Looking inside a network (06): filters, feature maps, top images; layers named by kind and place: conv1, relu1, fc1..."""

import math
from collections.abc import Callable, Sequence
from functools import partial

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


@torch.no_grad()
def capture_activations(net: nn.Sequential, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """The outputs of the named layers when `x` runs through `net` in eval mode (forward hooks, always removed)."""
    captured: dict[str, torch.Tensor] = {}

    def record(name: str, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        captured[name] = output.detach().clone()  # ReLU(inplace=True) would overwrite a plain view

    handles = [get_layer(net, name).register_forward_hook(partial(record, name)) for name in layers]
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
def top_activating(net: nn.Sequential, images: torch.Tensor, layer: str, channels: Sequence[int], k: int = 8,
                   prepare: Callable[[torch.Tensor], torch.Tensor] = lambda x: x,
                   batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, indices), (channels, k), best first: per channel of `layer`, the images with its strongest responses;
    `prepare` turns a batch of `images` into the network's input."""
    scores = []
    for start in range(0, len(images), batch_size):
        output = capture_activations(net, prepare(images[start : start + batch_size]), [layer])[layer]
        channels = [int(c) for c in channels]
        if bad := [c for c in channels if not 0 <= c < output.shape[1]]:
            raise ValueError(f"channel(s) {bad} out of range for {layer}: it has {output.shape[1]} channels, "
                             f"0 to {output.shape[1] - 1}")
        scores.append(output[:, channels].flatten(2).amax(dim=2) if output.dim() == 4 else output[:, channels])
    all_scores = torch.cat(scores).T  # (channels, images)
    if k > all_scores.shape[1]:
        raise ValueError(f"k={k} is more than the {all_scores.shape[1]} images given")
    return all_scores.topk(k, dim=1)


def filter_grid(weights: torch.Tensor, ncols: int = 16, normalise: str = "per_filter", padding: int = 1) -> torch.Tensor:
    """Conv weights (K, 1 or 3, k, k) as one image in [0, 1], zero mid-grey, each filter scaled by its own largest
    |weight| ("per_filter": weak filters' shapes show) or all by one ("shared": strengths compare)."""
    if weights.dim() != 4 or weights.shape[1] not in (1, 3):
        raise ValueError(f"expected conv weights shaped (filters, 1 or 3 channels, k, k), got {tuple(weights.shape)}")
    if normalise not in ("per_filter", "shared"):
        raise ValueError(f"normalise must be 'per_filter' or 'shared', got {normalise!r}")
    w = weights.detach().float().cpu()
    scale = w.abs().amax(dim=(1, 2, 3), keepdim=True) if normalise == "per_filter" else w.abs().max().expand(len(w), 1, 1, 1)
    w = 0.5 + 0.5 * w / scale.clamp_min(1e-12)
    n, c, k, _ = w.shape
    step = k + padding
    grid = torch.ones(c, -(-n // ncols) * step - padding, ncols * step - padding)
    for i in range(n):
        r, col = divmod(i, ncols)
        grid[:, r * step : r * step + k, col * step : col * step + k] = w[i]
    return grid[0] if c == 1 else grid.permute(1, 2, 0)


def filter_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Correlation of the centred filters of `a` (M, k, k) and `b` (N, k', k', resized to k): (M, N) in [-1, 1]."""
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    if a.shape[-2:] != b.shape[-2:]:
        b = F.interpolate(b[:, None], size=a.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return F.normalize(a, dim=1, eps=1e-12) @ F.normalize(b, dim=1, eps=1e-12).T


def _as_kernels(weights: torch.Tensor) -> torch.Tensor:
    """Filters as a float (K, C, k, k) tensor on the CPU; (K, k, k) gains a channel axis."""
    w = weights.detach().float().cpu()
    w = w[:, None] if w.dim() == 3 else w
    if w.dim() != 4 or w.shape[-1] < 3 or w.shape[-2] < 3:
        raise ValueError(f"expected filters shaped (K, k, k) or (K, C, k, k) with k >= 3, got {tuple(weights.shape)}")
    return w


def neighbour_correlation(weights: torch.Tensor) -> float:
    """Correlation between each weight and its right-hand neighbour, over all filters: 0 for noise, 1 for smooth."""
    w = _as_kernels(weights)
    return torch.corrcoef(torch.stack([w[..., :-1].flatten(), w[..., 1:].flatten()]))[0, 1].item()


def orientation_coherence(weights: torch.Tensor) -> torch.Tensor:
    """How strongly each filter has one orientation, (K,) in [0, 1]: (l1 - l2) / (l1 + l2) of the eigenvalues of the
    sum of g g^T over its gradients g; 1 for a bar, an edge or a grating, near 0 for a blob or noise."""
    w = _as_kernels(weights)
    gx = (w[..., 1:-1, 2:] - w[..., 1:-1, :-2]) / 2  # interior only: no padding, no made-up borders
    gy = (w[..., 2:, 1:-1] - w[..., :-2, 1:-1]) / 2
    jxx, jyy, jxy = ((a * b).sum(1).sum(dim=(1, 2)) for a, b in ((gx, gx), (gy, gy), (gx, gy)))
    return torch.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy).clamp_min(1e-30)  # (l1 - l2) / (l1 + l2)


def _with_norms_of(filters: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """`filters` rescaled so that each has the same length (L2 norm) as the matching filter of `reference`."""
    norms = reference.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return filters / filters.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, 1, 1, 1) * norms


def random_filters(like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """White Gaussian noise shaped like the filters `like` (K, C, k, k), each with the same norm as its counterpart."""
    like = _as_kernels(like)
    return _with_norms_of(torch.randn(like.shape, generator=generator), like)


def blurred_random_filters(like: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise blurred by a Gaussian of `sigma` px (drawn larger: no padding, smooth borders), shaped like `like` (K, C,
    k, k) with its per-filter norms: notebook 06's fair baseline for learned filters."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    like = _as_kernels(like)
    radius = int(math.ceil(3 * sigma))
    g = torch.exp(-(torch.arange(-radius, radius + 1, dtype=torch.float32) ** 2) / (2 * sigma**2))
    window = g[:, None] * g[None, :]
    k, c = like.shape[-1], like.shape[1]
    noise = torch.randn(len(like) * c, 1, like.shape[-2] + 2 * radius, k + 2 * radius, generator=generator)
    blurred = F.conv2d(noise, (window / window.sum())[None, None]).reshape(like.shape)
    return _with_norms_of(blurred, like)
