"""Generated sections of the repository's markdown files: the text between `<!-- name:start -->` and
`<!-- name:end -->`, written by a tool and compared with the tool's output by a test.

Who writes which: README.md's series-map (tools/sync_navigation.py); CONTRIBUTING.md's benchmark
(benchmarks/pipeline.py), hardware (tools/hardware_table.py), gpu-check (tools/gpu_check.py), gpu-recipe
(benchmarks/gpu_recipe.py) and recipe (benchmarks/recipe.py).
"""

from __future__ import annotations

from pathlib import Path


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def section(text: str, name: str) -> str:
    """What lies between the `name` markers of `text`, stripped; ValueError when a marker is missing."""
    start, end = _markers(name)
    if start not in text or end not in text:
        raise ValueError(f"the markers {start} and {end} are missing")
    return text[text.index(start) + len(start) : text.index(end)].strip()


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with the part between the `name` markers replaced by `body`."""
    section(text, name)  # both markers present
    start, end = _markers(name)
    head, tail = text[: text.index(start) + len(start)], text[text.index(end) :]
    return f"{head}\n{body.strip()}\n{tail}"


def write_section(path: Path, name: str, body: str) -> bool:
    """Replace the `name` section of the file at `path` with `body`; True when the file changed."""
    text = Path(path).read_text(encoding="utf-8")
    new = replace_section(text, name, body)
    if new != text:
        Path(path).write_text(new, encoding="utf-8")
    return new != text
