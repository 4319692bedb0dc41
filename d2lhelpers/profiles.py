"""Run profiles (ci, cpu, gpu) and the choice of device.

Introduced in notebook 00 (start here). A profile changes settings only, never the code path:
the `gpu` profile runs the same code as `ci`, with the book's numbers.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import torch

PROFILE_ENV_VAR = "D2L_PROFILE"


@dataclass(frozen=True)
class Profile:
    """One run profile; the training notebooks (04-07) add their settings to it."""

    name: str
    purpose: str


PROFILES: dict[str, Profile] = {
    "ci": Profile("ci", "seconds: what CI runs; small data, checks that learning happens"),
    "cpu": Profile("cpu", "minutes on a laptop CPU: smaller images, all the data, real accuracy"),
    "gpu": Profile("gpu", "the book's configuration: 224x224 images, all 60,000, 10 epochs"),
}


def best_device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def choose_profile(name: str | None = None) -> Profile:
    """The profile named by `name`, else $D2L_PROFILE, else `gpu` on CUDA and `cpu` elsewhere."""
    name = name or os.environ.get(PROFILE_ENV_VAR) or ("gpu" if best_device().type == "cuda" else "cpu")
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from ${PROFILE_ENV_VAR} or the argument); choose one of {', '.join(PROFILES)}"
        )
    return PROFILES[key]


def profiles_table() -> list[dict[str, object]]:
    """The profiles as rows, for display."""
    return [asdict(profile) for profile in PROFILES.values()]
