"""Reading a classifier's mistakes: confusion matrix and the most-confused pairs.

Introduced in notebook 05 (training AlexNet).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """matrix[i, j] = how many examples of class i were predicted as class j."""
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {tuple(labels.shape)} and predictions {tuple(predicted.shape)} differ in shape")
    flat = labels.long().cpu() * num_classes + predicted.long().cpu()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def most_confused(matrix: torch.Tensor, class_names: Sequence[str], k: int = 5) -> list[tuple[str, str, int]]:
    """The k largest off-diagonal counts, as (true class, predicted class, count)."""
    off_diagonal = matrix.clone()
    off_diagonal.fill_diagonal_(-1)
    counts, flat = off_diagonal.flatten().topk(k)
    n = len(class_names)
    return [(class_names[i // n], class_names[i % n], int(c)) for c, i in zip(counts.tolist(), flat.tolist())]
