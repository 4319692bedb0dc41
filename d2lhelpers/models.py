"""The series' networks (the book's AlexNet, the 2012 one, LeNet, a small CNN); their parameters, multiply-adds, memory (03)."""

import copy
from collections import OrderedDict

import pandas as pd
import torch
from torch import nn

from d2lhelpers.shapes import smallest_valid_input, spatial_sizes

POOLING = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
OPTIMIZER_STATE_COPIES = {"SGD": 0, "SGD with momentum": 1, "Adam": 2}  # weight-sized tensors each keeps


class LocalResponseNorm(nn.LocalResponseNorm):
    """nn.LocalResponseNorm (same values, same name), its channel sum one matrix product: 60% of the time on a CPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channel = torch.arange(x.shape[1], device=x.device)
        # neighbours[c, d] = alpha/n when channel d is within size//2 of channel c (the window, clipped at the edges)
        neighbours = ((channel[:, None] - channel[None, :]).abs() <= self.size // 2).to(x.dtype) * (self.alpha / self.size)
        window_sums = (x * x).movedim(1, -1) @ neighbours  # channels last: one product over the channel axis
        return x * (self.k + window_sums.movedim(-1, 1)).pow(-self.beta)


def paper_lrn() -> LocalResponseNorm:
    """The paper's local response normalisation: k=2, n=5, alpha=1e-4 (5e-4 here: PyTorch divides it by n), beta=0.75."""
    return LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Sequential):
    """A flat nn.Sequential that knows the square input size it was built for, and says so when fed another."""

    def __init__(self, *layers: nn.Module, image_size: int, in_channels: int):
        super().__init__(*layers)
        self.image_size, self.in_channels = image_size, in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-2:] != (self.image_size, self.image_size):
            got = "x".join(str(d) for d in x.shape[1:]) if x.dim() == 4 else f"a {x.dim()}-D tensor {tuple(x.shape)}"
            size = f"{self.in_channels}x{self.image_size}x{self.image_size}"
            raise ValueError(f"this AlexNet was built for batches of {size} images (N, channels, height, width) but "
                             f"got {got}. Resize the images (to_model_input(images, {self.image_size})) or build the "
                             f"model for the new size (alexnet(image_size=...)).")
        return super().forward(x)

    def __getitem__(self, index):  # a slice is a plain nn.Sequential: it takes other inputs
        if isinstance(index, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[index]))
        return super().__getitem__(index)


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


def alexnet(num_classes: int = 10, in_channels: int = 1, image_size: int = 224, dropout: float = 0.5,
            activation: type[nn.Module] = nn.ReLU, pooling: str = "max", lrn: bool = False, hidden_layers: int = 2,
            hidden_width: int = 4096, width: float = 1.0, extra_convs: int = 0, pool_after: tuple[int, ...] = (1, 2, 5),
            first_conv: tuple[int, int, int] = (11, 4, 1), pool_window: tuple[int, int] = (3, 2)) -> AlexNet:
    """The book's AlexNet (d2l 7.1) for square `image_size` inputs (65 at least), a flat nn.Sequential. Notebooks 07
    and 08 reshape it: `width` scales the channels, `extra_convs` adds 3x3 layers after conv4, `pool_after` lists the
    convolutions (1-5) followed by pooling, `first_conv` is conv1's (kernel, stride, padding), `pool_window` the
    pooling's (kernel, stride)."""
    if hidden_layers < 0 or hidden_width < 1 or width <= 0 or extra_convs < 0:
        raise ValueError(f"need hidden_layers >= 0, hidden_width >= 1, width > 0 and extra_convs >= 0, got "
                         f"{hidden_layers=}, {hidden_width=}, {width=}, {extra_convs=}")
    if not set(pool_after) <= {1, 2, 3, 4, 5}:
        raise ValueError(f"pool_after names the book's convolution layers 1..5, got {pool_after}")
    blocks = []  # each convolution layer of the book with the layers after it, pooling left out
    with torch.device("meta"):  # the book's layers as a template: no weights drawn, so a seed gives the same ones
        for layer in alexnet_features(in_channels, activation, pooling, lrn):
            if isinstance(layer, nn.Conv2d):
                blocks.append([layer])
            elif not isinstance(layer, tuple(POOLING.values())):
                blocks[-1].append(layer)
    features: list[nn.Module] = []
    n_in = in_channels
    for number, (conv, *after) in [*enumerate(blocks[:4], 1), *[(0, blocks[3])] * extra_convs, (5, blocks[4])]:
        kernel, stride, padding = first_conv if number == 1 else (conv.kernel_size[0], conv.stride[0], conv.padding[0])
        n_out = max(1, round(conv.out_channels * width))
        features += [nn.Conv2d(n_in, n_out, kernel_size=kernel, stride=stride, padding=padding), *copy.deepcopy(after)]
        if number in pool_after:
            features.append(POOLING[pooling](kernel_size=pool_window[0], stride=pool_window[1]))
        n_in = n_out
    side = spatial_sizes(features, image_size)[-1]
    if side < 1:
        raise ValueError(f"image_size={image_size} is too small for AlexNet: the feature maps shrink to nothing before "
                         f"the last pooling layer. The smallest valid image_size is {smallest_valid_input(features)}.")
    widths = [n_in * side * side] + [hidden_width] * hidden_layers
    hidden = [layer for a, b in zip(widths, widths[1:]) for layer in (nn.Linear(a, b), activation(), nn.Dropout(p=dropout))]
    return AlexNet(*features, nn.Flatten(), *hidden, nn.Linear(widths[-1], num_classes),
                   image_size=image_size, in_channels=in_channels)


