"""Tables for display in notebooks.

Introduced in notebook 03 (AlexNet layer by layer).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

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
