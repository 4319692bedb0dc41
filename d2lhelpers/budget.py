"""A run planned to a time budget: time a few training steps, then choose how many steps fit.

Introduced in notebook 05 (training AlexNet). The same `cpu` profile runs about 5x slower on a laptop with AVX2
only than on one with AVX-512 and bf16, so a fixed number of epochs means 6 minutes on one and 30 on the other.
A planned run measures the speed here first, sets `max_steps` so that the run fits `time_budget_s`, and plans its
learning-rate schedule for exactly those steps; the profile's `epochs` stays the upper limit. A resumed run keeps
the plan its checkpoint was written with.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.batches import batches
from d2lhelpers.devices import memory_format, prepare_model
from d2lhelpers.precision import Precision, autocast
from d2lhelpers.timing import synchronize
from d2lhelpers.training import TrainSettings, make_optimizer, train_step

# The first steps are slow (allocations, kernel choice, the optimizer's state): timed after one warm-up step, 3
# steps measured 0.262 s a step on a 2-core AVX-512 machine that then trained at 0.19, so the plan left 27% of its
# budget unused. After two warm-up steps, 5 steps measured 0.17-0.19 s there. They cost about 4 s on an AVX2 laptop.
WARM_UP_STEPS = 2
MEASURED_STEPS = 5


@dataclass(frozen=True)
class Plan:
    """The settings to train with, and what they were chosen from."""

    settings: TrainSettings  # with max_steps set when the budget limits the run
    seconds_per_step: float
    seconds_per_evaluation: float  # one pass over the test images, after each epoch
    limited_by: str  # "the time budget", "the profile's epochs" or "the plan saved with the checkpoint"
    n_train: int

    @property
    def steps(self) -> int:
        return self.settings.total_steps(self.n_train)

    @property
    def estimated_seconds(self) -> float:
        return estimated_seconds(self.steps, self.settings, self.n_train, self.seconds_per_step,
                                 self.seconds_per_evaluation)

    def describe(self) -> str:
        """One line: the steps, the epochs they make, the estimated time here, and what limited them."""
        epochs = self.steps * self.settings.batch_size / self.n_train
        return (f"{self.steps:,} steps of batch {self.settings.batch_size} ({epochs:.2f} epochs of {self.n_train:,} "
                f"images), about {self.estimated_seconds / 60:.1f} min here ({self.seconds_per_step:.3f} s per step "
                f"measured, {self.seconds_per_evaluation:.0f} s per evaluation); limited by {self.limited_by}")


def estimated_seconds(steps: int, settings: TrainSettings, n_train: int, seconds_per_step: float,
                      seconds_per_evaluation: float) -> float:
    """The time of `steps` training steps plus one evaluation after each epoch they start."""
    evaluations = math.ceil(steps / math.ceil(n_train / settings.batch_size))
    return steps * seconds_per_step + evaluations * seconds_per_evaluation


def plan_steps(settings: TrainSettings, n_train: int, seconds_per_step: float, seconds_per_evaluation: float) -> Plan:
    """The most steps (at most the profile's epochs) whose estimated time fits `settings.time_budget_s`; pure arithmetic."""
    every = replace(settings, max_steps=None).total_steps(n_train)
    if settings.time_budget_s is None:
        return Plan(replace(settings, max_steps=None), seconds_per_step, seconds_per_evaluation,
                    "the profile's epochs (it sets no time budget)", n_train)
    per_epoch = math.ceil(n_train / settings.batch_size)
    fitting = 1  # one step at least, however small the budget
    for epochs in range(1, settings.epochs + 1):  # the evaluations to pay for depend on the epochs the steps start
        room = settings.time_budget_s - epochs * seconds_per_evaluation
        steps = min(epochs * per_epoch, math.floor(room / seconds_per_step))
        if steps > (epochs - 1) * per_epoch:
            fitting = max(fitting, steps)
    if fitting >= every:
        return Plan(replace(settings, max_steps=None), seconds_per_step, seconds_per_evaluation,
                    "the profile's epochs", n_train)
    return Plan(replace(settings, max_steps=fitting), seconds_per_step, seconds_per_evaluation, "the time budget",
                n_train)


def measure_seconds(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, settings: TrainSettings,
                    device: torch.device, precision: Precision | str, steps: int = MEASURED_STEPS) -> tuple[float, float]:
    """Seconds per training step and per evaluation of `len(images)` test-sized batches, timed on a copy of `net`
    (its weights and the random generators are left as they were)."""
    trial = prepare_model(copy.deepcopy(net), device)
    optimizer = make_optimizer(trial, settings)
    rng = torch.get_rng_state()
    needed = settings.batch_size * (WARM_UP_STEPS + steps)
    if len(images) < needed:  # a tiny data set: its images again, so that every timed batch is full
        copies = math.ceil(needed / len(images))
        images, labels = images.repeat(copies, *[1] * (images.dim() - 1))[:needed], labels.repeat(copies)[:needed]
    # made lazily, as in training: the timed steps include preparing their batches
    stream = batches(images, labels, settings.batch_size, settings.image_size, torch.Generator().manual_seed(0),
                     settings.augment)
    for _ in range(WARM_UP_STEPS):  # first-call allocations, kernel choice, the optimizer's state
        train_step(trial, optimizer, *next(stream), precision)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(trial, optimizer, *next(stream), precision)
    synchronize(device)
    per_step = (time.perf_counter() - start) / steps
    trial.eval()
    x, _ = next(batches(images, labels, 256, settings.image_size))
    with torch.no_grad(), autocast(device, precision):
        start = time.perf_counter()
        trial(memory_format(x)).argmax(dim=1).cpu()
        synchronize(device)
    per_image = (time.perf_counter() - start) / len(x)
    torch.set_rng_state(rng)
    return per_step, per_image


def saved_plan(checkpoint: Path | None, settings: TrainSettings) -> TrainSettings | None:
    """The settings a checkpoint was written with, when they are these settings with a plan; else None."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return None
    # mmap: only the settings are read, not the weights (a checkpoint of the cpu profile's AlexNet is 259 MB)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)["settings"]
    unplanned = asdict(replace(settings, max_steps=None))
    return TrainSettings(**saved) if {**saved, "max_steps": None} == unplanned else None


def plan_training(net: nn.Module, data, settings: TrainSettings, device: torch.device, precision: Precision | str,
                  checkpoint: Path | None = None) -> Plan:
    """Measure the speed here and plan the run to `settings.time_budget_s` (or keep the checkpoint's plan)."""
    n_train = settings.train_examples or len(data.train_images)
    n_test = settings.test_examples or len(data.test_images)
    images = data.train_images[: max(settings.batch_size * (WARM_UP_STEPS + MEASURED_STEPS), 256)].to(device)
    labels = data.train_labels[: len(images)].to(device)
    per_step, per_image = measure_seconds(net, images, labels, settings, device, precision)
    resumed = saved_plan(checkpoint, settings)
    if resumed is not None:
        return Plan(resumed, per_step, per_image * n_test, "the plan saved with the checkpoint", n_train)
    return plan_steps(settings, n_train, per_step, per_image * n_test)
