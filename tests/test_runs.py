"""A profile's AlexNet run: its start, the plan to a time budget, and the model loaded when saved, trained otherwise."""

import math
from dataclasses import replace

import pytest
import torch

from d2lhelpers import runs
from d2lhelpers.checkpoints import TrainingError, conv1_snapshots, load_results
from d2lhelpers.data import FashionMNIST
from d2lhelpers.profiles import FIRST_LAYER_INIT_STD, PROFILES
from d2lhelpers.runs import measure_seconds, plan_steps, plan_training, saved_plan
from d2lhelpers.training import TrainSettings, learning_rate, train
from synthetic import corner_squares, small_net

TINY = replace(PROFILES["ci"], name="tiny",
                           training=TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="adam", lr=1e-3))


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (64,), generator=generator)
    monkeypatch.setattr(runs, "load_fashion_mnist", lambda: FashionMNIST(images, labels, images[:32], labels[:32]))
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path))
    return tmp_path


def test_trains_and_saves_when_nothing_is_saved_then_loads(sandbox):
    net, source = runs.trained_alexnet(TINY, torch.device("cpu"))
    assert "trained here" in source and (sandbox / "alexnet-tiny" / "model.pt").is_file()
    assert not net.training
    assert load_results("alexnet-tiny")["profile"] == "tiny"
    again, source = runs.trained_alexnet(TINY, torch.device("cpu"))
    assert source.startswith("loaded")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    initial = runs.initial_alexnet(TINY)
    assert not torch.equal(initial[0].weight, net[0].weight), "the loaded weights are the trained ones"


def test_the_seeded_alexnet_is_reproducible_with_a_small_first_layer():
    a, b, other = runs.initial_alexnet(TINY), runs.initial_alexnet(TINY), runs.initial_alexnet(TINY, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[3].weight, other[3].weight)
    assert a.image_size == TINY.training.image_size
    assert a[0].weight.std().item() == pytest.approx(FIRST_LAYER_INIT_STD, rel=0.1)
    assert a[3].weight.std().item() > 10 * FIRST_LAYER_INIT_STD  # the other layers keep PyTorch's default
    assert torch.count_nonzero(a[0].bias) == 0


def test_an_interrupted_train_and_save_saves_no_model(sandbox):
    def stop(history):
        raise KeyboardInterrupt

    history = runs.train_and_save(runs.initial_alexnet(TINY), TINY.training, torch.device("cpu"), "stopped",
                                  runs.load_fashion_mnist(), on_epoch_end=stop, precision="fp32")
    assert history.interrupted and not (sandbox / "stopped" / "model.pt").exists()
    assert (sandbox / "stopped" / "checkpoint.pt").is_file()


def test_a_model_saved_with_other_settings_is_refused(sandbox):
    runs.trained_alexnet(TINY, torch.device("cpu"))
    other = replace(TINY, training=TrainSettings(image_size=65, epochs=2))
    with pytest.raises(TrainingError, match="other settings"):
        runs.trained_alexnet(other, torch.device("cpu"))


def test_a_model_planned_to_a_budget_is_loaded_with_its_plan(sandbox):
    budgeted = replace(TINY, training=replace(TINY.training, epochs=3, time_budget_s=1e-3))
    _, source = runs.trained_alexnet(budgeted, torch.device("cpu"))  # the budget affords one step
    assert "trained here" in source
    assert torch.load(sandbox / "alexnet-tiny" / "model.pt", weights_only=True)["settings"]["max_steps"] == 1
    _, source = runs.trained_alexnet(budgeted, torch.device("cpu"))
    assert source.startswith("loaded")


def test_load_results_is_none_when_nothing_ran(sandbox):
    assert load_results("alexnet-nothing") is None


def test_the_start_is_the_profiles():
    gpu_like = replace(TINY, start="xavier")  # the book's train_ch6: Xavier-uniform in every layer
    xavier = runs.initial_alexnet(gpu_like)
    for layer in (xavier[0], xavier[3]):
        fan_in, fan_out = layer.weight[0].numel(), layer.weight.shape[0] * layer.weight[0, 0].numel()
        assert layer.weight.std().item() == pytest.approx((2 / (fan_in + fan_out)) ** 0.5, rel=0.1)
    assert torch.count_nonzero(xavier[0].bias) == 0
    wide = replace(TINY, start=0.02)
    assert abs(runs.initial_alexnet(wide)[0].weight.std().item() - 0.02) < 0.004


