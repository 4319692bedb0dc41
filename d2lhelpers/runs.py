"""The trained AlexNet of a profile: one seeded constructor, one train-and-save, and loading what was saved.

Introduced in notebook 05 (training AlexNet); notebook 06 uses `trained_alexnet`, which loads what
notebook 05 saved or trains it the same way, so that each notebook also runs on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.budget import plan_training, saved_plan
from d2lhelpers.checkpoints import load_checkpoint, save_results
from d2lhelpers.data import load_fashion_mnist
from d2lhelpers.models import AlexNet, alexnet
from d2lhelpers.paths import display_path, results_folder
from d2lhelpers.precision import Precision, choose_precision
from d2lhelpers.profiles import FIRST_LAYER_INIT_STD, Profile  # the constant is re-exported: key 06 imports it from here
from d2lhelpers.snapshots import conv1_snapshots
from d2lhelpers.training import History, TrainSettings, train


def initial_alexnet(profile: Profile, seed: int = 0, first_layer_std: float | str | None = None) -> AlexNet:
    """The AlexNet notebooks 05 and 06 start from: the profile's image size, weights drawn after manual_seed(seed),
    conv1 redrawn from N(0, first_layer_std) with zero bias.

    `first_layer_std` None is the profile's choice, `profile.first_layer_std` (FIRST_LAYER_INIT_STD for the Adam
    profiles ci and cpu, PyTorch's default for gpu); "default" keeps PyTorch's default (benchmarks/first_layer.py)."""
    if first_layer_std is None:
        first_layer_std = "default" if profile.first_layer_std is None else profile.first_layer_std
    if first_layer_std != "default" and not (isinstance(first_layer_std, float | int) and first_layer_std > 0):
        raise ValueError(f"first_layer_std is a positive number, 'default' or None, got {first_layer_std!r}")
    torch.manual_seed(seed)
    net = alexnet(num_classes=10, in_channels=1, image_size=profile.training.image_size)
    if first_layer_std == "default":
        return net
    conv1 = net[0]
    with torch.no_grad():
        conv1.weight.normal_(0.0, float(first_layer_std))
        conv1.bias.zero_()
    return net


def run_name(profile: Profile) -> str:
    """The folder under results/ where a profile's AlexNet is kept."""
    return f"alexnet-{profile.name}"


def train_and_save(net: nn.Module, settings: TrainSettings, device: torch.device, name: str, data=None,
                   precision: Precision | str | None = None, on_epoch_end: Callable[[History], None] | None = None,
                   extra: dict | None = None) -> History:
    """Train with a checkpoint in results/<name>/ (resuming it), then save model.pt and results.json unless interrupted.

    conv1's filters are kept at a few early steps and at the end of every epoch (`snapshots.py`), in both files."""
    folder = results_folder(name)
    data = data if data is not None else load_fashion_mnist()
    n_train = settings.train_examples or len(data.train_images)
    snapshots = conv1_snapshots(net, settings, n_train)
    history = train(net, data, settings, device, checkpoint=folder / "checkpoint.pt", precision=precision,
                    on_epoch_end=on_epoch_end, snapshots=snapshots)
    if not history.interrupted:
        save_results(folder, net, history, settings,
                     {"test_acc": history.last("test_acc"), "precision": history.precision, "device": str(device),
                      **(extra or {})}, snapshots)
    return history


def trained_alexnet(profile: Profile, device: torch.device) -> tuple[AlexNet, str]:
    """The profile's trained AlexNet (on the CPU, in eval mode) and a sentence saying where it came from.

    Loads results/alexnet-<profile>/model.pt when notebook 05 saved one with these settings (and its plan);
    otherwise plans and trains it now exactly as notebook 05 does (resuming its checkpoint if there is one) and saves it.
    """
    folder = results_folder(run_name(profile))
    net = initial_alexnet(profile)
    if (folder / "model.pt").is_file():  # from other settings: a clear error naming them, and nothing overwritten
        load_checkpoint(folder / "model.pt", net, saved_plan(folder / "model.pt", profile.training) or profile.training)
        return net.eval(), f"loaded the model notebook 05 saved: {display_path(folder / 'model.pt')}"
    data = load_fashion_mnist()
    precision = choose_precision(net, profile.training.image_size, device, profile.training.batch_size)
    plan = plan_training(net, data, profile.training, device, precision, checkpoint=folder / "checkpoint.pt")
    print(f"plan: {plan.describe()}")
    history = train_and_save(net, plan.settings, device, run_name(profile), data, precision,
                             extra={"profile": profile.name})
    if history.interrupted:
        raise KeyboardInterrupt("training was interrupted; run the cell again to resume it")
    return net.cpu().eval(), (f"no saved model for the {profile.name} profile, so it was trained here as notebook 05 "
                              f"does ({history.last('elapsed_s') / 60:.1f} min) and saved to "
                              f"{display_path(folder / 'model.pt')}")


IMAGENET_ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # torchvision's AlexNet_Weights.IMAGENET1K_V1


def imagenet_alexnet_path() -> Path:
    """Where torchvision keeps its ImageNet-trained AlexNet weights (the file may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_ALEXNET_FILE


def imagenet_alexnet() -> nn.Module | None:
    """torchvision's ImageNet-trained AlexNet when its weights are already on this machine, else None.

    Never downloads: `torchvision.models.alexnet(weights="IMAGENET1K_V1")` does that (233 MB).
    """
    import torchvision

    path = imagenet_alexnet_path()
    if not path.is_file():
        return None
    net = torchvision.models.alexnet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()
