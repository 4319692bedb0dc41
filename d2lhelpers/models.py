"""The networks of the series: the book's simplified AlexNet and LeNet.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

from torch import nn

from d2lhelpers.shapes import smallest_valid_input, spatial_sizes


def alexnet_features(in_channels: int = 1) -> nn.Sequential:
    """AlexNet's five convolution layers with ReLU and three overlapping 3x3/2 max-pooling layers."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )  # fmt: skip


def alexnet(
    num_classes: int = 10, in_channels: int = 1, image_size: int = 224, dropout: float = 0.5
) -> nn.Sequential:
    """The book's simplified AlexNet (d2l 7.1) for square `image_size` inputs, as one flat nn.Sequential.

    The flatten size is derived with `conv_output_size` (256 * 5 * 5 = 6400 at 224), so any size from
    the smallest valid one (65) upward works; a smaller one raises ValueError naming that minimum.
    """
    features = alexnet_features(in_channels)
    side = spatial_sizes(features, image_size)[-1]
    if side < 1:
        smallest = smallest_valid_input(features)
        raise ValueError(
            f"image_size={image_size} is too small for AlexNet: the feature maps shrink to nothing "
            f"before the last pooling layer. The smallest valid image_size is {smallest}."
        )
    channels = [m for m in features if isinstance(m, nn.Conv2d)][-1].out_channels
    return nn.Sequential(
        *features,
        nn.Flatten(),
        nn.Linear(channels * side * side, 4096), nn.ReLU(), nn.Dropout(p=dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=dropout),
        nn.Linear(4096, num_classes),
    )  # fmt: skip


def lenet(num_classes: int = 10) -> nn.Sequential:
    """The book's LeNet-5 (d2l 6.6) for 1x28x28 inputs: sigmoid activations and average pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )  # fmt: skip
