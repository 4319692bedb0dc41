"""The training loop: one step, one epoch, evaluation, and `train`, which adds checkpoints and resumption.

Introduced in notebook 05 (training AlexNet), which writes the same epoch loop out by hand first. Compared with the
book's `d2l.train_ch6`, `train` keeps the weights it is given, works with any number of batches, counts examples/s
end to end, trains in the precision the hardware suits (`precision.py`), stops at a planned step (`budget.py`) and
writes a checkpoint after every epoch (`checkpoints.py`): an interrupted run keeps its history and resumes. It can
keep a layer's filters at chosen steps (`snapshots.py`). The module is longer than 250 lines because the loop, its
resumption and what it records share one state.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from d2lhelpers.batches import batches, model_ready
from d2lhelpers.checkpoints import load_checkpoint, out_of_memory_error, restore_rng_states, save_checkpoint
from d2lhelpers.devices import is_out_of_memory, memory_format, prepare_model, to_device
from d2lhelpers.models import check_input_size
from d2lhelpers.paths import display_path
from d2lhelpers.precision import Precision, as_precision, autocast, choose_precision, forward_loss, make_scaler
from d2lhelpers.snapshots import FilterSnapshots

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainSettings:
    """What a training run does; a run profile (profiles.py) fills these in."""

    image_size: int = 224
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"  # "sgd" (the book's) or "adam"
    lr: float = 0.01
    momentum: float = 0.0  # SGD only; the paper used 0.9
    weight_decay: float = 0.0  # the paper used 5e-4
    schedule: str = "constant"  # "constant" (the book's) or "cosine": lr decays to 0 over the run
    train_examples: int | None = None  # None: all
    test_examples: int | None = None
    augment: bool = False
    seed: int = 0
    time_budget_s: float | None = None  # plan the run to fit this many seconds of training (budget.py); None: all epochs
    max_steps: int | None = None  # the plan: stop after this many steps (within `epochs`); None: every step of every epoch

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: choose 'sgd' or 'adam'")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}: choose 'constant' or 'cosine'")
        for name in ("image_size", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("time_budget_s", "max_steps"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive or None, got {getattr(self, name)}")

    def total_steps(self, n_train: int) -> int:
        """The optimizer steps of the whole run on `n_train` images: every epoch's, or the plan's `max_steps`."""
        every = self.epochs * math.ceil(n_train / self.batch_size)
        return every if self.max_steps is None else min(every, self.max_steps)

    def epochs_to_run(self, n_train: int) -> int:
        """Epochs the run starts (the last may stop part-way, at `max_steps`)."""
        return math.ceil(self.total_steps(n_train) / math.ceil(n_train / self.batch_size))


@dataclass
class History:
    """Per-epoch metrics of a run; `interrupted` is True when the run was stopped by the reader."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    precision: str = "fp32"
    device: str = "cpu"
    interrupted: bool = False
    precision_reason: str = ""

    def last(self, key: str) -> float:
        if not self.epochs:
            raise ValueError("no epoch has finished yet")
        return self.epochs[-1][key]


