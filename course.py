"""One entry point for the series. Each command first does all the set-up it needs (idempotent,
a few seconds when nothing changed): the virtual environment in .venv, then Fashion-MNIST.

  run        execute every notebook in order (profile from the hardware) into build/
  test       unit tests + every notebook re-executed by nbval with the `ci` profile
  lab        open JupyterLab on notebooks/ (with RISE: present the notebooks as slides, live)
  slides     render every notebook as an offline reveal.js deck into build/slides/
  gpu-check  on a CUDA GPU: measure it (notebook 05's gpu profile, pipeline, matmul peak) for CONTRIBUTING.md
  setup      only the set-up (`setup --dry-run` prints the plan and changes nothing)
  colab      in Google Colab only: what one notebook needs (`colab notebooks/05_training_alexnet.ipynb`);
             each notebook's first cell calls it, after cloning the series

Linux and macOS: `./course <command>`; anywhere, Windows included: `python course.py <command>`.
Environment: PYTHON (interpreter to build the venv from), D2L_VENV (venv folder, default .venv),
D2L_PROFILE (ci | cpu | gpu), FASHION_MNIST_DIR (a folder holding a copy of the data set).
The slides need Node.js's npm once, to fetch reveal.js into node_modules/.
"""

# Standard library only: this file runs on the system Python, before any package is installed.
from __future__ import annotations

import hashlib
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements" / "lock.txt"
VERSIONS = ROOT / "requirements" / "versions.py"  # the one place for the d2l version and the Python floor
LAB_SETTINGS = ROOT / "lab-settings"  # JupyterLab: no news pop-up, widget state saved, MathJax 3 extension off
STAMP_FILES = [ROOT / "pyproject.toml", LOCK, VERSIONS]
NO_DEPS_PINNED = "jupyterlab_rise"  # version from the lock
COMMANDS = ["setup", "run", "test", "lab", "slides", "gpu-check", "colab", "help"]
TEST_COMMAND = ["-m", "pytest", "tests", "notebooks", "--nbval", "--nbval-current-env",
                "--nbval-sanitize-with", "notebooks/sanitize.cfg",
                "-n", "2", "--dist", "loadscope"]  # the README's test command, after `python`


def say(message: str) -> None:
    print(f"[course] {message}", file=sys.stderr, flush=True)


def versions() -> dict:
    """requirements/versions.py, read before anything is installed."""
    return runpy.run_path(str(VERSIONS))


def python_floor() -> tuple[int, int]:
    return tuple(versions()["PYTHON_MIN"])


def venv_dir() -> Path:
    return Path(os.environ.get("D2L_VENV") or ROOT / ".venv").absolute()


def venv_python(venv: Path, windows: bool | None = None) -> Path:
    """The venv's interpreter: Scripts\\python.exe on Windows, bin/python elsewhere."""
    windows = os.name == "nt" if windows is None else windows
    return venv / "Scripts" / "python.exe" if windows else venv / "bin" / "python"


def stamp(python_version: str, files: list[Path] = STAMP_FILES) -> str:
    """What the installed packages depend on: the interpreter's sys.version and the declaring files."""
    content = python_version.encode() + b"".join(Path(p).read_bytes() for p in files)
    return hashlib.sha256(content).hexdigest()[:16]


