"""Run profiles (ci, cpu, gpu) and the choice of device.

Introduced in notebook 00 (start here). A profile changes settings only, never the code path:
the `gpu` profile runs the same code as `ci`, with the book's numbers.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import torch

from d2lhelpers.training import TrainSettings

PROFILE_ENV_VAR = "D2L_PROFILE"


@dataclass(frozen=True)
class BaselineSettings:
    """How much data notebook 01's pipelines use; every profile scores on all 10,000 test images."""

    train_examples: int | None  # the linear models and the small CNN; None: all 60,000
    svm_train_examples: int  # the RBF SVM: its fit grows with the square of this, its prediction linearly
    cnn_epochs: int


@dataclass(frozen=True)
class Profile:
    """One run profile: what it is for, and the settings it implies (AlexNet's training, notebook 01's baselines)."""

    name: str
    purpose: str
    training: TrainSettings
    baselines: BaselineSettings
    ablation: TrainSettings  # each variant of notebook 07's experiments: few images, several epochs, to see overfitting


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        "ci", "seconds: what CI runs; small data, checks that learning happens",
        TrainSettings(image_size=65, epochs=3, batch_size=64, optimizer="adam", lr=1e-3, schedule="cosine",
                      train_examples=4_096, test_examples=1_000),
        BaselineSettings(train_examples=5_000, svm_train_examples=2_000, cnn_epochs=2),
        TrainSettings(image_size=65, epochs=2, batch_size=64, optimizer="adam", lr=1e-3, schedule="cosine",
                      train_examples=2_048, test_examples=1_000),
    ),
    "cpu": Profile(
        "cpu", "minutes on a laptop CPU: smaller images, all the data, real accuracy",
        TrainSettings(image_size=65, epochs=5, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine"),
        BaselineSettings(train_examples=None, svm_train_examples=10_000, cnn_epochs=3),
        TrainSettings(image_size=65, epochs=8, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                      train_examples=5_000, test_examples=None),
    ),
    "gpu": Profile(
        "gpu", "the book's configuration: 224x224 images, all 60,000, 10 epochs",
        TrainSettings(image_size=224, epochs=10, batch_size=128, optimizer="sgd", lr=0.01),
        BaselineSettings(train_examples=None, svm_train_examples=10_000, cnn_epochs=5),
        TrainSettings(image_size=224, epochs=5, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine"),
    ),
}  # fmt: skip


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
    """The profiles as rows, for display: purpose, then the training settings."""
    rows = []
    for profile in PROFILES.values():
        settings = asdict(profile.training)
        settings["train_examples"] = settings["train_examples"] or "all"
        settings["test_examples"] = settings["test_examples"] or "all"
        rows.append({"name": profile.name, "purpose": profile.purpose, **settings})
    return rows
