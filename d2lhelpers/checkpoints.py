"""What a run saves (05, 06): checkpoints to resume it, its JSON record and weights, conv1's filters kept during it."""

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.data import results_folder
from d2lhelpers.inspection import get_layer


class TrainingError(RuntimeError):
    """A run that cannot go on: out of memory, or a saved run that does not fit; the message says why."""


def changed_settings(saved: dict, settings) -> dict[str, tuple]:
    """{name: (saved, now)} for every one of `settings` (TrainSettings) that differs from a saved run's."""
    now = asdict(settings)
    return {k: (saved.get(k), now.get(k)) for k in sorted(now.keys() | saved.keys()) if saved.get(k) != now.get(k)}


def restore_rng_states(states: dict[str, object]) -> None:
    """Put the random generators back as `save_checkpoint` saw them."""
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def snapshot_steps(steps_per_epoch: int, total_steps: int) -> tuple[int, ...]:
    """The steps after which filters are kept: a few early ones (conv1 changes fastest), each epoch's end, the last."""
    early = {step for step in (5, 20, 60, 150) if step < min(steps_per_epoch, total_steps)}
    return tuple(sorted(early | set(range(steps_per_epoch, total_steps, steps_per_epoch)) | {total_steps}))


class FilterSnapshots:
    """Call it with the number of optimizer steps done; it keeps a copy of the layer's weights after each of `steps`."""

    def __init__(self, net: nn.Sequential, layer: str, steps: Iterable[int]) -> None:
        self.layer, self.steps = layer, frozenset(steps)
        self.weight = get_layer(net, layer).weight  # the parameter itself: the optimizer updates it in place
        self.frames: dict[int, torch.Tensor] = {}

    def __call__(self, step: int) -> None:
        if step in self.steps:
            self.frames[step] = self.weight.detach().to("cpu", torch.float32, copy=True)

    def state_dict(self) -> dict:
        return {"layer": self.layer, "frames": dict(self.frames)}

    def load_state_dict(self, state: dict) -> None:
        self.frames.update(state["frames"])


def conv1_snapshots(net: nn.Sequential, settings, n_train: int) -> FilterSnapshots:
    """conv1 kept at `snapshot_steps` of a run with these TrainSettings on `n_train` images (notebook 06 shows them)."""
    return FilterSnapshots(net, "conv1", snapshot_steps(math.ceil(n_train / settings.batch_size),
                                                        settings.total_steps(n_train)))


def load_snapshots(path: Path) -> dict[int, torch.Tensor]:
    """The filters a model.pt or checkpoint kept, by step; empty when its run kept none."""
    saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)["snapshots"]
    return dict(sorted(saved["frames"].items())) if saved else {}


def save_checkpoint(path: Path, net: nn.Module, optimizer: torch.optim.Optimizer, settings, history,
                    scaler: torch.amp.GradScaler | None = None, snapshots: FilterSnapshots | None = None) -> None:
    """Write all a run needs to resume, atomically: a crash mid-write never leaves a broken file."""
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    rng = {"cpu": torch.get_rng_state(), **({"cuda": torch.cuda.get_rng_state_all()} if cuda else {})}
    part = Path(path).with_name(Path(path).name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
                "settings": asdict(settings), "history": asdict(history), "rng": rng,
                "snapshots": snapshots.state_dict() if snapshots is not None else None}, part)
    os.replace(part, path)


def load_checkpoint(path: Path, net: nn.Module, settings=None) -> dict:
    """Load a checkpoint's (or model.pt's) weights into `net` and return all it holds; refuse other models, settings."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if settings is not None and (changed := changed_settings(saved["settings"], settings)):
        raise TrainingError(f"{path} comes from a run with other settings (saved, now): {changed}. "
                            f"Delete it to start afresh, or pass checkpoint=None.")
    own, state = net.state_dict(), saved["model"]
    misfits = [f"{name} only in {'the file' if name in state else 'the model'}" for name in sorted(set(own) ^ set(state))]
    misfits += [f"{name} has shape {tuple(state[name].shape)} in the file and {tuple(own[name].shape)} here"
                for name in own if name in state and state[name].shape != own[name].shape]
    if misfits:
        raise TrainingError(f"{path} does not fit this model (another architecture, image_size or number of classes?): "
                            f"{'; '.join(misfits[:3])}. Build the model it was saved from, or delete the file.")
    net.load_state_dict(state)
    return saved


def save_record(path: Path, settings, history, **measured: object) -> None:
    """Write a finished run's record: JSON with its settings, its history and what was `measured`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"settings": asdict(settings), "history": asdict(history), **measured}, indent=1))


def load_record(path: Path, settings=None) -> dict | None:
    """The record at `path`; None when there is none or, given `settings`, when it comes from other settings."""
    if not Path(path).is_file():
        return None
    record = json.loads(Path(path).read_text())
    return None if settings is not None and changed_settings(record["settings"], settings) else record


def save_results(folder: Path, net: nn.Module, history, settings, extra: dict,
                 snapshots: FilterSnapshots | None = None) -> Path:
    """Save a finished run in `folder`: its record as results.json, its weights (and `snapshots`) as model.pt."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict(), "settings": asdict(settings),
                "snapshots": snapshots.state_dict() if snapshots is not None else None}, folder / "model.pt")
    save_record(folder / "results.json", settings, history, **extra)
    return folder


def load_results(run_name: str) -> dict | None:
    """The record `save_results` left in results/<run_name>/, or None."""
    return load_record(results_folder(run_name) / "results.json")
