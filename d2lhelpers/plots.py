"""Figures readable when projected: image grids, training curves, a confusion matrix, accuracy against time.

Introduced in notebooks 04 (image grids) and 05 (training curves, confusion matrix), with notebook 01's
accuracy against time and notebook 07's runs and gradients. Notebook 03's convolution figures are `drawings.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import FuncFormatter

FONT = 11  # pt, the smallest text of every figure: at 100 dpi, 15 px, readable in a notebook and on a slide


def readable(draw: Callable[..., plt.Figure]) -> Callable[..., plt.Figure]:
    """Make `draw`'s figure with FONT as matplotlib's default size (labels, ticks, legends, titles)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs) -> plt.Figure:
        with plt.rc_context({"font.size": FONT}):
            return draw(*args, **kwargs)

    return wrapper


@readable
def show_images(
    images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 8, scale: float = 1.5,
    suptitle: str | None = None,
) -> plt.Figure:
    """A grid of grayscale images (N, H, W) or (N, 1, H, W), each with its title."""
    images = images.detach().float().cpu()
    if images.dim() == 4:
        images = images[:, 0]
    nrows = -(-len(images) // ncols)
    title_lines = max((t.count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    height = nrows * (scale + 0.25 * title_lines) + (0.4 if suptitle else 0.0)  # room for titles, in inches
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray")
            if titles is not None:
                ax.set_title(titles[i], fontsize=FONT)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


@readable
def plot_history(epochs: Sequence[dict[str, float]], title: str = "Training AlexNet", ax: plt.Axes | None = None) -> plt.Figure:
    """Train loss, train accuracy and test accuracy against the epoch."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    fig = ax.figure
    x = [e["epoch"] for e in epochs]
    ax.plot(x, [e["train_loss"] for e in epochs], "o-", label="train loss")
    ax.plot(x, [e["train_acc"] for e in epochs], "s--", label="train accuracy")
    ax.plot(x, [e["test_acc"] for e in epochs], "^-", label="test accuracy")
    ax.set(xlabel="epoch", ylabel="loss / accuracy", title=title)
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


class LivePlot:
    """Redraws the training curves in place after every epoch (in Jupyter; silent elsewhere)."""

    def __init__(self, title: str = "Training AlexNet"):
        self.title = title
        self.handle = None

    def __call__(self, history) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        fig = plot_history(history.epochs, self.title)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)

    def close(self, note: str = "(training finished: the curves are drawn below)") -> None:
        """Replace the live figure by a one-line note, so that a saved notebook shows the curves once."""
        if self.handle is not None:
            from IPython.display import Markdown

            self.handle.update(Markdown(note))


@readable
def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str], title: str = "Confusion matrix") -> plt.Figure:
    """Counts of (true class, predicted class), with the counts written in the cells."""
    fig, ax = plt.subplots(figsize=(7.5, 5.4))  # at most 560 px high: a slide shows it at full size
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    high = matrix.max().item() / 2
    for i in ticks:
        for j in ticks:
            count = int(matrix[i, j])
            ax.text(j, i, count, ha="center", va="center", fontsize=FONT, color="white" if count > high else "black")
    fig.tight_layout()
    return fig


@readable
def plot_accuracy_vs_time(
    rows: Sequence[dict], published: dict[str, float] | None = None,
    title: str = "Test accuracy against time",
) -> plt.Figure:
    """Each pipeline as a point (total seconds, log scale; accuracy); published figures as dashed lines.

    Introduced in notebook 01. `rows` need "name", "total_s" and "accuracy".
    """
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for row in rows:
        ax.scatter(row["total_s"], row["accuracy"], s=60, zorder=3)
        ax.annotate(row["name"], (row["total_s"], row["accuracy"]), xytext=(6, 4), textcoords="offset points", fontsize=FONT)
    for label, value in (published or {}).items():
        ax.axhline(value, color="gray", linestyle="--", linewidth=0.8)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                    textcoords="offset points", fontsize=FONT, color="dimgray")
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
    ax.set(xlabel="time: features + training + prediction (seconds, log scale)", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


@readable
def plot_runs(runs: Sequence[dict], title: str) -> plt.Figure:
    """Training loss and test accuracy against the epoch, one line per variant (notebook 07).

    `runs` are the dicts of `d2lhelpers.ablations.train_variant`: "variant" and "history".
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        epochs = run["history"].epochs
        x = [e["epoch"] for e in epochs]
        loss_ax.plot(x, [e["train_loss"] for e in epochs], "o-", label=run["variant"])
        acc_ax.plot(x, [e["test_acc"] for e in epochs], "o-", label=run["variant"])
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="Training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


@readable
def plot_train_and_test(summaries: Sequence[dict], title: str) -> plt.Figure:
    """Training accuracy (dashed, dropout on) and test accuracy (solid) per epoch, mean over seeds (notebook 07).

    `summaries` are the dicts of `d2lhelpers.ablations.train_seeds`; the band is ± one std over the seeds.
    """
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, summary in enumerate(summaries):
        colour = f"C{i}"
        for key, style, what in (("train_acc", "--", "train"), ("test_acc", "-", "test")):
            curves = np.array([[e[key] for e in run["history"].epochs] for run in summary["runs"]])
            x = np.arange(1, curves.shape[1] + 1)
            mean, std = curves.mean(axis=0), curves.std(axis=0, ddof=1) if len(curves) > 1 else 0 * curves[0]
            ax.plot(x, mean, style, color=colour, label=f"{summary['variant']}: {what}")
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.15)
    ax.set(xlabel="epoch", ylabel="accuracy (mean over seeds)", title=title, ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


@readable
def plot_gradient_norms(norms: pd.DataFrame, title: str) -> plt.Figure:
    """Mean |gradient| per layer (rows) for several set-ups (columns), on a log scale (notebook 07)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for column in norms.columns:
        ax.plot(norms.index, norms[column], "o-", label=column)
    ax.set(yscale="log", xlabel="layer (input → output)", ylabel="mean |gradient| of the weights (log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig
