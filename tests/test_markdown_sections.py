"""The generated sections of README.md and CONTRIBUTING.md: each is what its tool writes now (no hand-edited numbers)."""

import json

import pytest

from repository import load_script

sections = load_script("tools/markdown_sections.py")


def series_map(tool):
    return tool.README, tool.MAP_SECTION, tool.map_markdown("notebooks/")


def benchmark(tool):
    return tool.DOCUMENT, tool.SECTION, tool.readme_table(json.loads(tool.RESULTS.read_text()))


def hardware(tool):
    return tool.DOCUMENT, tool.SECTION, tool.hardware_table(tool.records())


def gpu_check(tool):
    recorded = json.loads(tool.RESULTS.read_text()) if tool.RESULTS.is_file() else {}
    return tool.DOCUMENT, tool.SECTION, tool.readme_table(recorded)


def gpu_recipe(tool):
    inputs = json.loads(tool.INPUTS_RESULTS.read_text()) if tool.INPUTS_RESULTS.is_file() else None
    return tool.DOCUMENT, tool.SECTION, tool.section_text(json.loads(tool.RESULTS.read_text()), inputs)


def recipe(tool):
    return tool.DOCUMENT, tool.SECTION, tool.section_text(json.loads(tool.RESULTS.read_text()))


@pytest.mark.parametrize("script, written", [
    ("tools/sync_navigation.py", series_map),
    ("benchmarks/pipeline.py", benchmark),
    ("tools/hardware_table.py", hardware),
    ("tools/gpu_check.py", gpu_check),
    ("benchmarks/gpu_recipe.py", gpu_recipe),
    ("benchmarks/recipe.py", recipe),
], ids=["series-map", "benchmark", "hardware", "gpu-check", "gpu-recipe", "recipe"])
def test_every_generated_section_is_what_its_tool_writes(script, written):
    document, name, body = written(load_script(script))
    assert sections.section(document.read_text(encoding="utf-8"), name) == body, (
        f"the {name} section of {document.name} is stale: run {script} (see CONTRIBUTING.md, Generated sections)")


def test_a_cpu_run_is_recorded_for_the_hardware_table():
    assert "cpu" in load_script("tools/hardware_table.py").records(), (
        "record a cpu run: python tools/run_series.py --profile cpu --record")


def test_a_section_is_replaced_and_the_rest_kept(tmp_path):
    document = tmp_path / "doc.md"
    document.write_text("intro\n<!-- a:start -->\nold\n<!-- a:end -->\n<!-- b:start -->\nkeep\n<!-- b:end -->\n")
    assert sections.write_section(document, "a", "new\ntable") and not sections.write_section(document, "a", "new\ntable")
    text = document.read_text()
    assert sections.section(text, "a") == "new\ntable" and sections.section(text, "b") == "keep"
    assert text.startswith("intro\n")
    with pytest.raises(ValueError, match="markers <!-- c:start --> and <!-- c:end --> are missing"):
        sections.write_section(document, "c", "x")
