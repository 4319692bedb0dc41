"""The README's hardware table, from the recorded runs (benchmarks/series-<profile>.json).

Record a run with `python tools/run_series.py --profile cpu --record` on a fresh checkout (no saved
results, so that the times include training), then `python tools/hardware_table.py --readme`.
A test fails when the README's table differs from the records.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from d2lhelpers.hardware import format_duration
from d2lhelpers.profiles import PROFILES
from d2lhelpers.tables import write_section

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "hardware"  # README.md: <!-- hardware:start --> ... <!-- hardware:end -->
PROFILE_NAMES = tuple(PROFILES)


def records() -> dict[str, dict]:
    """The recorded runs, by profile."""
    found = {}
    for name in PROFILE_NAMES:
        path = ROOT / "benchmarks" / f"series-{name}.json"
        if path.is_file():
            found[name] = json.loads(path.read_text())
    return found


def hardware_table(runs: dict[str, dict]) -> str:
    """Markdown: one row per profile (machine, image size, total time, AlexNet's accuracy), then one per notebook."""
    lines = ["| profile | machine | image size | all notebooks | AlexNet test accuracy (notebook 05) |",
             "|---|---|---|---|---|"]
    for name in PROFILE_NAMES:
        if name not in runs:
            lines.append(f"| `{name}` | not measured yet (no such machine was available) | | | |")
            continue
        run = runs[name]
        total = sum(row["seconds"] for row in run["notebooks"])
        accuracy = "not run" if run["alexnet_test_acc"] is None else f"{run['alexnet_test_acc']:.3f}"
        lines.append(f"| `{name}` | {run['machine']} ({run['date']}) | {run['image_size']}x{run['image_size']} | "
                     f"{format_duration(total)} ({len(run['notebooks'])} notebook{'s' * (len(run['notebooks']) != 1)}) | {accuracy} |")
    measured = [name for name in PROFILE_NAMES if name in runs]
    lines += ["", "| notebook | " + " | ".join(f"`{name}`" for name in measured) + " |",
              "|---|" + "---|" * len(measured)]
    notebooks = []  # every notebook any profile recorded, the series first, then the answer keys
    for name in measured:
        notebooks += [row["notebook"] for row in runs[name]["notebooks"] if row["notebook"] not in notebooks]
    notebooks.sort(key=lambda notebook: (notebook.endswith("_solutions"), notebook))
    for notebook in notebooks:
        cells = []
        for name in measured:
            row = next((r for r in runs[name]["notebooks"] if r["notebook"] == notebook), None)
            cells.append("" if row is None else format_duration(row["seconds"]) + ("" if row["ok"] else " (failed)"))
        lines.append(f"| {notebook} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    table = hardware_table(records())
    if args.readme:
        write_section(README, SECTION, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
