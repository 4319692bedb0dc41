"""The series' one verdict rule (d2lhelpers.verdicts), checked against scipy's Welch test."""

import math

import numpy as np
import pytest
from scipy import stats

from d2lhelpers.profiles import PROFILES
from d2lhelpers.training import History
from d2lhelpers.features import PipelineResult
from d2lhelpers.verdicts import (accuracy_gap, accuracy_standard_error, compare_accuracies, failure, paired_values,
                                 samples_verdict, verdict, welch_interval)


def seeded(name: str, values: list[float], loss: float = 0.5, share: float | None = 0.12) -> dict:
    """A train_seeds-like summary whose seeds gave `values` of test accuracy."""
    runs = [{"seed": s, "test_acc": v, "top_class_share": share,
             "history": History(epochs=[{"epoch": 1, "train_loss": loss, "test_acc": v}])} for s, v in enumerate(values)]
    return {"variant": name, "runs": runs}


@pytest.mark.parametrize("a, b", [([0.80, 0.81, 0.79], [0.75, 0.76, 0.74]), ([0.80, 0.84, 0.76], [0.79, 0.80, 0.78]),
                                  ([0.5, 0.6, 0.7, 0.9, 0.2], [0.55, 0.56])])
def test_the_interval_excludes_zero_exactly_when_welchs_p_is_below_five_percent(a, b):
    low, high = welch_interval(a, b)
    t, p = stats.ttest_ind(a, b, equal_var=False)
    assert (low > 0 or high < 0) == (p < 0.05)
    middle = (low + high) / 2
    assert middle == pytest.approx(sum(a) / len(a) - sum(b) / len(b))
    v, n = verdict(seeded("a", a), seeded("b", b)), min(len(a), len(b))  # the verdict takes the seeds both have
    shared_p = stats.ttest_ind(a[:n], b[:n], equal_var=False).pvalue
    assert v.real == (shared_p < 0.05) and (v.low, v.high) == welch_interval(a[:n], b[:n]) and v.seeds == n


def test_bad_accuracies_and_empty_test_sets_are_refused():
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\], got 90"):
        accuracy_standard_error(90, 100)
    with pytest.raises(ValueError, match="at least one test example"):
        accuracy_standard_error(0.9, 0)


def test_a_clear_difference_is_real_and_a_noisy_one_is_a_bounded_null():
    real = verdict(seeded("relu", [0.80, 0.81, 0.79]), seeded("sigmoid", [0.70, 0.71, 0.69]))
    assert real.real and "real difference" in str(real) and "+0.100" in str(real)
    null = verdict(seeded("lrn", [0.80, 0.84, 0.76]), seeded("baseline", [0.79, 0.80, 0.78]))
    assert not null.real and "null result" in str(null)
    assert null.bound == pytest.approx(max(abs(null.low), abs(null.high))) and f"at most {null.bound:.3f}" in str(null)


def test_a_variant_that_did_not_learn_is_reported_and_never_compared():
    constant = seeded("sigmoid", [0.10, 0.10, 0.10], loss=2.30, share=1.0)
    assert "predicts one class for 100%" in failure(constant)
    v = verdict(constant, seeded("relu", [0.80, 0.81, 0.79]))
    assert v.failed and not v.real and "not compared" in str(v)
    diverged = seeded("high lr", [0.10, 0.10], loss=math.nan)
    assert "non-finite" in failure(diverged)
    assert failure(seeded("fine", [0.8, 0.81])) is None


def test_a_verdict_on_samples_applies_the_same_rule_and_names_the_sample():
    pair, others = [1.0, 0.0, 0.0, 1.0, 0.0] * 40, [0.0, 1.0, 0.0, 0.0, 0.0] * 160  # per-image losses: 0.4 against 0.2
    v = samples_verdict("pair", "others", "accuracy lost", pair, others, "images")
    assert (v.low, v.high) == welch_interval(pair, others) and v.difference == pytest.approx(0.2)
    assert v.real == (stats.ttest_ind(pair, others, equal_var=False).pvalue < 0.05) and v.real
    assert "200 and 800 images" in str(v) and "seeds" not in str(v)
    tie = samples_verdict("batch 256", "batch 8", "share", [1.0, 1.2, 0.9], [1.1, 0.95, 1.05], "timing rounds")
    assert not tie.real and "3 and 3 timing rounds" in str(tie) and "null result" in str(tie)


def test_a_verdict_on_step_counts_is_printed_in_whole_steps():
    tanh, relu = seeded("tanh", [0.0] * 3), seeded("ReLU", [0.0] * 3)
    for summary, steps in ((tanh, [180, 200, 160]), (relu, [260, 240, 280])):
        for run, value in zip(summary["runs"], steps):
            run["steps to 25%"] = value
    v = verdict(tanh, relu, "steps to 25%")
    assert v.difference == pytest.approx(-80) and v.real
    assert "steps to 25%: -80 (95% interval " in str(v) and ".000" not in str(v)


