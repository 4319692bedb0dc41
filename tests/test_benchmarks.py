"""The README's speed table is the one made from benchmarks/results.json (no hand-edited numbers)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_table_matches_the_measured_results(load_script):
    benchmark = load_script("benchmarks/pipeline.py")
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    assert results["pipeline"]["ratio"] == round(
        results["pipeline"]["ours_examples_per_s"] / results["pipeline"]["book_examples_per_s"], 2
    )
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(benchmark.TABLE_START) + len(benchmark.TABLE_START) : readme.index(benchmark.TABLE_END)]
    assert section.strip() == benchmark.readme_table(results), "run: python benchmarks/pipeline.py --readme"



def test_readme_hardware_table_matches_the_recorded_runs(load_script):
    tool = load_script("tools/hardware_table.py")
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(tool.START) + len(tool.START) : readme.index(tool.END)]
    assert section.strip() == tool.hardware_table(tool.records()), "run: python tools/hardware_table.py --readme"
    assert "cpu" in tool.records(), "record a cpu run: python tools/run_series.py --profile cpu --record"


def test_hardware_table_says_what_was_not_measured(load_script):
    tool = load_script("tools/hardware_table.py")
    run = {"machine": "M", "date": "2026-01-01", "image_size": 65, "alexnet_test_acc": 0.9,
           "notebooks": [{"notebook": "00_start_here", "ok": True, "seconds": 90.0, "key_figure": ""}]}
    table = tool.hardware_table({"cpu": run})
    assert "| `gpu` | not measured yet" in table and "| `cpu` | M (2026-01-01) | 65x65 | 1.5 min | 0.900 |" in table
    assert "| 00_start_here | 1.5 min |" in table


def test_handcrafted_benchmark_record_is_consistent():
    results = json.loads((ROOT / "benchmarks" / "handcrafted.json").read_text())
    hog = results["hog"]
    assert hog["ratio"] == round(hog["skimage_loop_s"] / hog["torch_s"], 1)
    assert hog["torch_s"] <= 30, "the issue's target: HOG of all 70,000 images within 30 s"
    assert hog["max_difference"] < 1e-5
    assert results["linear"]["accuracy"] >= 0.88 and results["linear"]["train_examples"] == 60_000
