"""Experiments on AlexNet's ingredients: gradients at initialisation, and variants trained side by side.

Introduced in notebook 07 (what made AlexNet work).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable, Sequence

import pandas as pd
import torch
from torch import nn

from d2lhelpers.costs import count_parameters
from d2lhelpers.inspection import layer_names
from d2lhelpers.batches import to_model_input
from d2lhelpers.paths import results_folder
from d2lhelpers.training import History, TrainSettings, evaluate, train
from d2lhelpers.verdicts import Verdict, verdict

INITIALISATIONS = ("pytorch", "xavier")


def initialise(net: nn.Module, scheme: str) -> nn.Module:
    """Re-draw the weights of every Conv2d and Linear layer in place, and return `net`.

    "pytorch": PyTorch's default (Kaiming-uniform with a=sqrt(5), scaled to the fan-in);
    "xavier": Xavier-uniform (Glorot and Bengio, 2010) with zero biases, what the book's train_ch6 uses.
    """
    if scheme not in INITIALISATIONS:
        raise ValueError(f"scheme must be one of {', '.join(INITIALISATIONS)}, got {scheme!r}")
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            else:
                module.reset_parameters()
    return net


def layer_gradient_norms(net: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> pd.Series:
    """Mean |gradient| of each conv and linear layer's weights for one batch, named conv1.., fc1..

    The network is left in training mode with its gradients cleared.
    """
    net.train()
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(x), y).backward()
    norms = {name: module.weight.grad.abs().mean().item() for name, module in layer_names(net).items()
             if isinstance(module, (nn.Conv2d, nn.Linear))}
    net.zero_grad(set_to_none=True)
    return pd.Series(norms, name="mean |gradient|")


def train_variant(name: str, net: nn.Module, data, settings: TrainSettings, device: torch.device, run: str,
                  train_eval_examples: int = 5_000, precision: str | None = None) -> dict[str, object]:
    """Train one variant and measure it; a finished run is kept as results/<run>/<name>.json and reused.

    While it trains, results/<run>/<name>.pt holds its checkpoint (an interrupted run resumes from it); once
    it has finished, the small JSON record (settings, history, train accuracy) replaces the checkpoint, so
    that dozens of variants do not keep gigabytes of weights. A record made with other settings is ignored.
    Returns its history, and the train and test accuracy both measured in evaluation mode (dropout off),
    so that their difference is the generalisation gap, and the share of the test images given the most
    frequent predicted class (1.0: a constant prediction). `precision` None: the one the hardware suits.
    """
    folder = results_folder(run)
    record_path, checkpoint = folder / f"{name}.json", folder / f"{name}.pt"
    record = json.loads(record_path.read_text()) if record_path.is_file() else None
    if record is not None and record["settings"] == dataclasses.asdict(settings):
        history, train_acc = History(**record["history"]), record["train_acc"]
        top_class_share = record.get("top_class_share")
    else:
        history = train(net, data, settings, device, checkpoint=checkpoint, precision=precision)
        n_train = settings.train_examples or len(data.train_images)
        n_eval = min(n_train, train_eval_examples)
        train_acc, _ = evaluate(net, data.train_images[:n_eval].to(device), data.train_labels[:n_eval].to(device),
                                settings.image_size, history.precision)
        n_test = settings.test_examples or len(data.test_images)
        _, predicted = evaluate(net, data.test_images[:n_test].to(device), data.test_labels[:n_test].to(device),
                                settings.image_size, history.precision)
        top_class_share = torch.bincount(predicted, minlength=10).max().item() / len(predicted)
        if not history.interrupted:
            record = {"settings": dataclasses.asdict(settings), "history": dataclasses.asdict(history), "train_acc": train_acc,
                      "top_class_share": top_class_share}
            record_path.write_text(json.dumps(record, indent=1))
            checkpoint.unlink(missing_ok=True)
    test_acc = history.last("test_acc")
    return {"variant": name, "seed": settings.seed, "history": history, "train_acc": train_acc, "test_acc": test_acc,
            "top_class_share": top_class_share,
            "gap": train_acc - test_acc, "minutes": history.last("elapsed_s") / 60, "interrupted": history.interrupted}


def train_seeds(name: str, make_net: Callable[[], nn.Module], data, settings: TrainSettings, device: torch.device,
                run: str, seeds: Sequence[int] = (0, 1, 2), train_eval_examples: int = 5_000,
                precision: str | None = None, label: str | None = None) -> dict[str, object]:
    """Train one variant once per seed and summarise it: mean and standard deviation over the seeds.

    The data, budget and optimizer stay the same; seed s fixes the initial weights (torch.manual_seed(s)
    before `make_net()`) and the order of the batches (settings.seed = s). Each seed keeps its own
    record, results/<run>/<name>-seed<s>.json (see `train_variant`). The spreads are sample standard deviations (n - 1).
    Pass one `precision` for all the variants, so that it is not one more thing that differs between them;
    `label` (default `name`) is how tables and verdicts call the variant.
    """
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"need at least two different seeds to measure a spread, got {list(seeds)}")
    runs = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = make_net()
        seeded = dataclasses.replace(settings, seed=seed)
        runs.append(train_variant(f"{name}-seed{seed}", net, data, seeded, device, run, train_eval_examples, precision))
    return summarise(label or name, runs, count_parameters(net))


def summarise(label: str, runs: list[dict[str, object]], parameters: int) -> dict[str, object]:
    """Seeded runs as one summary: each accuracy's and the gap's mean and sample standard deviation, the minutes of all."""
    summary: dict[str, object] = {"variant": label, "runs": runs, "seeds": [r["seed"] for r in runs],
                                  "parameters": parameters, "minutes": sum(r["minutes"] for r in runs),
                                  "interrupted": any(r["interrupted"] for r in runs)}
    for key in ("train_acc", "test_acc", "gap"):
        values = [r[key] for r in runs]
        summary[key], summary[f"{key}_std"] = statistics.mean(values), statistics.stdev(values)
    return summary


def shared_seeds(*summaries: dict[str, object]) -> list[int]:
    """The seeds every summary has, in the first one's order: those a verdict compares them on."""
    return [s for s in summaries[0]["seeds"] if all(s in other["seeds"] for other in summaries[1:])]


