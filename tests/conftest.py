"""Shared test fixtures, and the figure audit of every notebook kernel."""

import pytest
import torch

import figure_text
import repository


def pytest_configure(config):
    """Every notebook kernel the tests start measures the text of each figure it shows (tests/figure_text.py)."""
    figure_text.use_in_notebook_kernels()


def pytest_unconfigure(config):
    figure_text.stop_using()


@pytest.fixture
def load_script():
    """Import a script of the repository that is not part of the package, e.g. "tools/build_slides.py"."""
    return repository.load_script


def pytest_collection_modifyitems(config, items):
    """Tests marked `cuda` need a CUDA GPU: elsewhere they are skipped, with the reason shown by `pytest -rs`."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (the device rules are covered by mocked tests on the CPU)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
