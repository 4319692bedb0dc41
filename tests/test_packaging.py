"""The three ways to install (pyproject, lock, conda) and the README agree with each other."""

import re
import tomllib
from pathlib import Path

from d2lhelpers.profiles import PROFILES

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch", "jupyterlab-rise": "jupyterlab_rise"}


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower()


def declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def locked():
    lines = (ROOT / "requirements" / "lock.txt").read_text().splitlines()
    return dict(line.lower().split("==") for line in lines if "==" in line and not line.startswith("#"))


def test_lock_pins_every_declared_package_and_the_books_versions():
    lock = {name.replace("_", "-"): version for name, version in locked().items()}
    missing = [name for name in declared() if name.replace("_", "-") not in lock]
    assert not missing, f"add to requirements/lock.txt: {missing}"
    assert lock["torch"] == "2.14.1" and lock["torchvision"] == "0.29.1" and lock["d2l"] == "1.0.3"


def test_conda_environment_lists_every_declared_package():
    text = (ROOT / "environment.yml").read_text()
    listed = {requirement_name(m) for m in re.findall(r"^\s+- ([A-Za-z][\w.-]*)", text, flags=re.M)}
    missing = [name for name in declared() if CONDA_NAMES.get(name, name) not in listed]
    assert not missing, f"add to environment.yml: {missing}"


def test_readme_lists_the_profiles_and_the_test_command_ci_runs():
    readme = (ROOT / "README.md").read_text()
    for profile in PROFILES.values():
        assert f"| `{profile.name}` | {profile.purpose} |" in readme
    assert "./course test" in readme
    assert "./course test" in (ROOT / ".ci" / "run").read_text()
