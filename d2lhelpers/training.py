"""Training on CPU or GPU: batches made on the device, mixed precision, checkpoints and resumption.

Introduced in notebook 05 (training AlexNet). Compared with the book's `d2l.train_ch6`, `train`
keeps the weights it is given, works with any number of batches, counts examples/s end to end
(data preparation included), and writes a checkpoint after every epoch, so that an interrupted
run keeps its history and resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from d2lhelpers.data import default_data_dir, display_path
from d2lhelpers.timing import synchronize

# Pixel statistics of the Fashion-MNIST training images, in [0, 1] (computed in notebook 04).
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530


@dataclass(frozen=True)
class TrainSettings:
    """What a training run does; a run profile fills these in."""

    image_size: int = 224
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"  # "sgd" (the book's) or "adam"
    lr: float = 0.01
    schedule: str = "constant"  # "constant" (the book's) or "cosine": lr decays to 0 over the run
    train_examples: int | None = None  # None: all
    test_examples: int | None = None
    augment: bool = False
    seed: int = 0


@dataclass
class History:
    """Per-epoch metrics of a run; `interrupted` is True when the run was stopped by the reader."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    precision: str = "fp32"
    device: str = "cpu"
    interrupted: bool = False

    def last(self, key: str) -> float:
        return self.epochs[-1][key]


class TrainingError(RuntimeError):
    """A run that cannot go on: out of memory, or a checkpoint that does not fit; the message says why."""


def to_model_input(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 (N, 28, 28) images -> normalised float (N, 1, image_size, image_size), resized on their device."""
    x = images.unsqueeze(1).float().div_(255)
    if x.shape[-1] != image_size:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return (x - FASHION_MNIST_MEAN) / FASHION_MNIST_STD


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
    """Model-ready batches from uint8 images kept on the device; shuffled when a generator is given."""
    n = len(images)
    order = torch.randperm(n, generator=generator).to(images.device) if generator is not None else None
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size] if order is not None else slice(start, start + batch_size)
        x = to_model_input(images[index], image_size)
        if augment:
            x = augment_batch(x, generator)
        yield x, labels[index]


def autocast(device: torch.device, precision: str):
    """bf16 autocast when `precision` is 'bf16', a no-op context otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def _step_seconds(net: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str, repeats: int = 3) -> float:
    """Median wall time of a forward and backward pass (weights unchanged)."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        with autocast(x.device, precision):
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        synchronize(x.device)
        if i:  # the first run warms up
            times.append(time.perf_counter() - start)
    net.zero_grad(set_to_none=True)
    return sorted(times)[len(times) // 2]


def choose_precision(net: nn.Module, image_size: int, device: torch.device, batch_size: int = 128) -> str:
    """'bf16' on CUDA GPUs that support it; on CPUs, 'bf16' only when a measured step at the training
    batch size is clearly faster than in fp32 (native bf16 instructions); 'fp32' elsewhere (MPS, older
    hardware). Small batches hide bf16's gain, so probe with the batch size that will be trained."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type != "cpu":
        return "fp32"
    x = torch.randn(batch_size, 1, image_size, image_size)
    y = torch.zeros(batch_size, dtype=torch.long)
    try:
        fp32, bf16 = _step_seconds(net, x, y, "fp32"), _step_seconds(net, x, y, "bf16")
    except RuntimeError:  # no bf16 kernels on this CPU
        return "fp32"
    return "bf16" if bf16 < 0.9 * fp32 else "fp32"


def evaluate(
    net: nn.Module, images: torch.Tensor, labels: torch.Tensor, image_size: int, precision: str = "fp32",
    batch_size: int = 256,
) -> tuple[float, torch.Tensor]:
    """Accuracy on a data set, and the predicted classes (on the CPU)."""
    net.eval()
    predictions = []
    with torch.no_grad():
        for x, _ in batches(images, labels, batch_size, image_size):
            with autocast(x.device, precision):
                predictions.append(net(_memory_format(x)).argmax(dim=1).cpu())
    predicted = torch.cat(predictions)
    return (predicted == labels.cpu()).float().mean().item(), predicted


# Devices whose convolutions are faster on channels-last tensors (cuDNN, oneDNN).
CHANNELS_LAST_DEVICES = ("cuda", "cpu")


def _memory_format(x: torch.Tensor) -> torch.Tensor:
    """Channels-last batches where the device's convolutions prefer them."""
    return x.contiguous(memory_format=torch.channels_last) if x.device.type in CHANNELS_LAST_DEVICES else x


def prepare_model(net: nn.Module, device: torch.device) -> nn.Module:
    """`net` on `device`, with channels-last weights where the device's convolutions prefer them."""
    net.to(device)
    if device.type in CHANNELS_LAST_DEVICES:
        net.to(memory_format=torch.channels_last)
    return net


def out_of_memory_error(error: BaseException, settings: TrainSettings, device: torch.device) -> TrainingError:
    """The book's advice, as an error: use a smaller batch or smaller images."""
    return TrainingError(
        f"Out of memory on {device} with batch_size={settings.batch_size} and image_size={settings.image_size}. "
        f"Try batch_size={max(1, settings.batch_size // 2)}, or a smaller image_size (the smallest AlexNet "
        f"accepts is 65), or the `cpu` profile. ({type(error).__name__}: {str(error).splitlines()[0]})"
    )


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and ("out of memory" in str(error) or "can't allocate memory" in str(error))
    )


