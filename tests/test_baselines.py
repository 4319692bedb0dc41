"""The timed classical pipeline, end to end on a tiny data set, and its errors."""

import numpy as np
import pytest
import torch
from sklearn.svm import SVC

from d2lhelpers.baselines import PipelineResult, linear_classifier, result_from_record, run_pipeline
from d2lhelpers.features import hog_features


def tiny_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes that HOG separates easily: vertical against horizontal bars, with noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(n, 16, 16)).astype(np.uint8)
    labels = rng.integers(0, 2, size=n)
    for image, label in zip(images, labels):
        position = rng.integers(3, 12)
        if label == 0:
            image[:, position : position + 2] = 255
        else:
            image[position : position + 2, :] = 255
    return images, labels


@pytest.mark.parametrize("classifier", [linear_classifier(), SVC(C=10)])
def test_hog_pipeline_end_to_end(classifier):
    train_images, train_labels = tiny_data(120, seed=0)
    test_images, test_labels = tiny_data(60, seed=1)
    result = run_pipeline("HOG", classifier, hog_features(train_images).numpy(), train_labels,
                          hog_features(test_images).numpy(), test_labels, extract_s=0.5)
    assert result.accuracy >= 0.95
    assert (result.train_examples, result.test_examples) == (120, 60)
    assert result.total_s == pytest.approx(0.5 + result.fit_s + result.predict_s)
    assert result.as_dict()["total_s"] == result.total_s


def test_a_classifier_that_guesses_scores_at_chance():
    class Constant:
        def fit(self, x, y):
            return self

        def predict(self, x):
            return np.zeros(len(x), dtype=int)

    labels = np.array([0, 1] * 50)
    result = run_pipeline("constant", Constant(), np.zeros((100, 3)), labels, np.zeros((100, 3)), labels)
    assert result.accuracy == 0.5


def test_images_instead_of_feature_vectors_are_refused():
    images, labels = tiny_data(10, seed=0)
    with pytest.raises(ValueError, match=r"2-D array.*flatten"):
        run_pipeline("pixels", linear_classifier(), images, labels, images, labels)


def test_mismatched_labels_and_features_are_refused():
    x = torch.zeros(10, 4).numpy()
    with pytest.raises(ValueError, match="one label per example"):
        run_pipeline("x", linear_classifier(), x, np.zeros(9), x, np.zeros(10))
    with pytest.raises(ValueError, match="differ in length: 4 vs 5"):
        run_pipeline("x", linear_classifier(), x, np.zeros(10), np.zeros((10, 5)), np.zeros(10))


def test_recorded_benchmark_entries_become_results():
    record = {"name": "HOG + RBF SVM (C=10)", "train_examples": 60000, "test_examples": 10000, "accuracy": 0.9135,
              "extract_s": 3.0, "fit_s": 400.0, "predict_s": 170.0, "C": 10.0}
    result = result_from_record(record)
    assert result == PipelineResult("HOG + RBF SVM (C=10)", 60_000, 10_000, 0.9135, 3.0, 400.0, 170.0)
    assert result.total_s == pytest.approx(573.0)
    with pytest.raises(ValueError, match=r"lacks \['accuracy'\].*benchmarks/handcrafted.py"):
        result_from_record({k: v for k, v in record.items() if k != "accuracy"})


def test_the_committed_benchmark_file_reads():
    import json
    from pathlib import Path

    recorded = json.loads((Path(__file__).parent.parent / "benchmarks" / "handcrafted.json").read_text())
    for key in ("svm", "svm_hog_pixels"):
        result = result_from_record(recorded[key])
        assert result.train_examples == 60_000 and 0.85 < result.accuracy < 0.95
