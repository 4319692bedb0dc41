"""Tables for display: numbers with thousands separators, and the README's generated sections.

Introduced in notebook 03 (AlexNet layer by layer). The README's tables (series map, benchmark,
hardware) live between `<!-- name:start -->` and `<!-- name:end -->` markers and are written by the tools.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from pathlib import Path

import pandas as pd


def _readable(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, Real):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, Integral) or float(value).is_integer():
        return f"{int(value):,}"
    return value


def with_thousands(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` with whole numbers written 46,764,746 and missing values left blank."""
    return table.map(_readable)


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
