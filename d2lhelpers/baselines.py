"""The classical pipeline, timed: features in, a scikit-learn classifier, test accuracy out.

Introduced in notebook 01 (hand-crafted vs learned features).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from sklearn.linear_model import LogisticRegression


class Classifier(Protocol):
    def fit(self, x: np.ndarray, y: np.ndarray) -> object: ...
    def predict(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class PipelineResult:
    """What one pipeline reached, and where its time went (seconds)."""

    name: str
    train_examples: int
    test_examples: int
    accuracy: float
    extract_s: float
    fit_s: float
    predict_s: float

    @property
    def total_s(self) -> float:
        return self.extract_s + self.fit_s + self.predict_s

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "total_s": self.total_s}

    def __str__(self) -> str:
        return (f"{self.name}: accuracy {self.accuracy:.4f} on {self.test_examples:,} test images "
                f"({self.train_examples:,} for training); extract {self.extract_s:.1f} s, "
                f"fit {self.fit_s:.1f} s, predict {self.predict_s:.1f} s")


def linear_classifier(c: float = 1.0, max_iter: int = 1000) -> LogisticRegression:
    """Multinomial logistic regression (a linear model), for features already scaled to about [0, 1]."""
    return LogisticRegression(C=c, max_iter=max_iter, tol=1e-3)


def _as_features(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"{name} features must be a 2-D array (examples, features), got shape {x.shape}; "
                         "flatten images first, e.g. images.reshape(len(images), -1)")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{name}: expected one label per example ({len(x)}), got labels of shape {y.shape}")
    return x, y


def run_pipeline(name: str, classifier: Classifier, train_x: np.ndarray, train_y: np.ndarray,
                 test_x: np.ndarray, test_y: np.ndarray, extract_s: float = 0.0) -> PipelineResult:
    """Fit `classifier` on the training features, score it on the test features, and time both."""
    train_x, train_y = _as_features(train_x, train_y, "training")
    test_x, test_y = _as_features(test_x, test_y, "test")
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"training and test features differ in length: {train_x.shape[1]} vs {test_x.shape[1]}")
    start = time.perf_counter()
    classifier.fit(train_x, train_y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = classifier.predict(test_x)
    predict_s = time.perf_counter() - start
    accuracy = float((predicted == test_y).mean())
    return PipelineResult(name, len(train_x), len(test_x), accuracy, extract_s, fit_s, predict_s)


def result_from_record(record: Mapping[str, object]) -> PipelineResult:
    """A PipelineResult from one entry of a recorded benchmark (benchmarks/handcrafted.json), notebook 01."""
    fields = ("name", "train_examples", "test_examples", "accuracy", "extract_s", "fit_s", "predict_s")
    missing = [f for f in fields if f not in record]
    if missing:
        raise ValueError(f"the recorded result lacks {missing}; re-run the benchmark (python benchmarks/handcrafted.py)")
    return PipelineResult(str(record["name"]), int(record["train_examples"]), int(record["test_examples"]),
                          float(record["accuracy"]), float(record["extract_s"]), float(record["fit_s"]),
                          float(record["predict_s"]))
