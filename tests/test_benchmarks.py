"""The benchmarks and the hardware table: recorded results that agree with themselves, tables that say what was
and was not measured (tests/test_markdown_sections.py checks that the tables in CONTRIBUTING.md are these)."""

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_recorded_ratio_is_the_recorded_rates_ratio():
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    assert results["pipeline"]["ratio"] == round(
        results["pipeline"]["ours_examples_per_s"] / results["pipeline"]["book_examples_per_s"], 2
    )


def test_hardware_table_says_what_was_not_measured(load_script):
    tool = load_script("tools/hardware_table.py")
    run = {"machine": "M", "date": "2026-01-01", "image_size": 65, "alexnet_test_acc": 0.9,
           "notebooks": [{"notebook": "00_start_here", "ok": True, "seconds": 90.0, "key_figure": ""}]}
    table = tool.hardware_table({"cpu": run})
    assert "| `gpu` | not measured yet" in table and "| `cpu` | M (2026-01-01) | 65x65 | 1.5 min (1 notebook) | 0.900 |" in table
    assert "| 00_start_here | 1.5 min |" in table


def test_hardware_table_lists_every_notebook_any_profile_recorded(load_script):
    tool = load_script("tools/hardware_table.py")
    row = lambda name, seconds: {"notebook": name, "ok": True, "seconds": seconds, "key_figure": ""}  # noqa: E731
    ci = {"machine": "M", "date": "2026-01-01", "image_size": 65, "alexnet_test_acc": 0.7, "notebooks": [row("00_start_here", 4.0)]}
    cpu = {**ci, "notebooks": [row("00_start_here", 9.0), row("00_solutions", 30.0), row("08_questions_answered", 600.0)]}
    lines = tool.hardware_table({"ci": ci, "cpu": cpu}).splitlines()
    assert [line.split(" | ")[0] for line in lines if line.startswith("| 0")] == [
        "| 00_start_here", "| 08_questions_answered", "| 00_solutions"], "the series first, then the keys"
    assert "| 08_questions_answered |  | 10.0 min |" in lines, "a notebook one profile did not record has an empty cell"


def test_the_skimage_loop_time_is_extrapolated_from_its_sample(load_script, monkeypatch):
    benchmark = load_script("benchmarks/handcrafted.py")
    clock = iter([100.0, 102.5])  # the sample of 10 images takes 2.5 s
    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: next(clock))
    calls = []
    monkeypatch.setattr(benchmark, "hog", lambda image, **options: calls.append(options))
    images = np.zeros((400, 28, 28), dtype=np.uint8)
    assert benchmark.skimage_loop_seconds(images, sample=10) == pytest.approx(100.0)  # 2.5 s x 400 / 10
    assert len(calls) == 10 and calls[0]["block_norm"] == "L2-Hys"


def test_the_books_loader_finds_the_data_wherever_it_is(load_script, tmp_path, monkeypatch):
    benchmark = load_script("benchmarks/pipeline.py")
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "my-data"))
    (tmp_path / "my-data").mkdir()
    before = Path.cwd()
    with benchmark.books_working_directory():
        assert (Path("..") / "data").resolve() == (tmp_path / "my-data").resolve()
    assert Path.cwd() == before


def test_a_second_kind_of_machine_gets_its_own_row_and_column(load_script):
    tool = load_script("tools/hardware_table.py")
    row = lambda name, seconds: {"notebook": name, "ok": True, "seconds": seconds, "key_figure": ""}  # noqa: E731
    fast = {"machine": "Xeon, 2 cores, AVX512, native bf16", "date": "2026-01-01", "image_size": 65,
            "alexnet_test_acc": 0.9, "notebooks": [row("05_training_alexnet", 360.0)]}
    slow = {**fast, "machine": "EPYC, 2 cores, AVX2, no native bf16", "alexnet_test_acc": 0.87,
            "notebooks": [row("05_training_alexnet", 600.0)]}
    lines = tool.hardware_table({"cpu": fast, "cpu-avx2": slow}).splitlines()
    assert "| `cpu` | Xeon, 2 cores, AVX512, native bf16 (2026-01-01) | 65x65 | 6.0 min (1 notebook) | 0.900 |" in lines
    assert "| `cpu` AVX2 | EPYC, 2 cores, AVX2, no native bf16 (2026-01-01) | 65x65 | 10.0 min (1 notebook) | 0.870 |" in lines
    assert "| notebook | `cpu` | `cpu` AVX2 |" in lines and "| 05_training_alexnet | 6.0 min | 10.0 min |" in lines


@pytest.mark.parametrize("kind, ok", [("avx2", True), ("m2", True), ("AVX2", False), ("avx-2", False), ("", False)])
def test_a_record_is_named_for_its_machine_in_safe_characters(load_script, kind, ok):
    tool = load_script("tools/run_series.py")
    if ok:
        assert tool.record_label(kind) == kind
    else:
        with pytest.raises(tool.argparse.ArgumentTypeError, match="lower-case letters and digits"):
            tool.record_label(kind)
