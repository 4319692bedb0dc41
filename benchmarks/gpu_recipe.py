"""Does the `gpu` profile's recipe learn? Measured on a CPU, before anyone spends GPU time on it.

The `gpu` profile trains notebook 05's AlexNet as the book's `d2l.train_ch6` does: the full network at 224x224,
batch 128, plain SGD at lr 0.01 without momentum, from a Xavier-uniform start. This runs its first STEPS steps for
several starts and input scalings on the same batches in the same order, and prints the training loss of each run,
averaged over each tenth of the steps (ln 10 = 2.303 is a uniform guess over the 10 classes).

Variants (one factor at a time, against the profile's own):
- "xavier":            the profile's recipe: Xavier-uniform start, standardised inputs (mean 0, std 1);
- "xavier, [0, 1]":    the same start with the book's inputs, pixels scaled to [0, 1];
- "pytorch default":   PyTorch's default start (what the profile used before), standardised inputs;
- "xavier, momentum":  the profile's recipe with SGD momentum 0.9, the smallest change from the book that gets
                       going when the book's plain SGD does not (run with --momentum).

Writes benchmarks/gpu_recipe.json and prints a table; `--steps` and `--variants` shorten a trial run.

`--inputs` compares the two input scalings on the scaled-down run of tests/test_recipes_learn.py instead (the
experiments' network, an eighth of AlexNet's channels, at 65x65: seconds a run, so several seeds), with the
profile's start and optimiser, judged by the series' verdict rule; it writes benchmarks/gpu_recipe_inputs.json.

`--write` puts both measurements into CONTRIBUTING.md's `gpu-recipe` section.

Usage: python benchmarks/gpu_recipe.py [--steps 150] [--variants xavier "pytorch default"] [--momentum]
       python benchmarks/gpu_recipe.py --inputs [--seeds 0 1 2]
       python benchmarks/gpu_recipe.py --write
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import sys

import torch

from d2lhelpers import load_fashion_mnist
from d2lhelpers.batches import FASHION_MNIST_MEAN, FASHION_MNIST_STD, batches, model_ready
from d2lhelpers.devices import choose_precision, memory_format, prepare_model
from d2lhelpers.hardware import machine_description
from d2lhelpers.profiles import EIGHTH_WIDTH, PROFILES, Profile
from d2lhelpers.runs import initial_alexnet
from d2lhelpers.training import evaluate, learning_rate, make_optimizer, set_learning_rate, train_step
from d2lhelpers.verdicts import verdict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))  # tools/markdown_sections.py
from markdown_sections import write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "gpu_recipe.json"
DOCUMENT = Path(__file__).resolve().parent.parent / "CONTRIBUTING.md"
SECTION = "gpu-recipe"  # CONTRIBUTING.md: <!-- gpu-recipe:start --> ... <!-- gpu-recipe:end -->
INPUTS_RESULTS = Path(__file__).resolve().parent / "gpu_recipe_inputs.json"
SCALED_STEPS, SCALED_BATCH, SCALED_SIZE, SCALED_TEST = 600, 32, 65, 1_000
PROFILE = PROFILES["gpu"]
UNIFORM_GUESS = math.log(10)
VARIANTS = {  # name -> (start, inputs in [0, 1], SGD momentum)
    "xavier": ("xavier", False, 0.0),
    "xavier, [0, 1]": ("xavier", True, 0.0),
    "pytorch default": ("default", False, 0.0),
    "xavier, momentum": ("xavier", False, 0.9),
}
TEST_IMAGES = 1_000  # scored after the last step, for a sense of how far the run got


def tenths(losses: list[float]) -> list[float]:
    """The mean loss over each tenth of the steps."""
    n = len(losses)
    edges = [round(n * k / 10) for k in range(11)]
    return [sum(losses[a:b]) / (b - a) for a, b in zip(edges, edges[1:]) if b > a]


def run(name: str, steps: int, data, device: torch.device) -> dict[str, object]:
    """Train the gpu profile's AlexNet for `steps` steps as the variant says; the losses, test accuracy and time."""
    start, unit_range, momentum = VARIANTS[name]
    settings = replace(PROFILE.training, momentum=momentum)
    net = prepare_model(initial_alexnet(PROFILE, seed=0, start=start), device)
    precision = choose_precision(net, settings.image_size, device, settings.batch_size)
    optimizer = make_optimizer(net, settings)
    torch.manual_seed(0)  # dropout's masks
    order = torch.Generator().manual_seed(0)  # the same batches, in the same order, for every variant
    losses, began = [], time.perf_counter()
    for step, (x, y) in enumerate(batches(data.train_images, data.train_labels, settings.batch_size,
                                          settings.image_size, order)):
        if step == steps:
            break
        if unit_range:
            x = to_unit_range(x)
        loss, _ = train_step(net, optimizer, memory_format(x), y, precision)
        losses.append(loss.item())
        if step % 10 == 9:
            print(f"  {name}: step {step + 1}/{steps}, loss {sum(losses[-10:]) / 10:.3f}, "
                  f"{(time.perf_counter() - began) / (step + 1):.1f} s/step", flush=True)
    seconds = time.perf_counter() - began
    if unit_range:
        test_acc = float("nan")  # evaluate() standardises; this variant is judged on its training loss
    else:
        test_acc, _ = evaluate(net, data.test_images[:TEST_IMAGES], data.test_labels[:TEST_IMAGES],
                               settings.image_size, precision)
    return {"variant": name, "start": start, "inputs": "[0, 1]" if unit_range else "standardised",
            "momentum": momentum, "steps": steps, "precision": precision.name, "loss_by_tenth": tenths(losses),
            "losses": losses, "below_2": next((i + 1 for i in range(len(losses)) if
                                               sum(losses[max(0, i - 9):i + 1]) / len(losses[max(0, i - 9):i + 1]) < 2.0), None),
            "test_acc": test_acc, "seconds": seconds}


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Standardised model inputs back to pixels in [0, 1], as the book feeds them."""
    return x * FASHION_MNIST_STD + FASHION_MNIST_MEAN


def scaled_run(profile: Profile, data, start: float | str | None = None, unit_range: bool = False,
               seed: int = 0) -> dict[str, float]:
    """The profile's start, optimiser and schedule on the experiments' network at 65x65, batch 32, SCALED_STEPS steps
    of real images: test accuracy on SCALED_TEST images and the share of the most predicted class."""
    settings = replace(profile.training, image_size=SCALED_SIZE, batch_size=SCALED_BATCH, epochs=1, time_budget_s=None,
                       train_examples=SCALED_STEPS * SCALED_BATCH)
    net = initial_alexnet(profile, seed=seed, start=start, image_size=SCALED_SIZE, **EIGHTH_WIDTH)
    optimizer = make_optimizer(net, settings)
    images = model_ready(data.train_images[: settings.train_examples], SCALED_SIZE)
    test = model_ready(data.test_images[:SCALED_TEST], SCALED_SIZE)
    if unit_range:
        images, test = to_unit_range(images), to_unit_range(test)
    order = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout's masks
    for step, (x, y) in enumerate(batches(images, data.train_labels[: settings.train_examples], SCALED_BATCH,
                                          SCALED_SIZE, order)):
        set_learning_rate(optimizer, learning_rate(settings, step, SCALED_STEPS))
        train_step(net, optimizer, x, y, "fp32")
    accuracy, predicted = evaluate(net, test, data.test_labels[:SCALED_TEST], SCALED_SIZE)
    return {"seed": seed, "test_acc": accuracy, "top_class_share": predicted.bincount().max().item() / len(predicted)}


def compare_inputs(seeds: list[int]) -> None:
    """Standardised inputs against the book's [0, 1] on the scaled-down run, from the gpu profile's start."""
    data = load_fashion_mnist()
    summaries = {}
    for name, unit_range in (("standardised", False), ("[0, 1]", True)):
        runs = [scaled_run(PROFILE, data, unit_range=unit_range, seed=seed) for seed in seeds]
        summaries[name] = {"variant": name, "runs": runs}
        print(f"{name}: test accuracy " + ", ".join(f"{r['test_acc']:.3f}" for r in runs), flush=True)
    judged = verdict(summaries["standardised"], summaries["[0, 1]"])
    print(judged)
    record = {"machine": machine_description(), "date": datetime.date.today().isoformat(),
              "steps": SCALED_STEPS, "batch": SCALED_BATCH, "image_size": SCALED_SIZE, "network": EIGHTH_WIDTH,
              "optimizer": {"name": PROFILE.training.optimizer, "lr": PROFILE.training.lr}, "start": PROFILE.start,
              "summaries": summaries, "verdict": str(judged), "difference": judged.difference,
              "interval": [judged.low, judged.high]}
    INPUTS_RESULTS.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def table(runs: list[dict[str, object]]) -> str:
    """Markdown: one row per variant, the mean loss of each tenth of the steps."""
    steps = runs[0]["steps"]
    head = "| variant | " + " | ".join(f"{round(steps * k / 10)}" for k in range(1, 11)) + " | first 10-step mean < 2.0 | test acc |"
    rows = [head, "|---" * 13 + "|"]
    for r in runs:
        below = r["below_2"] or f"not in {steps}"
        acc = "n/a" if math.isnan(r["test_acc"]) else f"{r['test_acc']:.3f}"
        rows.append(f"| {r['variant']} | " + " | ".join(f"{v:.3f}" for v in r["loss_by_tenth"]) + f" | {below} | {acc} |")
    return "\n".join(rows)


def section_text(full: dict, inputs: dict | None) -> str:
    """CONTRIBUTING.md's gpu-recipe section: the full-size runs' table and the input-scaling verdict."""
    runs = full["runs"]
    lines = [f"Measured by `python benchmarks/gpu_recipe.py` on {full['machine']} ({full['date']}, "
             f"{runs[0]['precision']}): the full network at 224x224, batch 128, SGD at lr 0.01, the same batches "
             f"in the same order for every start. Training loss, mean over each tenth of the steps "
             f"(ln 10 = {UNIFORM_GUESS:.3f} is a uniform guess):", "", table(runs)]
    if inputs:
        lines += ["", f"Input scaling (`--inputs`, the scaled-down run of tests/test_recipes_learn.py, "
                      f"{len(inputs['summaries']['standardised']['runs'])} seeds, {inputs['machine']}): "
                      f"{inputs['verdict']}."]
    return "\n".join(lines)


def write() -> None:
    """CONTRIBUTING.md's gpu-recipe section from the two result files."""
    inputs = json.loads(INPUTS_RESULTS.read_text()) if INPUTS_RESULTS.is_file() else None
    write_section(DOCUMENT, SECTION, section_text(json.loads(RESULTS.read_text()), inputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--variants", nargs="+", default=["xavier", "xavier, [0, 1]", "pytorch default"],
                        choices=list(VARIANTS))
    parser.add_argument("--momentum", action="store_true", help="add the 'xavier, momentum' variant")
    parser.add_argument("--inputs", action="store_true", help="compare the input scalings on the scaled-down run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--write", action="store_true", help="write CONTRIBUTING.md's gpu-recipe section and stop")
    args = parser.parse_args()
    if args.write:
        return write()
    if args.inputs:
        return compare_inputs(args.seeds)
    names = args.variants + (["xavier, momentum"] if args.momentum else [])
    device = torch.device("cpu")
    data = load_fashion_mnist()
    saved = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    runs = {run["variant"]: run for run in saved.get("runs", []) if run["steps"] == args.steps}
    for name in names:  # each run is written as soon as it ends: a long measurement can be resumed variant by variant
        print(f"{name}: {args.steps} steps", flush=True)
        runs[name] = run(name, args.steps, data, device)
        record = {"machine": machine_description(), "date": datetime.date.today().isoformat(),
                  "settings": asdict(PROFILE.training), "runs": list(runs.values())}
        RESULTS.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"\ntraining loss, mean over each tenth of {args.steps} steps (column: the tenth's last step); "
          f"ln 10 = {UNIFORM_GUESS:.3f} is a uniform guess")
    print(table(list(runs.values())))
    print(f"written to {RESULTS.name}")


if __name__ == "__main__":
    main()
