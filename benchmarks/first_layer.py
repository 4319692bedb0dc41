"""Experiment: how conv1's initial scale decides whether AlexNet's first-layer filters are readable.

Trains the `cpu` profile's recipe (Adam, cosine schedule, 65x65 inputs, all 60,000 images, 5 epochs)
with conv1's initial weights drawn from N(0, std) and its bias zeroed (every other layer keeps
PyTorch's default initialisation), or with the default everywhere (`--conv1-std default`), and
measures the trained first layer against fair baselines of the same per-filter norms:

- orientation coherence (structure tensor, energy-weighted; `d2lhelpers.inspection.orientation_coherence`),
  averaged over the 96 kernels, for the trained filters, random filters and random filters blurred
  with a Gaussian (sigma 1 and 1.5 px), the baselines over several draws (mean and std);
- neighbour correlation (smoothness), which cannot tell learned filters from blurred noise;
- ||trained - initial|| / ||initial|| for conv1: how much of the final filter is what training added.

The model of seed 0 with the chosen std is also saved to results/alexnet-cpu/ (what notebooks 05 and 06
load), with exactly the cpu profile's settings, once d2lhelpers.runs.initial_alexnet draws conv1 the same way.

Writes benchmarks/first_layer.json (runs are merged in by key, so seeds can be trained one at a time).

`default-start` trains PyTorch's default conv1 start on notebook 05's own plan (the steps saved with its
model in results/alexnet-cpu/model.pt), keeps conv1 at the same steps as notebook 05 does, and writes
benchmarks/first_layer_default_start.pt, which notebook 06 sets beside notebook 05's run.

Usage: python benchmarks/first_layer.py train --conv1-std 0.001 --seed 0 [--save-as-profile-model]
       python benchmarks/first_layer.py measure [--add results/alexnet-cpu-default-init]
       python benchmarks/first_layer.py default-start
"""

from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch import nn

from d2lhelpers import load_fashion_mnist
from d2lhelpers.hardware import machine_description
from d2lhelpers.inspection import (
    blurred_random_filters,
    layer_names,
    neighbour_correlation,
    orientation_coherence,
    random_filters,
)
from d2lhelpers.profiles import PROFILES
from d2lhelpers.checkpoints import conv1_snapshots, load_checkpoint, save_results
from d2lhelpers.data import results_folder
from d2lhelpers.runs import initial_alexnet, run_name, saved_plan
from d2lhelpers.training import train

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "first_layer.json"
DEFAULT_START = ROOT / "benchmarks" / "first_layer_default_start.pt"
PROFILE = PROFILES["cpu"]
DRAWS = 10  # random baselines per kind
SIGMAS = (1.0, 1.5)


def run_key(std: str, seed: int) -> str:
    return f"conv1_std={std},seed={seed}"


def initial_model(std: str, seed: int) -> nn.Sequential:
    """AlexNet as `initial_alexnet` builds it after manual_seed(seed), with conv1 from N(0, std) or PyTorch's default."""
    return initial_alexnet(PROFILE, seed, "default" if std == "default" else float(std))


def settings_for(seed: int):
    """The cpu profile's settings; another seed also changes the data order and dropout."""
    return PROFILE.training if seed == 0 else replace(PROFILE.training, seed=seed)


def run_train(std: str, seed: int, save_as_profile_model: bool) -> None:
    settings = settings_for(seed)
    net = initial_model(std, seed)
    folder = results_folder("first-layer") / run_key(std, seed)
    history = train(net, load_fashion_mnist(), settings, torch.device("cpu"), checkpoint=folder / "checkpoint.pt")
    if history.interrupted:
        raise SystemExit("interrupted: run again to resume from the checkpoint")
    extra = {"profile": PROFILE.name, "test_acc": history.last("test_acc"), "precision": history.precision,
             "device": "cpu", "conv1_std": std, "init_seed": seed}
    save_results(folder, net, history, settings, extra)
    if save_as_profile_model:
        if seed != 0:
            raise SystemExit("only seed 0 has the cpu profile's exact settings")
        saved = save_results(results_folder(run_name(PROFILE)), net, history, settings, extra)
        print(f"saved as the cpu profile's model in {saved}")
    print(f"{run_key(std, seed)}: test accuracy {history.last('test_acc'):.4f}, "
          f"{history.last('elapsed_s') / 60:.1f} min")


def run_default_start() -> None:
    """PyTorch's default conv1 start on notebook 05's plan: the same steps, conv1 kept at the same points."""
    model = results_folder(run_name(PROFILE)) / "model.pt"
    settings = saved_plan(model, PROFILE.training)
    if settings is None:
        raise SystemExit(f"no planned cpu model in {model}: run notebook 05 on the cpu profile first (its plan sets the steps)")
    data = load_fashion_mnist()
    net, n_train = initial_model("default", 0), len(data.train_images)
    initial = layer_names(net)["conv1"].weight.detach().clone()
    snapshots = conv1_snapshots(net, settings, n_train)
    folder = results_folder("first-layer") / "default-start-on-05s-plan"
    history = train(net, data, settings, torch.device("cpu"), checkpoint=folder / "checkpoint.pt", snapshots=snapshots)
    if history.interrupted:
        raise SystemExit("interrupted: run again to resume from the checkpoint")
    torch.save({"settings": asdict(settings), "conv1_std": "default", "seed": 0, "test_acc": history.last("test_acc"),
                "precision": history.precision, "machine": machine_description(),
                "date": datetime.date.today().isoformat(), "epochs": history.epochs,
                "conv1_initial": initial, "conv1": layer_names(net)["conv1"].weight.detach().clone(),
                "snapshots": snapshots.state_dict()},
               DEFAULT_START)
    print(f"default start on notebook 05's plan ({settings.max_steps} steps): test accuracy "
          f"{history.last('test_acc'):.4f}, {history.last('elapsed_s') / 60:.1f} min; wrote {DEFAULT_START}")


