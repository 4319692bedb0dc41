"""Every profile's code path runs: the training notebooks, top to bottom, under the ci, cpu and gpu profiles' rules.

Each runs the profile scaled down (D2L_PROFILE=<name>-smoke, `Profile.scaled_down`): the same image size,
optimiser, conv1 start and precision rule, on a few tiny batches. Profiles whose scaled-down versions are equal in
everything but their names and the learning rates notebook 07's race goes over (ci and cpu: both Adam at 65x65 from a
small conv1 start) share one code path, so it runs once, under both names' rules; the path that `ci` takes is left to
nbval, which runs every notebook on the full `ci` profile. Nothing is compared with the committed outputs (nbval does
that for `ci`): a cell that raises fails the test. The notebooks run in two chains that share nothing, each with a
temporary results folder per code path: 06 loads the model 05 saved, and 08 reuses the records of 07's experiments.
The chains are units of work of their own (conftest.py), so the two test workers run them at once.
"""

import dataclasses
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from d2lhelpers.profiles import PROFILES, choose_profile
from repository import load_script

ROOT = Path(__file__).resolve().parent.parent
# each chain's notebooks in the order they run; a test's id starts with its chain's name (conftest.py's unit_of)
CHAINS = {"05+06": ("05_training_alexnet.ipynb", "06_filter_visualisation.ipynb"),
          "07+08": ("07_what_made_alexnet_work.ipynb", "08_questions_answered.ipynb")}
STEPS = [(chain, name) for chain, names in CHAINS.items() for name in names]


def code_paths() -> dict[str, str]:
    """'ci+cpu'-style labels of the distinct scaled-down profiles, each with the D2L_PROFILE value that selects it."""
    groups: dict[str, list[str]] = {}
    for name in PROFILES:
        smoke = choose_profile(f"{name}-smoke")
        # the race's learning rates are values that one loop goes over, not a code path
        groups.setdefault(repr(dataclasses.replace(smoke, name="", purpose="", paper_sgd_lrs=())), []).append(name)
    return {"+".join(names): f"{names[0]}-smoke" for names in groups.values()}


# nbval already runs every notebook on the full `ci` profile (test command): the code path `ci` shares with other
# profiles is covered there, so this test runs only the paths that nbval never takes.
CODE_PATHS = {label: value for label, value in code_paths().items() if "ci" not in label.split("+")}


@pytest.fixture(scope="module")
def results_folders(tmp_path_factory):
    """One results folder per code path and chain, shared by the chain's notebooks in the order they run."""
    return {(label, chain): tmp_path_factory.mktemp(f"results-{label}-{chain}") for label in CODE_PATHS for chain in CHAINS}


def execute(path: Path, environment: dict[str, str]) -> None:
    """Run a notebook top to bottom in a fresh kernel started with `environment`; raise on the first failing cell."""
    notebook = nbformat.read(path, as_version=4)
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment when it starts
    try:
        NotebookClient(notebook, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize("profiles", list(CODE_PATHS))
@pytest.mark.parametrize("chain, name", STEPS, ids=[f"{chain}-{name[:2]}" for chain, name in STEPS])
def test_the_notebook_runs_under_the_profiles_rules(chain, name, profiles, results_folders):
    path = ROOT / "notebooks" / name
    environment = {"D2L_PROFILE": CODE_PATHS[profiles], "D2L_RESULTS_DIR": str(results_folders[profiles, chain]),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   "MPLBACKEND": "Agg"}
    try:
        execute(path, environment)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed on the code path of the {profiles} profile(s) (scaled down):\n{error}"[:6000],
                    pytrace=False)


def test_each_chain_is_a_unit_of_work_that_starts_early(request):
    """The test workers' scheduler (conftest.py) reads a chain's name from the ids this module's tests have."""
    scheduler = load_script("conftest.py")
    runs = [item.nodeid for item in request.session.items
            if getattr(item, "function", None) is test_the_notebook_runs_under_the_profiles_rules]
    if not runs:
        pytest.skip("no notebook run of this module was collected")
    units = {scheduler.unit_of(nodeid) for nodeid in runs}
    assert units == {f"tests/test_profile_paths.py[{chain}]" for chain in CHAINS}, units
    assert units <= set(scheduler.FIRST), f"conftest.py's FIRST does not list {units - set(scheduler.FIRST)}"
