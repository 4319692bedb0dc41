"""The window drawings of notebook 03: their geometry against the formula and against PyTorch's layers."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from d2lhelpers.drawings import _LOST, _WINDOW, draw_conv_step, draw_window, draw_window_strips  # noqa: E402
from d2lhelpers.shapes import (  # noqa: E402
    conv_output_size, conv_step_terms, output_size_text, uncovered_input_cells, window_positions,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@st.composite
def geometries(draw, max_n: int = 40):
    """(n, k, s, p) where at least one window fits the padded input."""
    kernel = draw(st.integers(1, 9))
    stride = draw(st.integers(1, 5))
    padding = draw(st.integers(0, 4))
    n = draw(st.integers(max(1, kernel - 2 * padding), max_n))
    return n, kernel, stride, padding


def pytorch_coverage(n: int, k: int, s: int, p: int) -> list[bool]:
    """Input cells that influence some output of a 1-D convolution: where the gradient of the output reaches."""
    x = torch.zeros(1, 1, n, requires_grad=True)
    F.conv1d(x, torch.ones(1, 1, k), stride=s, padding=p).sum().backward()
    return (x.grad[0, 0] != 0).tolist()


@settings(max_examples=200, deadline=None)
@given(geometries())
def test_positions_match_the_formula_and_pytorch_layers(geometry):
    n, k, s, p = geometry
    starts = window_positions(n, k, s, p)
    with torch.no_grad():
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, n)).shape[-2:]
    assert len(starts) == conv_output_size(n, k, s, p) == conv[0] == conv[1]
    if p <= k // 2:  # PyTorch's pooling layers allow at most half the kernel as padding
        with torch.no_grad():
            assert nn.MaxPool2d(k, stride=s, padding=p)(torch.zeros(1, 1, n, n)).shape[-1] == len(starts)
    assert starts[0] == 0 and all(b - a == s for a, b in zip(starts, starts[1:]))
    assert starts[-1] + k <= n + 2 * p < starts[-1] + s + k  # the last window fits; one more step would not


@settings(max_examples=200, deadline=None)
@given(geometries())
def test_uncovered_cells_are_those_pytorch_never_reads(geometry):
    n, k, s, p = geometry
    reached = pytorch_coverage(n, k, s, p)
    assert [i for i in range(n) if not reached[i]] == uncovered_input_cells(n, k, s, p)


def test_alexnet_layers():
    assert uncovered_input_cells(224, 11, 4, 1) == [222, 223]  # the book's conv1: 54 windows
    assert uncovered_input_cells(227, 11, 4, 0) == []  # the paper's: 55 windows end on the last pixel
    assert len(window_positions(227, 11, 4, 0)) == 55 and len(window_positions(224, 11, 4, 1)) == 54
    assert [uncovered_input_cells(n, 3, 2) for n in (54, 26, 12)] == [[53], [25], [11]]  # every max-pooling layer
    assert uncovered_input_cells(26, 5, 1, 2) == uncovered_input_cells(12, 3, 1, 1) == []


def test_output_size_text_fills_in_the_numbers():
    text = output_size_text(224, 11, 4, 1)
    assert "⌊(224 − 11 + 2·1) / 4⌋ + 1 = ⌊215/4⌋ + 1 = 54" in text.splitlines()[0]
    assert "drops the last 3 padded cell(s)" in text and "never covered: 222–223" in text
    assert "multiple of 4" in output_size_text(227, 11, 4, 0) and "every input cell is covered" in output_size_text(227, 11, 4)
    assert "stride 4 is larger than the kernel 2" in output_size_text(7, 2, 4)
    assert "never covered: 2–3, 6 " in output_size_text(7, 2, 4)


@pytest.mark.parametrize(("args", "error"), [((3, 5, 1, 0), ValueError), ((4, 3, 0, 0), ValueError),
                                             ((4, 3, 1, -1), ValueError), ((4.0, 3, 1, 0), TypeError)])
def test_bad_geometry_says_what_is_wrong(args, error):
    with pytest.raises(error):
        window_positions(*args)
    with pytest.raises(error):
        draw_window(*args)


def drawn_cells(ax, colour) -> list[tuple[int, int]]:
    """(x, y) of the cell rectangles filled with `colour`."""
    rgba = matplotlib.colors.to_rgba(colour)
    return sorted((int(r.get_x()), int(r.get_y())) for r in ax.patches
                  if isinstance(r, Rectangle) and r.get_width() == 1 and r.get_facecolor() == rgba)


@settings(max_examples=25, deadline=None)
@given(geometries(max_n=16))
def test_grid_draws_the_formula(geometry):
    n, k, s, p = geometry
    out = conv_output_size(n, k, s, p)
    fig = draw_window(n, k, s, p)  # at most 16 + 2 * 4 padded cells: the grid
    ax, out_ax = fig.axes
    centres = ax.collections[0].get_offsets()
    assert len(centres) == out * out  # one dot per output pixel
    expected = sorted({start + k / 2 for start in window_positions(n, k, s, p)})
    assert sorted(set(centres[:, 0].tolist())) == sorted(set(centres[:, 1].tolist())) == expected
    lost = uncovered_input_cells(n, k, s, p)
    lost_2d = sorted((c + p, r + p) for r in range(n) for c in range(n) if r in lost or c in lost)
    assert drawn_cells(ax, _LOST) == lost_2d
    window = [r for r in ax.patches if r.get_width() == k and not r.get_fill() and r.get_linewidth() == 3]
    last = window_positions(n, k, s, p)[-1]
    assert len(window) == 1 and (window[0].get_x(), window[0].get_y()) == (last, last)  # the last position
    assert len([r for r in out_ax.patches if r.get_width() == 1]) == out * out
    assert f"output {out}×{out}" == out_ax.get_title()
    plt.close(fig)


@pytest.mark.parametrize(("n", "k", "s", "p"), [(224, 11, 4, 1), (227, 11, 4, 0), (54, 3, 2, 0), (26, 5, 1, 2), (9, 2, 3, 0)])
def test_strip_draws_every_visible_window_and_the_lost_cells(n, k, s, p):
    fig = draw_window_strips([("layer", n, k, s, p)], max_cells=48)
    ax = fig.axes[0]
    first = max(0, n + 2 * p - 48)
    bars = [r for r in ax.patches if r.get_height() == 0.45]
    starts = window_positions(n, k, s, p)
    assert len(bars) == sum(start + k > first for start in starts)
    numbers = sorted(int(t.get_text()) for t in ax.texts)
    assert numbers == [i + 1 for i, start in enumerate(starts) if start >= first]  # each whole bar is numbered
    assert drawn_cells(ax, _LOST) == sorted((c + p, 0) for c in uncovered_input_cells(n, k, s, p))
    assert f"→ {len(starts)} windows" in ax.get_title(loc="left")
    dark = [r for r in bars if r.get_alpha() == 0.9]
    assert len(dark) == 1 and dark[0].get_x() + dark[0].get_width() == pytest.approx(starts[-1] + k - 0.08)


def test_draw_window_picks_grid_or_strip():
    assert len(draw_window(8, 3, 2).axes) == 2  # input grid and output grid
    strips = draw_window(224, 11, 4, 1, label="conv1")
    assert len(strips.axes) == 1 and strips.axes[0].get_title(loc="left").startswith("conv1: n=224")
    many = draw_window_strips([("a", 224, 11, 4, 1), ("b", 12, 3, 2, 0)])
    assert [ax.get_title(loc="left").split(":")[0] for ax in many.axes] == ["a", "b"]
    assert _WINDOW == "tab:blue"


@settings(max_examples=50, deadline=None)
@given(st.integers(3, 9), st.integers(1, 3), st.integers(0, 10_000))
def test_conv_step_terms_sum_to_pytorch(size, k, seed):
    generator = torch.Generator().manual_seed(seed)
    image, kernel = torch.randn(size, size, generator=generator), torch.randn(k, k, generator=generator)
    expected = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    for row in range(size - k + 1):
        for col in range(size - k + 1):
            terms = conv_step_terms(image, kernel, row, col)
            assert [(i, j) for i, j, _, _ in terms] == [(row + a, col + b) for a in range(k) for b in range(k)]
            assert sum(x * w for _, _, x, w in terms) == pytest.approx(float(expected[row, col]), abs=1e-4)


def test_conv_step_drawing_shows_the_running_sum():
    image = torch.arange(49, dtype=torch.float32).reshape(7, 7) / 49
    kernel = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    value = float(F.conv2d(image[None, None], kernel[None, None])[0, 0, 2, 3])
    fig = draw_conv_step(image, kernel, 2, 3, 9)
    caption = fig.get_suptitle()
    assert caption.startswith("step 9 of 9") and caption.endswith(f"= {value:.2f} (done)".replace("-", "−"))
    in_ax, _, out_ax = fig.axes
    assert len([r for r in in_ax.patches if r.get_facecolor()[:3] == matplotlib.colors.to_rgb("gold")]) == 9
    shown = [t.get_text() for t in out_ax.texts]
    assert len(shown) == 2 * 5 + 3 + 1  # earlier outputs in reading order, and the current one
    first = draw_conv_step(image, kernel, 2, 3, 1).get_suptitle()
    assert re.fullmatch(r"step 1 of 9: 0\.00 \+ \(1\)·\(0\.35\) = 0\.35", first), first
    with pytest.raises(ValueError, match="between 0 and 9"):
        draw_conv_step(image, kernel, 2, 3, 10)
    with pytest.raises(ValueError, match="outside the 5x5 output"):
        conv_step_terms(image, kernel, 5, 0)
