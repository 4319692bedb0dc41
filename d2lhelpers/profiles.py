"""Run profiles (ci, cpu, gpu): the settings and accepted accuracies that differ between CI, a laptop and a GPU (00);
a profile never changes the code path, and `<name>-smoke` runs that path on a few tiny batches."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

from d2lhelpers.devices import best_device
from d2lhelpers.training import TrainSettings
from d2lhelpers.verdicts import failure

PROFILE_ENV_VAR = "D2L_PROFILE"
SMOKE_SUFFIX = "-smoke"
FIRST_LAYER_INIT_STD = 0.001  # the Adam profiles' conv1 start, N(0, this): notebook 06 shows what training adds to it
# the experiments' network on a CPU: an eighth of the channels, hidden layers of 512; 20x faster to train at 65x65
EIGHTH_WIDTH: dict[str, object] = {"width": 0.125, "hidden_width": 512}


@dataclass(frozen=True)
class BaselineSettings:
    """How much data and time notebook 01's pipelines get; every profile scores on all 10,000 test images."""
    train_examples: int | None  # the linear models and the small CNN; None: all 60,000
    svm_train_examples: int  # the RBF SVM fits on the first N training images; the last N // 2 are its validation split
    cnn_time_budget_s: float  # the small CNN trains for the steps that fit this, measured where it runs


@dataclass(frozen=True)
class MeasurementSettings:
    """How long the hardware measurements run: notebook 02's matrix size and training-step batch, notebook 04's batches."""
    matmul_size: int
    step_batch: int
    repeats: int
    timing_batches: int


@dataclass(frozen=True)
class Profile:
    """One run profile: what it is for, the settings it implies, and the accuracy its checks accept."""
    name: str
    purpose: str
    training: TrainSettings  # notebook 05's AlexNet (and notebook 06's, which reuses it)
    baselines: BaselineSettings  # notebook 01
    ablation: TrainSettings  # each variant of the experiments of notebooks 07 and 08 (one budget, shared records)
    memorise: TrainSettings  # notebook 07's small training set, long enough for the network to memorise it
    paper_sgd_lrs: tuple[float, ...]  # notebook 07's ReLU against tanh: the rates tried for each, the fastest kept
    experiment_net: dict[str, object]  # alexnet() arguments of the experiments' network: a width-scaled one on a CPU
    max_seed_std: float  # the largest seed spread of a baseline that can show the effects notebooks 07 and 08 test
    measurement: MeasurementSettings  # notebooks 02 and 04
    book_comparison: TrainSettings  # notebook 05: our loop and the book's train_ch6 on the same slice
    start: float | str  # notebook 05's AlexNet start: conv1 from N(0, this), or "xavier", the book's train_ch6 start
    expected: dict[str, tuple[float, float]]  # what -> (lowest, highest) accuracy the check cells accept
    seeds: tuple[int, ...] = (0, 1, 2)  # each variant of notebooks 07 and 08 trains once per seed, fixed in the design
    shows_results: bool = True  # False for ci: its runs only check that the code works, too short for comparisons

    def paper_sgd(self, lr: float) -> TrainSettings:
        """The `ablation` budget with the optimizer of the paper's Figure 1: SGD, momentum 0.9, constant `lr` (07)."""
        return replace(self.ablation, optimizer="sgd", lr=lr, momentum=0.9, schedule="constant")

    def check(self, what: str, accuracy: float) -> str:
        """Raise AssertionError unless `accuracy` lies in the range this profile expects for `what`."""
        if what not in self.expected:
            raise KeyError(f"the {self.name} profile expects nothing called {what!r}; it knows {sorted(self.expected)}")
        low, high = self.expected[what]
        if not low <= accuracy <= high:
            raise AssertionError(f"{what}: accuracy {accuracy:.4f} is outside [{low}, {high}], the range the "
                                 f"{self.name} profile expects")
        return f"{what}: {accuracy:.4f} is within [{low}, {high}]"

    def check_baseline(self, what: str, summary: dict[str, object]) -> str:
        """Raise AssertionError unless a seeded baseline learned (if `shows_results`), is in range, varies little."""
        if self.shows_results and (why := failure(summary)) is not None:
            raise AssertionError(f"{what} did not train: {why}")
        self.check(what, summary["test_acc"])
        spread = summary["test_acc_std"]
        if spread > self.max_seed_std:
            raise AssertionError(f"{what}: the seed spread {spread:.4f} is above {self.max_seed_std}, too large to see "
                                 f"the effects the experiments test; give the {self.name} profile a longer budget")
        return f"{what}: test accuracy {summary['test_acc']:.3f} in the range, seed spread {spread:.3f} <= {self.max_seed_std}"

    def scaled_down(self) -> Profile:
        """This profile's code path in seconds: the same sizes, optimisers and start on tiny batches; any accuracy."""

        def tiny(settings: TrainSettings, batches: int = 2) -> TrainSettings:
            return replace(settings, epochs=1, batch_size=4, train_examples=4 * batches, test_examples=8,
                           time_budget_s=settings.time_budget_s and 60.0)  # planned (or not) as the profile is

        return replace(
            self, name=self.name + SMOKE_SUFFIX, purpose=f"a smoke test of the {self.name} profile's code path",
            training=tiny(self.training), ablation=tiny(self.ablation), memorise=tiny(self.memorise), max_seed_std=1.0,
            book_comparison=tiny(self.book_comparison, batches=5),  # the book's train_ch6 needs 5 batches or more
            baselines=BaselineSettings(train_examples=200, svm_train_examples=100, cnn_time_budget_s=1),
            measurement=MeasurementSettings(matmul_size=64, step_batch=2, repeats=1, timing_batches=2),
            expected={what: (0.0, 1.0) for what in self.expected}, shows_results=False,
            seeds=self.seeds[:2])  # two: the fewest that give a spread


