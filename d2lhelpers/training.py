"""The training loop (05): a step, an epoch, evaluation, and `train`, which checkpoints, resumes and follows a plan."""

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from d2lhelpers.batches import batches, model_ready
from d2lhelpers.checkpoints import (FilterSnapshots, TrainingError, load_checkpoint, restore_rng_states, save_checkpoint,
                                    snapshot_steps)
from d2lhelpers.data import display_path
from d2lhelpers.devices import (Precision, as_precision, autocast, choose_precision, forward_loss, is_out_of_memory,
                                make_scaler, memory_format, prepare_model, to_device)

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
WINDOW_STEPS = 20  # the training error is also recorded over each block of this many steps, or to the epoch's end (07)


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
    label_smoothing: float = 0.0  # the training loss's targets give this much probability to the ten classes evenly
    train_examples: int | None = None  # None: all
    test_examples: int | None = None
    augment: bool = False
    seed: int = 0
    time_budget_s: float | None = None  # plan the run to fit this many seconds of training; None: all epochs
    max_steps: int | None = None  # the plan: stop after this many steps (within `epochs`); None: every step

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: choose 'sgd' or 'adam'")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"unknown schedule {self.schedule!r}: choose 'constant' or 'cosine'")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing is a share of the targets' probability in [0, 1), got {self.label_smoothing}")
        for name in ("image_size", "epochs", "batch_size", "lr", "time_budget_s", "max_steps"):
            if (value := getattr(self, name)) is not None and value <= 0:
                raise ValueError(f"{name} must be positive{' (or None)' if name in ('time_budget_s', 'max_steps') else ''}, "
                                 f"got {value}")

    def total_steps(self, n_train: int) -> int:
        """The optimizer steps of the whole run on `n_train` images: every epoch's, or the plan's `max_steps`."""
        every = self.epochs * math.ceil(n_train / self.batch_size)
        return every if self.max_steps is None else min(every, self.max_steps)

    def epochs_to_run(self, n_train: int) -> int:
        """Epochs the run starts (the last may stop part-way, at `max_steps`)."""
        return math.ceil(self.total_steps(n_train) / math.ceil(n_train / self.batch_size))


@dataclass
class History:
    """Per-epoch metrics of a run; `interrupted` is True when the reader stopped it."""
    epochs: list[dict[str, float]] = field(default_factory=list)
    precision: str = "fp32"
    device: str = "cpu"
    interrupted: bool = False
    precision_reason: str = ""
    replanned: dict[str, object] = field(default_factory=dict)  # the plan revised after the first epoch, if it was

    def last(self, key: str) -> float:
        if not self.epochs:
            raise ValueError("no epoch has finished yet")
        return self.epochs[-1][key]


