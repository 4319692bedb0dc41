"""The data and results folders are two settings: environment variables first, then the checkout; nothing is guessed."""

from pathlib import Path

import pytest

from d2lhelpers import paths
from d2lhelpers.environment import environment_report


def test_the_two_folders_are_separate_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "elsewhere" / "fmnist"))
    monkeypatch.delenv("D2L_RESULTS_DIR", raising=False)
    assert paths.default_data_dir() == tmp_path / "elsewhere" / "fmnist"
    assert paths.default_results_dir() == paths.checkout() / "results"  # not beside the data
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path / "runs"))
    assert paths.results_folder("alexnet-cpu") == tmp_path / "runs" / "alexnet-cpu"


def test_without_a_checkout_the_defaults_follow_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("D2L_DATA_DIR", raising=False)
    monkeypatch.delenv("D2L_RESULTS_DIR", raising=False)
    monkeypatch.setattr(paths, "checkout", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert paths.default_data_dir() == tmp_path.parent / "data"  # the book's ../data
    assert paths.default_results_dir() == tmp_path / "results"


@pytest.mark.parametrize("name", ["", "..", "a/b", "a\\b"])
def test_a_run_name_is_one_folder(name):
    with pytest.raises(ValueError, match="one folder name"):
        paths.results_folder(name)


def test_display_path_hides_the_checkout_and_home():
    assert paths.display_path(paths.checkout() / "results" / "x") == str(Path("results") / "x")
    assert paths.display_path(Path.home() / "somewhere-else-entirely") == str(Path("~") / "somewhere-else-entirely")


def test_describing_the_environment_never_downloads(tmp_path, monkeypatch):
    from d2lhelpers import data

    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "candidate_sources", lambda data_dir=None: [tmp_path / "nothing"])
    monkeypatch.setattr(data, "_download", lambda data_dir: pytest.fail("environment_report downloaded the data"))
    report = environment_report()
    assert report["Fashion-MNIST"].startswith("NOT AVAILABLE")
