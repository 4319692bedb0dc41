"""Shared test fixtures."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def load_script():
    """Import a script of the repository that is not part of the package, e.g. "tools/build_slides.py"."""

    def load(relative_path: str):
        path = ROOT / relative_path
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
