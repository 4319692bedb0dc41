"""Profile choice: environment variable first, then the hardware; clear error for a typo."""

import pytest

from d2lhelpers.profiles import PROFILES, best_device, choose_profile


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("D2L_PROFILE", "CI")
    assert choose_profile().name == "ci"
    assert choose_profile("gpu").name == "gpu"  # an explicit argument wins


def test_default_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("D2L_PROFILE", raising=False)
    expected = "gpu" if best_device().type == "cuda" else "cpu"
    assert choose_profile().name == expected


def test_unknown_profile(monkeypatch):
    monkeypatch.setenv("D2L_PROFILE", "fast")
    with pytest.raises(ValueError, match="unknown profile 'fast'.*ci, cpu, gpu"):
        choose_profile()


def test_every_profile_is_listed_for_display():
    from d2lhelpers.profiles import profiles_table

    assert [row["name"] for row in profiles_table()] == list(PROFILES) == ["ci", "cpu", "gpu"]
