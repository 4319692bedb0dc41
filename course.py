"""One entry point for the series. Each command first does all the set-up it needs (idempotent,
a few seconds when nothing changed): the virtual environment in .venv, then Fashion-MNIST.

  run        execute every notebook in order (profile from the hardware) into build/
  test       unit tests + every notebook re-executed by nbval with the `ci` profile
  lab        open JupyterLab on notebooks/ (with RISE: present the notebooks as slides, live)
  slides     render every notebook as an offline reveal.js deck into build/slides/
  gpu-check  on a CUDA GPU: measure it (notebook 05's gpu profile, pipeline, matmul peak) for the README
  setup      only the set-up (`setup --dry-run` prints the plan and changes nothing)

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
VERSIONS = ROOT / "d2lhelpers" / "versions.py"  # the one place for the d2l version and the Python floor
LAB_SETTINGS = ROOT / "lab-settings"  # JupyterLab: no news pop-up, widget state saved, MathJax 3 extension off
STAMP_FILES = [ROOT / "pyproject.toml", LOCK, VERSIONS]
NO_DEPS_PINNED = "jupyterlab_rise"  # version from the lock
COMMANDS = ["setup", "run", "test", "lab", "slides", "gpu-check", "help"]
TEST_COMMAND = ["-m", "pytest", "tests", "notebooks", "--nbval", "--nbval-current-env",
                "--nbval-sanitize-with", "notebooks/sanitize.cfg"]  # the README's test command, after `python`


def say(message: str) -> None:
    print(f"[course] {message}", file=sys.stderr, flush=True)


def versions() -> dict:
    """d2lhelpers/versions.py, read without importing the package (nothing is installed yet)."""
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
        say("note: could not install a CJK font; see the README's Troubleshooting (Chinese terms show as boxes)")


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
