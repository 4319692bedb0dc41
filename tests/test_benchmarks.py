"""The README's speed table is the one made from benchmarks/results.json (no hand-edited numbers)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_benchmark_module():
    spec = importlib.util.spec_from_file_location("pipeline_benchmark", ROOT / "benchmarks" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_matches_the_measured_results():
    benchmark = load_benchmark_module()
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    assert results["pipeline"]["ratio"] == round(
        results["pipeline"]["ours_examples_per_s"] / results["pipeline"]["book_examples_per_s"], 2
    )
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(benchmark.TABLE_START) + len(benchmark.TABLE_START) : readme.index(benchmark.TABLE_END)]
    assert section.strip() == benchmark.readme_table(results), "run: python benchmarks/pipeline.py --readme"
