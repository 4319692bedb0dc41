"""How the test command's two pytest-xdist workers share the work (`-n 2 --dist loadscope`).

Here, at the root, so that it applies to the notebooks as well as to tests/. Each test belongs to one unit of work
(`unit_of`), which one worker runs in order: a notebook chain, a test module with its module fixtures (a
browser, a JupyterLab), or one of the chains of tests a module holds. The longest units start first, so that none
is left for the end, and a worker takes its next unit when one test is left.
"""

from __future__ import annotations

import os

import pytest

# Notebooks that read what others saved (a trained model, an experiment's runs) run in one chain, in the series'
# order, so that each finds what it found when everything ran in one process. 01 reads 05's summary when present.
TRAINING_CHAIN = ("01", "05", "06", "07", "08")
# Modules whose tests form chains that share nothing: a test's id starts with its chain's name ("[07+08-08-gpu]"),
# and each chain is a unit of its own, so that the two workers can run two chains at once.
CHAINED_MODULES = ("tests/test_profile_paths.py",)
# The units that take minutes, longest first; the modules not listed take seconds to a minute each.
FIRST = ["tests/test_profile_paths.py[07+08]", "notebooks: chain of saved results", "tests/test_browser.py",
         "tests/test_recipes_learn.py", "notebooks: the others", "tests/test_profile_paths.py[05+06]"]


def unit_of(nodeid: str) -> str:
    """The unit of work of a test id such as "notebooks/05_training_alexnet.ipynb::Cell 3"."""
    path = nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        chain = path.rsplit("/", 1)[-1][:2] in TRAINING_CHAIN
        return "notebooks: chain of saved results" if chain else "notebooks: the others"
    if path in CHAINED_MODULES and "[" in nodeid:
        return f"{path}[{nodeid.split('[', 1)[1].split('-', 1)[0]}]"
    return path


def pytest_configure(config: pytest.Config) -> None:
    # Two workers on two cores: one PyTorch thread each (the notebook kernels inherit it). With the default of one
    # thread per core, their threads fight for the cores: a run here had done 30% of the tests when one worker alone
    # had finished them all.
    workers = config.getoption("numprocesses", None)
    if workers and workers != 1 and not hasattr(config, "workerinput"):
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the order it collects in is the order units are queued in
        rank = {unit: position for position, unit in enumerate(FIRST)}
        items.sort(key=lambda item: rank.get(unit_of(item.nodeid), len(FIRST)))  # stable: a unit keeps its order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown, and unused, without it
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadscope` with `unit_of` as the scope, queued in collection order (not by size)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _reschedule(self, node) -> None:
            # A worker gets its next unit when one test of its units is left, not two: a worker runs a test once it
            # knows the next, so the unit it gets waits behind that one test, not two (a unit's last two can be long).
            if self.workqueue and not node.shutting_down and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    config.option.loadscopereorder = False
    return UnitScheduling(config, log)
