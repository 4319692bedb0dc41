"""Model-ready batches made on the device from its uint8 images: standardise, resize, augment, shuffle (04)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.nn import functional as F

FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530  # of the training pixels in [0, 1] (notebook 04 computes them)


def to_model_input(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 (N, 28, 28) images -> standardised float (N, 1, image_size, image_size), resized on their device."""
    if images.dim() != 3 or images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images of shape (N, height, width) as load_fashion_mnist gives them, got "
                         f"{images.dtype} of shape {tuple(images.shape)}; for one image use images[None], for floats "
                         f"in [0, 1] use (images * 255).round().to(torch.uint8)")
    x = images.unsqueeze(1).float().div_(255)
    if x.shape[-1] != image_size:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return (x - FASHION_MNIST_MEAN) / FASHION_MNIST_STD


def model_ready(images: torch.Tensor, image_size: int, max_bytes: int = 512 * 2**20) -> torch.Tensor:
    """The whole set through `to_model_input` when its floats fit in `max_bytes`, else the uint8 images unchanged."""
    return images if len(images) * image_size * image_size * 4 > max_bytes else to_model_input(images, image_size)


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: float = 0.1) -> torch.Tensor:
    """AlexNet's augmentations on a batch: shifts up to `max_shift` of the side, flips, brightness, contrast."""
    n, _, h, w = x.shape

    def uniform(*shape: int) -> torch.Tensor:  # drawn on the CPU, so that a seeded generator works on any device
        return torch.rand(*shape, generator=generator).to(x.device)

    x = torch.where((uniform(n) < 0.5)[:, None, None, None], x.flip(-1), x)
    pad = max(1, round(max_shift * h))
    padded = F.pad(x, (pad, pad, pad, pad), value=float(x.min()))
    dy, dx = (uniform(n) * (2 * pad + 1)).long(), (uniform(n) * (2 * pad + 1)).long()
    rows, cols = dy[:, None] + torch.arange(h, device=x.device), dx[:, None] + torch.arange(w, device=x.device)
    x = padded[torch.arange(n, device=x.device)[:, None, None], 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)
    brightness = (uniform(n) - 0.5) * 0.4  # +-0.2 in standardised units
    contrast = 1 + (uniform(n) - 0.5) * 0.4  # x0.8 to x1.2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * contrast[:, None, None, None] + mean + brightness[:, None, None, None]


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, image_size: int,
            generator: torch.Generator | None = None, augment: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Model-ready batches from uint8 images on the device (or from `model_ready` floats); shuffled given a generator."""
    order = torch.randperm(len(images), generator=generator).to(images.device) if generator is not None else None
    for start in range(0, len(images), batch_size):
        index = order[start : start + batch_size] if order is not None else slice(start, start + batch_size)
        x = images[index] if images.is_floating_point() else to_model_input(images[index], image_size)
        yield (augment_batch(x, generator) if augment else x), labels[index]
