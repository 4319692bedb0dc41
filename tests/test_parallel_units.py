"""The two test workers' units (the root conftest.py): a notebook that reads what another saved runs in the chain."""

import nbformat
import pytest

from repository import ROOT, SERIES_AND_KEYS, load_script

UNITS = load_script("conftest.py")
# what a notebook calls or names when it reads another's saved results (a model, a summary, an experiment's runs)
READS_SAVED = ("load_results(", "trained_alexnet", "experiments-", "load_checkpoint(")


def test_a_notebooks_cells_share_one_unit_and_tests_go_by_module():
    chain, others = UNITS.unit_of("notebooks/05_training_alexnet.ipynb::Cell 3"), UNITS.unit_of("notebooks/03_x.ipynb::Cell 0")
    assert chain == UNITS.unit_of("notebooks/solutions/08_solutions.ipynb::Cell 9") != others
    assert UNITS.unit_of("tests/test_browser.py::test_x[a::b]") == "tests/test_browser.py"
    assert set(UNITS.FIRST) >= {chain, others}


@pytest.mark.parametrize("path", SERIES_AND_KEYS, ids=lambda p: p.stem)
def test_every_notebook_that_reads_saved_results_is_in_the_chain(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    unit = UNITS.unit_of(f"{path.relative_to(ROOT).as_posix()}::Cell 0")
    if any(marker in source for marker in READS_SAVED):
        assert unit == UNITS.unit_of("notebooks/05_training_alexnet.ipynb::Cell 0"), \
            f"{path.name} reads saved results: add {path.name[:2]} to TRAINING_CHAIN in conftest.py"