def make_optimizer(net: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    """SGD (the book's, with the settings' momentum) or Adam, with weight decay; fused kernels where the device has them."""
    options: dict[str, float] = {"lr": settings.lr, "weight_decay": settings.weight_decay}
    if settings.optimizer == "sgd":
        options["momentum"] = settings.momentum
    try:  # one kernel for all parameters: Adam's step is a third faster on a CPU
        return OPTIMIZERS[settings.optimizer](net.parameters(), fused=True, **options)
    except (RuntimeError, TypeError):
        return OPTIMIZERS[settings.optimizer](net.parameters(), **options)


def learning_rate(settings: TrainSettings, step: int, total_steps: int) -> float:
    """The learning rate at `step`: constant, or following half a cosine from lr down to 0."""
    if settings.schedule == "cosine":
        return settings.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return settings.lr


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Use `lr` for the next steps."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_step(net: nn.Module, optimizer: torch.optim.Optimizer | None, x: torch.Tensor, y: torch.Tensor,
               precision: Precision | str, scaler: torch.amp.GradScaler | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step on a batch: forward and loss (autocast), backward, and the optimizer's step (none when it is None).

    With an enabled `scaler` (fp16) the loss is scaled before backward and the step skipped on overflow.
    Returns the detached loss and logits.
    """
    loss, logits = forward_loss(net, x, y, precision)
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
    if scaler is not None and scaler.is_enabled():
        scaler.scale(loss).backward()
        if optimizer is not None:
            scaler.step(optimizer)
            scaler.update()
    else:
        loss.backward()
        if optimizer is not None:
            optimizer.step()
    return loss.detach(), logits.detach()


def train_one_epoch(net: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None,
                    images: torch.Tensor, labels: torch.Tensor, settings: TrainSettings, epoch: int,
                    precision: Precision | str, on_step: Callable[[int], None] | None = None) -> dict[str, float]:
    """One pass over the training data (the loop notebook 05 writes out), stopping early at the plan's last step;
    examples/s counts batch preparation too, and the progress bar estimates the time left in the whole run.
    `on_step` is called with the number of steps done in the run after each step."""
    net.train()
    generator = torch.Generator().manual_seed(settings.seed * 1000 + epoch)  # the same order when resumed
    steps_per_epoch = math.ceil(len(images) / settings.batch_size)
    total_steps = settings.total_steps(len(images))
    steps = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
    total_loss, correct, seen = torch.zeros((), device=images.device), torch.zeros((), device=images.device), 0
    start = time.perf_counter()
    progress = tqdm(islice(batches(images, labels, settings.batch_size, settings.image_size, generator, settings.augment),
                           steps), total=steps, desc=f"epoch {epoch + 1}/{settings.epochs_to_run(len(images))}", unit="batch",
                    leave=False, disable=bool(os.environ.get("TQDM_DISABLE")))  # tqdm.notebook ignores its own variable
    for i, (x, y) in enumerate(progress):
        set_learning_rate(optimizer, learning_rate(settings, epoch * steps_per_epoch + i, total_steps))
        loss, logits = train_step(net, optimizer, x, y, precision, scaler)
        if on_step is not None:
            on_step(epoch * steps_per_epoch + i + 1)
        total_loss += loss.float() * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
        seen += len(y)
        if i % 20 == 19:  # reading the loss waits for the device: not every batch
            left = (time.perf_counter() - start) / (i + 1) * (total_steps - epoch * steps_per_epoch - i - 1)
            progress.set_postfix(loss=f"{total_loss.item() / seen:.3f}", run_left=f"{left / 60:.1f} min")
    progress.close()
    seconds = time.perf_counter() - start
    return {"epoch": epoch + 1, "train_loss": total_loss.item() / seen, "train_acc": correct.item() / seen,
            "seconds": seconds, "examples_per_s": seen / seconds, "steps": steps}


def evaluate(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, image_size: int,
             precision: Precision | str = "fp32", batch_size: int = 256) -> tuple[float, torch.Tensor]:
    """Accuracy on a data set (dropout off), and the predicted classes (on the CPU)."""
    net.eval()
    predictions = []
    with torch.no_grad():
        for x, _ in batches(images, labels, batch_size, image_size):
            with autocast(x.device, precision):
                predictions.append(net(memory_format(x)).argmax(dim=1).cpu())
    predicted = torch.cat(predictions)
    return (predicted == labels.cpu()).float().mean().item(), predicted


def compile_or_fall_back(net: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: Precision) -> tuple[nn.Module, str]:
    """`torch.compile(net)`, compiled now on one batch (no update); `net` itself, and why, when compiling fails."""
    try:
        compiled = torch.compile(net)
        train_step(compiled, None, x, y, precision)
        return compiled, "compiled with torch.compile"
    except Exception as error:  # any compiler failure (no C++ compiler, unsupported op, ...): run eagerly
        if is_out_of_memory(error):
            raise
        return net, f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:120]}); running eagerly"
    finally:
        net.zero_grad(set_to_none=True)


def train(net: nn.Module, data, settings: TrainSettings, device: torch.device, checkpoint: Path | None = None,
          precision: Precision | str | None = None, on_epoch_end: Callable[[History], None] | None = None,
          compile: bool = False, snapshots: FilterSnapshots | None = None) -> History:
    """Train `net` on `data` (a FashionMNIST of uint8 tensors) and evaluate after every epoch.

    With a `checkpoint` path, a run resumes from the last finished epoch stored there (which must come
    from the same settings), and writes it again after each epoch. Ctrl-C (KeyboardInterrupt) stops the
    run cleanly: the history so far is returned, with `interrupted=True`. Running out of memory raises a
    TrainingError that suggests smaller settings and keeps the history (`error.history`) and checkpoint.
    `compile=True` tries `torch.compile` and falls back to eager execution, saying why, if it fails. `snapshots`
    keeps a layer's filters at its steps, in the checkpoint too.
    """
    check_input_size(net, settings.image_size)
    n_train = settings.train_examples or len(data.train_images)
    n_test = settings.test_examples or len(data.test_images)
    planned = settings.epochs_to_run(n_train)  # the plan's last epoch may stop part-way (settings.max_steps)
    history = History(device=str(device))
    try:
        train_x, train_y = model_ready(to_device(data.train_images[:n_train], device), settings.image_size), to_device(data.train_labels[:n_train], device)
        test_x, test_y = model_ready(to_device(data.test_images[:n_test], device), settings.image_size), to_device(data.test_labels[:n_test], device)
        prepare_model(net, device)
        chosen = as_precision(precision) if precision is not None else choose_precision(
            net, settings.image_size, device, settings.batch_size)
        history.precision, history.precision_reason = chosen.name, chosen.reason
        model = net
        if compile:
            x, y = next(batches(train_x, train_y, settings.batch_size, settings.image_size))
            model, how = compile_or_fall_back(net, x, y, chosen)
            print(how)
        torch.manual_seed(settings.seed)  # dropout's masks
        optimizer = make_optimizer(net, settings)
        scaler = make_scaler(device, chosen)

        if checkpoint is not None and Path(checkpoint).is_file():
            saved = load_checkpoint(Path(checkpoint), net, settings)
            optimizer.load_state_dict(saved["optimizer"])
            if saved.get("scaler") and scaler.is_enabled():
                scaler.load_state_dict(saved["scaler"])
            done = len(saved["history"]["epochs"])
            if done < planned:  # the remaining epochs train in the precision chosen now
                saved["history"] |= {"precision": chosen.name, "precision_reason": chosen.reason, "device": str(device)}
            history = History(**{**saved["history"], "interrupted": False})
            restore_rng_states(saved["rng"])
            if snapshots is not None and saved.get("snapshots"):
                snapshots.load_state_dict(saved["snapshots"])
            print(f"Resuming from {display_path(checkpoint)}: {done} of {planned} epochs already done"
                  + (" (nothing left to train; delete the file to train again)." if done >= planned else "."))

        start = time.perf_counter() - (history.epochs[-1]["elapsed_s"] if history.epochs else 0.0)
        for epoch in range(len(history.epochs), planned):
            metrics = train_one_epoch(model, optimizer, scaler, train_x, train_y, settings, epoch, chosen, snapshots)
            metrics["test_acc"], _ = evaluate(model, test_x, test_y, settings.image_size, chosen)
            metrics["elapsed_s"] = time.perf_counter() - start  # training and evaluation so far
            history.epochs.append(metrics)
            if checkpoint is not None:
                save_checkpoint(Path(checkpoint), net, optimizer, settings, history, scaler, snapshots)
            if on_epoch_end is not None:
                on_epoch_end(history)
    except KeyboardInterrupt:
        history.interrupted = True
        kept = f"; the checkpoint after epoch {len(history.epochs)} is in {display_path(checkpoint)}" if checkpoint else ""
        print(f"Interrupted during epoch {len(history.epochs) + 1}: the history of {len(history.epochs)} "
              f"finished epoch(s) is kept{kept}. Run the cell again to resume.")
    except Exception as error:
        if is_out_of_memory(error):
            raise out_of_memory_error(error, settings, device, history, checkpoint) from error
        raise
    return history
