"""Experiments on AlexNet's ingredients: gradients at initialisation, seeded variants trained and compared (07)."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence

import pandas as pd
import torch
from torch import nn

from d2lhelpers.batches import to_model_input
from d2lhelpers.checkpoints import load_record, save_record
from d2lhelpers.data import results_folder
from d2lhelpers.inspection import layer_names
from d2lhelpers.models import count_parameters
from d2lhelpers.training import History, TrainSettings, evaluate, train
from d2lhelpers.verdicts import Verdict, verdict


def initialise(net: nn.Module, scheme: str) -> nn.Module:
    """Redraw `net`'s conv and linear weights: "pytorch" (its default), or "xavier" (train_ch6's) with zero biases."""
    if scheme not in ("pytorch", "xavier"):
        raise ValueError(f"scheme must be one of pytorch, xavier, got {scheme!r}")
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            else:
                module.reset_parameters()
    return net


def layer_gradient_norms(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> pd.Series:
    """Mean |gradient| of each conv and linear layer's weights for one batch; `net` is left training, no gradients."""
    net.train()
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(x), y).backward()
    norms = {name: module.weight.grad.abs().mean().item() for name, module in layer_names(net).items()
             if isinstance(module, (nn.Conv2d, nn.Linear))}
    net.zero_grad(set_to_none=True)
    return pd.Series(norms, name="mean |gradient|")


def train_variant(name: str, net: nn.Module, data, settings: TrainSettings, device: torch.device, run: str,
                  precision: str | None = None) -> dict[str, object]:
    """One variant trained, or its record results/<run>/<name>.json reused: history, accuracies, top class's share."""
    folder = results_folder(run)
    record, checkpoint = load_record(folder / f"{name}.json", settings), folder / f"{name}.pt"
    if record is not None:
        history = History(**record["history"])
    else:
        history = train(net, data, settings, device, checkpoint=checkpoint, precision=precision)
        n_eval = min(settings.train_examples or len(data.train_images), 5_000)
        train_acc, _ = evaluate(net, data.train_images[:n_eval].to(device), data.train_labels[:n_eval].to(device),
                                settings.image_size, history.precision)
        n_test = settings.test_examples or len(data.test_images)
        _, predicted = evaluate(net, data.test_images[:n_test].to(device), data.test_labels[:n_test].to(device),
                                settings.image_size, history.precision)
        share = torch.bincount(predicted, minlength=10).max().item() / len(predicted)
        record = {"train_acc": train_acc, "top_class_share": share}
        if not history.interrupted:
            save_record(folder / f"{name}.json", settings, history, **record)
            checkpoint.unlink(missing_ok=True)
    train_acc, test_acc = record["train_acc"], history.last("test_acc")
    return {"variant": name, "seed": settings.seed, "history": history, "train_acc": train_acc, "test_acc": test_acc,
            "test_loss": history.last("test_loss"), "top_class_share": record["top_class_share"], "gap": train_acc - test_acc,
            "minutes": history.last("elapsed_s") / 60, "interrupted": history.interrupted}


def train_seeds(name: str, make_net: Callable[[], nn.Module], data, settings: TrainSettings, device: torch.device,
                run: str, seeds: Sequence[int] = (0, 1, 2), precision: str | None = None,
                label: str | None = None) -> dict[str, object]:
    """`train_variant` as <name>-seed<s> for each seed s (manual_seed(s) before `make_net()`), summarised as `label`."""
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"need at least two different seeds to measure a spread, got {list(seeds)}")
    runs = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = make_net()
        seeded = dataclasses.replace(settings, seed=seed)
        runs.append(train_variant(f"{name}-seed{seed}", net, data, seeded, device, run, precision))
    return summarise(label or name, runs, count_parameters(net))


def summarise(label: str, runs: list[dict[str, object]], parameters: int) -> dict[str, object]:
    """Seeded runs as one summary: the accuracies', test loss's and gap's mean and sample std, all the minutes."""
    summary: dict[str, object] = {"variant": label, "runs": runs, "seeds": [r["seed"] for r in runs],
                                  "parameters": parameters, "minutes": sum(r["minutes"] for r in runs),
                                  "interrupted": any(r["interrupted"] for r in runs)}
    for key in ("train_acc", "test_acc", "test_loss", "gap"):
        values = [r[key] for r in runs]
        summary[key], summary[f"{key}_std"] = statistics.mean(values), statistics.stdev(values)
    return summary


class Experiment:
    """Seeded variants of one experiment, each trained on seeds fixed before any comparison, judged by the one rule."""

    def __init__(self, data, device: torch.device, run: str, precision: str, seeds: Sequence[int] = (0, 1, 2)):
        self.data, self.device, self.run, self.precision, self.seeds = data, device, run, precision, tuple(seeds)
        self.results: dict[str, dict[str, object]] = {}

    def train(self, label: str, name: str, make_net: Callable[[], nn.Module], settings: TrainSettings,
              seeds: Sequence[int] | None = None) -> dict[str, object]:
        """`train_seeds` for `label` on `seeds` (default: the experiment's), kept in `results`."""
        self.results[label] = train_seeds(name, make_net, self.data, settings, self.device, self.run,
                                          tuple(seeds or self.seeds), precision=self.precision, label=label)
        return self.results[label]

    def saved(self, label: str, name: str, make_net: Callable[[], nn.Module],
              settings: TrainSettings) -> dict[str, object] | None:
        """`train` when every seed of `name` is recorded (another notebook trained it), else None: never trains."""
        folder = results_folder(self.run)
        recorded = all(load_record(folder / f"{name}-seed{s}.json", dataclasses.replace(settings, seed=s))
                       for s in self.seeds)
        return self.train(label, name, make_net, settings) if recorded else None

    def compare(self, changed: str, reference: str, key: str = "test_acc") -> Verdict:
        """`changed` minus `reference` by the one rule, on the seeds both were trained with; it never trains."""
        if (a := self.results[changed]["seeds"]) != (b := self.results[reference]["seeds"]):
            raise ValueError(f"{changed!r} was trained on seeds {a} and {reference!r} on {b}: a comparison needs the "
                             "same seeds, fixed in the design")
        return verdict(self.results[changed], self.results[reference], key)


def steps_to_error(history: History, error: float) -> int | None:
    """The step ending the first block of training steps whose training error was at most `error`; None if none was."""
    return next((step for epoch in history.epochs for step, value in epoch["train_errors"] if value <= error), None)


def mean_std(summary: dict[str, object], key: str) -> str:
    """`key` of a seeded summary as "mean ± std"."""
    return f"{summary[key]:.3f} ± {summary[f'{key}_std']:.3f}"


def summary_table(summaries: list[dict[str, object]]) -> pd.DataFrame:
    """One row per seeded variant: accuracies, test loss and gap as "mean ± std", the parameters, the minutes of all seeds."""
    rows = [{"variant": s["variant"], "seeds": len(s["seeds"]),
             **{key: mean_std(s, key) for key in ("train_acc", "test_acc", "test_loss", "gap")},
             "parameters": f"{s['parameters']:,}", "minutes, all seeds": round(s["minutes"], 2)} for s in summaries]
    return pd.DataFrame(rows).set_index("variant").round(3)


def example_batch(data, settings: TrainSettings, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n training images, ready for the network, and their labels."""
    return to_model_input(data.train_images[:n], settings.image_size), data.train_labels[:n]