def make_optimizer(net: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    """SGD (with the settings' momentum) or Adam, with weight decay; fused kernels where the device has them."""
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


def train_step(net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               precision: Precision | str, scaler: torch.amp.GradScaler | None = None,
               label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on a batch (skipped by an fp16 `scaler` on overflow): the detached loss and logits."""
    loss, logits = forward_loss(net, x, y, precision, label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss.detach(), logits.detach()


def train_one_epoch(net: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None,
                    images: torch.Tensor, labels: torch.Tensor, settings: TrainSettings, epoch: int,
                    precision: Precision | str, on_step: Callable[[int], None] | None = None) -> dict[str, float]:
    """One pass over the training data, to the plan's last step; `on_step` gets the run's steps done after each."""
    net.train()
    generator = torch.Generator().manual_seed(settings.seed * 1000 + epoch)  # the same order when resumed
    per_epoch, total_steps = math.ceil(len(images) / settings.batch_size), settings.total_steps(len(images))
    done = epoch * per_epoch
    steps = min(per_epoch, total_steps - done)
    total_loss, correct, seen = torch.zeros((), device=images.device), torch.zeros((), device=images.device), 0
    last, errors = (0.0, 0), []  # correct and seen at the last block's end; [step, the block's training error]
    start = time.perf_counter()
    stream = islice(batches(images, labels, settings.batch_size, settings.image_size, generator, settings.augment), steps)
    progress = tqdm(stream, total=steps, desc=f"epoch {epoch + 1}/{settings.epochs_to_run(len(images))}", unit="batch",
                    leave=False, disable=bool(os.environ.get("TQDM_DISABLE")))  # tqdm.notebook ignores its own variable
    for step, (x, y) in enumerate(progress, start=done + 1):
        set_learning_rate(optimizer, learning_rate(settings, step - 1, total_steps))
        loss, logits = train_step(net, optimizer, x, y, precision, scaler, settings.label_smoothing)
        if on_step is not None:
            on_step(step)
        total_loss += loss.float() * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
        seen += len(y)
        if (step - done) % WINDOW_STEPS == 0 or step - done == steps:  # reading waits for the device: not every batch
            now = (correct.item(), seen)
            errors.append([step, 1 - (now[0] - last[0]) / (now[1] - last[1])])
            last = now
            left = (time.perf_counter() - start) / (step - done) * (total_steps - step)
            progress.set_postfix(loss=f"{total_loss.item() / seen:.3f}", run_left=f"{left / 60:.1f} min")
    progress.close()
    seconds = time.perf_counter() - start
    return {"epoch": epoch + 1, "train_loss": total_loss.item() / seen, "train_acc": correct.item() / seen,
            "seconds": seconds, "examples_per_s": seen / seconds, "steps": steps, "train_errors": errors}


def scores(net: nn.Module, images: torch.Tensor, image_size: int, precision: Precision | str = "fp32") -> torch.Tensor:
    """The network's scores (logits) for a data set, dropout off: float32, on the CPU."""
    net.eval()
    chunks = []
    with torch.no_grad():
        for x, _ in batches(images, images, 256, image_size):  # no labels needed: the images stand in for them
            with autocast(x.device, precision):
                chunks.append(net(memory_format(x)).float().cpu())
    return torch.cat(chunks)


def evaluate(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, image_size: int,
             precision: Precision | str = "fp32") -> tuple[float, torch.Tensor]:
    """Accuracy on a data set (dropout off), and the predicted classes (on the CPU)."""
    predicted = scores(net, images, image_size, precision).argmax(dim=1)
    return (predicted == labels.cpu()).float().mean().item(), predicted


def train(net: nn.Module, data, settings: TrainSettings, device: torch.device, checkpoint: Path | None = None,
          precision: Precision | str | None = None, on_epoch_end: Callable[[History], None] | None = None,
          snapshots: FilterSnapshots | None = None, replan: Callable[[float, float], object] | None = None) -> History:
    """Train `net` on `data`, evaluating after every epoch; resume and write `checkpoint` if given. Ctrl-C returns the
    history so far; running out of memory raises a TrainingError. After a whole first epoch, `replan(seconds per step,
    seconds per evaluation)` returns the plan (runs.Plan) that the rest of the run follows."""
    size, built_for = settings.image_size, getattr(net, "image_size", settings.image_size)  # AlexNet knows its size
    if built_for != size:
        raise ValueError(f"the model was built for {built_for}x{built_for} images but the settings train at {size}x{size}: "
                         f"build it with alexnet(image_size={size}) or train with image_size={built_for}")
    n_train = settings.train_examples or len(data.train_images)
    n_test = settings.test_examples or len(data.test_images)
    per_epoch, planned = math.ceil(n_train / settings.batch_size), settings.epochs_to_run(n_train)
    history = History(device=str(device))
    try:
        train_x = model_ready(to_device(data.train_images[:n_train], device), settings.image_size)
        test_x = model_ready(to_device(data.test_images[:n_test], device), settings.image_size)
        train_y, test_y = to_device(data.train_labels[:n_train], device), to_device(data.test_labels[:n_test], device)
        prepare_model(net, device)
        chosen = as_precision(precision) if precision is not None else choose_precision(
            net, settings.image_size, device, settings.batch_size)
        history.precision, history.precision_reason = chosen.name, chosen.reason
        torch.manual_seed(settings.seed)  # dropout's masks
        optimizer, scaler = make_optimizer(net, settings), make_scaler(device, chosen)
        if checkpoint is not None and Path(checkpoint).is_file():
            saved = load_checkpoint(Path(checkpoint), net, settings)
            optimizer.load_state_dict(saved["optimizer"])
            if saved["scaler"] and scaler.is_enabled():
                scaler.load_state_dict(saved["scaler"])
            done = len(saved["history"]["epochs"])
            if done < planned:  # the remaining epochs train in the precision chosen now
                saved["history"] |= {"precision": chosen.name, "precision_reason": chosen.reason, "device": str(device)}
            history = History(**{**saved["history"], "interrupted": False})
            restore_rng_states(saved["rng"])
            if snapshots is not None and saved["snapshots"]:
                snapshots.load_state_dict(saved["snapshots"])
            print(f"Resuming from {display_path(checkpoint)}: {done} of {planned} epochs already done"
                  + (" (nothing left to train; delete the file to train again)." if done >= planned else "."))
        start = time.perf_counter() - (history.epochs[-1]["elapsed_s"] if history.epochs else 0.0)
        while (epoch := len(history.epochs)) < planned:  # a re-plan after the first epoch may change `planned`
            metrics = train_one_epoch(net, optimizer, scaler, train_x, train_y, settings, epoch, chosen, snapshots)
            logits = scores(net, test_x, settings.image_size, chosen)
            metrics["test_acc"] = (logits.argmax(dim=1) == test_y.cpu()).float().mean().item()
            metrics["test_loss"] = nn.functional.cross_entropy(logits, test_y.cpu()).item()
            metrics["elapsed_s"] = time.perf_counter() - start  # training and evaluation so far
            history.epochs.append(metrics)
            if replan is not None and epoch == 0 and metrics["steps"] == per_epoch:
                plan = replan(metrics["seconds"] / per_epoch, metrics["elapsed_s"] - metrics["seconds"])
                steps = plan.settings.max_steps
                settings = replace(settings, max_steps=steps and max(steps, per_epoch))  # never fewer than done
                planned = settings.epochs_to_run(n_train)
                history.replanned = {"max_steps": settings.max_steps, "steps": settings.total_steps(n_train),
                                     "estimated_s": plan.estimated_seconds, "plan": plan.describe()}
                if snapshots is not None:  # the run's last step may have moved
                    snapshots.steps = frozenset(snapshot_steps(per_epoch, settings.total_steps(n_train)))
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
        if not is_out_of_memory(error):
            raise
        where = f" in {display_path(checkpoint)}; the next run resumes from there." if checkpoint else "."
        kept = f" The {len(history.epochs)} finished epoch(s) are kept{where}" if history.epochs else ""
        oom = TrainingError(  # the book's advice: a smaller batch or smaller images
            f"Out of memory on {device} with batch_size={settings.batch_size} and image_size={settings.image_size}. "
            f"Try batch_size={max(1, settings.batch_size // 2)}, or a smaller image_size (the smallest AlexNet "
            f"accepts is 65), or the `cpu` profile.{kept} ({type(error).__name__}: {str(error).splitlines()[0]})")
        oom.history = history
        raise oom from error
    return history
