"""Real-browser checks with headless Chromium (Debian's `chromium`) driven by Playwright.

1. A slide deck built by tools/build_slides.py opens from disk with no network: it has one slide per
   slide/subslide cell, a code cell's output is visible, and a screenshot lands in build/slides/.
2. The student path: JupyterLab, started as `./course lab` starts it, opens notebook 03 and runs all its cells;
   the layer-shape table read from the page matches PyTorch, and moving the output-size explorer's sliders with
   the keyboard reprints the output size, equal to the formula's for the new settings and to PyTorch's.
3. The same JupyterLab opens the committed notebooks without widget errors, keeps a progress bar, stays quiet,
   and draws the Chinese terms. One server serves every JupyterLab test, and it is always stopped.
4. The slide show works in class: every slide of every deck (all notebooks, solutions included) fits a
   1280x720 screen with nothing cut off, and no slide shows a widget that a static deck cannot render;
   a synthetic deck with an over-long slide and a widget shows that the check sees both.

Without chromium these tests are skipped locally, and fail in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
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
from nbformat.sign import NotebookNotary
from torch import nn

from figure_text import SLIDE_BOX, kernel_folder
from repository import load_script

from d2lhelpers.models import alexnet_features
from d2lhelpers.shapes import conv_output_size, spatial_sizes

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


@pytest.fixture(scope="module")
def all_decks():
    """The deck of every notebook (notebooks/[0-9]*.ipynb and notebooks/solutions/*.ipynb), built once."""
    slides = load_script("tools/build_slides.py")
    paths = slides.notebooks()
    names = [slides.deck_name(path) for path in paths]
    assert len(set(names)) == len(names) and len(paths) >= 8, f"decks: {names}"
    decks = slides.build(paths, BUILD / "slides")
    return {slides.deck_name(path): (deck, slides.expected_slides(nbformat.read(path, as_version=4))) for path, deck in zip(paths, decks)}


def test_slide_deck_renders_offline(browser, all_decks):
    path = ROOT / "notebooks" / "03_alexnet_layer_by_layer.ipynb"
    deck, expected = all_decks[path.stem]
    snippet = first_stream_output(nbformat.read(path, as_version=4))

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    remote = []
    page.on("request", lambda request: remote.append(request.url) if not request.url.startswith(("file:", "data:")) else None)
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=30_000)  # reveal.js has initialised the deck
    # count the slides in the DOM (a slide is a <section> with no <section> inside), and find the one that shows
    # the output
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
    # visible once the slide transition has brought it on screen
    page.locator("section.present").get_by_text(snippet, exact=False).first.wait_for(state="visible", timeout=10_000)
    screenshot = deck.parent / "03_alexnet_layer_by_layer.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert not remote, f"the deck fetched from the network: {remote[:3]}"
    page.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by a fixture: politely, then by force."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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


# --- JupyterLab as `./course lab` starts it (course.py's arguments), checked in the browser. One server for
# every JupyterLab test: copies of the committed notebooks 03 and 05, a notebook with a live progress bar, a widget
# output saved without its state (the failure the tests must be able to see), and a Chinese term.

WIDGET_ERROR = "Error displaying widget"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
NOTEBOOK_03 = "03_alexnet_layer_by_layer.ipynb"


def write_notebook(path: Path, cells: list) -> None:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started with `./course lab`'s settings on copies (autosave never touches the committed files).

    Notebook 03 is there twice, as a student who cloned the series has it (untrusted): committed/, only opened,
    and run/, which the student tests run."""
    require_browser()
    tmp = tmp_path_factory.mktemp("course-lab")
    work = tmp / "notebooks"
    for folder in ("committed", "run"):
        (work / folder).mkdir(parents=True)
        shutil.copy(ROOT / "notebooks" / NOTEBOOK_03, work / folder)
    shutil.copy(ROOT / "notebooks" / "05_training_alexnet.ipynb", work)
    write_notebook(work / "progress.ipynb", [nbformat.v4.new_code_cell(
        "from tqdm.auto import tqdm\nfor step in tqdm(range(3), desc='epoch'):\n    pass")])
    stale = nbformat.v4.new_code_cell("print('bar')", execution_count=1)
    stale.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "0" * 32, "version_major": 2, "version_minor": 0},
        "text/plain": "epoch: 100%|##########| 3/3"})]
    write_notebook(work / "stale_widget.ipynb", [stale])
    write_notebook(work / "terms.ipynb", [nbformat.v4.new_markdown_cell(
        "Pooling, 汇聚层 (huìjù céng); dropout, 暂退法. Math: $y = \\max(0, x)$")])
    # the top folder's notebooks trusted, as a notebook the student ran and saved is (JupyterLab shows widget views
    # only in trusted ones)
    (tmp / "data").mkdir()
    notary = NotebookNotary(data_dir=str(tmp / "data"))
    for path in work.glob("*.ipynb"):
        notary.sign(nbformat.read(path, as_version=4))
    # render every cell at once (JupyterLab 4 otherwise renders only what is on screen)
    user = tmp / "user-settings" / "@jupyterlab" / "notebook-extension"
    user.mkdir(parents=True)
    (user / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"),
           "JUPYTER_DATA_DIR": str(tmp / "data"), "D2L_PROFILE": "ci", "TQDM_DISABLE": "",
           # kernels without the figure audit: nbval audits every figure of these notebooks already
           "IPYTHONDIR": str(kernel_folder(tmp / "ipython", audit=False))}
    arguments = load_script("course.py").lab_arguments(notebooks=work, as_root=True)
    log = tmp / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, *arguments, "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={token}"], stdout=output, stderr=subprocess.STDOUT, env=env, cwd=work)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield base, token, work
    finally:
        stop(process)


def shown_outputs(cell: nbformat.NotebookNode) -> int:
    """How many outputs JupyterLab shows for a cell: it merges consecutive stream outputs of one name."""
    count, previous = 0, None
    for output in cell.get("outputs", []):
        key = (output.output_type, output.get("name"))
        count += not (output.output_type == "stream" and key == previous)
        previous = key
    return count


def open_notebook(browser, lab, name: str, viewport: dict | None = None, workspace: str = ""):
    """A new page showing notebook `name` (relative to the server's folder), once every output saved in it is on
    the page and the widget manager has rendered (or failed to render) its widget views."""
    base, token, work = lab
    saved = nbformat.read(work / name, as_version=4).cells
    outputs = sum(shown_outputs(c) for c in saved if c.cell_type == "code")
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1000})
    at = f"/workspaces/{workspace}" if workspace else ""  # a workspace of its own for a page kept open across tests
    page.goto(f"{base}/lab{at}/tree/{name}?reset&token={token}")  # reset: not the last test's tabs
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)
    page.wait_for_function(
        """([panel, outputs]) => {
            const shown = [...document.querySelectorAll(panel + ' .jp-OutputArea-output')];
            return shown.length >= outputs && !shown.some(o => o.textContent.trim().startsWith('Loading widget'));
        }""", arg=[PANEL, outputs], timeout=60_000)
    return page


def api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def accept_kernel_dialog(page) -> None:
    """Accept the "Select Kernel" dialog (Python 3) that JupyterLab can show on a loaded machine."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()


def wait_for_idle_kernel(page, timeout: float = 90) -> None:
    """Until the notebook's kernel is up and idle, as JupyterLab's status bar shows it (at most `timeout` s)."""
    deadline = time.monotonic() + timeout
    while not page.get_by_text(re.compile(r"\| Idle")).count() and time.monotonic() < deadline:
        accept_kernel_dialog(page)
        page.wait_for_timeout(500)


def test_a_widget_saved_without_state_is_seen_as_an_error(browser, lab):
    """The control: the check below does see the error that a widget saved without its state shows."""
    page = open_notebook(browser, lab, "stale_widget.ipynb")
    page.wait_for_selector(f"text={WIDGET_ERROR}", timeout=30_000)
    page.close()


def test_committed_notebook_05_opens_without_widget_errors(browser, lab):
    page = open_notebook(browser, lab, "05_training_alexnet.ipynb")  # every saved output is on the page
    cells = nbformat.read(lab[2] / "05_training_alexnet.ipynb", as_version=4).cells
    assert page.locator(f"{PANEL} .jp-Cell").count() >= len(cells)  # every cell is on the page
    assert WIDGET_ERROR not in page.locator(PANEL).inner_text()
    page.close()


def test_a_progress_bar_saved_in_lab_reopens_as_a_bar(browser, lab):
    """Run a tqdm loop live, save, stop the kernel, reopen: the bar comes back from the saved widget state."""
    base, token, work = lab
    page = open_notebook(browser, lab, "progress.ipynb")
    wait_for_idle_kernel(page)  # a key pressed before the kernel is up can be lost
    page.locator(f"{PANEL} .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(".jp-OutputArea-output .widget-hprogress", timeout=60_000)
    page.wait_for_function("document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)').innerText.includes('3/3')", timeout=60_000)
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while "widgets" not in nbformat.read(work / "progress.ipynb", as_version=4).metadata and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    saved = nbformat.read(work / "progress.ipynb", as_version=4)
    assert "application/vnd.jupyter.widget-state+json" in saved.metadata.get("widgets", {}), "widget state not saved"
    page.close()
    for session in api(base, token, "/api/sessions"):  # a fresh kernel knows nothing of the old bar
        if session["path"] == "progress.ipynb":
            api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
    page = open_notebook(browser, lab, "progress.ipynb")  # the saved bar is on the page
    panel = page.locator(PANEL)
    assert WIDGET_ERROR not in panel.inner_text()
    assert page.locator(".jp-OutputArea-output .widget-hprogress").count() == 1 and "3/3" in panel.inner_text()
    page.close()


def test_lab_is_quiet_and_flags_no_extension(browser, lab):
    """No news pop-up; every extension JupyterLab reports as not ok is switched off; MathJax still renders."""
    base, token, _ = lab
    notification = api(base, token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    fetch_news = notification["settings"].get("fetchNews", notification["schema"]["properties"]["fetchNews"]["default"])
    assert fetch_news == "false", f"fetchNews is {fetch_news!r}: JupyterLab asks about news while it is 'none'"
    page = open_notebook(browser, lab, "terms.ipynb")
    page.wait_for_timeout(3000)  # and on screen: the question would appear a moment after start-up
    toasts = page.locator(".Toastify__toast").all_text_contents()
    assert not [t for t in toasts if "news" in t.lower()], toasts
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    # the extension manager names "@scope/name" as "scope-name"; an extension it flags must be switched off
    disabled = {name.lstrip("@").replace("/", "-") for name in config.get("disabledExtensions") or []}
    flagged = {e["name"] for e in extensions(base, token) if e.get("status") != "ok"}
    assert flagged <= disabled, f"extensions flagged as incompatible and still on: {flagged - disabled}"
    page.wait_for_selector(".jp-RenderedMarkdown mjx-container", timeout=30_000)  # JupyterLab's own MathJax 3
    page.close()


def extensions(base: str, token: str) -> list[dict]:
    found = api(base, token, "/lab/api/extensions")
    return found[0] if found and isinstance(found[0], list) else found


def test_chinese_terms_render_as_glyphs_not_boxes(browser, lab):
    """Each character of a rendered Chinese term is drawn, in the cell's own font, as a distinct glyph:
    missing glyphs all draw as the same box (the control: two unassigned private-use characters)."""
    page = open_notebook(browser, lab, f"committed/{NOTEBOOK_03}")
    cell = page.locator(".jp-RenderedMarkdown", has_text="汇聚层").first  # 卷积层, 汇聚层, 全连接层 ...
    BUILD.mkdir(exist_ok=True)
    cell.screenshot(path=str(BUILD / "jupyterlab-chinese-terms.png"))
    drawn = cell.evaluate(
        """(element, characters) => {
            const font = getComputedStyle(element.querySelector('p') || element).font;
            const canvas = document.createElement('canvas');
            canvas.width = canvas.height = 64;
            const context = canvas.getContext('2d', {willReadFrequently: true});
            return characters.map(character => {
                context.clearRect(0, 0, 64, 64);
                context.font = font.replace(/\\d+(\\.\\d+)?px/, '40px');
                context.textBaseline = 'top';
                context.fillText(character, 4, 4);
                const pixels = context.getImageData(0, 0, 64, 64).data;
                let ink = 0, hash = 0;
                for (let i = 3; i < pixels.length; i += 4) { ink += pixels[i] > 0; hash = (hash * 31 + pixels[i]) | 0; }
                return {character, ink, hash, width: context.measureText(character).width};
            });
        }""",
        ["汇", "聚", "层", "卷", "积", "连", "\ue000", "\ue001"],
    )
    glyphs, boxes = drawn[:6], drawn[6:]
    assert boxes[0]["hash"] == boxes[1]["hash"], "control: two missing glyphs should draw the same box"
    assert all(g["ink"] > 0 for g in glyphs)
    assert len({g["hash"] for g in glyphs}) == len(glyphs), f"Chinese characters draw as identical boxes: {glyphs}"
    assert not {g["hash"] for g in glyphs} & {boxes[0]["hash"]}, "a Chinese character draws as the missing-glyph box"


def run_all_cells_afresh(page, timeout: float = 180) -> None:
    """Clear the saved outputs, Run All Cells from the menu and wait until every cell has run.

    Robust against what a loaded machine shows: a "Select Kernel" dialog (accepted: Python 3), and a
    click that comes before JupyterLab is ready (retried). Clearing first matters: the committed
    notebook's own execution counts would otherwise look like a finished run.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def prompts() -> list[str]:
        return [p.strip() for p in page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_text_contents()]

    def menu(name: str, item: str) -> None:
        accept_kernel_dialog(page)
        page.locator(".lm-MenuBar-item", has_text=name).first.click()
        page.locator(".lm-Menu-item", has_text=item).first.click()

    wait_for_idle_kernel(page)
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
    notebook = nbformat.read(ROOT / "notebooks" / NOTEBOOK_03, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accept_kernel_dialog(page)
        if sum(p.startswith("[") and p[1:2].isdigit() for p in prompts()) == code_cells:
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"not every cell ran within {timeout} s: prompts {prompts()}")



@pytest.fixture(scope="module")
def notebook_03_run(browser, lab):
    """A page with notebook 03 after Run All in JupyterLab, shared by the tests that read or move what it shows."""
    page = open_notebook(browser, lab, f"run/{NOTEBOOK_03}", workspace="run-03")
    run_all_cells_afresh(page)  # clears the committed outputs first, so a run that never starts cannot pass
    yield page
    page.close()


def test_student_runs_notebook_03_in_jupyterlab(notebook_03_run):
    page = notebook_03_run
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


def test_output_size_explorer_follows_its_slider(notebook_03_run):
    """Notebook 03's explorer: moving the stride slider reprints the output size, which equals the formula."""
    page = notebook_03_run
    explorer = page.locator(".widget-vbox").filter(has=page.locator(".widget-label", has_text=re.compile(r"^\s*stride\s*$")))
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

    # quick presses, faster than the kernel redraws: the figure stays in its cell, nothing goes to the log console
    handle = slider("input size").locator(".noUi-handle").first
    handle.focus()
    for key in ["ArrowRight"] * 5 + ["ArrowLeft"] * 2:
        handle.press(key, delay=0)
    deadline = time.monotonic() + 10
    while settings()[0] != after[0] + 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    final = settings()
    assert final == (after[0] + 3, *after[1:]), (after, final)
    expected = conv_output_size(*final)
    deadline = time.monotonic() + 60
    while printed() != (expected, expected) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    wait_for_idle_kernel(page)  # the kernel has handled every change the presses queued
    assert printed() == (expected, expected), (final, printed())
    assert explorer.locator(".jp-OutputArea-output img").count() == 1, "the explorer's cell should show exactly one figure"
    assert page.locator(".jp-LogConsoleStatusItem").inner_text().strip() == "", "something went to the log console"
    BUILD.mkdir(exist_ok=True)
    explorer.screenshot(path=str(BUILD / "jupyterlab-03-explorer.png"))


def test_committed_notebook_03_shows_sentences_not_widget_reprs(browser, lab):
    """Opened untrusted and without running anything, each widget cell of 03 shows the sentence saved in place
    of the widget (d2lhelpers.widgets.note_for), and no widget repr anywhere."""
    page = open_notebook(browser, lab, f"committed/{NOTEBOOK_03}", viewport={"width": 1280, "height": 800})
    cells = nbformat.read(ROOT / "notebooks" / NOTEBOOK_03, as_version=4).cells
    widget_cells = [c for c in cells if c.cell_type == "code" and "interact_in_place(" in c.source]
    assert widget_cells, "notebook 03 has no widget cell left to check"
    notes = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^\s*Interactive: run this cell"))
    # where JupyterLab puts only the cells near the view on the page, scroll the whole notebook, reading each view
    page.locator(".jp-NotebookPanel .jp-Cell").first.hover()
    seen_notes, shown = set(), []
    for _ in range(400):
        seen_notes.update(" ".join(t.split()) for t in notes.all_text_contents())
        shown += page.locator(".jp-NotebookPanel .jp-OutputArea-output").all_text_contents()
        every_cell = page.locator(".jp-NotebookPanel .jp-Cell").count() >= len(cells)
        at_end = page.locator(".jp-NotebookPanel .jp-Cell").last.evaluate(
            "cell => cell.getBoundingClientRect().bottom <= window.innerHeight")
        if (every_cell or at_end) and len(seen_notes) >= len(widget_cells):
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
    assert len(seen_notes) == len(widget_cells), f"sentences seen: {sorted(seen_notes)}"
    assert not re.search(r"\b(interactive|VBox|IntSlider)\(children=", "\n".join(shown)), "a widget repr is shown"
    page.mouse.wheel(0, -10**6)
    # the width a figure gets in a cell at 100% (tests/test_figure_text.py's NOTEBOOK_WIDTH must not exceed it)
    width = page.locator(".jp-OutputArea-output").first.evaluate("element => element.getBoundingClientRect().width")
    assert width >= 840, f"a cell's output area is {width:.0f} px wide at 1280x800"
    if notes.count():  # a picture of the first sentence, where the view holds one
        notes.first.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(BUILD / "jupyterlab-03-widget-note.png"))
    page.close()

# --- The slide show works in class. Every slide of every deck fits a 1280x720 screen, and no
# slide shows a widget that a static deck cannot render (the notebooks give each widget a static figure).

SCREEN = {"width": 1280, "height": 720}
TOLERANCE = 2  # px of the slide box: rounding and anti-aliasing, not content

# Runs in the deck on the slide on show: the slide box (.reveal .slides, 1280x720 scaled to the window),
# the union of what the slide draws (elements and text, hidden fragments included: they appear later),
# elements that cut their content off (a scroll bar on a projector hides it), and unrendered widgets.
MEASURE_SLIDE = """() => {
    const slide = [...document.querySelectorAll('.reveal .slides section.present')].find(s => !s.querySelector('section'));
    if (!slide) return null;
    const box = document.querySelector('.reveal .slides').getBoundingClientRect();
    const scale = box.width / (window.Reveal ? Reveal.getConfig().width : box.width);
    const describe = element => {
        const name = element.tagName.toLowerCase() + [...element.classList].slice(0, 2).map(c => '.' + c).join('');
        return name + ' "' + (element.textContent || element.getAttribute('src') || '').trim().slice(0, 50).replace(/\\s+/g, ' ') + '"';
    };
    let content = null, furthest = null, worst = 0;
    const grow = (rect, owner) => {
        if (rect.width === 0 && rect.height === 0) return;
        content = content ? {left: Math.min(content.left, rect.left), top: Math.min(content.top, rect.top),
                             right: Math.max(content.right, rect.right), bottom: Math.max(content.bottom, rect.bottom)}
                          : {left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom};
        const beyond = Math.max(rect.right - box.right, rect.bottom - box.bottom, box.left - rect.left, box.top - rect.top);
        if (beyond > worst) { worst = beyond; furthest = owner; }
    };
    const clipped = [];
    for (const element of slide.querySelectorAll('*')) {
        // MathJax's copy of each formula for screen readers is clipped to 1 px on purpose
        if (element.closest('aside.notes, .MJX_Assistive_MathML') || getComputedStyle(element).display === 'none') continue;
        for (const rect of element.getClientRects()) grow(rect, element);
        const style = getComputedStyle(element);
        if ((style.overflowX !== 'visible' && element.scrollWidth > element.clientWidth + 2) ||
            (style.overflowY !== 'visible' && element.scrollHeight > element.clientHeight + 2)) {
            clipped.push(describe(element) + ` shows ${element.clientWidth}x${element.clientHeight} of ${element.scrollWidth}x${element.scrollHeight}`);
        }
    }
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.textContent.trim() || node.parentElement.closest('aside.notes, script, style, .MJX_Assistive_MathML')) continue;
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) grow(rect, node.parentElement);
    }
    const widgets = [];
    for (const element of slide.querySelectorAll(
            '.jupyter-widgets, .widget-area, script[type^="application/vnd.jupyter.widget"]')) widgets.push(describe(element));
    for (const output of slide.querySelectorAll('.jp-OutputArea-output')) {
        const text = output.textContent.trim();
        if (/^(Loading widget|Error displaying widget)/.test(text) || /^[A-Za-z]\\w*\\((children|value|description|options|layout)=/.test(text))
            widgets.push(describe(output));
    }
    const images = [...slide.querySelectorAll('img')].filter(img => img.naturalWidth).map(img => ({
        natural: [img.naturalWidth, img.naturalHeight], shown: img.getBoundingClientRect().width / scale / img.naturalWidth}));
    const heading = slide.querySelector('h1, h2, h3, p, pre');
    const over = content ? {
        right: (content.right - box.right) / scale, bottom: (content.bottom - box.bottom) / scale,
        left: (box.left - content.left) / scale, top: (box.top - content.top) / scale} : {right: 0, bottom: 0, left: 0, top: 0};
    return {title: heading ? heading.textContent.replace(/¶/g, '').trim().slice(0, 60).replace(/\\s+/g, ' ') : '',
            over, furthest: furthest ? describe(furthest) : '', clipped, widgets, images,
            fitScale: parseFloat(slide.dataset.fitScale || '1')};
}"""


# Runs in the deck: shows each slide in turn (as #/h/v), waits until it has settled, and measures it with
# MEASURE_SLIDE. Settled: MathJax has typeset, the fonts and the slide's images are loaded (at most 5 s each), and
# then the slide's size, its parts' boxes and the deck's fit scale stay the same for SETTLED_FRAMES frames in a row.
# The deck fits a slide again a frame after its content grows, so a measurement taken sooner can catch it too big
# at scale 1. Frames are counted, not timed, so a loaded machine only makes the walk slower. A slide still changing
# after SETTLE_LIMIT frames is measured as it is and marked unsettled; a slide that never shows is null.
SETTLED_FRAMES, SETTLE_LIMIT = 2, 60
WALK_DECK = """async ([settledFrames, settleLimit]) => {
    const measure = """ + MEASURE_SLIDE + """;
    const frame = () => new Promise(done => requestAnimationFrame(done));
    const atMost = (promise, ms) => Promise.race([promise, new Promise(done => setTimeout(done, ms))]);
    const tops = [...document.querySelectorAll('.reveal .slides > section')];
    const leaf = (h, v) => tops[h].querySelectorAll(':scope > section')[v] || tops[h];
    const shown = (h, v) => {
        const present = document.querySelectorAll('.reveal .slides > section.present');
        return present.length === 1 && present[0] === tops[h] && leaf(h, v).classList.contains('present');
    };
    const layout = slide => JSON.stringify([slide.dataset.fitScale, slide.scrollWidth, slide.scrollHeight,
        [...slide.children].map(part => { const r = part.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })]);
    const measured = [];
    for (const [h, top] of tops.entries()) {
        for (let v = 0; v < Math.max(1, top.querySelectorAll(':scope > section').length); v++) {
            location.hash = `#/${h}/${v}`;
            const deadline = performance.now() + 10000;
            while (!shown(h, v) && performance.now() < deadline) await frame();
            if (!shown(h, v)) { measured.push({h, v, slide: null}); continue; }
            const slide = leaf(h, v);
            await atMost(new Promise(done => MathJax.Hub.Queue(() => done())), 5000);
            await atMost(document.fonts.ready, 5000);
            await atMost(Promise.all([...slide.querySelectorAll('img')].map(img => img.decode().catch(() => null))), 5000);
            let last = layout(slide), still = 0;
            for (let i = 0; i < settleLimit && still < settledFrames; i++) {
                await frame();
                const now = layout(slide);
                still = now === last ? still + 1 : 0;
                last = now;
            }
            measured.push({h, v, slide: {...measure(), settled: still >= settledFrames}});
        }
    }
    return measured;
}"""


def walk_deck(page, deck: Path) -> list[dict]:
    """Open a deck at 1280x720 and measure every slide on show, in order, once it has settled (WALK_DECK); one dict
    per slide, with "number" (1-based), "h" and "v" (reveal's indices, as in the URL #/h/v) and MEASURE_SLIDE's fields."""
    page.set_viewport_size(SCREEN)
    failed = []  # what the deck asked for and did not get (a missing font or script changes what is shown)

    def record_failure(request) -> None:
        failed.append(f"{request.url} ({request.failure})")

    page.on("requestfailed", record_failure)
    page.goto(f"{deck.as_uri()}?transition=none")  # reveal.js reads its settings from the query too
    page.wait_for_selector(".reveal.ready", timeout=30_000)
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=30_000)
    walked = page.evaluate(WALK_DECK, [SETTLED_FRAMES, SETTLE_LIMIT])
    page.remove_listener("requestfailed", record_failure)
    assert not failed, f"{deck.name} could not load: {failed}"
    missing = [f"#/{s['h']}/{s['v']}" for s in walked if s["slide"] is None]
    assert not missing, f"{deck.name}: no slide on show at {missing}"
    return [{"number": number, "h": s["h"], "v": s["v"], **s["slide"]} for number, s in enumerate(walked, start=1)]


def slide_problems(name: str, slides: list[dict]) -> list[str]:
    """What is wrong with a deck's slides, one line each, naming the deck and the slide."""
    problems = []
    for slide in slides:
        where = f"{name} slide {slide['number']} (#/{slide['h']}/{slide['v']}, {slide['title']!r})"
        over = {side: round(px) for side, px in slide["over"].items() if px > TOLERANCE}
        if over:
            sides = ", ".join(f"{px} px past the {side}" for side, px in over.items())
            unsettled = "" if slide["settled"] else f"; measured while still changing after {SETTLE_LIMIT} frames"
            problems.append(f"{where}: content runs {sides} of the 1280x720 slide even at scale {slide['fitScale']:g}; "
                            f"furthest out: {slide['furthest']}{unsettled}")
        for element in slide["clipped"]:
            problems.append(f"{where}: cut off: {element}")
        for widget in slide["widgets"]:
            problems.append(f"{where}: a widget that a static deck cannot render: {widget}")
        for image in slide.get("images", []):
            (width, height), shown = image["natural"], image["shown"]
            assumed = min(1.0, SLIDE_BOX[0] / width, SLIDE_BOX[1] / height)  # what tests/figure_text.py measures at
            if shown < assumed - 0.01:
                problems.append(f"{where}: a {width}x{height} figure shown at {shown:.2f} of its size, below the "
                                f"{assumed:.2f} its text was measured at: give it a slide of its own")
    return problems



def test_every_slide_fits_1280x720_and_shows_no_dead_widget(browser, all_decks):
    page = browser.new_page(viewport=SCREEN)
    problems, counted = [], 0
    for name, (deck, expected) in all_decks.items():
        slides = walk_deck(page, deck)
        assert len(slides) == expected, f"{name}: walked {len(slides)} slides, the notebook has {expected}"
        counted += len(slides)
        problems += slide_problems(name, slides)
    page.close()
    assert counted > 10 * len(all_decks)
    assert not problems, f"{len(problems)} problems in the decks:\n" + "\n".join(problems)


def synthetic_png(width_in: float, height_in: float) -> str:
    """A figure of that size at 100 dpi, as the base64 PNG a notebook output holds."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=100)
    ax.set_title("a figure", fontsize=14)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_slide_check_sees_an_overlong_slide_and_a_widget(browser, tmp_path, load_script):
    """The control: a synthetic notebook with a slide far too long to fit even at half size and a widget
    output; the check must report each, by deck and slide number, and pass the slides that fit."""
    slides = load_script("tools/build_slides.py")
    cell = lambda kind, source, slide_type, **extra: getattr(nbformat.v4, f"new_{kind}_cell")(
        source, metadata={"slideshow": {"slide_type": slide_type}}, **extra)
    overlong = "\n".join(f"- point {i}: " + "a long line of prose that wraps " * 3 for i in range(80))
    widget = cell("code", "interact(f, x=1)", "slide", execution_count=2, outputs=[nbformat.v4.new_output(
        "display_data", data={"text/plain": "interactive(children=(IntSlider(value=1, description='x'), Output()))"})])
    png = synthetic_png(10, 5)  # a 1000x500 figure
    drawn = cell("code", "plot()", "slide", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="a line printed before the figure\n"),
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})])
    crowded = cell("markdown", "## Crowded\n\n" + "\n".join(f"- point {i}" for i in range(12))
                   + f"\n\n![figure](data:image/png;base64,{png})", "slide")
    cells = [cell("markdown", "# Fits", "slide"), cell("markdown", "## Too long\n\n" + overlong, "slide"),
             cell("code", "x = 1", "subslide", execution_count=1), widget, drawn, crowded]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "synthetic.ipynb"
    nbformat.write(notebook, path)
    deck = slides.build([path], tmp_path / "slides")[0]
    page = browser.new_page(viewport=SCREEN)
    measured = walk_deck(page, deck)
    page.close()
    assert [(s["h"], s["v"]) for s in measured] == [(0, 0), (1, 0), (1, 1), (2, 0), (3, 0), (3, 1), (4, 0)]
    problems = slide_problems("synthetic", measured)
    assert measured[0]["fitScale"] == 1 and not slide_problems("synthetic", measured[:1])
    assert measured[1]["fitScale"] == slides.FIT_FLOOR  # scaled as far as the floor, and still too long
    assert any(p.startswith("synthetic slide 2 (#/1/0, 'Too long')") and "past the bottom" in p for p in problems), problems
    assert not slide_problems("synthetic", measured[2:3])  # a short code slide fits
    assert any(p.startswith("synthetic slide 4 (#/2/0") and "widget" in p for p in problems), problems
    # a cell's figure gets a subslide of its own, at full size; a figure zoomed down with its slide is reported
    assert [image["natural"] for image in measured[5]["images"]] == [[1000, 500]], measured[5]
    assert not slide_problems("synthetic", measured[4:6])
    assert any(p.startswith("synthetic slide 7 (#/4/0") and "1000x500 figure shown at" in p for p in problems), problems
