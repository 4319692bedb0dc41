"""The series' one verdict rule (d2lhelpers.verdicts), checked against scipy's Welch test."""

import math

import pytest
from scipy import stats

from d2lhelpers.profiles import PROFILES
from d2lhelpers.training import History
from d2lhelpers.verdicts import failure, verdict, welch_interval


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
    v = verdict(seeded("a", a), seeded("b", b))
    assert v.real == (p < 0.05) and (v.low, v.high) == (low, high)


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
    no_share = seeded("old record", [0.11, 0.12], share=None)
    assert "at chance" in failure(no_share)


def test_borderline_means_close_to_the_edge_of_the_interval():
    low, high = welch_interval([0.80, 0.82, 0.78], [0.76, 0.77, 0.75])
    v = verdict(seeded("a", [0.80, 0.82, 0.78]), seeded("b", [0.76, 0.77, 0.75]))
    ratio = abs(v.difference) / ((high - low) / 2)
    assert v.borderline == (2 / 3 <= ratio <= 4 / 3)
    far = verdict(seeded("a", [0.90, 0.901, 0.899]), seeded("b", [0.50, 0.501, 0.499]))
    assert far.real and not far.borderline


def test_a_verdict_needs_two_seeds_each():
    with pytest.raises(ValueError, match="at least two seeds"):
        verdict(seeded("a", [0.8]), seeded("b", [0.7, 0.71]))


def test_profiles_ask_for_a_trained_baseline_with_a_small_spread():
    cpu = PROFILES["cpu"]
    assert cpu.max_seed_std <= 0.015 and cpu.expected["ablation baseline"][0] >= 0.8
    good = seeded("baseline", [0.83, 0.832, 0.829]) | {"test_acc": 0.830, "test_acc_std": 0.0015}
    assert "seed spread" in cpu.check_baseline("ablation baseline", good)
    noisy = good | {"test_acc_std": 0.05}
    with pytest.raises(AssertionError, match="seed spread"):
        cpu.check_baseline("ablation baseline", noisy)
    untrained = seeded("baseline", [0.1, 0.1, 0.1], loss=2.3, share=1.0) | {"test_acc": 0.1, "test_acc_std": 0.0}
    with pytest.raises(AssertionError, match="did not train"):
        cpu.check_baseline("ablation baseline", untrained)