def test_a_verdict_needs_two_seeds_each():
    with pytest.raises(ValueError, match="at least two seeds"):
        verdict(seeded("a", [0.8]), seeded("b", [0.7, 0.71]))


def test_profiles_ask_for_a_trained_baseline_with_a_small_spread():
    cpu = PROFILES["cpu"]
    low, high = cpu.expected["ablation baseline"]
    good = seeded("baseline", [0.83, 0.832, 0.829]) | {"test_acc": (low + high) / 2, "test_acc_std": cpu.max_seed_std / 2}
    assert "seed spread" in cpu.check_baseline("ablation baseline", good)
    with pytest.raises(AssertionError, match="outside"):
        cpu.check_baseline("ablation baseline", good | {"test_acc": low - 0.01})
    noisy = good | {"test_acc_std": 2 * cpu.max_seed_std}
    with pytest.raises(AssertionError, match="seed spread"):
        cpu.check_baseline("ablation baseline", noisy)
    untrained = seeded("baseline", [0.1, 0.1, 0.1], loss=2.3, share=1.0) | {"test_acc": 0.1, "test_acc_std": 0.0}
    with pytest.raises(AssertionError, match="did not train"):
        cpu.check_baseline("ablation baseline", untrained)


def test_accuracy_gap_adds_the_two_spreads_in_quadrature():
    a = PipelineResult("a", 100, 10_000, 0.92, 0.0, 1.0, 0.0)
    b = PipelineResult("b", 100, 1_000, 0.90, 0.0, 1.0, 0.0)
    gap, spread = accuracy_gap(a, b)
    assert gap == pytest.approx(0.02)
    assert spread == pytest.approx(np.sqrt(0.92 * 0.08 / 10_000 + 0.9 * 0.1 / 1_000))
    assert accuracy_gap(b, a) == pytest.approx((-0.02, spread))


def test_compare_accuracies_calls_a_difference_within_the_spread_level():
    big = PipelineResult("big", 60_000, 10_000, 0.9242, 0.0, 1.0, 0.0)
    close = PipelineResult("close", 60_000, 10_000, 0.9200, 0.0, 1.0, 0.0)  # 2 s.e. of the gap is about 0.0075
    far = PipelineResult("far", 60_000, 10_000, 0.9039, 0.0, 1.0, 0.0)
    assert compare_accuracies(big, close) == compare_accuracies(close, big) == "level with"
    assert compare_accuracies(big, far) == "above" and compare_accuracies(far, big) == "below"
    on_10000 = PipelineResult("0.91 on 10,000 test images", 60_000, 10_000, 0.91, 0.0, 1.0, 0.0)
    on_1000 = PipelineResult("0.91 on 1,000 test images", 1_000, 1_000, 0.91, 0.0, 1.0, 0.0)
    assert compare_accuracies(big, on_10000) == "above"
    assert compare_accuracies(big, on_1000) == "level with"  # a small test set widens the spread


def test_a_verdict_uses_the_seeds_both_variants_have():
    baseline = seeded("baseline", [0.80, 0.81, 0.79, 0.95, 0.60])  # seeds 3 and 4 trained for another question
    variant, first_three = seeded("variant", [0.75, 0.76, 0.74]), seeded("baseline", [0.80, 0.81, 0.79])
    assert paired_values(variant, baseline, "test_acc") == ([0.75, 0.76, 0.74], [0.80, 0.81, 0.79])
    assert paired_values(baseline, variant, "test_acc") == ([0.80, 0.81, 0.79], [0.75, 0.76, 0.74])
    assert paired_values(baseline, baseline, "test_acc")[0] == [0.80, 0.81, 0.79, 0.95, 0.60]
    assert verdict(variant, baseline) == verdict(variant, first_three), "the same numbers in every notebook"
    assert verdict(variant, baseline).seeds == 3
    later = {"variant": "later", "runs": [run | {"seed": run["seed"] + 4} for run in variant["runs"]]}  # seeds 4, 5, 6
    with pytest.raises(ValueError, match="at least two seeds that both variants have, got 1"):
        verdict(later, baseline)


def test_standard_error_matches_the_spread_of_simulated_test_sets():
    rng = np.random.default_rng(0)
    accuracy, n = 0.9, 10_000
    simulated = rng.binomial(n, accuracy, size=20_000) / n  # many test sets of n images, each right with p=0.9
    assert accuracy_standard_error(accuracy, n) == pytest.approx(0.003)
    assert accuracy_standard_error(accuracy, n) == pytest.approx(simulated.std(), rel=0.03)
    assert accuracy_standard_error(1.0, 50) == 0.0