def alexnet_2012(num_classes: int = 1000) -> AlexNet:
    """The 2012 paper's network for 3x227x227 inputs on one device: its two GPUs are groups=2 in conv2, conv4, conv5."""
    return AlexNet(
        nn.Conv2d(3, 96, kernel_size=11, stride=4), nn.ReLU(), paper_lrn(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2), nn.ReLU(), paper_lrn(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes),
        image_size=227, in_channels=3,
    )  # fmt: skip


def lenet(num_classes: int = 10) -> nn.Sequential:
    """The book's LeNet-5 (d2l 6.6) for 1x28x28 inputs: sigmoid activations and average pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )  # fmt: skip


def small_cnn(num_classes: int = 10, width: int = 32) -> nn.Sequential:
    """Notebook 01's learned-features baseline for 1x28x28 inputs, a minute on a CPU: two conv blocks, one dense."""
    return nn.Sequential(
        nn.Conv2d(1, width, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(width, 2 * width, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(), nn.Dropout(p=0.3),
        nn.Linear(128, num_classes),
    )  # fmt: skip


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in `module`."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def multiply_adds(layer: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds one example costs in `layer` (convolutions and linear layers; 0 for the others)."""
    if isinstance(layer, nn.Conv2d):
        return output[0].numel() * (layer.in_channels // layer.groups) * layer.kernel_size[0] * layer.kernel_size[1]
    return output[0].numel() * layer.in_features if isinstance(layer, nn.Linear) else 0


def layer_costs(net: nn.Sequential, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """One row per layer: output shape, parameters and multiply-adds for one example of `input_shape` (1, 224, 224)."""
    rows, x = [], torch.zeros(1, *input_shape)
    with torch.no_grad():
        for index, layer in enumerate(net):
            x = layer(x)
            rows.append({"layer": f"{index}: {layer.__class__.__name__}", "output shape": tuple(x.shape[1:]),
                         "parameters": count_parameters(layer), "multiply-adds": multiply_adds(layer, x)})
    return pd.DataFrame(rows)


def training_memory_bytes(num_parameters: int, optimizer: str = "SGD") -> int:
    """Bytes for the float32 weights, their gradients and the optimizer's state (activations not included)."""
    if optimizer not in OPTIMIZER_STATE_COPIES:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZER_STATE_COPIES)}")
    return (2 + OPTIMIZER_STATE_COPIES[optimizer]) * num_parameters * 4


def saved_for_backward(net: nn.Sequential, x: torch.Tensor) -> pd.DataFrame:
    """The tensors autograd keeps from one training-mode forward pass of `x`, one row per storage (parameters left
    out): the layer that saved it, its role ("input", "output", "other": e.g. a dropout mask), shape, dtype, bytes."""
    parameters = {p.untyped_storage().data_ptr() for p in net.parameters()}
    rows: dict[int, dict[str, object]] = {}
    name, outputs = "", [x]  # every output kept alive, so that no freed storage is reused and taken for another

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in parameters and pointer not in rows:
            role = "input" if pointer == outputs[-1].untyped_storage().data_ptr() else "other"
            rows[pointer] = {"layer": name, "saved": role, "shape": tuple(tensor.shape),
                             "dtype": str(tensor.dtype).removeprefix("torch."), "bytes": tensor.untyped_storage().nbytes()}
        return tensor

    was_training = net.training
    net.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            for index, layer in enumerate(net):
                name = f"{index}: {layer.__class__.__name__}"
                outputs.append(layer(outputs[-1]))
                produced = rows.get(outputs[-1].untyped_storage().data_ptr())
                if produced is not None and produced["layer"] == name:
                    produced["saved"] = "output"  # e.g. ReLU keeps its result, not its input
    finally:
        net.train(was_training)
    return pd.DataFrame(list(rows.values()), columns=["layer", "saved", "shape", "dtype", "bytes"])
