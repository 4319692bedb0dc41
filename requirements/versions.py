"""The book's d2l version and the floors the code needs, read by ./course and course.py before anything is installed;
test_packaging.py checks that the repository agrees."""

from __future__ import annotations

import re

D2L_VERSION = "1.0.3"  # installed with --no-deps: its own pins (numpy 1.23.5, ...) do not install on Python 3.11+
PYTHON_MIN = (3, 11)  # tomllib in the tests; the oldest version the lock was tested with
TORCH_MIN = "2.5"  # torch.OutOfMemoryError, torch.amp.GradScaler("cuda"), fused Adam/SGD on the CPU
TORCHVISION_MIN = "0.20"  # the torchvision released with torch 2.5


def version_tuple(version: str) -> tuple[int, ...]:
    """'2.14.1+cu128' -> (2, 14, 1): the leading numeric part of a version string."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    if match is None:
        raise ValueError(f"not a version number: {version!r}")
    return tuple(int(part) for part in match.group().split("."))
