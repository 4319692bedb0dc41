"""Execute every notebook in order, headlessly, and write the executed notebooks and HTML to build/.

Prints one line per notebook: status, wall time and its key figure (the first line of output of
the cell tagged `key-figure`). Usage: `./course run [--profile ci|cpu|gpu] [notebooks ...]`.
Maintainers refresh the committed outputs with `./course run --in-place` (after changing a notebook
or the helpers it imports).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

from d2lhelpers.profiles import PROFILE_ENV_VAR, choose_profile

ROOT = Path(__file__).resolve().parent.parent

KEY_FIGURE_TAG = "key-figure"


def key_figure(notebook: nbformat.NotebookNode) -> str:
    """First line of text output of the cell tagged `key-figure`, or '' when there is none."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and KEY_FIGURE_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                if text.strip():
                    return text.strip().splitlines()[0]
    return ""


def execute(path: Path, out_dir: Path, timeout: int, in_place: bool) -> tuple[bool, float, str]:
    """Run one notebook in its own folder; write the executed copy and its HTML even when it fails."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps in committed cell metadata
        store_widget_state=False,  # no widget state blobs either
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
    notebook.metadata.pop("widgets", None)  # left by an earlier run in a live session
    nbformat.write(notebook, out_dir / path.name)
    if in_place and ok:
        nbformat.write(notebook, path)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return ok, seconds, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--profile", choices=["ci", "cpu", "gpu"], help=f"default: ${PROFILE_ENV_VAR} or the hardware")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notebooks")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--in-place", action="store_true", help="also write the outputs into notebooks/ when a run succeeds")
    args = parser.parse_args()

    profile = choose_profile(args.profile)
    os.environ[PROFILE_ENV_VAR] = profile.name  # kernels inherit it, so every notebook runs the same profile
    # Progress bars are for live sessions: a saved widget would only show its first frame ("0%").
    os.environ.setdefault("TQDM_DISABLE", "1")
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"profile {profile.name} ({profile.purpose}); writing to {args.out}", flush=True)
    failures = 0
    for path in paths:
        ok, seconds, detail = execute(path.resolve(), args.out, args.timeout, args.in_place)
        failures += not ok
        print(f"{'ok' if ok else 'FAIL':4}  {path.stem:38} {seconds:7.1f} s  {detail}", flush=True)
    print(f"{len(paths) - failures} of {len(paths)} notebooks ran; executed copies and HTML in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
