"""Every profile's code path runs: the training notebooks, top to bottom, under the ci, cpu and gpu profiles' rules.

Each runs the profile scaled down (D2L_PROFILE=<name>-smoke, `Profile.scaled_down`): the same image size,
optimiser, conv1 start and precision rule, on two tiny batches, so a notebook takes seconds to a minute. Nothing is
compared with the committed outputs (nbval does that for `ci`): a cell that raises fails the test. Results go to a
temporary folder, shared by one profile's notebooks, so that notebook 06 loads the model notebook 05 saved.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [ROOT / "notebooks" / name for name in ("05_training_alexnet.ipynb", "06_filter_visualisation.ipynb",
                                                    "07_what_made_alexnet_work.ipynb", "08_questions_answered.ipynb")]
PROFILE_NAMES = ("ci", "cpu", "gpu")


@pytest.fixture(scope="module")
def results_folders(tmp_path_factory):
    """One results folder per profile, shared by its notebooks in the order they run."""
    return {name: tmp_path_factory.mktemp(f"results-{name}") for name in PROFILE_NAMES}


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


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_the_notebook_runs_under_the_profiles_rules(path, profile, results_folders):
    environment = {"D2L_PROFILE": f"{profile}-smoke", "D2L_RESULTS_DIR": str(results_folders[profile]),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   "MPLBACKEND": "Agg"}
    try:
        execute(path, environment)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed on the {profile} profile's code path (scaled down):\n{error}"[:6000],
                    pytrace=False)
