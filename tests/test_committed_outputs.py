"""Committed outputs that agree with each other: a notebook shows the training it is about, not a finished run
it loaded, and notebook 05's set-up and result lines name the same precision. (Answer keys may reuse what the
notebooks saved, as their prose says; the series' own notebooks record their runs.)"""

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
