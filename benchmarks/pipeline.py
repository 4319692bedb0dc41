"""Benchmark: the book's training pipeline against ours, end to end, in one run on one machine.

1. Examples/s of a training step at 224x224, batch 128, the same AlexNet and the same optimizer
   (the book's SGD, lr 0.01), counted from fetching the batch to the optimizer step:
   - book: `d2l.load_data_fashion_mnist(128, resize=224)` (PIL resize in 4 DataLoader workers), fp32;
   - ours: uint8 data on the device, batches resized with F.interpolate, bf16 where measured faster,
     channels-last.
2. Time to accuracy of the `cpu` profile (or `gpu` on a GPU): minutes until the test accuracy first
   reaches --target (0.88), from `d2lhelpers.training.train`.

Writes benchmarks/results.json; `--write` copies its table into CONTRIBUTING.md.
Usage: python benchmarks/pipeline.py [--batches 20] [--skip-time-to-accuracy] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from d2lhelpers import alexnet, best_device, load_fashion_mnist
from d2lhelpers.batches import batches
from d2lhelpers.data import default_data_dir
from d2lhelpers.devices import choose_precision, examples_per_second, make_scaler, prepare_model
from d2lhelpers.hardware import machine_description, training_flops_per_image
from d2lhelpers.profiles import PROFILES, default_profile_name
from d2lhelpers.runs import initial_alexnet
from d2lhelpers.training import TrainSettings, make_optimizer, train, train_step

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))  # tools/markdown_sections.py
from markdown_sections import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
DOCUMENT = ROOT / "CONTRIBUTING.md"
SECTION = "benchmark"  # CONTRIBUTING.md: <!-- benchmark:start --> ... <!-- benchmark:end -->


@contextlib.contextmanager
def books_working_directory() -> Iterator[None]:
    """A working directory whose ../data is the data folder: the book's loader reads "../data"."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(default_data_dir().resolve(), Path(tmp) / "data")
        (Path(tmp) / "work").mkdir()
        os.chdir(Path(tmp) / "work")
        try:
            yield
        finally:
            os.chdir(cwd)


def book_examples_per_second(n_batches: int, device: torch.device) -> float:
    """The book's pipeline: its loader, fp32, its SGD."""
    from d2l import torch as d2l

    warnings.filterwarnings("ignore", message="This DataLoader will create")
    with books_working_directory():
        train_iter, _ = d2l.load_data_fashion_mnist(128, resize=224)
        torch.manual_seed(0)
        net = alexnet(image_size=224).to(device)
        optimizer = make_optimizer(net, TrainSettings())
        return examples_per_second(train_iter, n_batches, device, lambda x, y: train_step(net, optimizer, x, y, "fp32"))


def our_examples_per_second(n_batches: int, device: torch.device) -> tuple[float, str]:
    """Our pipeline at the same size, batch and optimizer."""
    data = load_fashion_mnist()
    torch.manual_seed(0)
    net = prepare_model(alexnet(image_size=224), device)
    precision = choose_precision(net, 224, device, batch_size=128)
    optimizer, scaler = make_optimizer(net, TrainSettings()), make_scaler(device, precision)
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    generator = torch.Generator().manual_seed(0)
    rate = examples_per_second(batches(images, labels, 128, 224, generator), n_batches, device,
                               lambda x, y: train_step(net, optimizer, x, y, precision, scaler))
    return rate, precision.name


def time_to_accuracy(profile_name: str, target: float, device: torch.device) -> dict:
    """Train the profile from scratch; report when the test accuracy first reached `target`."""
    settings = PROFILES[profile_name].training
    history = train(initial_alexnet(PROFILES[profile_name]), load_fashion_mnist(), settings, device)
    reached = next((e for e in history.epochs if e["test_acc"] >= target), None)
    return {
        "profile": profile_name,
        "target": target,
        "minutes_to_target": None if reached is None else round(reached["elapsed_s"] / 60, 2),
        "epoch_reached": None if reached is None else reached["epoch"],
        "final_test_acc": round(history.last("test_acc"), 4),
        "total_minutes": round(history.last("elapsed_s") / 60, 2),
        "precision": history.precision,
        "test_acc_by_epoch": [round(e["test_acc"], 4) for e in history.epochs],
    }


def training_gflops(examples_per_s: float, image_size: int = 224) -> float:
    """Approximate arithmetic rate of training: 3 x the forward multiply-adds (forward, two backward
    products), 2 FLOP each."""
    return examples_per_s * training_flops_per_image(alexnet(image_size=image_size), (1, image_size, image_size)) / 1e9


def readme_table(results: dict) -> str:
    """CONTRIBUTING.md's benchmark table, made from results.json."""
    p = results["pipeline"]
    lines = [
        f"Measured by `python benchmarks/pipeline.py` on {results['machine']} ({results['date']}, torch {results['torch']}):",
        "",
        "| what | book's pipeline | ours | ratio |",
        "|---|---|---|---|",
        f"| training examples/s, AlexNet at 224x224, batch 128, end to end | {p['book_examples_per_s']:,.1f} (fp32) "
        f"| {p['ours_examples_per_s']:,.1f} ({p['ours_precision']}) | {p['ratio']:.1f}x |",
        f"| the same, as arithmetic (approximate GFLOP/s) | {training_gflops(p['book_examples_per_s']):,.0f} "
        f"| {training_gflops(p['ours_examples_per_s']):,.0f} | |",
    ]
    tta = results.get("time_to_accuracy")
    if tta:
        reached = (f"{tta['minutes_to_target']} min (epoch {tta['epoch_reached']})" if tta["minutes_to_target"] is not None
                   else "not reached")
        lines.append(f"| `{tta['profile']}` profile: time to {tta['target']} test accuracy | | {reached}; "
                     f"final {tta['final_test_acc']} after {tta['total_minutes']} min | |")
    return "\n".join(lines)


def write_table(results: dict) -> None:
    write_section(DOCUMENT, SECTION, readme_table(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="timed batches per pipeline, after one warm-up (more than the 8 the book's workers prefetch)")
    parser.add_argument("--target", type=float, default=0.88)
    parser.add_argument("--skip-time-to-accuracy", action="store_true")
    parser.add_argument("--write", action="store_true", help=f"only copy the table of results.json into {DOCUMENT.name}")
    args = parser.parse_args()
    if args.write:
        write_table(json.loads(RESULTS.read_text()))
        return 0

    device = best_device()
    print(f"device {device}; timing {args.batches} batches of 128 at 224x224 for each pipeline", flush=True)
    book = book_examples_per_second(args.batches, device)
    print(f"book: {book:,.1f} examples/s (fp32)", flush=True)
    ours, precision = our_examples_per_second(args.batches, device)
    print(f"ours: {ours:,.1f} examples/s ({precision})", flush=True)
    print(f"ratio ours / book: {ours / book:.2f}x", flush=True)
    results = {
        "machine": machine_description(),
        "device": str(device),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__.split("+")[0],
        "pipeline": {"batches": args.batches, "book_examples_per_s": round(book, 1), "ours_examples_per_s": round(ours, 1),
                     "ours_precision": precision, "ratio": round(ours / book, 2)},
    }
    if not args.skip_time_to_accuracy:
        profile = default_profile_name()
        print(f"time to accuracy: training the {profile} profile ...", flush=True)
        results["time_to_accuracy"] = time_to_accuracy(profile, args.target, device)
        print(json.dumps(results["time_to_accuracy"]), flush=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
