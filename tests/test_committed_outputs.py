"""Committed outputs that agree with each other: a notebook shows the training it is about, not a finished run
it loaded; notebook 05's set-up and result lines name the same precision; and a figure that one notebook quotes
from another (05's accuracy in 01, 07's baseline and verdicts in 08 and key 07) is the one that notebook shows.
(Answer keys may reuse what the notebooks saved, as their prose says; the series' own notebooks record their runs.)"""

import re

import nbformat
import pytest

from repository import NOTEBOOKS, ROOT

FINISHED_RUN_LOADED = "nothing left to train"  # what `train` prints when a checkpoint already holds every epoch


def output_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))


def set_up_and_result_precisions(notebook: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """The precision chosen in the set-up ("precision: bf16, because ...") and the one the result line reports
    ("... on cpu (bf16)"), from the committed outputs."""
    text = "\n".join(output_text(cell) for cell in notebook.cells)
    return (re.findall(r"^precision:\s+(\w+), because", text, flags=re.M),
            re.findall(r"test accuracy [\d.]+ after [\d.]+ min on \S+ \((\w+)\)", text))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_commits_a_finished_run_in_place_of_its_training(path):
    notebook = nbformat.read(path, as_version=4)
    loaded = [i for i, cell in enumerate(notebook.cells) if FINISHED_RUN_LOADED in output_text(cell)]
    assert loaded == [], f"{path.name}: cells {loaded} loaded a finished run; record it fresh (empty results/)"


def test_notebook_05_reports_the_precision_it_chose_and_trained_in():
    chosen, reported = set_up_and_result_precisions(nbformat.read(ROOT / "notebooks" / "05_training_alexnet.ipynb",
                                                                  as_version=4))
    assert len(chosen) == 1 and len(reported) == 1 and chosen == reported, (chosen, reported)


def test_the_checks_see_a_contradiction_when_there_is_one():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", text="precision: bf16, because it is faster\n"),
                    nbformat.v4.new_output("stream", text="AlexNet (cpu profile, 65x65): test accuracy 0.906 after "
                                                          "21.1 min on cpu (fp32)\n")]
    chosen, reported = set_up_and_result_precisions(nbformat.v4.new_notebook(cells=[cell]))
    assert chosen == ["bf16"] and reported == ["fp32"]


def notebook_text(path) -> str:
    return "\n".join(output_text(cell) for cell in nbformat.read(path, as_version=4).cells)


def verdict_lines(text: str) -> dict[str, str]:
    """The verdict lines of a notebook's outputs ("<a> minus <b>, <what>: ..."), by their head before the colon."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^\s*((?:(?!: ).)+? minus [^:]+?, [a-z ]+): .*$", text, re.M)}


# where notebook 05's AlexNet is quoted from its saved run: (notebook, pattern capturing the accuracy)
ALEXNET_QUOTES = [("01_handcrafted_vs_learned_features.ipynb", r"^AlexNet \(\d+x\d+\): accuracy ([\d.]+) on"),
                  ("solutions/01_solutions.ipynb", r"^AlexNet \(notebook 05\)\s+([\d.]+) on"),
                  ("solutions/05_solutions.ipynb", r"^the \w+ profile's AlexNet: test accuracy ([\d.]+) on")]


@pytest.mark.parametrize("quoting, pattern", ALEXNET_QUOTES, ids=[q for q, _ in ALEXNET_QUOTES])
def test_notebook_05s_accuracy_is_quoted_as_05_shows_it(quoting, pattern):
    shown = re.findall(r"AlexNet \(\w+ profile, \d+x\d+\): test accuracy ([\d.]+) after",
                       notebook_text(ROOT / "notebooks" / "05_training_alexnet.ipynb"))
    quoted = re.findall(pattern, notebook_text(ROOT / "notebooks" / quoting), re.M)
    assert len(shown) == 1 and quoted, f"05 shows {shown}; {quoting} quotes {quoted}"
    assert {f"{float(q):.3f}" for q in quoted} == set(shown), (
        f"{quoting} quotes AlexNet at {quoted}, notebook 05 shows {shown[0]}: record it after 05")


# figures the keys quote from notebook 07: (pattern in the key, pattern in 07), each capturing the same figures
KEY_07_QUOTES = [(r"two hidden layers ([\d.]+ ± [\d.]+), one hidden layer ([\d.]+ ± [\d.]+)",
                  r"two hidden layers \(book\)\s+[\d,]+\s+([\d.]+ ± [\d.]+)[^\n]*\n\s*one hidden layer\s+[\d,]+\s+([\d.]+ ± [\d.]+)"),
                 (r"rates \{'ReLU': ([\d.]+), 'tanh': ([\d.]+)\}",
                  r"ReLU: learning rate ([\d.]+), steps[^\n]*\ntanh: learning rate ([\d.]+), steps")]


def test_notebook_08_quotes_07s_baseline_and_verdicts_as_07_shows_them():
    shown, quoted = (notebook_text(ROOT / "notebooks" / name) for name in ("07_what_made_alexnet_work.ipynb",
                                                                          "08_questions_answered.ipynb"))
    baselines = [re.findall(r"^baseline: test accuracy ([\d.]+ ± [\d.]+)", text, re.M)[:1] for text in (shown, quoted)]
    assert baselines[0] and baselines[0] == baselines[1], f"07's baseline {baselines[0]}, 08's {baselines[1]}"
    shared = verdict_lines(shown).keys() & verdict_lines(quoted).keys()
    assert shared, "08 quotes none of 07's verdicts"
    for head in shared:
        assert verdict_lines(quoted)[head].strip() == verdict_lines(shown)[head].strip(), (
            f"08 quotes 07's verdict differently:\n{verdict_lines(quoted)[head]}\n{verdict_lines(shown)[head]}")


@pytest.mark.parametrize("in_key, in_07", KEY_07_QUOTES, ids=["hidden layers", "race rates"])
def test_key_07_quotes_07s_figures_as_07_shows_them(in_key, in_07):
    shown = re.findall(in_07, notebook_text(ROOT / "notebooks" / "07_what_made_alexnet_work.ipynb"))
    quoted = re.findall(in_key, notebook_text(ROOT / "notebooks" / "solutions" / "07_solutions.ipynb"))
    assert shown and quoted, f"not found: {in_07!r} in 07 ({len(shown)}), {in_key!r} in key 07 ({len(quoted)})"
    assert set(quoted) == {shown[0]}, f"key 07 quotes {quoted}, 07 shows {shown[0]}"


def test_the_cross_notebook_checks_see_a_difference():
    text = "with LRN minus baseline, test accuracy: -0.029 (95% interval ...): a null result\nnot a verdict: x\n"
    assert verdict_lines(text) == {"with LRN minus baseline, test accuracy": text.splitlines()[0]}
    assert verdict_lines(text.replace("-0.029", "-0.030")) != verdict_lines(text)