def on_seeds(summary: dict[str, object], seeds: Sequence[int]) -> dict[str, object]:
    """`summary` over `seeds` only: what a verdict compares when a borderline comparison gave a variant extra seeds."""
    runs = [r for r in summary["runs"] if r["seed"] in seeds]
    if len(runs) < 2:
        raise ValueError(f"{summary['variant']} has {len(runs)} of the seeds {list(seeds)}; a spread needs two")
    return summarise(str(summary["variant"]), runs, int(summary["parameters"]))


class Experiment:
    """Seeded variants of one experiment, each trained by its recipe and compared by the one verdict rule.

    Notebooks 07 and 08 and their keys: `train` runs `train_seeds` and remembers the recipe; `compare`
    gives `verdicts.verdict`, and when that is borderline first trains both variants with `extra_seeds` too.
    """

    def __init__(self, data, device: torch.device, run: str, precision: str, seeds: Sequence[int] = (0, 1, 2),
                 extra_seeds: Sequence[int] = (3, 4)):
        self.data, self.device, self.run, self.precision = data, device, run, precision
        self.seeds, self.extra_seeds = tuple(seeds), tuple(extra_seeds)
        self.results: dict[str, dict[str, object]] = {}
        self._recipes: dict[str, tuple[str, Callable[[], nn.Module], TrainSettings]] = {}

    def train(self, label: str, name: str, make_net: Callable[[], nn.Module], settings: TrainSettings,
              seeds: Sequence[int] | None = None) -> dict[str, object]:
        """Train (or load) `label` with every seed: records results/<run>/<name>-seed<s>.json; its summary.

        Extra seeds that an earlier borderline comparison saved are loaded too, so that every notebook sharing
        the records judges the same comparison from the same seeds.
        """
        self._recipes[label] = (name, make_net, settings)
        asked = tuple(seeds or self.seeds)
        seeds = asked + tuple(s for s in self.extra_seeds
                              if s not in asked and self._recorded(name, dataclasses.replace(settings, seed=s)))
        summary = train_seeds(name, make_net, self.data, settings, self.device, self.run, seeds,
                              precision=self.precision, label=label)
        # updated in place: a summary a notebook holds (`base = lab.train(...)`) stays current when `compare` adds seeds
        self.results.setdefault(label, {}).clear()
        self.results[label].update(summary)
        return self.results[label]

    def saved(self, label: str, name: str, make_net: Callable[[], nn.Module], settings: TrainSettings) -> dict[str, object] | None:
        """`train` when every seed of `name` is already recorded (another notebook trained it): loads, never trains.

        None when a seed is missing, so that a notebook can point to the notebook that trains the comparison.
        """
        if not all(self._recorded(name, dataclasses.replace(settings, seed=s)) for s in self.seeds):
            return None
        return self.train(label, name, make_net, settings)

    def _recorded(self, name: str, settings: TrainSettings) -> bool:
        """True when results/<run>/<name>-seed<s>.json holds a finished run with these settings."""
        path = results_folder(self.run) / f"{name}-seed{settings.seed}.json"
        return path.is_file() and json.loads(path.read_text())["settings"] == dataclasses.asdict(settings)

    def compare(self, changed: str, reference: str, key: str = "test_acc") -> Verdict:
        """`changed` minus `reference` by the one rule; a borderline result first gets the extra seeds."""
        result = verdict(self.results[changed], self.results[reference], key)
        all_seeds = self.seeds + self.extra_seeds
        if result.borderline and self.extra_seeds:
            for label in (changed, reference):
                if len(self.results[label]["seeds"]) < len(all_seeds):
                    self.train(label, *self._recipes[label], seeds=all_seeds)
            result = verdict(self.results[changed], self.results[reference], key)
        return result


def mean_std(summary: dict[str, object], key: str) -> str:
    """`key` of a seeded summary as "mean ± std"."""
    return f"{summary[key]:.3f} ± {summary[f'{key}_std']:.3f}"


def summary_table(runs: list[dict[str, object]]) -> pd.DataFrame:
    """One row per variant: accuracies (evaluation mode) and the gap, the parameters and the training time.

    `runs` are results of `train_variant` (one run: plain numbers) or of `train_seeds` (several seeds:
    "mean ± std" strings, and the minutes of all the seeds together).
    """
    rows = []
    for run in runs:
        if "seeds" in run:
            rows.append({"variant": run["variant"], "seeds": len(run["seeds"]), "train_acc": mean_std(run, "train_acc"),
                         "test_acc": mean_std(run, "test_acc"), "gap": mean_std(run, "gap"),
                         "parameters": f"{run['parameters']:,}", "minutes, all seeds": round(run["minutes"], 2)})
        else:
            rows.append({k: run[k] for k in ("variant", "train_acc", "test_acc", "gap", "minutes")})
    table = pd.DataFrame(rows).set_index("variant")
    return table.round(3)


def example_batch(data, settings: TrainSettings, n: int = 64, device: torch.device | None = None):
    """The first n training images, ready for the network, and their labels."""
    x = to_model_input(data.train_images[:n], settings.image_size)
    y = data.train_labels[:n]
    return (x.to(device), y.to(device)) if device is not None else (x, y)
