"""Every profile's code path runs: the training notebooks, top to bottom, under the ci, cpu and gpu profiles' rules.

Each runs the profile scaled down (D2L_PROFILE=<name>-smoke, `Profile.scaled_down`): the same image size,
optimiser, conv1 start and precision rule, on a few tiny batches. Profiles whose scaled-down versions are equal in
everything but their names (ci and cpu: both Adam at 65x65 from a small conv1 start) share one code path, so it runs
once, under both names' rules; the path that `ci` takes is left to nbval, which runs every notebook on the full
`ci` profile. Nothing is compared with the committed outputs (nbval does that for `ci`): a cell
that raises fails the test. Results go to a temporary folder, shared by one code path's notebooks, so that
notebook 06 loads the model notebook 05 saved.
"""

import dataclasses
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from d2lhelpers.profiles import PROFILES, choose_profile

ROOT = Path(__file__).resolve().parent.parent
# 06 after 05, whose model it loads, and last: the shortest, and the test worker takes its next unit of work when
# one test is left (conftest.py); 08 after 07, whose experiments' records it reuses
NOTEBOOKS = [ROOT / "notebooks" / name for name in ("05_training_alexnet.ipynb", "07_what_made_alexnet_work.ipynb",
                                                    "08_questions_answered.ipynb", "06_filter_visualisation.ipynb")]


def code_paths() -> dict[str, str]:
    """'ci+cpu'-style labels of the distinct scaled-down profiles, each with the D2L_PROFILE value that selects it."""
    groups: dict[str, list[str]] = {}
    for name in PROFILES:
        smoke = choose_profile(f"{name}-smoke")
        groups.setdefault(repr(dataclasses.replace(smoke, name="", purpose="")), []).append(name)
    return {"+".join(names): f"{names[0]}-smoke" for names in groups.values()}


# nbval already runs every notebook on the full `ci` profile (test command): the code path `ci` shares with other
# profiles is covered there, so this test runs only the paths that nbval never takes.
CODE_PATHS = {label: value for label, value in code_paths().items() if "ci" not in label.split("+")}


@pytest.fixture(scope="module")
def results_folders(tmp_path_factory):
    """One results folder per code path, shared by its notebooks in the order they run."""
    return {label: tmp_path_factory.mktemp(f"results-{label}") for label in CODE_PATHS}


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
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_the_notebook_runs_under_the_profiles_rules(path, profiles, results_folders):
    environment = {"D2L_PROFILE": CODE_PATHS[profiles], "D2L_RESULTS_DIR": str(results_folders[profiles]),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   "MPLBACKEND": "Agg"}
    try:
        execute(path, environment)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed on the code path of the {profiles} profile(s) (scaled down):\n{error}"[:6000],
                    pytrace=False)
