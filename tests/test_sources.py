"""The series carries its own sources: every file a notebook, key or the README names is in the repository, and
every published figure listed in notebooks/sources.md says where it was published."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from repository import KEYS, NOTEBOOKS, ROOT

SOURCES = ROOT / "notebooks" / "sources.md"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target)
NAMED_FILE = re.compile(r"`([\w./<>-]+\.(?:md|json|py))`")  # `path/to/file.md`, `.json` or `.py`
# Files named on purpose that no checkout holds: created by a run, or part of another package.
NOT_IN_A_CHECKOUT = {
    "results.json": "written next to each run's checkpoint by d2lhelpers.runs.train_and_save",
    "benchmarks/gpu-check.json": "written by tools/gpu_check.py on a GPU machine",
    "torch.py": "a module of the book's d2l package (d2l/torch.py), not of this repository",
}


def markdown_of(path: Path) -> list[tuple[str, str]]:
    """(where, text) for every markdown cell of a notebook, or the whole file for a .md file."""
    if path.suffix == ".md":
        return [(path.name, path.read_text(encoding="utf-8"))]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(f"{path.name} cell {i}", "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def tracked_files() -> set[str]:
    """The repository's files, relative to its root, with the new ones that git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return set(listed)


def missing_links(text: str, folder: Path, files: set[str]) -> list[str]:
    """Relative link targets in markdown text that are not files or folders of the repository."""
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address, mailto:, or an anchor in the same page
        resolved = (folder / target.split("#")[0]).resolve()
        relative = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else None
        if relative is None or not (relative in files or any(f.startswith(relative + "/") for f in files)):
            missing.append(target)
    return missing


def missing_named_files(text: str, folder: Path, files: set[str]) -> list[str]:
    """Backticked file names (.md, .json, .py) that match no file of the repository."""
    names = {Path(f).name for f in files}
    missing = []
    for name in NAMED_FILE.findall(text):
        if "<" in name or name in NOT_IN_A_CHECKOUT or "*" in name:
            continue  # a pattern such as results/alexnet-<profile>/, or a file a run creates
        candidates = {name, (folder / name).resolve().relative_to(ROOT).as_posix()
                      if (folder / name).resolve().is_relative_to(ROOT) else name}
        if "/" in name:
            found = bool(candidates & files) or any(f.endswith("/" + name) for f in files)
        else:
            found = name in names
        if not found:
            missing.append(name)
    return missing


@pytest.mark.parametrize("path", NOTEBOOKS + KEYS + [ROOT / name for name in ("README.md", "TEACHING.md", "CONTRIBUTING.md")]
                         + [SOURCES], ids=lambda p: p.stem)
def test_every_named_file_is_in_the_repository(path):
    files = tracked_files()
    problems = [f"{where}: {target}" for where, text in markdown_of(path)
                for target in missing_links(text, path.parent, files) + missing_named_files(text, path.parent, files)]
    assert not problems, "names a file that is not in the repository (cite notebooks/sources.md instead): " + "; ".join(problems)


def source_rows() -> list[list[str]]:
    """The rows of sources.md's tables, header and separator lines left out, as lists of cells."""
    rows = []
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|(\s*-+\s*\|)+", line) and not line.startswith("| figure |"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_every_listed_figure_has_a_source():
    rows = source_rows()
    assert len(rows) >= 30, f"sources.md lists only {len(rows)} figures"
    for row in rows:
        assert len(row) == 4, f"a row needs figure | value | used in | source: {row}"
        figure, value, used_in, source = row
        assert figure and value and used_in, f"incomplete row: {row}"
        assert len(source) >= 8, f"no source for {figure!r}"


def test_the_checks_catch_a_missing_file():
    """The controls: a citation of a file outside the repository is caught, a real file and a web address are not."""
    files = tracked_files()
    folder = ROOT / "notebooks" / "solutions"
    assert missing_named_files("as listed in `figures-elsewhere.md`", folder, files) == ["figures-elsewhere.md"]
    assert missing_named_files("see `d2lhelpers/hardware.py` and `benchmarks/first_layer.json`", folder, files) == []
    assert missing_links("[sources](../sources.md), [book](https://zh.d2l.ai/)", folder, files) == []
    assert missing_links("[notes](../../elsewhere/notes.md)", folder, files) == ["../../elsewhere/notes.md"]