def file_stamp(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_stamp(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def base_python() -> list[str]:
    """The interpreter that creates the venv: $PYTHON, else the one running this file; checked against the floor."""
    floor = python_floor()
    python = os.environ.get("PYTHON") or sys.executable
    found = shutil.which(python) or python
    check = f"import sys; sys.exit(sys.version_info < {floor!r})"
    if subprocess.run([found, "-c", check], stdin=subprocess.DEVNULL).returncode != 0:
        say(f"error: Python {floor[0]}.{floor[1]} or newer is needed (set PYTHON=/path/to/python3, "
            f"or run course.py with a newer python).")
        sys.exit(1)
    return [found]


def run(argv: list, dry_run: bool, **kwargs) -> subprocess.CompletedProcess | None:
    if dry_run:
        print("would run:", " ".join(str(a) for a in argv))
        return None
    return subprocess.run([str(a) for a in argv], **kwargs)


def setup_venv(dry_run: bool = False) -> Path:
    venv = venv_dir()
    python = venv_python(venv)
    if not python.exists():
        creator = base_python()
        if dry_run:
            print(f"would create the virtual environment {venv}")
        else:
            version = subprocess.check_output(creator + ["--version"], text=True).strip()
            say(f"creating the virtual environment {venv} with {version}")
        run(creator + ["-m", "venv", venv], dry_run, check=True)
    if dry_run and not python.exists():
        print("would install the packages from requirements/lock.txt and d2l (--no-deps)")
        return python
    # Re-install only when the declared or locked packages (or the interpreter) changed.
    version = subprocess.check_output([str(python), "-c", "import sys; print(sys.version)"], text=True)
    wanted, stamp_file = stamp(version.rstrip("\n")), venv / ".course-stamp"
    if read_stamp(stamp_file) == wanted:
        return python
    d2l = versions()["D2L_VERSION"]
    if not dry_run:
        say("installing or updating packages from requirements/lock.txt (a few minutes the first time)")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", LOCK]
    run(pip + ["-e", f"{ROOT}[dev]"], dry_run, check=True)
    # d2l pins numpy 1.23.5 and friends, which do not build on current Pythons: take it without its
    # pins; what it imports is declared in pyproject.toml.
    # jupyterlab_rise, likewise: its one extra requirement, jupyterlab-mathjax3, is a JupyterLab 3 extension
    # that JupyterLab 4 flags as incompatible (RISE brings its own MathJax).
    run(pip + ["--no-deps", f"d2l=={d2l}", NO_DEPS_PINNED], dry_run, check=True)
    run([python, "-m", "pip", "uninstall", "--yes", "--quiet", "jupyterlab-mathjax3"], dry_run,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # from an older set-up, if there
    run([python, "-c", "import d2l.torch, d2lhelpers, nbval"], dry_run, check=True)  # fail now, not in a notebook
    if not dry_run:
        stamp_file.write_text(wanted + "\n")
    return python


def apt_install(package: str, dry_run: bool) -> bool:
    """Debian/Ubuntu: install a package (as root, or with password-less sudo); False when that cannot be done."""
    if shutil.which("apt-get") is None:
        return False
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    install = sudo + ["apt-get", "install", "-y", "-qq", package]
    if dry_run:
        print("would run:", " ".join(install))
        return True
    if subprocess.run(install, **quiet).returncode == 0:
        return True
    return (subprocess.run(sudo + ["apt-get", "update", "-qq"], **quiet).returncode == 0
            and subprocess.run(install, **quiet).returncode == 0)


def setup_data(python: Path, dry_run: bool = False) -> None:
    if dry_run:
        print(f"would run: {python} -m d2lhelpers --offline (then Debian's dataset-fashion-mnist, then the download)")
        return
    offline = [str(python), "-m", "d2lhelpers", "--offline"]
    if subprocess.run(offline, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
        return
    if shutil.which("apt-get"):
        say("installing Debian's dataset-fashion-mnist")
        if apt_install("dataset-fashion-mnist", dry_run) and subprocess.run(offline).returncode == 0:
            return
    say("no local copy of Fashion-MNIST: trying torchvision's download")
    subprocess.run([str(python), "-m", "d2lhelpers"], check=True)


def cjk_font_installed() -> bool | None:
    """True/False where fontconfig can tell, None where it cannot (no fc-list: Windows, some macOS)."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(listed.stdout.strip())


def setup_fonts(dry_run: bool = False) -> None:
    """The Chinese terms need a CJK font (else they show as boxes): install Noto CJK on Debian where allowed."""
    if cjk_font_installed() is not False:
        return
    say("no CJK font: Chinese terms would show as boxes; installing Debian's fonts-noto-cjk")
    if not apt_install("fonts-noto-cjk", dry_run):
        say("note: could not install a CJK font; see the README's Common problems (Chinese terms show as boxes)")


def setup_slides(dry_run: bool = False) -> None:
    """reveal.js and friends for offline decks (package-lock.json); skipped, with a note, without npm."""
    wanted, stamp_file = file_stamp(ROOT / "package-lock.json"), ROOT / "node_modules" / ".course-stamp"
    if read_stamp(stamp_file) == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        say("note: npm not found, so the slide decks cannot be built (install Node.js); the notebooks do not need it")
        return
    say("fetching reveal.js for the slides (npm ci)")
    run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], dry_run, check=True, cwd=ROOT,
        stdout=subprocess.DEVNULL)
    if not dry_run:
        stamp_file.write_text(wanted + "\n")


# What PyTorch will train on, in the order d2lhelpers.devices.best_device picks it.
ACCELERATOR_PROBE = """\
import torch
mps = getattr(torch.backends, "mps", None)
if torch.cuda.is_available():
    print("CUDA GPU: " + torch.cuda.get_device_name(0))
elif mps is not None and mps.is_available():
    print("Apple GPU (MPS): the notebooks train on it (precision fp32)")
else:
    print("CPU (no CUDA GPU or Apple MPS found)")
"""


def report_accelerator(python: Path) -> None:
    """One line on what PyTorch will use: CUDA, Apple's MPS (macOS) or the CPU."""
    found = subprocess.run([str(python), "-c", ACCELERATOR_PROBE], capture_output=True, text=True)
    if found.returncode == 0:
        say(f"PyTorch will use: {found.stdout.strip()}")


def setup(dry_run: bool = False) -> Path:
    python = setup_venv(dry_run)
    setup_data(python, dry_run)
    setup_fonts(dry_run)
    setup_slides(dry_run)
    return python


# Colab: the runtime ships torch and most of what the notebooks import. Module -> the pyproject.toml
# requirement that provides it, for what a notebook may import; only the missing ones are installed.
COLAB_MODULES = {"torch": "torch", "torchvision": "torchvision", "numpy": "numpy", "pandas": "pandas",
                 "matplotlib": "matplotlib", "tqdm": "tqdm", "ipywidgets": "ipywidgets", "skimage": "scikit-image",
                 "sklearn": "scikit-learn", "IPython": "ipython", "matplotlib_inline": "matplotlib-inline",
                 "requests": "requests", "scipy": "scipy", "PIL": "pillow"}
# what d2lhelpers imports whatever the notebook (training's progress bars, tables, plots), and what d2l imports
HELPER_MODULES = {"torch", "torchvision", "numpy", "pandas", "matplotlib", "tqdm", "IPython"}
D2L_MODULES = {"IPython", "matplotlib_inline", "requests", "scipy", "PIL", "pandas", "matplotlib"}
COLAB_SETUP_TAG = "colab-setup"  # the notebook's first code cell, which calls `colab` (tools/sync_navigation.py)


def notebook_imports(notebook: Path) -> set[str]:
    """Top-level modules a notebook's code imports (its Colab set-up cell aside)."""
    import json
    import re

    modules = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code" and COLAB_SETUP_TAG not in cell["metadata"].get("tags", []):
            source = "".join(cell["source"])
            modules |= set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", source, flags=re.M))
    return modules


def colab_requirements(imports: set[str], root: Path = ROOT) -> dict[str, str]:
    """Module -> pyproject.toml requirement (with its range) for what a notebook importing `imports` needs
    besides torch and torchvision (the runtime's own, checked, never replaced)."""
    import re
    import tomllib

    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    modules = HELPER_MODULES | (imports & COLAB_MODULES.keys()) | (D2L_MODULES if "d2l" in imports else set())
    needs = {}
    for module in sorted(modules - {"torch", "torchvision"}, key=str.lower):
        found = [r for r in declared if re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower() == COLAB_MODULES[module]]
        if len(found) != 1:
            raise RuntimeError(f"pyproject.toml declares {COLAB_MODULES[module]!r} {len(found)} times (module {module!r})")
        needs[module] = found[0]
    return needs


def check_colab_torch(torch_version: str, torchvision_version: str) -> None:
    """Stop with the runtime's versions when Colab's torch or torchvision is older than the series needs."""
    known = versions()
    floors = [(torch_version, known["TORCH_MIN"]), (torchvision_version, known["TORCHVISION_MIN"])]
    if any(known["version_tuple"](have) < known["version_tuple"](floor) for have, floor in floors):
        raise RuntimeError(f"this series needs torch>={known['TORCH_MIN']} and torchvision>={known['TORCHVISION_MIN']}; "
                           f"this runtime has {torch_version} and {torchvision_version}: choose a newer Colab runtime version")


def colab(notebook: str) -> str:
    """In Google Colab, in the notebook's kernel: check the runtime's torch, install the helpers (and d2l where
    `notebook` imports it) without dependencies, then only the packages it needs that the runtime lacks.
    `notebook` is the path in the checkout; returns its folder, for the cell to change into."""
    import importlib.util

    path = ROOT / notebook
    if not path.is_file():
        raise RuntimeError(f"{notebook} is not in {ROOT}: run python tools/sync_navigation.py to refresh the cell")
    import torch
    import torchvision

    check_colab_torch(torch.__version__, torchvision.__version__)
    imports = notebook_imports(path)
    missing = [wanted for module, wanted in colab_requirements(imports).items() if importlib.util.find_spec(module) is None]
    # the helpers and the book's package without their dependencies (d2l's pins no longer install): seconds
    colab_pip(["--no-deps", "-e", str(ROOT)] + ([f"d2l=={versions()['D2L_VERSION']}"] if "d2l" in imports else []))
    if missing:
        colab_pip(missing)
    return str(path.parent)


def colab_pip(arguments: list[str]) -> None:
    """`pip install -q` into the kernel's Python; a failure raises with pip's own message (a notebook does not
    show what a child process writes)."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(arguments)} failed: {done.stderr.strip()[-1500:]}")


def lab_arguments(notebooks: Path = ROOT / "notebooks", as_root: bool | None = None) -> list[str]:
    """`python -m jupyterlab` arguments: the series' settings (no news pop-up, widget state saved in
    notebooks, the MathJax 3 extension RISE pulls in switched off) and the notebooks folder."""
    as_root = (hasattr(os, "geteuid") and os.geteuid() == 0) if as_root is None else as_root
    return ["-m", "jupyterlab", f"--notebook-dir={notebooks}", f"--LabApp.app_settings_dir={LAB_SETTINGS}"] + (
        ["--allow-root"] if as_root else [])  # containers often run as root


def launch(argv: list, env: dict | None = None) -> None:
    """Replace this process where the system can (POSIX), else wait and pass the exit status on."""
    argv = [str(a) for a in argv]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        if env is not None:
            os.execve(argv[0], argv, env)
        os.execv(argv[0], argv)
    sys.exit(subprocess.run(argv, env=env).returncode)


def usage() -> str:
    return __doc__.strip()


def main(args: list[str]) -> int:
    command, rest = (args[0], args[1:]) if args else ("help", [])
    if command not in COMMANDS:
        print(usage())
        print(f"\nunknown command {command!r}: use one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if command == "help":
        print(usage())
        return 0
    if command == "colab":
        if len(rest) != 1:
            print("usage: python course.py colab notebooks/<notebook>.ipynb", file=sys.stderr)
            return 2
        try:
            print(colab(rest[0]))
        except RuntimeError as error:
            say(f"error: {error}")
            return 1
        return 0
    os.chdir(ROOT)
    if command == "setup":
        dry_run = "--dry-run" in rest
        python = setup(dry_run)
        if not dry_run:
            report_accelerator(python)
        return 0
    python = setup()
    if command == "run":
        launch([python, "tools/run_series.py", *rest])
    elif command == "test":
        launch([python, *TEST_COMMAND, *rest], {**os.environ, "D2L_PROFILE": "ci"})
    elif command == "slides":
        launch([python, "tools/build_slides.py", *rest])
    elif command == "gpu-check":
        launch([python, "tools/gpu_check.py", *rest])
    elif command == "lab":
        launch([python, *lab_arguments(), *rest])
    return 0


def setup_failure(error: subprocess.CalledProcessError) -> str:
    """One line for a set-up step that failed: what ran, its exit status, and the free disk (a full disk is the usual cause)."""
    step = " ".join(str(a) for a in error.cmd[:6]) + (" ..." if len(error.cmd) > 6 else "")
    free = shutil.disk_usage(ROOT).free / 2**30
    return (f"error: a set-up step failed (exit {error.returncode}); its own messages are above.\n"
            f"  step: {step}\n  free disk at {ROOT}: {free:.1f} GiB (the packages take about 7 GiB); "
            f"fix the cause, then run the same command again: what was done is kept")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        say(setup_failure(error))
        sys.exit(1)
