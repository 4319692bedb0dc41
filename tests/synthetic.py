"""Synthetic data and a small network for fast tests: two easy classes that any working training loop learns in
seconds."""

import torch

from d2lhelpers.data import FashionMNIST
from d2lhelpers.models import alexnet


def corner_squares(n_train: int = 192, n_test: int = 64, seed: int = 0) -> FashionMNIST:
    """A bright square in the top-left (class 0) or bottom-right (class 1) corner, on dark noise."""
    generator = torch.Generator().manual_seed(seed)

    def make(n):
        labels = torch.randint(0, 2, (n,), generator=generator)
        images = torch.randint(0, 40, (n, 28, 28), generator=generator, dtype=torch.uint8)
        for i, label in enumerate(labels):
            corner = slice(2, 12) if label == 0 else slice(16, 26)
            images[i, corner, corner] = 220
        return images, labels

    return FashionMNIST(*make(n_train), *make(n_test))


def small_net(width: float = 0.25) -> torch.nn.Sequential:
    """AlexNet for two classes, seeded; a quarter of its channels by default, for tests of the loop, not the network."""
    torch.manual_seed(0)
    return alexnet(num_classes=2, image_size=65, width=width, hidden_width=round(4096 * width))
