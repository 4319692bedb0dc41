"""Real-browser checks with headless Chromium (Debian's `chromium`) driven by Playwright.

1. A slide deck built by tools/build_slides.py opens from disk with no network: it has one slide per
   slide/subslide cell, a code cell's output is visible, and a screenshot lands in build/slides/.
2. The student path: JupyterLab on localhost opens notebook 03, runs all its cells, and the layer-shape
   table read from the page matches PyTorch. The server is always stopped.
3. The output-size explorer of notebook 03: after Run All, moving its stride slider with the keyboard
   reprints the output size, equal to the formula's for the new settings and to PyTorch's.

Without chromium these tests are skipped locally, and fail in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from torch import nn

from d2lhelpers.models import alexnet_features
from d2lhelpers.shapes import spatial_sizes

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BUILD = ROOT / "build"


def require_browser() -> str:
    problems = []
    if CHROMIUM is None:
        problems.append("no chromium on PATH (Debian: apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        problems.append("playwright is not installed (./course setup)")
    if problems:
        if os.environ.get("CI"):
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))
    return CHROMIUM


@pytest.fixture(scope="module")
def browser():
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's sandbox needs user namespaces, which containers and root often lack
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def first_stream_output(notebook: nbformat.NotebookNode) -> str:
    """The first line of printed output of a code cell that appears on the slides."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("slideshow", {}).get("slide_type") != "skip":
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.text.strip():
                    return output.text.strip().splitlines()[0].strip()
    raise AssertionError("no printed output in the deck")


