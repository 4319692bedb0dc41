"""Shared test fixtures."""

import importlib.util
from pathlib import Path

import pytest
import torch

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


def pytest_collection_modifyitems(config, items):
    """Tests marked `cuda` need a CUDA GPU: elsewhere they are skipped, with the reason shown by `pytest -rs`."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (the device rules are covered by mocked tests on the CPU)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
