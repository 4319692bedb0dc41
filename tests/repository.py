"""The repository's scripts and notebooks, for the tests: a script loaded by path, the series' notebooks then their
answer keys, listed by tools/sync_navigation.py's `series_notebooks` (as every tool lists them), and the versions."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_script(relative_path: str) -> ModuleType:
    """Import a script of the repository that is not part of the package, e.g. "tools/build_slides.py"."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SERIES_AND_KEYS = load_script("tools/sync_navigation.py").series_notebooks()
VERSIONS = load_script("requirements/versions.py")  # the d2l version and the floors, read by ./course too
NOTEBOOKS = [path for path in SERIES_AND_KEYS if path.parent.name == "notebooks"]
KEYS = [path for path in SERIES_AND_KEYS if path.parent.name == "solutions"]  # the answer keys, <NN>_solutions.ipynb
