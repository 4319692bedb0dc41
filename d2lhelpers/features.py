"""Hand-crafted image features: fixed filters (Sobel, Gabor) and HOG, vectorised with torch.

Introduced in notebook 01 (hand-crafted vs learned features); notebook 06 sets these filters beside
the ones AlexNet learns. `hog_features` computes what `skimage.feature.hog` computes
(`block_norm="L2-Hys"`, no `transform_sqrt`), for a whole batch at once.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def as_image_batch(images: torch.Tensor | np.ndarray, min_size: int = 1) -> torch.Tensor:
    """Check a batch of grayscale images and return it as a float32 tensor (N, H, W).

    Accepts (N, H, W) or (N, 1, H, W), uint8 (0-255) or floating point; anything else is a ValueError
    or TypeError that says what was expected.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor or numpy array of images, got {type(images).__name__}")
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.dim() != 3:
        hint = " (a single image? add a batch axis: images[None])" if images.dim() == 2 else ""
        raise ValueError(
            f"expected a batch of grayscale images shaped (N, H, W) or (N, 1, H, W), got shape {tuple(images.shape)}{hint}"
        )
    if images.dtype != torch.uint8 and not images.dtype.is_floating_point:
        raise TypeError(f"expected uint8 (0-255) or floating-point images, got {images.dtype}")
    if min(images.shape[1:]) < min_size:
        raise ValueError(f"images of {images.shape[1]}x{images.shape[2]} are too small: this needs at least {min_size}x{min_size}")
    return images.float()


# ---- Fixed convolution filters -------------------------------------------------------------------

def sobel_kernels() -> torch.Tensor:
    """The two 3x3 Sobel kernels, shape (2, 1, 3, 3): d/dx (responds to vertical edges), then d/dy."""
    d_dx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return torch.stack([d_dx, d_dx.T]).unsqueeze(1)


def gabor_kernel(size: int, orientation_deg: float, wavelength: float, sigma: float | None = None,
                 aspect: float = 0.5, phase_deg: float = 0.0) -> torch.Tensor:
    """A real Gabor filter (size, size): a cosine grating of `wavelength` pixels under a Gaussian window.

    The grating varies along `orientation_deg` (0: left to right, so it detects vertical stripes);
    `aspect` shortens the window across the stripes. The kernel has zero mean, so flat regions give 0.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number of pixels, got {size}")
    sigma = sigma if sigma is not None else 0.5 * wavelength
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0), indexing="ij")
    theta = math.radians(orientation_deg)
    along = x * math.cos(theta) + y * math.sin(theta)
    across = -x * math.sin(theta) + y * math.cos(theta)
    window = torch.exp(-(along**2 + (aspect * across) ** 2) / (2 * sigma**2))
    kernel = window * torch.cos(2 * math.pi * along / wavelength + math.radians(phase_deg))
    kernel = kernel - kernel.mean()
    return kernel / kernel.abs().sum()


def gabor_bank(size: int = 11, orientations: int = 4, wavelength: float = 6.0) -> torch.Tensor:
    """Gabor filters at evenly spaced orientations in [0, 180), shape (orientations, 1, size, size)."""
    return torch.stack(
        [gabor_kernel(size, 180 * k / orientations, wavelength) for k in range(orientations)]
    ).unsqueeze(1)


def handcrafted_filters(size: int = 11) -> dict[str, torch.Tensor]:
    """Named hand-crafted filters (size, size): two Sobel kernels, centred in zeros, and four Gabors.

    Notebook 06 compares AlexNet's learned 11x11 filters with these.
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"size must be an odd number of pixels, at least 3, got {size}")
    pad = (size - 3) // 2
    sobel = F.pad(sobel_kernels(), (pad, pad, pad, pad))[:, 0]
    filters = {"Sobel d/dx": sobel[0], "Sobel d/dy": sobel[1]}
    for kernel, angle in zip(gabor_bank(size, 4, wavelength=size / 2)[:, 0], (0, 45, 90, 135)):
        filters[f"Gabor {angle}°"] = kernel
    return filters


