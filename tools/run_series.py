"""Execute every notebook in order, headlessly, and write the executed notebooks and HTML to build/.

Prints one line per notebook: status, wall time and its key figure (the first line of output of
the cell tagged `key-figure`). Usage: `./course run [--profile ci|cpu|gpu] [notebooks ...]`.
Maintainers refresh the committed outputs with `./course run --in-place` (after changing a notebook
or the helpers it imports). `--record` also writes the wall times to benchmarks/series-<profile>.json
(replacing the rows of the notebooks that ran), from which tools/hardware_table.py builds CONTRIBUTING.md's
hardware table: use it on a fresh run (no saved results), so that the times include the training.
`--record-as avx512` writes benchmarks/series-<profile>-avx512.json instead: a second kind of machine, its own row.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import runpy
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

from d2lhelpers.checkpoints import load_results
from d2lhelpers.hardware import format_duration, machine_description
from d2lhelpers.profiles import PROFILE_ENV_VAR, PROFILES, choose_profile
from d2lhelpers.runs import run_name

ROOT = Path(__file__).resolve().parent.parent

KEY_FIGURE_TAG = "key-figure"


def series_notebooks() -> list[Path]:
    """The series, then its answer keys, as tools/sync_navigation.py lists them."""
    return runpy.run_path(str(Path(__file__).with_name("sync_navigation.py")))["series_notebooks"]()


def key_figure(notebook: nbformat.NotebookNode) -> str:
    """First line of text output of the cell tagged `key-figure`, or '' when there is none."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and KEY_FIGURE_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                if text.strip():
                    return text.strip().splitlines()[0]
    return ""


def drop_widget_views(notebook: nbformat.NotebookNode) -> None:
    """Keep only the text fallback of widget outputs: without the saved state, a widget view would
    show "model not found" to a reader of the committed notebook."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)


def execute(path: Path, out_dir: Path, timeout: int, in_place: bool) -> tuple[bool, float, str]:
    """Run one notebook in its own folder; write the executed copy and its HTML even when it fails."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps in committed cell metadata
        # nbclient's Output-widget hook (ipywidgets.interact) needs the state; it is dropped below.
        store_widget_state=True,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # not its warning that local TCP is unencrypted
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
        ok, detail = True, key_figure(notebook)
    except CellExecutionError as error:
        ok, detail = False, re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()[-1]  # no colour codes
    seconds = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)  # no widget state blobs in committed notebooks
    drop_widget_views(notebook)
    nbformat.write(notebook, out_dir / path.name)
    if in_place and ok:
        nbformat.write(notebook, path)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return ok, seconds, detail


def record_label(kind: str) -> str:
    """A kind of machine for a record's file name: lower-case letters and digits (avx2, m2, t4)."""
    if not re.fullmatch(r"[a-z0-9]+", kind):
        raise argparse.ArgumentTypeError(f"{kind!r}: use lower-case letters and digits only, e.g. avx2")
    return kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the series, then its answer keys")
    parser.add_argument("--profile", choices=list(PROFILES), help=f"default: ${PROFILE_ENV_VAR} or the hardware")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notebooks")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--in-place", action="store_true", help="also write the outputs into notebooks/ when a run succeeds")
    parser.add_argument("--record", action="store_true", help="write the wall times to benchmarks/series-<profile>.json")
    parser.add_argument("--record-as", metavar="KIND", type=record_label,
                        help="with --record: write benchmarks/series-<profile>-KIND.json instead (e.g. avx512: a "
                             "second kind of machine, a row of its own in CONTRIBUTING.md's hardware table)")
    args = parser.parse_args()
    if args.record_as and not args.record:
        parser.error("--record-as names a record: use it with --record")

    profile = choose_profile(args.profile)
    os.environ[PROFILE_ENV_VAR] = profile.name  # kernels inherit it, so every notebook runs the same profile
    # Progress bars are for live sessions: a saved widget would only show its first frame ("0%").
    os.environ.setdefault("TQDM_DISABLE", "1")
    # the series in order, then the answer keys (notebooks/solutions/), which may reuse what the series saved
    paths = args.notebooks or series_notebooks()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"profile {profile.name} ({profile.purpose}); writing to {args.out}", flush=True)
    failures, rows = 0, []
    for path in paths:
        ok, seconds, detail = execute(path.resolve(), args.out, args.timeout, args.in_place)
        failures += not ok
        rows.append({"notebook": path.stem, "ok": ok, "seconds": round(seconds, 1), "key_figure": detail})
        print(f"{'ok' if ok else 'FAIL':4}  {path.stem:38} {seconds:7.1f} s  {detail}", flush=True)
    total = sum(row["seconds"] for row in rows)
    print(f"{len(paths) - failures} of {len(paths)} notebooks ran in {format_duration(total)} in all; "
          f"executed copies and HTML in {args.out}")
    if args.record:
        target = ROOT / "benchmarks" / f"series-{profile.name}{'-' + args.record_as if args.record_as else ''}.json"
        earlier = json.loads(target.read_text())["notebooks"] if target.is_file() else []
        ran = {row["notebook"] for row in rows}
        rows = sorted([row for row in earlier if row["notebook"] not in ran] + rows, key=lambda row: row["notebook"])
        alexnet = load_results(run_name(profile))
        record = {"profile": profile.name, "machine": machine_description(), "date": datetime.date.today().isoformat(),
                  "image_size": profile.training.image_size, "notebooks": rows,
                  "alexnet_test_acc": None if alexnet is None else round(alexnet["test_acc"], 4)}
        target.write_text(json.dumps(record, indent=1) + "\n")
        print(f"recorded in {target.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