_BASELINES_FULL = {"pixels + linear": (0.82, 0.87), "HOG + linear": (0.88, 0.91), "HOG + RBF SVM": (0.86, 0.92),
                   "small CNN": (0.88, 0.94)}

PROFILES: dict[str, Profile] = {
    "ci": Profile(
        "ci", "seconds: what CI runs; small data, checks that learning happens",
        training=TrainSettings(image_size=65, epochs=2, batch_size=64, optimizer="adam", lr=1e-3, schedule="cosine",
                               train_examples=4_096, test_examples=1_000, time_budget_s=120),
        baselines=BaselineSettings(train_examples=5_000, svm_train_examples=2_000, cnn_time_budget_s=10),
        ablation=TrainSettings(image_size=65, epochs=2, batch_size=32, optimizer="adam", lr=2e-3, schedule="cosine",
                               train_examples=1_024, test_examples=500),
        memorise=TrainSettings(image_size=65, epochs=3, batch_size=16, optimizer="adam", lr=2e-3, schedule="cosine",
                               train_examples=64, test_examples=200),
        paper_sgd_lrs=(0.01, 0.05), experiment_net=EIGHTH_WIDTH, max_seed_std=1.0,
        measurement=MeasurementSettings(matmul_size=512, step_batch=4, repeats=2, timing_batches=10),
        book_comparison=TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="sgd", lr=0.05,
                                      train_examples=1_024, test_examples=512),
        start=FIRST_LAYER_INIT_STD,
        expected={"AlexNet": (0.6, 1.0), "ablation baseline": (0.05, 1.0), "book comparison": (0.0, 1.0),  # 32 steps: too few to ask
                  "pixels + linear": (0.75, 0.87), "HOG + linear": (0.80, 0.90), "HOG + RBF SVM": (0.75, 0.91),
                  "small CNN": (0.70, 0.93)},
        shows_results=False,
    ),
    "cpu": Profile(
        "cpu", "minutes on a laptop CPU: smaller images, all the data, real accuracy",
        training=TrainSettings(image_size=65, epochs=4, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                               time_budget_s=450),  # all 4 epochs where the CPU is fast; fewer steps, planned, where it is slow
        baselines=BaselineSettings(train_examples=None, svm_train_examples=10_000, cnn_time_budget_s=90),
        ablation=TrainSettings(image_size=65, epochs=5, batch_size=64, optimizer="adam", lr=2e-3, schedule="cosine",
                               train_examples=10_000, test_examples=2_000),
        memorise=TrainSettings(image_size=65, epochs=60, batch_size=32, optimizer="adam", lr=2e-3, schedule="cosine",
                               train_examples=500, test_examples=1_000),
        paper_sgd_lrs=(0.005, 0.01, 0.02, 0.05), experiment_net=EIGHTH_WIDTH, max_seed_std=0.015,
        measurement=MeasurementSettings(matmul_size=2048, step_batch=32, repeats=3, timing_batches=30),
        book_comparison=TrainSettings(image_size=65, epochs=1, batch_size=32, optimizer="sgd", lr=0.05,
                                      train_examples=16_384, test_examples=1_000),  # 512 steps: each loop learns (05 prints both)
        start=FIRST_LAYER_INIT_STD,
        expected={"AlexNet": (0.8, 1.0), "ablation baseline": (0.80, 0.95), "book comparison": (0.70, 1.0),
                  **_BASELINES_FULL},
    ),
    "gpu": Profile(
        "gpu", "the book's recipe: 224x224 images, all 60,000, 10 epochs, SGD at 0.01 from a Xavier start",
        training=TrainSettings(image_size=224, epochs=10, batch_size=128, optimizer="sgd", lr=0.01),
        baselines=BaselineSettings(train_examples=None, svm_train_examples=10_000, cnn_time_budget_s=60),
        ablation=TrainSettings(image_size=224, epochs=6, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine",
                               train_examples=10_000, test_examples=5_000),
        memorise=TrainSettings(image_size=224, epochs=60, batch_size=32, optimizer="adam", lr=1e-3, schedule="cosine",
                               train_examples=500, test_examples=2_000),
        paper_sgd_lrs=(0.005, 0.01, 0.02), experiment_net={}, max_seed_std=0.015,  # experiment_net {}: the book's AlexNet, full width
        measurement=MeasurementSettings(matmul_size=8192, step_batch=128, repeats=10, timing_batches=60),
        book_comparison=TrainSettings(image_size=224, epochs=1, batch_size=128, optimizer="sgd", lr=0.01),
        start="xavier",  # as the book's train_ch6: plain SGD at 0.01 does not get going from PyTorch's default start
        expected={"AlexNet": (0.85, 1.0), "ablation baseline": (0.80, 1.0), "book comparison": (0.2, 1.0),
                  **_BASELINES_FULL},
    ),
}  # fmt: skip


