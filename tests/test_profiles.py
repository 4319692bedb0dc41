"""Profile choice: environment variable first, then the hardware; clear error for a typo."""

import pytest

from d2lhelpers import devices
from d2lhelpers.profiles import PROFILES, choose_profile


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("D2L_PROFILE", "CI")
    assert choose_profile().name == "ci"
    assert choose_profile("gpu").name == "gpu"  # an explicit argument wins


@pytest.mark.parametrize("cuda, mps, device, profile", [(True, False, "cuda", "gpu"), (False, True, "mps", "cpu"),
                                                         (False, False, "cpu", "cpu")])
def test_default_follows_the_hardware(monkeypatch, cuda, mps, device, profile):
    monkeypatch.delenv("D2L_PROFILE", raising=False)
    monkeypatch.setattr(devices.torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(devices.torch.backends.mps, "is_available", lambda: mps)
    assert devices.best_device().type == device
    assert choose_profile().name == profile


def test_the_profile_checks_accuracy_against_its_own_range():
    cpu = PROFILES["cpu"]
    low, high = cpu.expected["AlexNet"]
    assert "within" in cpu.check("AlexNet", (low + high) / 2)
    with pytest.raises(AssertionError, match=r"AlexNet: accuracy 0.5000 is outside .* the cpu profile expects"):
        cpu.check("AlexNet", 0.5)
    with pytest.raises(KeyError, match="expects nothing called 'Alexnet'"):
        cpu.check("Alexnet", 0.9)


def test_every_profile_has_the_same_checks_and_the_book_configuration_on_gpu():
    assert len({frozenset(p.expected) for p in PROFILES.values()}) == 1
    gpu = PROFILES["gpu"].training
    assert (gpu.image_size, gpu.epochs, gpu.batch_size, gpu.optimizer, gpu.lr) == (224, 10, 128, "sgd", 0.01)


def test_unknown_profile(monkeypatch):
    monkeypatch.setenv("D2L_PROFILE", "fast")
    with pytest.raises(ValueError, match="unknown profile 'fast'.*ci, cpu, gpu"):
        choose_profile()


def test_every_profile_is_listed_for_display():
    from d2lhelpers.profiles import profiles_table

    rows = profiles_table()
    assert [row["name"] for row in rows] == list(PROFILES) == ["ci", "cpu", "gpu"]
    budgets = [row["time_budget_s"] for row in rows]
    assert budgets == [PROFILES[row["name"]].training.time_budget_s or "none" for row in rows]
    assert "none" in budgets  # a profile without a budget says so, where a table would show NaN


@pytest.mark.parametrize("name", list(PROFILES))
def test_a_smoke_profile_keeps_the_code_path_on_a_few_tiny_batches(monkeypatch, name):
    monkeypatch.setenv("D2L_PROFILE", f"{name.upper()}-smoke")
    full, smoke = PROFILES[name], choose_profile()
    assert smoke.name == f"{name}-smoke" and not smoke.shows_results
    assert smoke.start == full.start
    assert smoke.experiment_net == full.experiment_net
    assert smoke.paper_sgd_lrs == full.paper_sgd_lrs
    for part in ("training", "ablation", "memorise", "paper_sgd", "book_comparison"):
        a, b = (full.paper_sgd(0.01), smoke.paper_sgd(0.01)) if part == "paper_sgd" else (getattr(full, part), getattr(smoke, part))
        assert (b.image_size, b.optimizer, b.lr, b.schedule, b.augment) == (a.image_size, a.optimizer, a.lr, a.schedule, a.augment)
        assert b.epochs == 1 and b.train_examples <= 5 * b.batch_size and b.test_examples <= 2 * b.batch_size
    assert set(smoke.expected) == set(full.expected) and "within" in smoke.check("AlexNet", 0.1)
    assert PROFILES[name] is full and full.name == name  # the real profile is unchanged
