"""The three ways to install (pyproject, lock, conda) and the README agree with each other."""

import re
import tomllib
from pathlib import Path

import torch

from d2lhelpers.profiles import PROFILES
from repository import VERSIONS

ROOT = Path(__file__).resolve().parent.parent
D2L_VERSION, PYTHON_MIN, TORCH_MIN, TORCHVISION_MIN = (VERSIONS.D2L_VERSION, VERSIONS.PYTHON_MIN, VERSIONS.TORCH_MIN,
                                                     VERSIONS.TORCHVISION_MIN)
version_tuple = VERSIONS.version_tuple
CONDA_NAMES = {"torch": "pytorch", "jupyterlab-rise": "jupyterlab_rise"}


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower()


def declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def locked():
    lines = (ROOT / "requirements" / "lock.txt").read_text().splitlines()
    return dict(line.lower().split("==") for line in lines if "==" in line and not line.startswith("#"))


def test_lock_pins_every_declared_package_and_the_books_d2l():
    lock = {name.replace("_", "-"): version for name, version in locked().items()}
    missing = [name for name in declared() if name.replace("_", "-") not in lock]
    assert not missing, f"add to requirements/lock.txt: {missing}"
    assert lock["d2l"] == D2L_VERSION
    assert version_tuple(lock["torch"]) >= version_tuple(TORCH_MIN)
    assert version_tuple(lock["torchvision"]) >= version_tuple(TORCHVISION_MIN)


def floor(requirements: list[str], name: str) -> str:
    """The lower bound of `name` in a list of requirement strings ("torch>=2.5" -> "2.5")."""
    found = [r for r in requirements if requirement_name(r) == name]
    assert len(found) == 1, f"{name} is listed {len(found)} times"
    match = re.search(r">=\s*([\d.]+)", found[0])
    assert match, f"{found[0]} has no lower bound"
    return match.group(1)


def test_every_install_route_states_the_same_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python_min = ".".join(map(str, PYTHON_MIN))
    assert project["requires-python"] == f">={python_min}"
    assert floor(project["dependencies"], "torch") == TORCH_MIN
    assert floor(project["dependencies"], "torchvision") == TORCHVISION_MIN
    conda = [line.strip()[2:] for line in (ROOT / "environment.yml").read_text().splitlines() if line.strip().startswith("- ")]
    assert floor(conda, "pytorch") == TORCH_MIN and floor(conda, "torchvision") == TORCHVISION_MIN
    assert f"python={python_min}" in conda
    assert f"Python {python_min} or newer" in (ROOT / "README.md").read_text()
    assert f"d2l=={D2L_VERSION}" in (ROOT / "CONTRIBUTING.md").read_text()  # installing without ./course
    stated = "".join((ROOT / name).read_text() for name in ("README.md", "TEACHING.md", "CONTRIBUTING.md", "environment.yml"))
    assert re.findall(r"d2l==([\d.]+)", stated) == [D2L_VERSION] * len(re.findall(r"d2l==", stated))
    course = (ROOT / "course").read_text()
    assert "requirements/versions.py" in course and D2L_VERSION not in course and f"Python {python_min}" not in course


def test_the_code_runs_on_the_torch_it_requires():
    assert version_tuple(torch.__version__) >= version_tuple(TORCH_MIN)
    assert hasattr(torch, "OutOfMemoryError") and hasattr(torch.amp, "GradScaler")  # why the floor is 2.5


def test_conda_environment_lists_every_declared_package():
    text = (ROOT / "environment.yml").read_text()
    listed = {requirement_name(m) for m in re.findall(r"^\s+- ([A-Za-z][\w.-]*)", text, flags=re.M)}
    missing = [name for name in declared() if CONDA_NAMES.get(name, name) not in listed]
    assert not missing, f"add to environment.yml: {missing}"


def profile_rows(text: str) -> dict[str, dict[str, str]]:
    """The README's profile table: for each profile's name, its cells by column heading."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| profile |"))
    headings = [cell.strip() for cell in lines[header].strip("|").split("|")]
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = dict(zip(headings, (cell.strip() for cell in line.strip("|").split("|"))))
        rows[cells["profile"].strip("`")] = cells
    return rows


def test_readme_states_each_profiles_settings_and_the_test_command_ci_runs():
    readme = (ROOT / "README.md").read_text()
    rows = profile_rows(readme)
    assert set(rows) == set(PROFILES), "one row per profile"
    for name, profile in PROFILES.items():
        settings, row = profile.training, rows[name]
        assert row["image size"] == f"{settings.image_size}×{settings.image_size}", name
        assert re.search(rf"\b{settings.epochs}\b", row["epochs"]), name
        optimiser = row["optimiser"].lower()
        assert settings.optimizer in optimiser and f"lr {settings.lr:g}" in optimiser, name
        assert f"batch {settings.batch_size}" in optimiser, name
    assert "./course test" in readme
    assert "./course test" in (ROOT / ".ci" / "run").read_text()