def make_optimizer(net: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    """SGD (the book's) or Adam, as the settings say; fused kernels where the device has them."""
    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    if settings.optimizer not in classes:
        raise ValueError(f"unknown optimizer {settings.optimizer!r}: choose 'sgd' or 'adam'")
    try:  # one kernel for all parameters: Adam's step is a third faster on a CPU
        return classes[settings.optimizer](net.parameters(), lr=settings.lr, fused=True)
    except (RuntimeError, TypeError):
        return classes[settings.optimizer](net.parameters(), lr=settings.lr)


def check_state_fits(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise TrainingError naming the first difference when `state` was saved from another architecture."""
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise TrainingError(
            f"{source} was saved from a different architecture: "
            f"missing {missing[:3]}, unexpected {unexpected[:3]}. Build the same model, or delete the file to start afresh."
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise TrainingError(
                f"{source} does not fit this model: {name} has shape {tuple(tensor.shape)} in the file and "
                f"{tuple(own[name].shape)} here (a different image_size or number of classes?). "
                f"Build the model it was saved from, or delete the file to start afresh."
            )


def save_checkpoint(path: Path, net: nn.Module, optimizer: torch.optim.Optimizer, settings: TrainSettings,
                    history: History) -> None:
    """Write the state after an epoch atomically: a crash mid-write never leaves a broken file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "settings": asdict(settings),
        "history": asdict(history),
        "rng": torch.get_rng_state(),
    }
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, net: nn.Module, settings: TrainSettings | None = None) -> dict:
    """Load a checkpoint's weights into `net` after checking that they fit (and, when `settings` are
    given, that they come from a run with the same settings); returns the whole checkpoint."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if settings is not None and checkpoint["settings"] != asdict(settings):
        now = asdict(settings)
        changed = {k: (checkpoint["settings"].get(k), now.get(k)) for k in now.keys() | checkpoint["settings"].keys()
                   if checkpoint["settings"].get(k) != now.get(k)}
        raise TrainingError(
            f"{path} comes from a run with other settings (saved, now): {dict(sorted(changed.items()))}. "
            f"Delete it to start afresh, or pass checkpoint=None."
        )
    check_state_fits(net, checkpoint["model"], str(path))
    net.load_state_dict(checkpoint["model"])
    return checkpoint


def train(
    net: nn.Module,
    data,
    settings: TrainSettings,
    device: torch.device,
    checkpoint: Path | None = None,
    precision: str | None = None,
    on_epoch_end: Callable[[History], None] | None = None,
) -> History:
    """Train `net` on `data` (a FashionMNIST of uint8 tensors) and evaluate after every epoch.

    With a `checkpoint` path, a run resumes from the last finished epoch stored there (which must
    come from the same settings), and writes it again after each epoch. Ctrl-C (KeyboardInterrupt)
    stops the run cleanly: the history so far is returned, with `interrupted=True`.
    """
    n_train = settings.train_examples or len(data.train_images)
    n_test = settings.test_examples or len(data.test_images)
    train_x, train_y = data.train_images[:n_train].to(device), data.train_labels[:n_train].to(device)
    test_x, test_y = data.test_images[:n_test].to(device), data.test_labels[:n_test].to(device)

    torch.manual_seed(settings.seed)
    prepare_model(net, device)
    precision = precision or choose_precision(net, settings.image_size, device, settings.batch_size)
    optimizer = make_optimizer(net, settings)
    history = History(precision=precision, device=str(device))

    if checkpoint is not None and Path(checkpoint).is_file():
        saved = load_checkpoint(Path(checkpoint), net, settings)
        optimizer.load_state_dict(saved["optimizer"])
        history = History(**{**saved["history"], "interrupted": False, "precision": precision, "device": str(device)})
        torch.set_rng_state(saved["rng"])
        done = len(history.epochs)
        print(f"Resuming from {display_path(checkpoint)}: {done} of {settings.epochs} epochs already done"
              + (" (nothing left to train; delete the file to train again)." if done >= settings.epochs else "."))

    start = time.perf_counter() - (history.epochs[-1]["elapsed_s"] if history.epochs else 0.0)
    try:
        for epoch in range(len(history.epochs), settings.epochs):
            history.epochs.append(_train_one_epoch(net, optimizer, train_x, train_y, settings, epoch, precision))
            accuracy, _ = evaluate(net, test_x, test_y, settings.image_size, precision)
            history.epochs[-1]["test_acc"] = accuracy
            history.epochs[-1]["elapsed_s"] = time.perf_counter() - start  # training and evaluation so far
            if checkpoint is not None:
                save_checkpoint(Path(checkpoint), net, optimizer, settings, history)
            if on_epoch_end is not None:
                on_epoch_end(history)
    except KeyboardInterrupt:
        history.interrupted = True
        kept = f"; the checkpoint after epoch {len(history.epochs)} is in {display_path(checkpoint)}" if checkpoint else ""
        print(f"Interrupted during epoch {len(history.epochs) + 1}: the history of {len(history.epochs)} "
              f"finished epoch(s) is kept{kept}. Run the cell again to resume.")
    except Exception as error:
        if _is_out_of_memory(error):
            raise out_of_memory_error(error, settings, device) from error
        raise
    return history


def learning_rate(settings: TrainSettings, step: int, total_steps: int) -> float:
    """The learning rate at `step`: constant, or following half a cosine from lr down to 0."""
    if settings.schedule == "constant":
        return settings.lr
    if settings.schedule == "cosine":
        return settings.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    raise ValueError(f"unknown schedule {settings.schedule!r}: choose 'constant' or 'cosine'")


def train_step(
    net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, precision: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on a batch; returns the (detached) loss and the logits."""
    with autocast(x.device, precision):
        logits = net(_memory_format(x))
        loss = F.cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


