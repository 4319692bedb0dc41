"""A profile's AlexNet (05, 06): its seeded start, a plan timed here to fit its budget, trained, saved, loaded again."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.ablations import initialise
from d2lhelpers.batches import batches, model_ready
from d2lhelpers.checkpoints import changed_settings, conv1_snapshots, load_checkpoint, save_results
from d2lhelpers.data import display_path, load_fashion_mnist, results_folder
from d2lhelpers.devices import Precision, choose_precision, prepare_model, synchronize
from d2lhelpers.models import AlexNet, alexnet
from d2lhelpers.profiles import Profile
from d2lhelpers.training import History, TrainSettings, evaluate, make_optimizer, train, train_step

WARM_UP_STEPS, MEASURED_STEPS = 2, 5  # untimed steps first (allocations and kernel choice slow them), then timed ones


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
        """The time of the steps plus one evaluation after each epoch they start."""
        evaluations = math.ceil(self.steps / math.ceil(self.n_train / self.settings.batch_size))
        return self.steps * self.seconds_per_step + evaluations * self.seconds_per_evaluation

    def describe(self) -> str:
        """One line: the steps, the epochs they make, the estimated time here, and what limited them."""
        epochs = self.steps * self.settings.batch_size / self.n_train
        return (f"{self.steps:,} steps of batch {self.settings.batch_size} ({epochs:.2f} epochs of {self.n_train:,} "
                f"images), about {self.estimated_seconds / 60:.1f} min here ({self.seconds_per_step:.3f} s per step "
                f"measured, {self.seconds_per_evaluation:.0f} s per evaluation); limited by {self.limited_by}")


def plan_steps(settings: TrainSettings, n_train: int, seconds_per_step: float, seconds_per_evaluation: float) -> Plan:
    """The most steps (at most the profile's epochs) whose estimated time fits `settings.time_budget_s`."""
    per_epoch, budget = math.ceil(n_train / settings.batch_size), settings.time_budget_s
    steps, limited_by = None, "the profile's epochs (it sets no time budget)"
    if budget is not None:  # steps that start e epochs pay for e evaluations; one step at least, however small the budget
        fits = [min(e * per_epoch, math.floor((budget - e * seconds_per_evaluation) / seconds_per_step))
                for e in range(1, settings.epochs + 1)]
        steps = max([1] + [fit for e, fit in enumerate(fits) if fit > e * per_epoch])
        steps, limited_by = (None, "the profile's epochs") if steps >= settings.epochs * per_epoch else (
            steps, "the time budget")
    return Plan(replace(settings, max_steps=steps), seconds_per_step, seconds_per_evaluation, limited_by, n_train)


def measure_seconds(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, settings: TrainSettings,
                    device: torch.device, precision: Precision | str,
                    clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """Seconds per training step and per test image, timed on a copy of `net` after WARM_UP_STEPS untimed steps."""
    trial = prepare_model(copy.deepcopy(net), device)
    optimizer = make_optimizer(trial, settings)
    rng = torch.get_rng_state()  # left as it was, as are the weights of `net`
    # full batches however few the images (a tiny set repeats), made lazily as in training: the timed steps prepare them
    index = torch.arange(settings.batch_size * (WARM_UP_STEPS + MEASURED_STEPS), device=images.device) % len(images)
    stream = batches(images[index], labels[index], settings.batch_size, settings.image_size,
                     torch.Generator().manual_seed(0), settings.augment)
    for _ in range(WARM_UP_STEPS):
        train_step(trial, optimizer, *next(stream), precision)
    synchronize(device)
    start = clock()
    for _ in range(MEASURED_STEPS):
        train_step(trial, optimizer, *next(stream), precision)
    synchronize(device)
    per_step = (clock() - start) / MEASURED_STEPS
    x = model_ready(images[:256], settings.image_size)  # as `train` readies the test images
    evaluate(trial, x, labels[:256], settings.image_size, precision)  # untimed: a first pass also picks its kernels
    start = clock()
    evaluate(trial, x, labels[:256], settings.image_size, precision)  # it waits for the predictions on the CPU
    per_image = (clock() - start) / len(x)
    torch.set_rng_state(rng)
    return per_step, per_image


def saved_plan(checkpoint: Path | None, settings: TrainSettings) -> TrainSettings | None:
    """The settings a checkpoint (or model.pt) was written with, when they are `settings` with a plan; else None."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return None
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)["settings"]  # not the weights
    return TrainSettings(**saved) if set(changed_settings(saved, settings)) <= {"max_steps"} else None


def plan_training(net: nn.Module, data, settings: TrainSettings, device: torch.device, precision: Precision | str,
                  checkpoint: Path | None = None) -> Plan:
    """Measure the speed here and plan the run to `settings.time_budget_s` (or keep the checkpoint's plan)."""
    n_train = settings.train_examples or len(data.train_images)
    n_test = settings.test_examples or len(data.test_images)
    images = data.train_images[: max(settings.batch_size * (WARM_UP_STEPS + MEASURED_STEPS), 256)].to(device)
    per_step, per_image = measure_seconds(net, images, data.train_labels[: len(images)].to(device), settings, device,
                                          precision)
    if (resumed := saved_plan(checkpoint, settings)) is not None:
        return Plan(resumed, per_step, per_image * n_test, "the plan saved with the checkpoint", n_train)
    return plan_steps(settings, n_train, per_step, per_image * n_test)


def initial_alexnet(profile: Profile, seed: int = 0, start: float | str | None = None, **options) -> AlexNet:
    """Notebook 05's AlexNet, drawn after manual_seed(seed) from `start` (None: the profile's); `options` to `alexnet`."""
    start = profile.start if start is None else start
    if start not in ("xavier", "default") and not (isinstance(start, float | int) and start > 0):
        raise ValueError(f"start is a positive number, 'xavier', 'default' or None, got {start!r}")
    torch.manual_seed(seed)
    net = alexnet(**{"num_classes": 10, "in_channels": 1, "image_size": profile.training.image_size} | options)
    if start == "xavier":  # every layer, as the book's train_ch6
        return initialise(net, "xavier")
    if start != "default":  # conv1 from N(0, start), bias 0; the other layers keep PyTorch's default
        nn.init.normal_(net[0].weight, 0.0, float(start))
        nn.init.zeros_(net[0].bias)
    return net


def run_name(profile: Profile) -> str:
    """The folder under results/ where a profile's AlexNet is kept."""
    return f"alexnet-{profile.name}"


def train_and_save(net: nn.Module, settings: TrainSettings, device: torch.device, name: str, data,
                   precision: Precision | str | None = None, on_epoch_end: Callable[[History], None] | None = None,
                   extra: dict | None = None) -> History:
    """Train with a checkpoint in results/<name>/, keeping conv1 at a few steps; save the run there. A run its time
    budget limits is planned again after its first epoch, at that epoch's speed."""
    folder = results_folder(name)
    n_train = settings.train_examples or len(data.train_images)
    snapshots = conv1_snapshots(net, settings, n_train)
    budget_limited = settings.max_steps is not None and settings.time_budget_s is not None
    history = train(net, data, settings, device, checkpoint=folder / "checkpoint.pt", precision=precision,
                    on_epoch_end=on_epoch_end, snapshots=snapshots,
                    replan=partial(plan_steps, settings, n_train) if budget_limited else None)
    if history.replanned:
        settings = replace(settings, max_steps=history.replanned["max_steps"])
    if not history.interrupted:
        measured = {"test_acc": history.last("test_acc"), "precision": history.precision, "device": str(device)}
        save_results(folder, net, history, settings, measured | (extra or {}), snapshots)
    return history


def trained_alexnet(profile: Profile, device: torch.device) -> tuple[AlexNet, str]:
    """The profile's trained AlexNet (CPU, eval mode), as notebook 05 saved it or trained now as it does; where from."""
    folder = results_folder(run_name(profile))
    net = initial_alexnet(profile)
    if (folder / "model.pt").is_file():  # from other settings: a clear error naming them, and nothing overwritten
        load_checkpoint(folder / "model.pt", net, saved_plan(folder / "model.pt", profile.training) or profile.training)
        return net.eval(), f"loaded the model notebook 05 saved: {display_path(folder / 'model.pt')}"
    data = load_fashion_mnist()
    precision = choose_precision(net, profile.training.image_size, device, profile.training.batch_size)
    plan = plan_training(net, data, profile.training, device, precision, checkpoint=folder / "checkpoint.pt")
    print(f"plan: {plan.describe()}")
    history = train_and_save(net, plan.settings, device, run_name(profile), data, precision, extra={"profile": profile.name})
    if history.interrupted:
        raise KeyboardInterrupt("training was interrupted; run the cell again to resume it")
    return net.cpu().eval(), (f"no saved model for the {profile.name} profile, so it was trained here as notebook 05 "
                              f"does ({history.last('elapsed_s') / 60:.1f} min) and saved to "
                              f"{display_path(folder / 'model.pt')}")
