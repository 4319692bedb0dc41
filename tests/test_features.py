"""Hand-crafted features: Sobel and Gabor responses, HOG against scikit-image, clear errors."""

import numpy as np
import pytest
import torch
from skimage.feature import hog

from d2lhelpers.features import (
    as_image_batch,
    cell_histograms,
    filter_responses,
    gabor_bank,
    gabor_kernel,
    handcrafted_filters,
    hog_feature_size,
    hog_features,
    sobel_kernels,
)


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


def test_gabor_kernel_has_zero_mean_and_unit_l1_norm():
    kernel = gabor_kernel(11, 30, wavelength=5)
    assert kernel.shape == (11, 11)
    assert abs(kernel.sum().item()) < 1e-6 and abs(kernel.abs().sum().item() - 1) < 1e-6
    with pytest.raises(ValueError, match="odd"):
        gabor_kernel(10, 0, wavelength=5)


def test_handcrafted_filters_are_named_and_sized_for_alexnet():
    filters = handcrafted_filters(11)
    assert list(filters)[:2] == ["Sobel d/dx", "Sobel d/dy"] and len(filters) == 6
    assert all(f.shape == (11, 11) for f in filters.values())
    assert torch.equal(filters["Sobel d/dx"][4:7, 4:7], sobel_kernels()[0, 0])


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
    assert features.shape == (5, hog_feature_size(28)) == (5, 1296)
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