def test_the_start_can_be_chosen():
    default = runs.initial_alexnet(TINY, start="default")[0].weight
    small = runs.initial_alexnet(TINY, start=0.01)[0].weight
    assert default.std().item() > 10 * 0.001 and abs(small.std().item() - 0.01) < 0.002
    assert torch.equal(runs.initial_alexnet(TINY)[0].weight, runs.initial_alexnet(TINY, start=FIRST_LAYER_INIT_STD)[0].weight)
    for wrong in (-1.0, "kaiming"):
        with pytest.raises(ValueError, match="positive number"):
            runs.initial_alexnet(TINY, start=wrong)


CPU = torch.device("cpu")
BUDGETED = TrainSettings(image_size=65, epochs=4, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                         time_budget_s=450)


@pytest.mark.parametrize("per_step, per_evaluation", [(0.735, 20.0), (0.5, 1.0), (0.3, 60.0), (2.0, 0.0)])
def test_a_slow_machine_gets_the_most_steps_that_fit_the_budget(per_step, per_evaluation):
    plan = plan_steps(BUDGETED, 60_000, per_step, per_evaluation)
    assert plan.limited_by == "the time budget" and plan.settings.max_steps == plan.steps
    one_more = replace(plan, settings=replace(plan.settings, max_steps=plan.steps + 1))
    assert plan.estimated_seconds <= BUDGETED.time_budget_s < one_more.estimated_seconds
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


def test_the_readme_states_the_cpu_profiles_budget_as_the_profile_sets_it():
    from repository import ROOT

    cpu = PROFILES["cpu"].training
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"{cpu.time_budget_s / 60:.1f} minutes of training and at most {cpu.epochs} epochs" in readme


def test_the_slow_first_steps_are_not_counted_in_the_plans_speed(monkeypatch):
    """The first steps are slower (allocations, kernel choice, the optimizer's state): timing them would plan too few
    steps, and the run would leave its budget unused. A fake clock: 0.05 s for each warm-up step, 0.005 s after."""
    now, calls = [0.0], []

    def step(*args, **kwargs):
        calls.append(1)
        now[0] += 0.05 if len(calls) <= runs.WARM_UP_STEPS else 0.005

    monkeypatch.setattr(runs, "train_step", step)
    data = corner_squares(64, 8)
    per_step, _ = measure_seconds(small_net(), data.train_images, data.train_labels, replace(BUDGETED, batch_size=4),
                                  CPU, "fp32", clock=lambda: now[0])
    assert len(calls) == runs.WARM_UP_STEPS + runs.MEASURED_STEPS
    assert per_step == pytest.approx(0.005), "the warm-up steps were timed"


def test_a_budget_limited_run_is_planned_again_from_its_first_epochs_speed(tmp_path):
    data = corner_squares(192, 64)  # 6 steps per epoch
    settings = TrainSettings(image_size=65, epochs=4, batch_size=32, optimizer="adam", lr=1e-4, schedule="cosine",
                             time_budget_s=60.0, max_steps=8)  # the plan before training: 8 steps
    measured = []

    def replan(step_s: float, eval_s: float) -> runs.Plan:  # the first epoch ran at 6 s a step: 14 steps fit
        measured.append((step_s, eval_s))
        return plan_steps(settings, 192, seconds_per_step=60 / 15, seconds_per_evaluation=0.0)

    net = small_net()
    snapshots = conv1_snapshots(net, settings, 192)
    history = train(net, data, settings, CPU, checkpoint=tmp_path / "run.pt", precision="fp32",
                    snapshots=snapshots, replan=replan)
    first = history.epochs[0]
    assert measured == [(first["seconds"] / 6, first["elapsed_s"] - first["seconds"])]
    assert [e["steps"] for e in history.epochs] == [6, 6, 3] and history.replanned["steps"] == 15
    assert 15 in snapshots.steps and 8 not in snapshots.steps  # the kept filters follow the new last step
    assert saved_plan(tmp_path / "run.pt", settings).max_steps == 15  # a resumed run keeps the revised plan

