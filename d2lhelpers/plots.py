"""Figures readable on a slide (every notebook sets matplotlib's font size to FONT), tables with thousands (01, 03-05, 07)."""

import math
from collections.abc import Sequence
from numbers import Integral, Real

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython import get_ipython
from IPython.display import Markdown, display
from matplotlib.ticker import FuncFormatter

FONT = 11  # pt, the smallest text of every figure: at 100 dpi, 15 px, readable in a notebook and on a slide


def with_thousands(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` with whole numbers written 46,764,746 and missing values left blank."""

    def readable(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, Real):
            return value
        if isinstance(value, float) and math.isnan(value):
            return ""
        return f"{int(value):,}" if isinstance(value, Integral) or float(value).is_integer() else value

    return table.map(readable)


def show_images(images: torch.Tensor, titles: Sequence[str], ncols: int = 8, scale: float = 1.5, *,
                suptitle: str) -> plt.Figure:
    """A grid of grayscale images (N, H, W) or (N, 1, H, W), each with its title, under `suptitle`."""
    images = images.detach().float().cpu()
    images = images[:, 0] if images.dim() == 4 else images
    nrows = -(-len(images) // ncols)
    title_lines = max((t.count("\n") + 1 for t in titles), default=0)
    height = nrows * (scale + 0.25 * title_lines) + 0.4  # room for the titles, in inches
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, height), squeeze=False, layout="tight")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray")
            ax.set_title(titles[i], fontsize=FONT)
    fig.suptitle(suptitle)
    return fig


def plot_history(epochs: Sequence[dict[str, float]], title: str = "Training AlexNet") -> plt.Figure:
    """Train loss, train accuracy and test accuracy against the epoch."""
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="tight")
    x = [e["epoch"] for e in epochs]
    ax.plot(x, [e["train_loss"] for e in epochs], "o-", label="train loss")
    ax.plot(x, [e["train_acc"] for e in epochs], "s--", label="train accuracy")
    ax.plot(x, [e["test_acc"] for e in epochs], "^-", label="test accuracy")
    ax.set(xlabel="epoch", ylabel="loss / accuracy", title=title)
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


class LivePlot:
    """Redraws the training curves in place after every epoch (in Jupyter; silent elsewhere)."""

    def __init__(self, title: str = "Training AlexNet"):
        self.title, self.handle = title, None

    def __call__(self, history) -> None:
        if get_ipython() is None:
            return
        fig = plot_history(history.epochs, self.title)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)

    def close(self) -> None:
        """Replace the live figure by a one-line note, so that a saved notebook shows the curves once."""
        if self.handle is not None:
            self.handle.update(Markdown("(training finished: the curves are drawn below)"))


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """matrix[i, j] = how many examples of class i were predicted as class j."""
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {tuple(labels.shape)} and predictions {tuple(predicted.shape)} differ in shape")
    flat = labels.long().cpu() * num_classes + predicted.long().cpu()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def most_confused(matrix: torch.Tensor, class_names: Sequence[str], k: int = 5) -> list[tuple[str, str, int]]:
    """The k largest off-diagonal counts, as (true class, predicted class, count)."""
    counts, flat = matrix.clone().fill_diagonal_(-1).flatten().topk(k)
    n = len(class_names)
    return [(class_names[i // n], class_names[i % n], int(c)) for c, i in zip(counts.tolist(), flat.tolist())]


def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str], title: str = "Confusion matrix") -> plt.Figure:
    """Counts of (true class, predicted class), with the counts written in the cells."""
    fig, ax = plt.subplots(figsize=(7.5, 5.4), layout="tight")  # at most 560 px high: a slide shows it at full size
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
    return fig


def plot_accuracy_vs_time(rows: Sequence[dict], published: dict[str, float] | None = None,
                          title: str = "Test accuracy against time") -> plt.Figure:
    """Each pipeline ("name", "total_s", "accuracy") as a point, time on a log scale; published figures dashed."""
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="tight")
    for row in rows:
        ax.scatter(row["total_s"], row["accuracy"], s=60, zorder=3)
        ax.annotate(row["name"], (row["total_s"], row["accuracy"]), xytext=(6, 4), textcoords="offset points", fontsize=FONT)
    for label, value in (published or {}).items():
        ax.axhline(value, color="gray", linestyle="--", linewidth=0.8)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                    textcoords="offset points", fontsize=FONT, color="dimgray")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
    ax.set(xlabel="time: features + training + prediction (seconds, log scale)", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_runs(runs: Sequence[dict], title: str) -> plt.Figure:
    """Training loss and test accuracy against the epoch, one line per run ("variant", "history")."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4), layout="tight")
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
    return fig


def plot_train_and_test(summaries: Sequence[dict], title: str) -> plt.Figure:
    """Train (dashed, dropout on) and test accuracy per epoch, mean ± std over the seeds of each summary."""
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="tight")
    for i, summary in enumerate(summaries):
        for key, style, what in (("train_acc", "--", "train"), ("test_acc", "-", "test")):
            curves = np.array([[e[key] for e in run["history"].epochs] for run in summary["runs"]])
            x = np.arange(1, curves.shape[1] + 1)
            mean, std = curves.mean(axis=0), curves.std(axis=0, ddof=1) if len(curves) > 1 else 0 * curves[0]
            ax.plot(x, mean, style, color=f"C{i}", label=f"{summary['variant']}: {what}")
            ax.fill_between(x, mean - std, mean + std, color=f"C{i}", alpha=0.15)
    ax.set(xlabel="epoch", ylabel="accuracy (mean over seeds)", title=title, ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def plot_gradient_norms(norms: pd.DataFrame, title: str) -> plt.Figure:
    """Mean |gradient| per layer (rows) for several set-ups (columns), on a log scale."""
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="tight")
    for column in norms.columns:
        ax.plot(norms.index, norms[column], "o-", label=column)
    ax.set(yscale="log", xlabel="layer (input → output)", ylabel="mean |gradient| of the weights (log scale)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
