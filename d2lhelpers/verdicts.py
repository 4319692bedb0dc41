"""The one verdict rule: Welch's 95% interval over seeds (07); for notebook 01's single runs, the test set's noise."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from scipy import stats


def failure(summary: dict[str, object]) -> str | None:
    """Why a seeded variant did not learn (a non-finite loss, or one class predicted), or None when every seed did."""
    for run in summary["runs"]:
        losses = [epoch["train_loss"] for epoch in run["history"].epochs] if "history" in run else []
        if not all(math.isfinite(loss) for loss in losses):
            return f"its training loss became non-finite on seed {run['seed']}: it diverged"
        share = run.get("top_class_share")
        if share is not None and share >= 0.9:  # one class for 90% of the images: a constant, not ten classes learned
            loss = f" (training loss {losses[-1]:.2f}; ln 10 = 2.30 is a uniform guess)" if losses else ""
            return f"on seed {run['seed']} it predicts one class for {share:.0%} of the test images{loss}: it did not learn"
    return None


def paired_values(changed: dict[str, object], reference: dict[str, object], key: str) -> tuple[list[float], list[float]]:
    """The per-seed values of `key` of two seeded summaries, on the seeds both have, in `changed`'s order."""
    by_seed = [{run["seed"]: float(run[key]) for run in summary["runs"]} for summary in (changed, reference)]
    seeds = [seed for seed in by_seed[0] if seed in by_seed[1]]
    return [by_seed[0][s] for s in seeds], [by_seed[1][s] for s in seeds]


@dataclass(frozen=True)
class Verdict:
    """One comparison, `changed` minus `reference`, of `key` over the seeds."""
    changed: str
    reference: str
    key: str
    difference: float
    low: float  # the 95% interval of the difference of the means
    high: float
    seeds: int  # the seeds both variants have, on which the comparison is made
    failed: str | None = None  # why no comparison was made
    sample: str | None = None  # what the interval is over, when not seeds: "1,000 and 9,000 images"

    @property
    def real(self) -> bool:
        """True when both variants learned and the interval excludes 0."""
        return self.failed is None and (self.low > 0 or self.high < 0)

    @property
    def bound(self) -> float:
        """The largest effect the interval leaves possible, either way."""
        return max(abs(self.low), abs(self.high))

    def __str__(self) -> str:
        if self.failed is not None:
            return f"{self.changed} against {self.reference}: not compared, {self.failed}"
        what = {"test_acc": "test accuracy", "train_acc": "train accuracy", "test_loss": "test loss"}.get(self.key, self.key)
        digits = 0 if self.key.startswith("steps") else 3  # step counts are whole numbers
        head = (f"{self.changed} minus {self.reference}, {what}: {self.difference:+.{digits}f} "
                f"(95% interval {self.low:+.{digits}f} to {self.high:+.{digits}f}, {self.sample or f'{self.seeds} seeds each'})")
        if self.real:
            return f"{head}: a real difference at this budget"
        return f"{head}: a null result, any effect at this budget is at most {self.bound:.{digits}f}"


def verdict(changed: dict[str, object], reference: dict[str, object], key: str = "test_acc") -> Verdict:
    """The verdict on `key` of two seeded variants (train_seeds' summaries): Welch's 95% interval, or why not compared."""
    names = str(changed["variant"]), str(reference["variant"])
    problems = [f"{name}: {why}" for name, summary in zip(names, (changed, reference)) if (why := failure(summary))]
    a, b = paired_values(changed, reference, key)
    if len(a) < 2:
        raise ValueError(f"a verdict needs at least two seeds that both variants have, got {len(a)}")
    return Verdict(*names, key, statistics.mean(a) - statistics.mean(b), *welch_interval(a, b), len(a),
                   "; ".join(problems) or None)


def samples_verdict(changed: str, reference: str, key: str, a: list[float], b: list[float], unit: str) -> Verdict:
    """The one rule on two samples of single measurements (images, timing rounds) instead of seeded runs."""
    sample = f"{len(a):,} and {len(b):,} {unit}"
    return Verdict(changed, reference, key, statistics.mean(a) - statistics.mean(b), *welch_interval(a, b), 0, sample=sample)


def welch_interval(a: list[float], b: list[float]) -> tuple[float, float]:
    """The 95% interval of mean(a) - mean(b) by Welch's t (unequal variances, Welch-Satterthwaite df)."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    difference = statistics.mean(a) - statistics.mean(b)
    se = math.sqrt(va + vb)
    if se == 0:  # every seed gave the same value in both variants
        return difference, difference
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.975, df) * se  # two-sided: 2.5% in each tail
    return difference - half, difference + half


def accuracy_standard_error(accuracy: float, test_examples: int) -> float:
    """Standard error of a test accuracy from `test_examples` images (binomial): how much the test set alone moves it."""
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy}")
    if test_examples < 1:
        raise ValueError(f"need at least one test example, got {test_examples}")
    return math.sqrt(accuracy * (1.0 - accuracy) / test_examples)


def accuracy_gap(a: Any, b: Any) -> tuple[float, float]:
    """a's accuracy minus b's (PipelineResults, measured once), and the standard error of that difference."""
    spread = math.hypot(accuracy_standard_error(a.accuracy, a.test_examples),
                        accuracy_standard_error(b.accuracy, b.test_examples))
    return a.accuracy - b.accuracy, spread


def compare_accuracies(a: Any, b: Any) -> str:
    """'above', 'below' or 'level with': a's accuracy against b's, level when within 2 standard errors (notebook 01)."""
    gap, spread = accuracy_gap(a, b)
    return "level with" if abs(gap) <= 2 * spread else "above" if gap > 0 else "below"
