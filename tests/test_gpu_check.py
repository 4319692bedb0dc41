"""tools/gpu_check.py: honest on a machine without CUDA, and its README section says what was and was not met."""

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
def test_the_readme_section_reports_each_target(load_script, accuracy, ratio, fraction, verdicts):
    tool = load_script("tools/gpu_check.py")
    result = {"machine": "NVIDIA T4", "date": "2026-01-01", "torch": "2.14.1", "precision": "fp16",
              "precision_reason": "compute capability 7.5 ...", "peak_tflops": 60.0, "fp32_tflops": 8.0,
              "peak_fraction": fraction,
              "pipeline": {"book_examples_per_s": 100.0, "ours_examples_per_s": 100.0 * ratio, "ratio": ratio},
              "notebook05": {"test_acc": accuracy, "epochs": 10, "minutes": 12.5}}
    table = tool.readme_table(result)
    assert f"({ratio:.1f}x)" in table and f"{fraction:.0%}" in table and f"{accuracy:.3f}" in table
    found = [part.split(": ")[-1] for part in table.splitlines()[-1].removeprefix("Targets: ").split("; ")]
    assert found == verdicts
    del result["notebook05"]
    assert "not run" in tool.readme_table(result)


def test_the_readme_says_when_no_gpu_was_measured(load_script):
    from pathlib import Path

    from d2lhelpers.tables import section

    tool = load_script("tools/gpu_check.py")
    readme = (Path(tool.ROOT) / "README.md").read_text()
    recorded = tool.RESULTS.is_file()
    expected = tool.readme_table(__import__("json").loads(tool.RESULTS.read_text()) if recorded else {})
    assert section(readme, tool.SECTION) == expected
