"""Where the series reads its data and writes its results: two separate settings with documented defaults.

Introduced in notebook 00 (start here).
- data:    $D2L_DATA_DIR, else `data/` in the checkout the package was installed from, else `./data`
           (the book's `../data` when the notebooks run from notebooks/ and nothing is installed);
- results: $D2L_RESULTS_DIR, else `results/` in the checkout, else `./results`.
The checkout is the folder holding this package and a pyproject.toml; nothing is derived from the data path.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV_VAR = "D2L_DATA_DIR"
RESULTS_DIR_ENV_VAR = "D2L_RESULTS_DIR"

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def checkout() -> Path | None:
    """The repository the package was installed from (editable install), or None for a plain install."""
    return _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").is_file() else None


def _setting(env_var: str, folder: str, fallback: Path) -> Path:
    if os.environ.get(env_var):
        return Path(os.environ[env_var]).expanduser()
    root = checkout()
    return root / folder if root is not None else fallback


def default_data_dir() -> Path:
    """$D2L_DATA_DIR, else the checkout's `data/`, else `../data` (the book's layout, seen from notebooks/)."""
    return _setting(DATA_DIR_ENV_VAR, "data", Path.cwd().parent / "data")


def default_results_dir() -> Path:
    """$D2L_RESULTS_DIR, else the checkout's `results/`, else `./results`."""
    return _setting(RESULTS_DIR_ENV_VAR, "results", Path.cwd() / "results")


def results_folder(run_name: str) -> Path:
    """Where one run keeps its checkpoint, weights and summary: <results dir>/<run_name>."""
    if not run_name or any(sep in run_name for sep in "/\\") or run_name in {".", ".."}:
        raise ValueError(f"a run name is one folder name, got {run_name!r}")
    return default_results_dir() / run_name


def display_path(path: Path | str) -> str:
    """`path` relative to the checkout when inside it, else with the home folder written ~."""
    path = Path(os.path.abspath(path))  # keep symbolic links: .venv/bin/python, not its target
    root = checkout()
    if root is not None and path.is_relative_to(root):
        return str(path.relative_to(root))
    if path.is_relative_to(Path.home()):
        return str(Path("~") / path.relative_to(Path.home()))
    return str(path)