def default_profile_name() -> str:
    """The profile the hardware suggests: `gpu` on a CUDA GPU, `cpu` elsewhere (MPS included)."""
    return "gpu" if best_device().type == "cuda" else "cpu"


def choose_profile(name: str | None = None) -> Profile:
    """The profile named by `name`, else $D2L_PROFILE, else the one the hardware suggests; `<name>-smoke` scales it down."""
    name = name or os.environ.get(PROFILE_ENV_VAR) or default_profile_name()
    base = name.strip().lower().removesuffix(SMOKE_SUFFIX)
    if base not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (from ${PROFILE_ENV_VAR} or the argument); choose one of "
                         f"{', '.join(PROFILES)}, or one of them followed by {SMOKE_SUFFIX} for its code path on a few "
                         "tiny batches")
    return PROFILES[base].scaled_down() if name.strip().lower().endswith(SMOKE_SUFFIX) else PROFILES[base]


def profiles_table() -> list[dict[str, object]]:
    """The profiles as rows, for display: purpose, the start (`Profile.start`), then the training settings."""
    rows = []
    for profile in PROFILES.values():
        settings = asdict(profile.training)
        del settings["max_steps"]  # set by the plan (runs.plan_training), never by a profile
        if not settings["label_smoothing"]:  # no profile smooths its labels (benchmarks/recipe.py measured it)
            del settings["label_smoothing"]
        for key, unset in (("train_examples", "all"), ("test_examples", "all"), ("time_budget_s", "none")):
            settings[key] = settings[key] or unset
        start = "Xavier (the book's)" if profile.start == "xavier" else f"conv1 N(0, {profile.start})"
        rows.append({"name": profile.name, "purpose": profile.purpose, "start": start, **settings})
    return rows
