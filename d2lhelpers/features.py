"""Hand-crafted features (Sobel, Gabor, HOG batched), the timed classical pipeline on them, the small CNN it faces (01, 06)."""

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression

from d2lhelpers.training import TrainSettings

# notebook 01's small CNN (models.small_cnn): Adam on a cosine schedule, no augmentation; callers set images and budget
SMALL_CNN = TrainSettings(image_size=28, epochs=30, optimizer="adam", lr=1e-3, schedule="cosine")


def as_image_batch(images: torch.Tensor | np.ndarray, min_size: int = 1) -> torch.Tensor:
    """Grayscale images, (N, H, W) or (N, 1, H, W), uint8 or floating point, as float32 (N, H, W); else an error."""
    images = torch.from_numpy(images) if isinstance(images, np.ndarray) else images
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor or numpy array of images, got {type(images).__name__}")
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.dim() != 3:
        hint = " (a single image? add a batch axis: images[None])" if images.dim() == 2 else ""
        raise ValueError(f"expected a batch of grayscale images shaped (N, H, W) or (N, 1, H, W), "
                         f"got shape {tuple(images.shape)}{hint}")
    if images.dtype != torch.uint8 and not images.dtype.is_floating_point:
        raise TypeError(f"expected uint8 (0-255) or floating-point images, got {images.dtype}")
    if min(images.shape[1:]) < min_size:
        raise ValueError(f"images of {images.shape[1]}x{images.shape[2]} are too small: this needs at least {min_size}x{min_size}")
    return images.float()


def sobel_kernels() -> torch.Tensor:
    """The two 3x3 Sobel kernels, shape (2, 1, 3, 3): d/dx (responds to vertical edges), then d/dy."""
    d_dx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return torch.stack([d_dx, d_dx.T]).unsqueeze(1)


