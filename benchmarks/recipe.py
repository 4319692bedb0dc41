"""Benchmark: which recipe gets notebook 05's AlexNet furthest in the `cpu` profile's training budget?

Each option changes one setting of the profile's recipe (Adam at lr 0.001 on a cosine schedule, batch 128) and
trains the profile's AlexNet from its start, planned to the profile's time budget as notebook 05 plans it
(steps timed here, re-planned after the first epoch), once per seed. Options:
- "profile":               the recipe as it is;
- "peak lr 0.002":         twice the learning rate at the top of the cosine;
- "label smoothing 0.1":   the training targets give 10% of their probability to the ten classes evenly.

Each option is judged against "profile" by the series' one verdict rule (Welch's 95% interval over the seeds) on
the test accuracy reached in the same time. Runs are saved to benchmarks/recipe.json as they finish, so an
interrupted benchmark resumes; `--write` copies the comparison into CONTRIBUTING.md's `recipe` section.

Usage: python benchmarks/recipe.py [--options profile "peak lr 0.002"] [--seeds 0 1 2] [--budget 300]
       python benchmarks/recipe.py --write
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import torch

from d2lhelpers import best_device, load_fashion_mnist
from d2lhelpers.devices import choose_precision
from d2lhelpers.hardware import machine_description
from d2lhelpers.profiles import choose_profile
from d2lhelpers.runs import initial_alexnet, plan_steps, plan_training
from d2lhelpers.training import History, TrainSettings, train
from d2lhelpers.verdicts import verdict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # tools/markdown_sections.py
from markdown_sections import write_section  # noqa: E402

RESULTS = ROOT / "benchmarks" / "recipe.json"
DOCUMENT = ROOT / "CONTRIBUTING.md"
SECTION = "recipe"  # CONTRIBUTING.md: <!-- recipe:start --> ... <!-- recipe:end -->
OPTIONS = {"profile": {}, "peak lr 0.002": {"lr": 2e-3}, "label smoothing 0.1": {"label_smoothing": 0.1}}


def option_settings(base: TrainSettings, option: str, seed: int, budget_s: float) -> TrainSettings:
    """The profile's training settings with one option's change, this seed's shuffles and the budget."""
    return replace(base, **OPTIONS[option], seed=seed, time_budget_s=budget_s)


def run_one(settings: TrainSettings, data, device: torch.device) -> dict[str, object]:
    """Train the profile's AlexNet from the settings' seed as notebook 05 does: planned, re-planned after epoch 1."""
    net = initial_alexnet(choose_profile("cpu"), seed=settings.seed)
    precision = choose_precision(net, settings.image_size, device, settings.batch_size)
    plan = plan_training(net, data, settings, device, precision)
    n_train = settings.train_examples or len(data.train_images)
    history = train(net, data, plan.settings, device, precision=precision,
                    replan=partial(plan_steps, settings, n_train) if plan.settings.max_steps else None)
    estimate = history.replanned.get("estimated_s", plan.estimated_seconds)
    return {"seed": settings.seed, "test_acc": history.last("test_acc"), "test_loss": history.last("test_loss"),
            "steps": sum(e["steps"] for e in history.epochs), "seconds": history.last("elapsed_s"),
            "estimated_s": estimate, "precision": precision.name,
            "epochs": [{k: e[k] for k in ("steps", "train_loss", "test_acc", "test_loss", "elapsed_s")}
                       for e in history.epochs]}


def summary(option: str, runs: list[dict[str, object]]) -> dict[str, object]:
    """An option's runs in the shape `verdicts.verdict` reads (a history per run, for its divergence check)."""
    return {"variant": option, "runs": [run | {"history": History(epochs=run["epochs"])} for run in runs]}


def section_text(saved: dict[str, object]) -> str:
    """The options as a table (mean ± std over the seeds), then each option's verdict against the profile's recipe."""
    base = saved["base"]
    lines = [f"Measured by `python benchmarks/recipe.py` on {saved['machine']} ({saved['date']}): notebook 05's AlexNet "
             f"on the `cpu` profile, {base['image_size']}x{base['image_size']}, all 60,000 training images, each run "
             f"planned to {saved['budget_s']:.0f} s of training; the profile's recipe is {base['optimizer'].title()} at "
             f"lr {base['lr']} ({base['schedule']}), batch {base['batch_size']}. Test accuracy and loss on all 10,000 "
             "test images after the run; \"run / plan\" is the run's time against the plan's estimate.", "",
             "| option | seeds | test accuracy | test loss | steps | run / plan |", "|---|---|---|---|---|---|"]
    runs = saved["runs"]
    for option in (o for o in OPTIONS if runs.get(o)):
        acc = [r["test_acc"] for r in runs[option]]
        spread = statistics.stdev(acc) if len(acc) > 1 else 0.0
        timing = statistics.mean(r["seconds"] / r["estimated_s"] for r in runs[option]) - 1
        lines.append(f"| {option} | {len(acc)} | {statistics.mean(acc):.4f} ± {spread:.4f} | "
                     f"{statistics.mean(r['test_loss'] for r in runs[option]):.3f} | "
                     f"{statistics.mean(r['steps'] for r in runs[option]):.0f} | {timing:+.1%} |")
    reference = runs.get("profile", [])
    verdicts = [f"- {verdict(summary(o, runs[o]), summary('profile', reference))}" for o in OPTIONS
                if o != "profile" and len(runs.get(o, [])) >= 2 and len(reference) >= 2]
    return "\n".join(lines + ([""] + verdicts if verdicts else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(choose_profile("cpu").seeds))
    parser.add_argument("--budget", type=float, default=choose_profile("cpu").training.time_budget_s,
                        help="seconds of training per run (default: the cpu profile's budget)")
    parser.add_argument("--write", action="store_true", help="write CONTRIBUTING.md's recipe section, train nothing")
    args = parser.parse_args()
    saved = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if args.write and not saved:
        raise SystemExit(f"no runs in {RESULTS}: run the benchmark first")
    if not args.write:
        base = choose_profile("cpu").training
        if saved and saved.get("budget_s") != args.budget:
            raise SystemExit(f"{RESULTS} holds runs with a budget of {saved['budget_s']} s, not {args.budget}: "
                             "move it away to start again")
        saved = saved or {"budget_s": args.budget, "base": asdict(base), "runs": {}}
        device, data = best_device(), load_fashion_mnist()
        for seed in args.seeds:  # seed by seed, so that a stopped benchmark has every option on the same seeds
            for option in args.options:
                if any(r["seed"] == seed for r in saved["runs"].get(option, [])):
                    continue
                print(f"{option}, seed {seed} ...", flush=True)
                run = run_one(option_settings(base, option, seed, args.budget), data, device)
                print(f"  test accuracy {run['test_acc']:.4f} after {run['steps']} steps, {run['seconds']:.0f} s",
                      flush=True)
                saved["runs"].setdefault(option, []).append(run)
                saved |= {"machine": machine_description(), "date": datetime.date.today().isoformat()}
                RESULTS.write_text(json.dumps(saved, indent=1) + "\n")
    text = section_text(saved)
    print(text)
    if args.write:
        write_section(DOCUMENT, SECTION, text)


if __name__ == "__main__":
    main()
