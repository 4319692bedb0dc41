"""A run planned to a time budget: the arithmetic, the steps the loop then takes, and the plan kept on resumption."""

import math
import time
from dataclasses import replace

import pytest
import torch

from d2lhelpers import budget
from d2lhelpers.budget import estimated_seconds, measure_seconds, plan_steps, plan_training, saved_plan
from d2lhelpers.models import alexnet
from d2lhelpers.profiles import PROFILES
from d2lhelpers.training import TrainSettings, learning_rate, train
from synthetic import corner_squares

CPU = torch.device("cpu")
BUDGETED = TrainSettings(image_size=65, epochs=4, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                         time_budget_s=450)


def small_net():
    torch.manual_seed(0)
    return alexnet(num_classes=2, image_size=65)


@pytest.mark.parametrize("per_step, per_evaluation", [(0.735, 20.0), (0.5, 1.0), (0.3, 60.0), (2.0, 0.0)])
def test_a_slow_machine_gets_the_most_steps_that_fit_the_budget(per_step, per_evaluation):
    plan = plan_steps(BUDGETED, 60_000, per_step, per_evaluation)
    assert plan.limited_by == "the time budget" and plan.settings.max_steps == plan.steps
    assert plan.estimated_seconds <= BUDGETED.time_budget_s
    assert estimated_seconds(plan.steps + 1, BUDGETED, 60_000, per_step, per_evaluation) > BUDGETED.time_budget_s
    assert plan.steps < BUDGETED.epochs * math.ceil(60_000 / 128)


def test_a_fast_machine_trains_every_epoch_and_no_budget_means_every_epoch():
    fast = plan_steps(BUDGETED, 60_000, 0.05, 2.0)
    assert fast.settings.max_steps is None and fast.steps == 4 * 469 and fast.limited_by == "the profile's epochs"
    unbudgeted = plan_steps(replace(BUDGETED, time_budget_s=None), 60_000, 10.0, 100.0)
    assert unbudgeted.steps == 4 * 469 and "no time budget" in unbudgeted.limited_by


def test_an_evaluation_is_paid_for_each_epoch_the_steps_start():
    # 10 steps per epoch; a budget of 1.05 epochs' steps plus one evaluation cannot afford the second evaluation
    settings = replace(BUDGETED, batch_size=10, time_budget_s=10.5 + 5)
    plan = plan_steps(settings, 100, 1.0, 5.0)
    assert plan.steps == 10 and plan.estimated_seconds == 15.0


def test_a_budget_too_small_for_one_step_still_takes_one():
    assert plan_steps(replace(BUDGETED, time_budget_s=0.1), 60_000, 1.0, 10.0).steps == 1


def test_settings_count_their_steps_and_epochs_and_refuse_nonsense():
    settings = replace(BUDGETED, max_steps=500)
    assert settings.total_steps(60_000) == 500 and settings.epochs_to_run(60_000) == 2
    assert replace(settings, max_steps=None).total_steps(60_000) == 4 * 469
    with pytest.raises(ValueError, match="max_steps must be positive"):
        replace(settings, max_steps=0)
    with pytest.raises(ValueError, match="time_budget_s must be positive"):
        replace(settings, time_budget_s=-1)


def test_the_loop_takes_exactly_the_planned_steps_with_the_schedule_planned_for_them():
    data = corner_squares(192, 64)
    settings = TrainSettings(image_size=65, epochs=3, batch_size=32, optimizer="adam", lr=1e-4, schedule="cosine",
                             max_steps=8)  # 6 steps per epoch: one full epoch, then 2 steps of the second
    history = train(small_net(), data, settings, CPU, precision="fp32")
    assert [e["steps"] for e in history.epochs] == [6, 2]
    assert learning_rate(settings, 7, settings.total_steps(192)) < 0.05 * settings.lr  # close to 0 at the last step


def test_measuring_leaves_the_weights_and_the_random_generator_as_they_were():
    net, data = small_net(), corner_squares(192, 64)
    before = [p.clone() for p in net.parameters()]
    rng = torch.get_rng_state()
    per_step, per_image = measure_seconds(net, data.train_images, data.train_labels, BUDGETED, CPU, "fp32")
    assert per_step > 0 and per_image > 0
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert torch.equal(rng, torch.get_rng_state())


def test_measuring_works_on_fewer_images_than_the_timed_batches_need():
    data = corner_squares(8, 8)
    per_step, _ = measure_seconds(small_net(), data.train_images, data.train_labels, replace(BUDGETED, batch_size=4),
                                  CPU, "fp32")
    assert per_step > 0


def test_a_resumed_run_keeps_the_plan_its_checkpoint_was_written_with(tmp_path):
    data = corner_squares(192, 64)
    settings = TrainSettings(image_size=65, epochs=3, batch_size=32, optimizer="adam", lr=1e-4, time_budget_s=1e-3)
    plan = plan_training(small_net(), data, settings, CPU, "fp32", checkpoint=tmp_path / "run.pt")
    assert plan.steps == 1 and plan.limited_by == "the time budget"
    planned = replace(settings, max_steps=5)  # as if measured on a slower machine
    train(small_net(), data, planned, CPU, checkpoint=tmp_path / "run.pt", precision="fp32")
    again = plan_training(small_net(), data, settings, CPU, "fp32", checkpoint=tmp_path / "run.pt")
    assert again.settings == planned and again.limited_by == "the plan saved with the checkpoint"
    assert saved_plan(tmp_path / "run.pt", replace(settings, time_budget_s=60)) is None  # another budget: not this run
    assert saved_plan(tmp_path / "missing.pt", settings) is None


def test_every_profile_plans_its_main_run():
    assert PROFILES["cpu"].training.time_budget_s and PROFILES["ci"].training.time_budget_s
    assert PROFILES["gpu"].training.time_budget_s is None  # the book's configuration: all 10 epochs


def test_the_readme_states_the_cpu_profiles_budget_as_the_profile_sets_it():
    from repository import ROOT

    cpu = PROFILES["cpu"].training
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"{cpu.time_budget_s / 60:.1f} minutes of training and at most {cpu.epochs} epochs" in readme


def test_the_slow_first_steps_are_not_counted_in_the_plans_speed(monkeypatch):
    """The first steps of a run are slower (allocations, kernel choice, the optimizer's state): timing them would
    plan too few steps, and the run would leave its budget unused."""
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        time.sleep(0.05 if len(calls) <= budget.WARM_UP_STEPS else 0.005)

    monkeypatch.setattr(budget, "train_step", step)
    data = corner_squares(64, 8)
    per_step, _ = measure_seconds(small_net(), data.train_images, data.train_labels, replace(BUDGETED, batch_size=4),
                                  CPU, "fp32")
    assert len(calls) == budget.WARM_UP_STEPS + budget.MEASURED_STEPS
    assert per_step < 0.02, f"{per_step:.3f} s a step: the warm-up steps were timed"
