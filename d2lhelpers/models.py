"""The networks of the series: the book's simplified AlexNet, LeNet and a small CNN baseline.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from d2lhelpers.shapes import smallest_valid_input, spatial_sizes

POOLING = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LocalResponseNorm(nn.LocalResponseNorm):
    """nn.LocalResponseNorm with the sum over neighbouring channels done as one matrix product.

    Same parameters, same values (to float rounding), same name when printed; on a CPU the training step
    of notebook 07's LRN variant takes about 60% of the time it takes with PyTorch's pooling-based layer.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            return super().forward(x)
        channel = torch.arange(x.shape[1], device=x.device)
        # neighbours[c, d] = alpha/n when channel d is within size//2 of channel c (the window, clipped at the edges)
        neighbours = ((channel[:, None] - channel[None, :]).abs() <= self.size // 2).to(x.dtype) * (self.alpha / self.size)
        window_sums = (x * x).movedim(1, -1) @ neighbours  # channels last: one product over the channel axis
        return x * (self.k + window_sums.movedim(-1, 1)).pow(-self.beta)


def paper_lrn() -> LocalResponseNorm:
    """The paper's local response normalisation: k=2, n=5, alpha=1e-4, beta=0.75.

    PyTorch divides `alpha` by `size` (b = a / (k + alpha/n * sum a^2)^beta), so the paper's alpha=1e-4
    is alpha=5e-4 here; with 1e-4 the layer would be almost a constant rescale.
    """
    return LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Sequential):
    """A flat nn.Sequential that knows the square input size it was built for, and says so when fed another."""

    def __init__(self, *layers: nn.Module, image_size: int, in_channels: int):
        super().__init__(*layers)
        self.image_size, self.in_channels = image_size, in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-2:] != (self.image_size, self.image_size):
            got = "x".join(str(d) for d in x.shape[1:]) if x.dim() == 4 else f"a {x.dim()}-D tensor {tuple(x.shape)}"
            raise ValueError(
                f"this AlexNet was built for batches of {self.in_channels}x{self.image_size}x{self.image_size} images "
                f"(N, channels, height, width) but got {got}. Resize the images "
                f"(to_model_input(images, {self.image_size})) or build the model for the new size "
                f"(alexnet(image_size=...))."
            )
        return super().forward(x)

    def __getitem__(self, index):  # a slice is a plain nn.Sequential: it takes other inputs
        if isinstance(index, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[index]))
        return super().__getitem__(index)


CONV_CHANNELS = (96, 256, 384, 384, 256)  # AlexNet's five convolution layers
POOL_AFTER = (1, 2, 5)  # the convolution layers followed by a 3x3/2 pooling layer


def alexnet_features(in_channels: int = 1, activation: type[nn.Module] = nn.ReLU, pooling: str = "max",
                     lrn: bool = False) -> nn.Sequential:
    """AlexNet's five convolution layers with ReLU and three overlapping 3x3/2 max-pooling layers.

    Notebook 07 swaps the parts: `activation` (nn.Sigmoid), `pooling` ("avg"), and `lrn=True` adds the
    paper's local response normalisation after the first two ReLUs.
    """
    if pooling not in POOLING:
        raise ValueError(f"pooling must be one of {', '.join(POOLING)}, got {pooling!r}")
    pool = POOLING[pooling]

    def normalise() -> list[nn.Module]:
        return [paper_lrn()] if lrn else []

    return nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1), activation(), *normalise(),
        pool(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), activation(), *normalise(),
        pool(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), activation(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), activation(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), activation(),
        pool(kernel_size=3, stride=2),
    )  # fmt: skip


def reshaped_alexnet_features(in_channels: int = 1, activation: type[nn.Module] = nn.ReLU, pooling: str = "max",
                              lrn: bool = False, width: float = 1.0, extra_convs: int = 0,
                              pool_after: tuple[int, ...] = POOL_AFTER,
                              first_conv: tuple[int, int, int] = (11, 4, 1),
                              pool_window: tuple[int, int] = (3, 2)) -> nn.Sequential:
    """`alexnet_features` reshaped for notebook 08's questions; with the default shape it builds the same layers.

    `width` scales every layer's channels, `extra_convs` adds 3x3 layers of conv4's width after conv4,
    `pool_after` lists which of the book's five convolution layers (1-based, extra layers not counted)
    are followed by pooling, `first_conv` is conv1's (kernel, stride, padding), and `pool_window` the pooling
    layers' (kernel, stride): (3, 2) overlaps, as in the paper; (2, 2) does not.
    """
    if pooling not in POOLING:
        raise ValueError(f"pooling must be one of {', '.join(POOLING)}, got {pooling!r}")
    if width <= 0 or extra_convs < 0:
        raise ValueError(f"need width > 0 and extra_convs >= 0, got {width} and {extra_convs}")
    if not set(pool_after) <= set(range(1, len(CONV_CHANNELS) + 1)):
        raise ValueError(f"pool_after names the book's convolution layers 1..{len(CONV_CHANNELS)}, got {pool_after}")
    channels = [max(1, round(c * width)) for c in CONV_CHANNELS]
    # (output channels, (kernel, stride, padding), the book's layer number or None for an extra layer)
    specs = [(channels[0], first_conv, 1), (channels[1], (5, 1, 2), 2), (channels[2], (3, 1, 1), 3),
             (channels[3], (3, 1, 1), 4)] + [(channels[3], (3, 1, 1), None)] * extra_convs + [(channels[4], (3, 1, 1), 5)]
    layers: list[nn.Module] = []
    n_in = in_channels
    for n_out, (kernel, stride, padding), book_layer in specs:
        layers += [nn.Conv2d(n_in, n_out, kernel_size=kernel, stride=stride, padding=padding), activation()]
        if lrn and book_layer in (1, 2):
            layers.append(paper_lrn())
        if book_layer in pool_after:
            layers.append(POOLING[pooling](kernel_size=pool_window[0], stride=pool_window[1]))
        n_in = n_out
    return nn.Sequential(*layers)


