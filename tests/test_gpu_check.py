"""tools/gpu_check.py: honest on a machine without CUDA, and its section of CONTRIBUTING.md says what was and was not met."""

import pytest
import torch


def test_without_cuda_it_says_so_in_one_line_and_writes_nothing(load_script, monkeypatch, capsys, tmp_path):
    tool = load_script("tools/gpu_check.py")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(tool, "RESULTS", tmp_path / "gpu-check.json")
    assert tool.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no CUDA GPU" in out and "nothing was written" in out
    assert not (tmp_path / "gpu-check.json").exists()


@pytest.mark.parametrize("accuracy, ratio, fraction, verdicts", [
    (0.91, 12.0, 0.45, ["met", "met", "met"]),
    (0.87, 8.0, 0.30, ["not met", "not met", "not met"]),
])
def test_the_section_reports_each_target(load_script, accuracy, ratio, fraction, verdicts):
    tool = load_script("tools/gpu_check.py")
    result = {"machine": "NVIDIA T4", "date": "2026-01-01", "torch": "2.14.1", "precision": "fp16",
              "precision_reason": "compute capability 7.5 ...", "peak_tflops": 60.0, "fp32_tflops": 8.0,
              "peak_fraction": fraction,
              "pipeline": {"book_examples_per_s": 100.0, "ours_examples_per_s": 100.0 * ratio, "ratio": ratio},
              "notebook05": {"test_acc": accuracy, "epochs": 10, "minutes": 12.5,
                             "minutes_to_book": 7.25 if accuracy >= 0.88 else None}}
    table = tool.readme_table(result)
    assert f"({ratio:.1f}x)" in table and f"{fraction:.0%}" in table and f"{accuracy:.3f}" in table
    assert ("7.2 min" if accuracy >= 0.88 else "not reached in 10 epochs") in table
    found = [part.split(": ")[-1] for part in table.splitlines()[-1].removeprefix("Targets: ").split("; ")]
    assert found == verdicts
    del result["notebook05"]
    assert "not run" in tool.readme_table(result)


def test_the_time_to_the_books_accuracy_is_the_first_epoch_that_reaches_it(load_script):
    tool = load_script("tools/gpu_check.py")
    epochs = [{"test_acc": 0.80, "elapsed_s": 60}, {"test_acc": 0.881, "elapsed_s": 120}, {"test_acc": 0.89, "elapsed_s": 180}]
    assert tool.minutes_to(epochs, 0.88) == 2.0
    assert tool.minutes_to(epochs, 0.95) is None
