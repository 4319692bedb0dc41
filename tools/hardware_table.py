"""CONTRIBUTING.md's hardware table, from the recorded runs (benchmarks/series-<profile>[-<kind>].json).

Record a run with `python tools/run_series.py --profile cpu --record` on a fresh checkout (no saved
results, so that the times include training), then `python tools/hardware_table.py --write`.
A test fails when the table in CONTRIBUTING.md differs from the records.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from d2lhelpers.hardware import format_duration
from d2lhelpers.profiles import PROFILES

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/markdown_sections.py, also when loaded by path
from markdown_sections import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "CONTRIBUTING.md"
SECTION = "hardware"  # CONTRIBUTING.md: <!-- hardware:start --> ... <!-- hardware:end -->
PROFILE_NAMES = tuple(PROFILES)


def records() -> dict[str, dict]:
    """The recorded runs, by label: a profile's name (`series-cpu.json`), or the name and the kind of machine it
    was recorded on (`series-cpu-avx512.json`, written by `run_series.py --record-as avx512`)."""
    found = {}
    for name in PROFILE_NAMES:
        paths = [ROOT / "benchmarks" / f"series-{name}.json"]
        paths += sorted((ROOT / "benchmarks").glob(f"series-{name}-*.json"))
        for path in paths:
            if path.is_file():
                found[path.stem.removeprefix("series-")] = json.loads(path.read_text())
    return found


def column(label: str) -> str:
    """A record's label as a heading: `cpu`, or `cpu` AVX2 for the cpu profile recorded on an AVX2 machine."""
    name, _, kind = label.partition("-")
    return f"`{name}`" + (f" {kind.upper()}" if kind else "")


def hardware_table(runs: dict[str, dict]) -> str:
    """Markdown: one row per recorded run (machine, image size, total time, AlexNet's accuracy), then one per
    notebook."""
    lines = ["| profile | machine | image size | all notebooks | AlexNet test accuracy (notebook 05) |",
             "|---|---|---|---|---|"]
    for name in PROFILE_NAMES:
        labels = [label for label in runs if label.partition("-")[0] == name]
        if not labels:
            lines.append(f"| `{name}` | not measured yet (no such machine was available) | | | |")
        for label in labels:
            run = runs[label]
            total = sum(row["seconds"] for row in run["notebooks"])
            accuracy = "not run" if run["alexnet_test_acc"] is None else f"{run['alexnet_test_acc']:.3f}"
            count = len(run["notebooks"])
            lines.append(f"| {column(label)} | {run['machine']} ({run['date']}) | {run['image_size']}x{run['image_size']} | "
                         f"{format_duration(total)} ({count} notebook{'s' * (count != 1)}) | {accuracy} |")
    measured = list(runs)
    lines += ["", "| notebook | " + " | ".join(column(label) for label in measured) + " |",
              "|---|" + "---|" * len(measured)]
    notebooks = []  # every notebook any run recorded, the series first, then the answer keys
    for label in measured:
        notebooks += [row["notebook"] for row in runs[label]["notebooks"] if row["notebook"] not in notebooks]
    notebooks.sort(key=lambda notebook: (notebook.endswith("_solutions"), notebook))
    for notebook in notebooks:
        cells = []
        for label in measured:
            row = next((r for r in runs[label]["notebooks"] if r["notebook"] == notebook), None)
            cells.append("" if row is None else format_duration(row["seconds"]) + ("" if row["ok"] else " (failed)"))
        lines.append(f"| {notebook} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write the table into {DOCUMENT.name}")
    args = parser.parse_args()
    table = hardware_table(records())
    if args.write:
        write_section(DOCUMENT, SECTION, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