def test_slide_deck_renders_offline(browser, load_script):
    slides = load_script("tools/build_slides.py")
    path = ROOT / "notebooks" / "03_alexnet_layer_by_layer.ipynb"
    out = BUILD / "slides"
    deck = slides.build([path], out)[0]
    notebook = nbformat.read(path, as_version=4)
    expected = slides.expected_slides(notebook)
    snippet = first_stream_output(notebook)

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    remote = []
    page.on("request", lambda request: remote.append(request.url) if not request.url.startswith(("file:", "data:")) else None)
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=30_000)  # reveal.js has initialised the deck
    # RequireJS loads reveal.js as a module, so there is no global Reveal: count the slides in the DOM
    # (a slide is a <section> with no <section> inside), and find the one that shows the output.
    slides = page.evaluate(
        """snippet => {
            const leaves = [...document.querySelectorAll('.reveal .slides section')].filter(s => !s.querySelector('section'));
            const top = [...document.querySelectorAll('.reveal .slides > section')];
            const target = leaves.find(s => s.textContent.includes(snippet));
            const h = top.findIndex(t => t === target || t.contains(target));
            const v = target.parentElement.matches('section') ? [...target.parentElement.children].indexOf(target) : 0;
            return {count: leaves.length, h, v};
        }""",
        snippet,
    )
    assert slides["count"] == expected > 5
    page.goto(f"{deck.as_uri()}#/{slides['h']}/{slides['v']}")
    page.wait_for_timeout(1000)  # the slide transition
    assert page.locator("section.present").get_by_text(snippet, exact=False).first.is_visible()
    page.screenshot(path=str(out / "03_alexnet_layer_by_layer.png"))
    assert (out / "03_alexnet_layer_by_layer.png").stat().st_size > 10_000
    assert not remote, f"the deck fetched from the network: {remote[:3]}"
    page.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab serving a copy of notebook 03 (so that autosave never touches the committed one)."""
    require_browser()
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "03_alexnet_layer_by_layer.ipynb", work)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "D2L_PROFILE": "ci"}
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root"],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=work,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_student_runs_notebook_03_in_jupyterlab(browser, jupyterlab):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/03_alexnet_layer_by_layer.ipynb?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

    # from the file: JupyterLab may still be adding cells to the page when Run All starts
    notebook = nbformat.read(ROOT / "notebooks" / "03_alexnet_layer_by_layer.ipynb", as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_text_contents()
        if sum(p.strip().startswith("[") and p.strip()[1:2].isdigit() for p in prompts) == code_cells:
            break
        page.wait_for_timeout(1000)
    else:
        raise AssertionError(f"not every cell ran within 180 s: prompts {prompts}")
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0

    table = page.locator(".jp-OutputArea-output table", has_text="formula").first
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    rows = [[c.strip() for c in row.locator("td").all_text_contents()] for row in table.locator("tbody tr").all()]
    formula, pytorch = headers.index("formula") - 1, headers.index("PyTorch") - 1  # the first th is the index
    layers = alexnet_features()
    expected = [size for layer, size in zip(layers, spatial_sizes(layers, 224)) if isinstance(layer, (nn.Conv2d, nn.MaxPool2d))]
    assert [int(row[pytorch]) for row in rows] == expected
    assert all(row[formula] == row[pytorch] for row in rows)
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "jupyterlab-03.png"))
    page.close()


def run_all_cells_afresh(page, timeout: float = 180) -> None:
    """Clear the saved outputs, Run All Cells from the menu and wait until every cell has run.

    Robust against what a loaded machine shows: a "Select Kernel" dialog (accepted: Python 3), and a
    click that comes before JupyterLab is ready (retried). Clearing first matters: the committed
    notebook's own execution counts would otherwise look like a finished run.
    """
    import re

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def prompts() -> list[str]:
        return [p.strip() for p in page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_text_contents()]

    def accept_kernel_dialog() -> None:
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.count():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()

    def menu(name: str, item: str) -> None:
        accept_kernel_dialog()
        page.locator(".lm-MenuBar-item", has_text=name).first.click()
        page.locator(".lm-Menu-item", has_text=item).first.click()

    deadline = time.monotonic() + 90  # a kernel that is up and idle
    while not page.get_by_text(re.compile(r"\| Idle")).count() and time.monotonic() < deadline:
        accept_kernel_dialog()
        page.wait_for_timeout(500)
    for _ in range(3):
        menu("Edit", "Clear Outputs of All Cells")
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]"
                ".every(p => !/\\d/.test(p.textContent))", timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"could not clear the outputs: prompts {prompts()}")
    started = ("() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]"
               ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))")
    for _ in range(3):
        menu("Run", "Run All Cells")
        try:
            page.wait_for_function(started, timeout=20_000)
            break
        except PlaywrightTimeout:  # no cell queued: the click came too early
            page.keyboard.press("Escape")
    notebook = nbformat.read(ROOT / "notebooks" / "03_alexnet_layer_by_layer.ipynb", as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accept_kernel_dialog()
        if sum(p.startswith("[") and p[1:2].isdigit() for p in prompts()) == code_cells:
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"not every cell ran within {timeout} s: prompts {prompts()}")


def test_output_size_explorer_follows_its_slider(browser, jupyterlab):
    """Notebook 03's explorer: moving the stride slider reprints the output size, which equals the formula."""
    import re

    from d2lhelpers.shapes import conv_output_size

    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/03_alexnet_layer_by_layer.ipynb?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    run_all_cells_afresh(page)

    # the explorer: the interact widget with a slider labelled "stride"
    explorer = page.locator(".widget-interact").filter(has=page.locator(".widget-label", has_text=re.compile(r"^\s*stride\s*$")))
    explorer = explorer.first
    explorer.wait_for(state="attached", timeout=30_000)
    # JupyterLab skips the layout of cells outside the view (CSS content-visibility): bring this one in
    explorer.evaluate("element => element.scrollIntoView({block: 'center'})")
    explorer.wait_for(state="visible", timeout=30_000)

    def slider(label: str):
        return explorer.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{label}\s*$")))

    def settings() -> tuple[int, ...]:
        return tuple(int(slider(label).locator(".widget-readout").text_content()) for label in ("input size", "kernel", "stride", "padding"))

    def printed() -> tuple[int, int] | None:
        """(the formula's output size, PyTorch's) as the explorer printed them, or None while it redraws."""
        outputs = explorer.locator(".jp-OutputArea-output")
        text = "\n".join(outputs.all_text_contents())  # text_content: also while scrolled out of view
        formula = re.search(r"output size = .* = (\d+)\s*$", text, flags=re.MULTILINE)
        pytorch = re.search(r"into 1x1x(\d+)x(\d+)", text)
        return (int(formula.group(1)), int(pytorch.group(1))) if formula and pytorch else None

    before = settings()
    deadline = time.monotonic() + 30
    while printed() is None and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert printed() == (conv_output_size(*before),) * 2, (before, printed())

    handle = slider("stride").locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")  # stride + 1
    deadline = time.monotonic() + 10
    while settings()[2] == before[2] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    after = settings()
    assert after[2] == before[2] + 1 and after[:2] + after[3:] == before[:2] + before[3:], (before, after)
    expected = conv_output_size(*after)
    assert expected != conv_output_size(*before)  # the test would prove nothing otherwise
    deadline = time.monotonic() + 30
    while printed() != (expected, expected) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert printed() == (expected, expected), (after, printed())
    explorer.locator(".jp-OutputArea-output img").first.wait_for(timeout=30_000)  # and the drawing is back
    BUILD.mkdir(exist_ok=True)
    explorer.screenshot(path=str(BUILD / "jupyterlab-03-explorer.png"))
    page.close()
