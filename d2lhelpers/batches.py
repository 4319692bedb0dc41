"""Model-ready batches made on the device: standardise, resize whole batches, augment, shuffle.

Introduced in notebook 04 (the Fashion-MNIST pipeline). The images stay on the device as uint8, 47 MB
for all 60,000; each batch is converted, resized with one `F.interpolate` call and augmented there.
A set small enough (notebook 07's 10,000 images) is resized once instead: `model_ready`.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.nn import functional as F

# Pixel statistics of the Fashion-MNIST training images, in [0, 1] (computed in notebook 04).
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


def to_model_input(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 (N, 28, 28) images -> normalised float (N, 1, image_size, image_size), resized on their device."""
    if images.dim() != 3 or images.dtype != torch.uint8:
        raise ValueError(
            f"expected uint8 images of shape (N, height, width) as load_fashion_mnist gives them, got "
            f"{images.dtype} of shape {tuple(images.shape)}; for one image use images[None], for floats in [0, 1] "
            f"use (images * 255).round().to(torch.uint8)"
        )
    x = images.unsqueeze(1).float().div_(255)
    if x.shape[-1] != image_size:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return (x - FASHION_MNIST_MEAN) / FASHION_MNIST_STD


def model_ready(images: torch.Tensor, image_size: int, max_bytes: int = 512 * 2**20) -> torch.Tensor:
    """`to_model_input` of the whole set at once when the floats take at most `max_bytes`, so that every epoch
    reuses them (10,000 images at 65x65: 169 MB); otherwise the uint8 images themselves, resized batch by batch."""
    if len(images) * image_size * image_size * 4 > max_bytes:
        return images
    return to_model_input(images, image_size)


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: float = 0.1) -> torch.Tensor:
    """AlexNet's augmentations that carry over to grayscale, applied to a whole batch on its device:
    random crops (shifts of up to `max_shift` of the side, filled with the background), horizontal
    flips, and brightness and contrast changes. Colour (PCA) jitter needs three channels."""
    n, _, h, w = x.shape

    def uniform(*shape: int) -> torch.Tensor:  # drawn on the CPU so that a seeded generator works anywhere
        return torch.rand(*shape, generator=generator).to(x.device)

    x = torch.where((uniform(n) < 0.5)[:, None, None, None], x.flip(-1), x)
    pad = max(1, round(max_shift * h))
    padded = F.pad(x, (pad, pad, pad, pad), value=float(x.min()))
    dy, dx = (uniform(n) * (2 * pad + 1)).long(), (uniform(n) * (2 * pad + 1)).long()
    x = _crop(padded, dy, dx, h, w)
    brightness = (uniform(n) - 0.5) * 0.4  # +-0.2 in normalised units
    contrast = 1 + (uniform(n) - 0.5) * 0.4  # x0.8 to x1.2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * contrast[:, None, None, None] + mean + brightness[:, None, None, None]


def _crop(padded: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Per-example crops of size (h, w) at offsets (dy, dx) from a padded batch."""
    n = padded.shape[0]
    rows = dy[:, None] + torch.arange(h, device=padded.device)  # (n, h)
    cols = dx[:, None] + torch.arange(w, device=padded.device)  # (n, w)
    batch = torch.arange(n, device=padded.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def batches(
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    image_size: int,
    generator: torch.Generator | None = None,
    augment: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Model-ready batches from uint8 images kept on the device (or from `model_ready` floats); shuffled when a
    generator is given."""
    n = len(images)
    order = torch.randperm(n, generator=generator).to(images.device) if generator is not None else None
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size] if order is not None else slice(start, start + batch_size)
        x = images[index] if images.is_floating_point() else to_model_input(images[index], image_size)
        if augment:
            x = augment_batch(x, generator)
        yield x, labels[index]