def _train_one_epoch(net: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor,
                     settings: TrainSettings, epoch: int, precision: str) -> dict[str, float]:
    """One pass over the training data; examples/s counts everything, batch preparation included."""
    net.train()
    generator = torch.Generator().manual_seed(settings.seed * 1000 + epoch)  # the same order when resumed
    total_loss = torch.zeros((), device=images.device)
    correct = torch.zeros((), device=images.device)
    n_batches = math.ceil(len(images) / settings.batch_size)
    total_steps = n_batches * settings.epochs
    start = time.perf_counter()
    progress = tqdm(batches(images, labels, settings.batch_size, settings.image_size, generator, settings.augment),
                    total=n_batches, desc=f"epoch {epoch + 1}/{settings.epochs}", unit="batch", leave=False,
                    disable=bool(os.environ.get("TQDM_DISABLE")))  # tqdm.notebook ignores its own variable
    for i, (x, y) in enumerate(progress):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(settings, epoch * n_batches + i, total_steps)
        loss, logits = train_step(net, optimizer, x, y, precision)
        total_loss += loss * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
        if i % 20 == 19:  # reading the loss waits for the device: not every batch
            progress.set_postfix(loss=f"{total_loss.item() / min(len(images), (i + 1) * settings.batch_size):.3f}")
    progress.close()
    seconds = time.perf_counter() - start
    return {
        "epoch": epoch + 1,
        "train_loss": total_loss.item() / len(images),
        "train_acc": correct.item() / len(images),
        "seconds": seconds,
        "examples_per_s": len(images) / seconds,
    }


def results_folder(run_name: str) -> Path:
    """Where a run keeps its checkpoint, weights and results: results/<run_name> beside the data folder."""
    return default_data_dir().parent / "results" / run_name


def save_results(folder: Path, net: nn.Module, history: History, settings: TrainSettings, extra: dict) -> Path:
    """Save the trained weights and a JSON summary that later notebooks read."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict(), "settings": asdict(settings)}, folder / "model.pt")
    summary = {"settings": asdict(settings), "history": asdict(history), **extra}
    (folder / "results.json").write_text(json.dumps(summary, indent=1))
    return folder


def load_results(run_name: str) -> dict | None:
    """The summary a finished run saved with `save_results` (results/<run_name>/results.json), or None."""
    path = results_folder(run_name) / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None
