"""The versions the series depends on, in one place: the book's d2l package and the floors the code needs.

Introduced in notebook 00 (start here). `pyproject.toml`, `environment.yml`, the README, `./course` and
the Colab set-up cell repeat these facts; `tests/test_packaging.py` checks that they agree.
"""

from __future__ import annotations

import re

# The English book's package (zh-v2 was written against 0.17.6; §7.1's code runs unchanged on 1.0.3).
# Installed with --no-deps: its own pins (numpy 1.23.5, ...) do not install on Python 3.11+.
D2L_VERSION = "1.0.3"

# Python 3.11: tomllib in the tests, and the oldest version the lock was tested with.
PYTHON_MIN = (3, 11)

# torch 2.5: torch.OutOfMemoryError, torch.amp.GradScaler("cuda"), fused Adam/SGD on the CPU.
TORCH_MIN = "2.5"
TORCHVISION_MIN = "0.20"  # the torchvision released with torch 2.5


def version_tuple(version: str) -> tuple[int, ...]:
    """'2.14.1+cu128' -> (2, 14, 1): the leading numeric part of a version string."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if match is None:
        raise ValueError(f"not a version number: {version!r}")
    return tuple(int(part) for part in match.group().split("."))