def baseline_stats(reference: torch.Tensor) -> dict[str, dict[str, float]]:
    """Coherence and neighbour correlation of random and blurred random filters with `reference`'s norms."""
    generator = torch.Generator().manual_seed(0)
    kinds = {"random": lambda: random_filters(reference, generator=generator)}
    for sigma in SIGMAS:
        kinds[f"blurred_sigma{sigma}"] = lambda s=sigma: blurred_random_filters(reference, s, generator=generator)
    stats = {}
    for name, draw in kinds.items():
        samples = [draw() for _ in range(DRAWS)]
        coherence = torch.tensor([orientation_coherence(w).mean().item() for w in samples])
        smooth = torch.tensor([neighbour_correlation(w) for w in samples])
        stats[name] = {"coherence_mean": coherence.mean().item(), "coherence_std": coherence.std().item(),
                       "neighbour_corr_mean": smooth.mean().item(), "neighbour_corr_std": smooth.std().item(),
                       "draws": DRAWS}
    return stats


def run_measure(extra_folders: list[Path]) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    base = results_folder("first-layer")
    folders = sorted(p for p in base.iterdir() if (p / "model.pt").is_file()) if base.is_dir() else []
    for folder in folders + extra_folders:
        summary = json.loads((folder / "results.json").read_text())
        # a folder saved by notebook 05 (no conv1_std): PyTorch's default initialisation after manual_seed(0)
        std, seed = summary.get("conv1_std", "default"), summary.get("init_seed", 0)
        net = initial_model(std, seed)
        initial = layer_names(net)["conv1"].weight.detach().clone()
        load_checkpoint(folder / "model.pt", net, settings_for(seed))
        trained = layer_names(net)["conv1"].weight.detach()
        change = trained - initial
        coherence = orientation_coherence(trained)
        results["runs"][run_key(std, seed)] = {
            "conv1_std": std, "seed": seed, "test_acc": summary["test_acc"],
            "source": "benchmarks/first_layer.py train" if folder in folders else "notebook 05 (same settings)",
            "minutes": summary["history"]["epochs"][-1]["elapsed_s"] / 60,
            "initial_std": initial.std().item(), "trained_std": trained.std().item(),
            "change_over_initial": (change.norm() / initial.norm()).item(),
            "coherence_trained_mean": coherence.mean().item(), "coherence_trained_std_over_kernels": coherence.std().item(),
            "coherence_initial_mean": orientation_coherence(initial).mean().item(),
            "coherence_change_mean": orientation_coherence(change).mean().item(),
            "neighbour_corr_trained": neighbour_correlation(trained),
            "neighbour_corr_change": neighbour_correlation(change),
            "baselines": baseline_stats(trained),
        }
    results["settings"] = asdict(PROFILE.training)
    results["machine"] = machine_description()
    results["date"] = datetime.date.today().isoformat()
    RESULTS.write_text(json.dumps(results, indent=1))
    for key, run in results["runs"].items():
        b = run["baselines"]
        print(f"{key}: acc {run['test_acc']:.4f}, change/initial {run['change_over_initial']:.2f}, coherence trained "
              f"{run['coherence_trained_mean']:.3f}, random {b['random']['coherence_mean']:.3f}±"
              f"{b['random']['coherence_std']:.3f}, "
              + ", ".join(f"{k} {v['coherence_mean']:.3f}±{v['coherence_std']:.3f}" for k, v in b.items() if k != "random")
              + f"; neighbour corr trained {run['neighbour_corr_trained']:.2f}, "
              + ", ".join(f"{k} {v['neighbour_corr_mean']:.2f}" for k, v in b.items()))
    print(f"wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--conv1-std", default="0.001", help="a number, or 'default' for PyTorch's initialisation")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--save-as-profile-model", action="store_true")
    m = sub.add_parser("measure")
    m.add_argument("--add", type=Path, nargs="*", default=[],
                   help="more folders with model.pt and results.json, e.g. notebook 05's results/alexnet-cpu "
                        "trained with PyTorch's default initialisation")
    sub.add_parser("default-start", help="PyTorch's default conv1 start on notebook 05's plan, with snapshots")
    args = parser.parse_args()
    if args.command == "default-start":
        run_default_start()
    elif args.command == "train":
        run_train(args.conv1_std, args.seed, args.save_as_profile_model)
    else:
        run_measure(args.add)


if __name__ == "__main__":
    main()
