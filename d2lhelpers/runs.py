"""The trained AlexNet of a profile: load what notebook 05 saved, or train it the same way.

Introduced in notebook 06, which needs a trained model but must also run on its own.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from d2lhelpers.data import display_path, load_fashion_mnist
from d2lhelpers.models import alexnet
from d2lhelpers.profiles import Profile
from d2lhelpers.training import load_checkpoint, results_folder, save_results, train


def initial_alexnet(profile: Profile) -> nn.Sequential:
    """The AlexNet notebook 05 starts from: the profile's image size, weights drawn after manual_seed(0)."""
    torch.manual_seed(0)
    return alexnet(num_classes=10, in_channels=1, image_size=profile.training.image_size)


def trained_alexnet(profile: Profile, device: torch.device) -> tuple[nn.Sequential, str]:
    """The profile's trained AlexNet (on the CPU, in eval mode) and a sentence saying where it came from.

    Loads results/alexnet-<profile>/model.pt when notebook 05 saved one with these settings; otherwise
    trains it now exactly as notebook 05 does (resuming its checkpoint if there is one) and saves it.
    """
    folder = results_folder(f"alexnet-{profile.name}")
    net = initial_alexnet(profile)
    saved = folder / "model.pt"
    if saved.is_file():
        load_checkpoint(saved, net, profile.training)
        return net.eval(), f"loaded the model notebook 05 saved: {display_path(saved)}"
    history = train(net, load_fashion_mnist(), profile.training, device, checkpoint=folder / "checkpoint.pt")
    if history.interrupted:
        raise KeyboardInterrupt("training was interrupted; run the cell again to resume it")
    save_results(folder, net, history, profile.training,
                 {"profile": profile.name, "test_acc": history.last("test_acc"), "precision": history.precision,
                  "device": str(device)})
    return net.cpu().eval(), (f"no saved model for the {profile.name} profile, so it was trained here as notebook 05 "
                              f"does ({history.last('elapsed_s') / 60:.1f} min) and saved to {display_path(saved)}")


IMAGENET_ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # torchvision's AlexNet_Weights.IMAGENET1K_V1


def imagenet_alexnet_path():
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