def gabor_bank(size: int = 11, orientations: int = 4, wavelength: float = 6.0) -> torch.Tensor:
    """Real Gabor filters (orientations, 1, size, size) at angles in [0, 180), 0 detecting vertical stripes: a cosine
    grating of `wavelength` pixels under a Gaussian window, zero mean, unit L1 norm."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number of pixels, got {size}")
    y, x = torch.meshgrid(*[torch.arange(-(size // 2), size // 2 + 1.0)] * 2, indexing="ij")
    kernels = []
    for theta in (math.radians(180 * k / orientations) for k in range(orientations)):
        along = x * math.cos(theta) + y * math.sin(theta)
        across = -x * math.sin(theta) + y * math.cos(theta)
        window = torch.exp(-(along**2 + (0.5 * across) ** 2) / (2 * (0.5 * wavelength) ** 2))  # longer along the stripes
        kernel = window * torch.cos(2 * math.pi * along / wavelength)
        kernel = kernel - kernel.mean()
        kernels.append(kernel / kernel.abs().sum())
    return torch.stack(kernels).unsqueeze(1)


def filter_responses(images: torch.Tensor | np.ndarray, kernels: torch.Tensor) -> torch.Tensor:
    """Each kernel (K, 1, k, k) or (K, k, k) slid over each image, unflipped as nn.Conv2d does: (N, K, H, W)."""
    x = as_image_batch(images).unsqueeze(1)
    kernels = kernels.float().unsqueeze(1) if kernels.dim() == 3 else kernels.float()
    if kernels.dim() != 4 or kernels.shape[1] != 1 or kernels.shape[-1] != kernels.shape[-2] or kernels.shape[-1] % 2 == 0:
        raise ValueError(f"expected square odd-sized kernels shaped (K, 1, k, k) or (K, k, k), got {tuple(kernels.shape)}")
    return F.conv2d(x, kernels, padding=kernels.shape[-1] // 2)


L2_HYS_CLIP = 0.2  # L2-Hys clips each L2-normalised block value here (scikit-image's and Dalal-Triggs' value)


def cell_histograms(images: torch.Tensor | np.ndarray, orientations: int = 9, cell_size: int = 4) -> torch.Tensor:
    """Per cell of cell_size² pixels, the mean gradient magnitude by unsigned orientation bin, as scikit-image's:
    (N, cells down, cells across, orientations); central differences, 0 at the border."""
    x = as_image_batch(images, min_size=cell_size)
    d_row, d_col = torch.zeros_like(x), torch.zeros_like(x)
    d_row[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    d_col[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    magnitude = torch.hypot(d_row, d_col)
    angle = torch.rad2deg(torch.atan2(d_row, d_col)) % 180
    bins = torch.div(angle, 180 / orientations, rounding_mode="floor").long().clamp_(0, orientations - 1)
    n, h, w = x.shape
    per_pixel = torch.zeros(n, h, w, orientations).scatter_(3, bins.unsqueeze(-1), magnitude.unsqueeze(-1))
    rows, cols = h // cell_size, w // cell_size
    per_pixel = per_pixel[:, : rows * cell_size, : cols * cell_size]
    return per_pixel.reshape(n, rows, cell_size, cols, cell_size, orientations).sum((2, 4)) / cell_size**2


def hog_features(images: torch.Tensor | np.ndarray, orientations: int = 9, cell_size: int = 4,
                 block_size: int = 2, chunk_size: int = 4096) -> torch.Tensor:
    """HOG descriptors (N, D): cell histograms in overlapping blocks, each L2-Hys normalised; `chunk_size` at a time."""
    x = as_image_batch(images, min_size=cell_size * block_size)
    if orientations < 1:
        raise ValueError(f"orientations must be at least 1, got {orientations}")
    chunks = []
    for start in range(0, len(x), chunk_size):
        histograms = cell_histograms(x[start : start + chunk_size], orientations, cell_size)
        n, rows, cols, _ = histograms.shape
        blocks = histograms.unfold(1, block_size, 1).unfold(2, block_size, 1)  # N, bR, bC, O, b, b
        blocks = blocks.permute(0, 1, 2, 4, 5, 3).reshape(n, rows - block_size + 1, cols - block_size + 1, -1)
        blocks = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + 1e-5**2)
        blocks = blocks.clamp(max=L2_HYS_CLIP)  # "Hys": clip large values, so one strong edge cannot dominate a block
        chunks.append((blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + 1e-5**2)).reshape(n, -1))
    return torch.cat(chunks)


@dataclass(frozen=True)
class PipelineResult:
    """What one pipeline reached, and where its time went (seconds)."""
    name: str
    train_examples: int
    test_examples: int
    accuracy: float
    extract_s: float
    fit_s: float
    predict_s: float

    @property
    def total_s(self) -> float:
        return self.extract_s + self.fit_s + self.predict_s

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "total_s": self.total_s}

    def __str__(self) -> str:
        return (f"{self.name}: accuracy {self.accuracy:.4f} on {self.test_examples:,} test images "
                f"({self.train_examples:,} for training); extract {self.extract_s:.1f} s, "
                f"fit {self.fit_s:.1f} s, predict {self.predict_s:.1f} s")


def linear_classifier() -> LogisticRegression:
    """Multinomial logistic regression (a linear model), for features already scaled to about [0, 1]."""
    return LogisticRegression(C=1.0, max_iter=1000, tol=1e-3)


def _as_features(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"{name} features must be a 2-D array (examples, features), got shape {x.shape}; "
                         "flatten images first, e.g. images.reshape(len(images), -1)")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{name}: expected one label per example ({len(x)}), got labels of shape {y.shape}")
    return x, y


def run_pipeline(name: str, classifier, train_x: np.ndarray, train_y: np.ndarray,
                 test_x: np.ndarray, test_y: np.ndarray, extract_s: float = 0.0) -> PipelineResult:
    """Fit `classifier` (scikit-learn's fit and predict) on the training features, score it on the test ones, timed."""
    train_x, train_y = _as_features(train_x, train_y, "training")
    test_x, test_y = _as_features(test_x, test_y, "test")
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"training and test features differ in length: {train_x.shape[1]} vs {test_x.shape[1]}")
    start = time.perf_counter()
    classifier.fit(train_x, train_y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = classifier.predict(test_x)
    predict_s = time.perf_counter() - start
    return PipelineResult(name, len(train_x), len(test_x), float((predicted == test_y).mean()), extract_s, fit_s, predict_s)


def result_from_record(record: Mapping[str, object]) -> PipelineResult:
    """A PipelineResult from one entry of a recorded benchmark (benchmarks/handcrafted.json)."""
    if missing := [f.name for f in fields(PipelineResult) if f.name not in record]:
        raise ValueError(f"the recorded result lacks {missing}; re-run the benchmark: "
                         "python benchmarks/handcrafted.py --svm-c C [--with-pixels], or --cnn-only")
    return PipelineResult(**{f.name: record[f.name] for f in fields(PipelineResult)})