def filter_responses(images: torch.Tensor | np.ndarray, kernels: torch.Tensor) -> torch.Tensor:
    """Slide each kernel (K, 1, k, k) or (K, k, k) over each image: responses (N, K, H, W), same size.

    Like nn.Conv2d (and the book), this computes a cross-correlation: the kernel is not flipped, so it
    is applied exactly as drawn, the way a learned filter is.
    """
    x = as_image_batch(images).unsqueeze(1)
    kernels = kernels.float()
    if kernels.dim() == 3:
        kernels = kernels.unsqueeze(1)
    if kernels.dim() != 4 or kernels.shape[1] != 1 or kernels.shape[-1] != kernels.shape[-2] or kernels.shape[-1] % 2 == 0:
        raise ValueError(f"expected square odd-sized kernels shaped (K, 1, k, k) or (K, k, k), got {tuple(kernels.shape)}")
    return F.conv2d(x, kernels, padding=kernels.shape[-1] // 2)


# ---- HOG: histograms of oriented gradients ---------------------------------------------------------

# L2-Hys normalisation clips each L2-normalised block value at this level (scikit-image's and Dalal-Triggs' 0.2).
L2_HYS_CLIP = 0.2


def image_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """HOG's gradients: central differences [-1, 0, 1] down the rows and along the columns, 0 at the border."""
    d_row, d_col = torch.zeros_like(images), torch.zeros_like(images)
    d_row[:, 1:-1, :] = images[:, 2:, :] - images[:, :-2, :]
    d_col[:, :, 1:-1] = images[:, :, 2:] - images[:, :, :-2]
    return d_row, d_col


def cell_histograms(images: torch.Tensor | np.ndarray, orientations: int = 9, cell_size: int = 4) -> torch.Tensor:
    """For each cell of cell_size x cell_size pixels, the gradient magnitude summed by orientation bin.

    Orientations are unsigned (0-180 degrees) and binned without interpolation, as scikit-image does.
    Returns (N, cells down, cells across, orientations), each value divided by the cell's area.
    """
    x = as_image_batch(images, min_size=cell_size)
    d_row, d_col = image_gradients(x)
    magnitude = torch.hypot(d_row, d_col)
    angle = torch.rad2deg(torch.atan2(d_row, d_col)) % 180
    bins = torch.div(angle, 180 / orientations, rounding_mode="floor").long().clamp_(0, orientations - 1)
    n, h, w = x.shape
    per_pixel = torch.zeros(n, h, w, orientations).scatter_(3, bins.unsqueeze(-1), magnitude.unsqueeze(-1))
    rows, cols = h // cell_size, w // cell_size
    per_pixel = per_pixel[:, : rows * cell_size, : cols * cell_size]
    return per_pixel.reshape(n, rows, cell_size, cols, cell_size, orientations).sum((2, 4)) / cell_size**2


def normalise_blocks(histograms: torch.Tensor, block_size: int = 2, eps: float = 1e-5) -> torch.Tensor:
    """Group cells into overlapping blocks and L2-Hys normalise each block: features (N, D)."""
    n, rows, cols, orientations = histograms.shape
    blocks = histograms.unfold(1, block_size, 1).unfold(2, block_size, 1)  # N, bR, bC, O, b, b
    blocks = blocks.permute(0, 1, 2, 4, 5, 3).reshape(n, rows - block_size + 1, cols - block_size + 1, -1)
    blocks = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + eps**2)
    blocks = blocks.clamp(max=L2_HYS_CLIP)  # "Hys": clip large values, so one strong edge cannot dominate a block
    blocks = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + eps**2)
    return blocks.reshape(n, -1)


def hog_features(images: torch.Tensor | np.ndarray, orientations: int = 9, cell_size: int = 4,
                 block_size: int = 2, chunk_size: int = 4096) -> torch.Tensor:
    """HOG descriptors (N, D) of grayscale images, the same as skimage.feature.hog(block_norm="L2-Hys").

    Works on `chunk_size` images at a time to bound the memory used.
    """
    x = as_image_batch(images, min_size=cell_size * block_size)
    if orientations < 1:
        raise ValueError(f"orientations must be at least 1, got {orientations}")
    chunks = [
        normalise_blocks(cell_histograms(x[start : start + chunk_size], orientations, cell_size), block_size)
        for start in range(0, len(x), chunk_size)
    ]
    return torch.cat(chunks)


def hog_feature_size(image_size: int, orientations: int = 9, cell_size: int = 4, block_size: int = 2) -> int:
    """The length of the HOG vector of a square image: blocks x cells per block x orientations."""
    blocks = image_size // cell_size - block_size + 1
    return blocks * blocks * block_size * block_size * orientations