def alexnet(
    num_classes: int = 10, in_channels: int = 1, image_size: int = 224, dropout: float = 0.5,
    activation: type[nn.Module] = nn.ReLU, pooling: str = "max", lrn: bool = False,
    hidden_layers: int = 2, hidden_width: int = 4096, width: float = 1.0, extra_convs: int = 0,
    pool_after: tuple[int, ...] = POOL_AFTER, first_conv: tuple[int, int, int] = (11, 4, 1),
    pool_window: tuple[int, int] = (3, 2),
) -> AlexNet:
    """The book's simplified AlexNet (d2l 7.1) for square `image_size` inputs, as one flat nn.Sequential.

    The flatten size is derived with `conv_output_size` (256 * 5 * 5 = 6400 at 224), so any size from
    the smallest valid one (65) upward works; a smaller one raises ValueError naming that minimum.
    The other arguments are for the experiments of notebooks 07 and 08 (see `alexnet_features` and
    `reshaped_alexnet_features`;
    `hidden_layers` and `hidden_width` shape the dense part); the model remembers `image_size` and
    refuses other sizes with a clear error.
    """
    if hidden_layers < 0 or hidden_width < 1:
        raise ValueError(f"need hidden_layers >= 0 and hidden_width >= 1, got {hidden_layers} and {hidden_width}")
    reshaped = (width, extra_convs, tuple(pool_after), tuple(first_conv), tuple(pool_window)) != (
        1.0, 0, POOL_AFTER, (11, 4, 1), (3, 2))
    features = (reshaped_alexnet_features(in_channels, activation, pooling, lrn, width, extra_convs, pool_after,
                                          first_conv, tuple(pool_window))
                if reshaped else alexnet_features(in_channels, activation, pooling, lrn))
    side = spatial_sizes(features, image_size)[-1]
    if side < 1:
        smallest = smallest_valid_input(features)
        raise ValueError(
            f"image_size={image_size} is too small for AlexNet: the feature maps shrink to nothing "
            f"before the last pooling layer. The smallest valid image_size is {smallest}."
        )
    channels = [m for m in features if isinstance(m, nn.Conv2d)][-1].out_channels
    widths = [channels * side * side] + [hidden_width] * hidden_layers
    hidden = [layer for n_in, n_out in zip(widths, widths[1:])
              for layer in (nn.Linear(n_in, n_out), activation(), nn.Dropout(p=dropout))]
    return AlexNet(*features, nn.Flatten(), *hidden, nn.Linear(widths[-1], num_classes),
                   image_size=image_size, in_channels=in_channels)


def alexnet_2012(num_classes: int = 1000) -> AlexNet:
    """The network of the 2012 paper for 3x227x227 inputs, on one device.

    The paper split it over two GPUs: conv2, conv4 and conv5 only see the channels on their own GPU,
    which is a grouped convolution with groups=2; conv3 and the dense layers see both halves. Local
    response normalisation follows the first two ReLUs, and the pooling windows overlap (3x3, stride 2).
    Introduced in notebook 07.
    """
    return AlexNet(
        nn.Conv2d(3, 96, kernel_size=11, stride=4), nn.ReLU(), paper_lrn(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2), nn.ReLU(), paper_lrn(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes),
        image_size=227, in_channels=3,
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


def small_cnn(num_classes: int = 10, width: int = 32) -> nn.Sequential:
    """A small modern CNN for 1x28x28 inputs: two 3x3 conv blocks with ReLU and max pooling, one hidden layer.

    Introduced in notebook 01, as the "learned features" baseline that trains in a minute on a CPU.
    """
    return nn.Sequential(
        nn.Conv2d(1, width, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(width, 2 * width, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(), nn.Dropout(p=0.3),
        nn.Linear(128, num_classes),
    )  # fmt: skip


def check_input_size(net: nn.Module, image_size: int) -> None:
    """A model that knows its input size (AlexNet) must have been built for the `image_size` it will train at."""
    built_for = getattr(net, "image_size", None)
    if built_for is not None and built_for != image_size:
        raise ValueError(
            f"the model was built for {built_for}x{built_for} images but the settings train at "
            f"{image_size}x{image_size}: build it with alexnet(image_size={image_size}) "
            f"or train with image_size={built_for}"
        )
