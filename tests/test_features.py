"""Hand-crafted features (Sobel and Gabor responses, HOG against scikit-image), the timed classical pipeline end to
end on a tiny data set; the benchmark's small CNN run; clear errors."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skimage.feature import hog
from sklearn.svm import SVC

from d2lhelpers.features import (SMALL_CNN, PipelineResult, as_image_batch, cell_histograms, filter_responses,
                                 gabor_bank, hog_features, linear_classifier,
                                 result_from_record, run_pipeline, sobel_kernels)


def vertical_edge(size: int = 12) -> torch.Tensor:
    image = torch.zeros(1, size, size)
    image[:, :, size // 2 :] = 1.0
    return image


def test_sobel_dx_fires_on_a_vertical_edge_and_dy_does_not():
    responses = filter_responses(vertical_edge(), sobel_kernels())[0]
    inner = (slice(2, -2), slice(2, -2))  # away from the zero-padded border
    d_dx, d_dy = responses[0][inner], responses[1][inner]
    assert d_dy.abs().max() == 0
    # the edge lies between columns 5 and 6: the two columns beside it respond with 1 + 2 + 1 = 4
    assert d_dx[:, 3].eq(4).all() and d_dx[:, 4].eq(4).all()
    assert d_dx[:, :3].abs().max() == 0 and d_dx[:, 5:].abs().max() == 0


def test_sobel_on_a_horizontal_edge_is_the_transpose():
    image = vertical_edge().transpose(1, 2)
    responses = filter_responses(image, sobel_kernels())[0]
    transposed = filter_responses(vertical_edge(), sobel_kernels())[0]
    assert torch.equal(responses[1], transposed[0].T)
    assert responses[0][2:-2, 2:-2].abs().max() == 0


def test_filter_responses_is_a_cross_correlation_like_conv2d():
    kernel = torch.arange(9.0).reshape(1, 3, 3)
    impulse = torch.zeros(1, 5, 5)
    impulse[0, 2, 2] = 1.0
    # a cross-correlation of an impulse gives the kernel flipped in both directions
    assert torch.equal(filter_responses(impulse, kernel)[0, 0, 1:4, 1:4], kernel[0].flip(0, 1))
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    conv.weight.data = kernel[None]
    image = torch.rand(1, 6, 6)
    assert torch.allclose(filter_responses(image, kernel), conv(image[None]).detach())


@pytest.mark.parametrize("angle", [0, 45, 90, 135])
def test_each_gabor_prefers_stripes_of_its_own_orientation(angle):
    theta = np.radians(angle)
    y, x = torch.meshgrid(torch.arange(40.0), torch.arange(40.0), indexing="ij")
    stripes = torch.cos(2 * torch.pi * (x * np.cos(theta) + y * np.sin(theta)) / 6.0)[None]
    bank = gabor_bank(size=11, orientations=4, wavelength=6.0)
    strength = filter_responses(stripes, bank)[0, :, 8:-8, 8:-8].abs().mean(dim=(1, 2))
    assert strength.argmax().item() == angle // 45


def test_gabors_have_zero_mean_and_unit_l1_norm():
    bank = gabor_bank(11, 6, wavelength=5)
    assert bank.shape == (6, 1, 11, 11)
    assert bank.sum(dim=(1, 2, 3)).abs().max() < 1e-6 and (bank.abs().sum(dim=(1, 2, 3)) - 1).abs().max() < 1e-6
    with pytest.raises(ValueError, match="odd"):
        gabor_bank(10)


@pytest.mark.parametrize("cell_size, orientations, size", [(4, 9, 28), (7, 9, 28), (4, 6, 30), (5, 8, 23)])
def test_hog_matches_scikit_image(cell_size, orientations, size):
    rng = np.random.default_rng(cell_size + orientations)
    images = rng.integers(0, 256, size=(6, size, size), dtype=np.uint8)
    images[0] = 0  # a blank image: every gradient is zero
    images[1, :, : size // 2] = 255  # one strong edge
    ours = hog_features(images, orientations=orientations, cell_size=cell_size).numpy()
    for image, vector in zip(images, ours):
        expected = hog(image, orientations=orientations, pixels_per_cell=(cell_size, cell_size),
                       cells_per_block=(2, 2), block_norm="L2-Hys")
        np.testing.assert_allclose(vector, expected, atol=1e-5)


def test_hog_invariants():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8))
    features = hog_features(images)
    assert features.shape == (5, 6 * 6 * 4 * 9)  # 6x6 overlapping blocks of 2x2 cells of 4x4 pixels, 9 bins a cell
    # each block is unit-normalised, then clipped at 0.2 and normalised again
    blocks = features.reshape(5, 36, 36)
    assert torch.allclose(blocks.norm(dim=-1), torch.ones(5, 36), atol=1e-4)
    assert features.min() >= 0 and features.max() <= 1
    # brightness scaling leaves HOG unchanged (up to the tiny epsilon), and so does the batch size
    assert torch.allclose(hog_features(images.float() * 0.5), features, atol=1e-4)
    assert torch.allclose(hog_features(images, chunk_size=2), features)
    # a blank image has no gradients
    assert hog_features(torch.zeros(1, 28, 28)).abs().max() == 0


def test_cell_histograms_put_a_vertical_edge_in_the_horizontal_bin():
    histograms = cell_histograms(vertical_edge(12) * 255, orientations=9, cell_size=4)
    assert histograms.shape == (1, 3, 3, 9)
    # a vertical edge has a horizontal gradient: orientation 0°, the first bin; nothing elsewhere
    assert histograms[..., 0].sum() > 0 and histograms[..., 1:].sum() == 0


@pytest.mark.parametrize(
    "images, error, message",
    [
        (torch.zeros(28, 28), ValueError, r"\(N, H, W\).*single image"),
        (torch.zeros(2, 3, 28, 28), ValueError, r"grayscale.*got shape \(2, 3, 28, 28\)"),
        (torch.zeros(2, 28, 28, dtype=torch.int64), TypeError, "uint8.*floating-point.*int64"),
        ([[0, 1]], TypeError, "torch.Tensor or numpy array"),
        (torch.zeros(2, 6, 6), ValueError, r"6x6 are too small.*at least 8x8"),
    ],
)
def test_bad_input_gets_a_clear_error(images, error, message):
    with pytest.raises(error, match=message):
        hog_features(images)


def test_channel_axis_of_one_is_accepted():
    images = torch.rand(3, 1, 28, 28)
    assert torch.equal(as_image_batch(images), images[:, 0])
    assert torch.equal(hog_features(images), hog_features(images[:, 0]))



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


def test_the_benchmarks_small_cnn_follows_the_recipe_and_keeps_the_other_entries(load_script, tmp_path, monkeypatch):
    benchmark = load_script("benchmarks/handcrafted.py")
    images, labels = (torch.from_numpy(a) for a in tiny_data(300, seed=0))  # 16x16: the recipe resizes them to 28x28
    data = SimpleNamespace(train_images=images, train_labels=labels, test_images=images[:50], test_labels=labels[:50])
    monkeypatch.setattr(benchmark, "load_fashion_mnist", lambda: data)
    monkeypatch.setattr(benchmark, "best_device", lambda: torch.device("cpu"))
    monkeypatch.setattr(benchmark, "RESULTS", tmp_path / "handcrafted.json")
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    (tmp_path / "handcrafted.json").write_text(json.dumps({"svm": {"C": 10.0}}))
    monkeypatch.setattr("sys.argv", ["handcrafted.py", "--cnn-only", "--cnn-budget-s", "2"])
    benchmark.main()
    recorded = json.loads((tmp_path / "handcrafted.json").read_text())
    entry = recorded["small_cnn"]
    assert recorded["svm"] == {"C": 10.0}, "the SVM's entry is kept"
    assert (entry["train_examples"], entry["test_examples"], entry["time_budget_s"]) == (300, 50, 2.0)
    assert entry["augment"] is SMALL_CNN.augment is False
    assert entry["steps"] >= 1 and entry["epochs"] == pytest.approx(entry["steps"] / 3)  # 3 batches of 128 an epoch
    assert result_from_record(entry).fit_s == entry["fit_s"] > 0


def test_the_benchmark_asks_for_the_c_notebook_01_chose(load_script, monkeypatch, capsys):
    benchmark = load_script("benchmarks/handcrafted.py")
    monkeypatch.setattr(benchmark, "load_fashion_mnist", lambda: pytest.fail("no data is loaded without a C"))
    monkeypatch.setattr("sys.argv", ["handcrafted.py", "--with-pixels"])
    with pytest.raises(SystemExit):
        benchmark.main()
    assert "--svm-c is required" in capsys.readouterr().err


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
    recorded = json.loads((Path(__file__).parent.parent / "benchmarks" / "handcrafted.json").read_text())
    for key in ("svm", "svm_hog_pixels", "small_cnn"):
        result = result_from_record(recorded[key])
        assert result.train_examples == 60_000 and 0.85 < result.accuracy < 0.95
        assert (recorded[key]["time_budget_s"] if key == "small_cnn" else recorded[key]["C"]) > 0
