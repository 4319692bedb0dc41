"""Every profile's notebook-05 recipe leaves chance: its start and optimiser, scaled down, learn within seconds.

A recipe that cannot get going (plain SGD at 0.01 from PyTorch's default start stalls at chance) would otherwise be
found only at the end of a long run on the hardware it is meant for. Scaled down (benchmarks/gpu_recipe.py's
`scaled_run`): the experiments' network (an eighth of AlexNet's channels) at 65x65, batch 32, 600 steps of real
Fashion-MNIST, scored on 1,000 test images.
"""

from dataclasses import replace

import pytest

from d2lhelpers import load_fashion_mnist
from d2lhelpers.profiles import PROFILES, Profile
from d2lhelpers.training import TrainSettings
from repository import load_script

LEFT_CHANCE = 0.3  # 10 classes: chance is 0.1, and 1,000 test images put its 95% range below 0.12


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist()


@pytest.fixture(scope="module")
def scaled_run():
    return load_script("benchmarks/gpu_recipe.py").scaled_run


def recipes() -> dict[str, Profile]:
    """One profile per distinct recipe (optimiser, rate, momentum, decay, schedule, start), named by all that share it."""
    groups: dict[tuple, list[str]] = {}
    for name, profile in PROFILES.items():
        t = profile.training
        groups.setdefault((t.optimizer, t.lr, t.momentum, t.weight_decay, t.schedule, profile.start), []).append(name)
    return {"+".join(names): PROFILES[names[0]] for names in groups.values()}


@pytest.mark.parametrize("names", list(recipes()))
def test_the_profiles_recipe_leaves_chance(names, data, scaled_run):
    accuracy = scaled_run(recipes()[names], data)["test_acc"]
    assert accuracy >= LEFT_CHANCE, (f"the {names} profile's start and optimiser reached test accuracy {accuracy:.3f} "
                                     f"on the scaled-down run: the recipe does not get going")


def test_the_check_catches_a_recipe_that_stalls(data, scaled_run):
    """The book's plain SGD at 0.01 (TrainSettings' defaults) from PyTorch's default start, the combination this
    test exists to catch."""
    books_sgd = replace(PROFILES["gpu"], training=TrainSettings())
    assert scaled_run(books_sgd, data, start="default")["test_acc"] < LEFT_CHANCE
