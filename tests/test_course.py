"""The entry point: `course.py` does everything, `./course` only picks a Python and hands over, so both
forms behave and print the same. Tested without bash, as on Windows."""

from __future__ import annotations

import hashlib
import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from repository import VERSIONS

ROOT = Path(__file__).resolve().parent.parent
D2L_VERSION, PYTHON_MIN = VERSIONS.D2L_VERSION, VERSIONS.PYTHON_MIN
COMMANDS = {"setup", "run", "test", "lab", "slides", "gpu-check", "colab", "help"}


@pytest.fixture
def course():
    return runpy.run_path(str(ROOT / "course.py"), run_name="course")


def no_bash_path(tmp_path: Path) -> str:
    """A PATH with no shell on it: a folder holding only this Python."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    assert shutil.which("bash", path=str(folder)) is None and shutil.which("sh", path=str(folder)) is None
    return str(folder)


def test_help_runs_without_bash_and_lists_every_command(tmp_path):
    env = {"PATH": no_bash_path(tmp_path), "HOME": str(tmp_path)}
    shown = subprocess.run([sys.executable, str(ROOT / "course.py"), "help"], env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    for command in COMMANDS - {"help"}:
        assert f"\n  {command} " in shown.stdout
    assert "python course.py <command>" in shown.stdout
    wrong = subprocess.run([sys.executable, str(ROOT / "course.py"), "trian"], env=env, capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown command 'trian'" in wrong.stderr


def test_setup_plan_runs_without_bash_and_changes_nothing(tmp_path):
    venv = tmp_path / "venv"
    env = {"PATH": no_bash_path(tmp_path), "HOME": str(tmp_path), "D2L_VENV": str(venv)}
    plan = subprocess.run([sys.executable, str(ROOT / "course.py"), "setup", "--dry-run"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert plan.returncode == 0, plan.stderr
    assert f"-m venv {venv}" in plan.stdout
    assert "d2lhelpers --offline" in plan.stdout
    assert not venv.exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="the bash wrapper needs bash")
def test_bash_wrapper_and_python_form_print_the_same():
    by_bash = subprocess.run([str(ROOT / "course"), "help"], capture_output=True, text=True)
    by_python = subprocess.run([sys.executable, str(ROOT / "course.py"), "help"], capture_output=True, text=True)
    assert by_bash.returncode == by_python.returncode == 0
    assert by_bash.stdout == by_python.stdout and by_bash.stderr == by_python.stderr


def test_colab_command_needs_one_notebook_of_the_checkout(tmp_path):
    env = {"PATH": no_bash_path(tmp_path), "HOME": str(tmp_path)}
    bare = subprocess.run([sys.executable, str(ROOT / "course.py"), "colab"], env=env, capture_output=True, text=True)
    assert bare.returncode == 2 and "usage: python course.py colab notebooks/" in bare.stderr
    wrong = subprocess.run([sys.executable, str(ROOT / "course.py"), "colab", "notebooks/99_nothing.ipynb"], env=env,
                           capture_output=True, text=True)
    assert wrong.returncode == 1 and "notebooks/99_nothing.ipynb is not in" in wrong.stderr and "sync_navigation" in wrong.stderr


def test_the_wrapper_holds_no_logic_of_its_own():
    wrapper = (ROOT / "course").read_text()
    assert 'exec "$candidate" "$ROOT/course.py" "$@"' in wrapper
    assert "pip install" not in wrapper and "nbval" not in wrapper


def test_venv_interpreter_path_per_system(course):
    venv = Path("/x/.venv")
    assert course["venv_python"](venv, windows=True) == venv / "Scripts" / "python.exe"
    assert course["venv_python"](venv, windows=False) == venv / "bin" / "python"


def test_stamp_depends_on_each_file_and_the_interpreter(course, tmp_path):
    files = [tmp_path / name for name in ("pyproject.toml", "lock.txt", "versions.py")]
    for path in files:
        path.write_text(path.name)
    first = course["stamp"]("3.11.7 (main)", files)
    # the formula the bash script used, so that existing environments are not reinstalled
    expected = hashlib.sha256(b"3.11.7 (main)" + b"".join(p.read_bytes() for p in files)).hexdigest()[:16]
    assert first == expected and len(first) == 16
    assert course["stamp"]("3.12.1 (main)", files) != first
    files[1].write_text("torch==9.9")
    assert course["stamp"]("3.11.7 (main)", files) != first


def test_versions_come_from_the_one_file(course):
    assert course["python_floor"]() == PYTHON_MIN
    assert course["versions"]()["D2L_VERSION"] == D2L_VERSION
    source = (ROOT / "course.py").read_text()
    assert D2L_VERSION not in source and ".".join(map(str, PYTHON_MIN)) not in source


@pytest.fixture
def launched(course, monkeypatch, tmp_path):
    """Run course.main with the set-up and the final exec replaced; return what would have been started."""
    calls = []
    main = course["main"]
    monkeypatch.setitem(main.__globals__, "setup", lambda dry_run=False: tmp_path / "python")
    monkeypatch.setitem(main.__globals__, "launch", lambda argv, env=None: calls.append((argv, env)))
    monkeypatch.chdir(tmp_path)

    def run(*args):
        calls.clear()
        assert main(list(args)) == 0
        return calls[0]

    return run


def test_test_command_runs_the_tests_and_every_notebook_as_contributing_says(launched, tmp_path):
    argv, env = launched("test", "-x")
    assert argv[0] == tmp_path / "python" and argv[1:3] == ["-m", "pytest"] and env["D2L_PROFILE"] == "ci"
    arguments = [str(a) for a in argv[3:]]
    assert {"tests", "notebooks", "--nbval", "--nbval-current-env"} <= set(arguments) and arguments[-1] == "-x"
    assert (ROOT / arguments[arguments.index("--nbval-sanitize-with") + 1]).is_file()
    # the workers' scheduler in the root conftest.py takes effect with --dist loadscope only
    workers = " ".join(arguments[arguments.index("-n"):arguments.index("--dist") + 2])
    assert workers == "-n 2 --dist loadscope" and f"(`{workers}`)" in (ROOT / "CONTRIBUTING.md").read_text()


def test_every_command_starts_the_right_tool(launched):
    assert launched("run", "--profile", "ci")[0][1:] == ["tools/run_series.py", "--profile", "ci"]
    assert launched("slides")[0][1:] == ["tools/build_slides.py"]
    assert launched("gpu-check")[0][1:] == ["tools/gpu_check.py"]
    lab = launched("lab", "--port=9999")[0]
    assert lab[1:3] == ["-m", "jupyterlab"] and lab[-1] == "--port=9999"
    assert f"--LabApp.app_settings_dir={ROOT / 'lab-settings'}" in lab


def test_the_lock_leaves_out_the_incompatible_mathjax3_extension(course):
    lock = (ROOT / "requirements" / "lock.txt").read_text().lower()
    # the package that ./course installs with --no-deps (so that pip leaves that extension out) has the lock's version
    assert "jupyterlab-mathjax3" not in lock and f"{course['NO_DEPS_PINNED']}==" in lock
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert not [r for r in dev if r.lower().startswith(("jupyterlab-rise", "jupyterlab_rise"))]


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "CUDA GPU: Fake GPU"), (False, True, "Apple GPU (MPS)"), (False, False, "CPU (no CUDA GPU or Apple MPS")])
def test_setup_says_which_accelerator_torch_will_use(course, monkeypatch, capsys, cuda, mps, expected):
    import types

    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: cuda, get_device_name=lambda index: "Fake GPU"),
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps)))
    monkeypatch.setitem(sys.modules, "torch", fake)
    exec(course["ACCELERATOR_PROBE"], {})
    assert capsys.readouterr().out.startswith(expected)


def test_a_failed_set_up_step_is_one_clear_message_with_the_free_disk(course):
    """pip running out of disk once ended `./course test` in a traceback; now: the step, its status, the free space."""
    error = subprocess.CalledProcessError(1, ["/x/.venv/bin/python", "-m", "pip", "install", "--quiet", "-c", "lock.txt", "-e", "."])
    message = course["setup_failure"](error)
    assert message.startswith("error: a set-up step failed (exit 1)")
    assert "step: /x/.venv/bin/python -m pip install --quiet -c ..." in message
    free = float(message.split("free disk at ")[1].split(": ")[1].split(" GiB")[0])
    assert abs(free - shutil.disk_usage(course["ROOT"]).free / 2**30) < 1.0
