"""Checkpoints and run records: a run that is interrupted, or runs out of memory, keeps its history and resumes.

Introduced in notebook 05 (training AlexNet). A checkpoint holds the weights, the optimizer's and the
loss scaler's state, the settings, the history and the random generators' states (CPU and CUDA), written
atomically after every epoch. A finished run also leaves `model.pt` and `results.json` for later notebooks.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from d2lhelpers.paths import display_path, results_folder


class TrainingError(RuntimeError):
    """A run that cannot go on: out of memory, or a checkpoint that does not fit; the message says why."""


def out_of_memory_error(error: BaseException, settings, device: torch.device, history=None,
                        checkpoint: Path | None = None) -> TrainingError:
    """The book's advice, as an error: a smaller batch or smaller images (the `settings`' batch_size and
    image_size); it carries the training history so far, kept in `checkpoint`."""
    kept = ""
    if history is not None and history.epochs:
        kept = f" The {len(history.epochs)} finished epoch(s) are kept" + (
            f" in {display_path(checkpoint)}; the next run resumes from there." if checkpoint else ".")
    oom = TrainingError(
        f"Out of memory on {device} with batch_size={settings.batch_size} and image_size={settings.image_size}. "
        f"Try batch_size={max(1, settings.batch_size // 2)}, or a smaller image_size (the smallest AlexNet "
        f"accepts is 65), or the `cpu` profile.{kept} ({type(error).__name__}: {str(error).splitlines()[0]})"
    )
    oom.history = history
    return oom


def check_state_fits(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise TrainingError naming the first difference when `state` was saved from another architecture."""
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise TrainingError(
            f"{source} was saved from a different architecture: "
            f"missing {missing[:3]}, unexpected {unexpected[:3]}. Build the same model, or delete the file to start afresh."
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise TrainingError(
                f"{source} does not fit this model: {name} has shape {tuple(tensor.shape)} in the file and "
                f"{tuple(own[name].shape)} here (a different image_size or number of classes?). "
                f"Build the model it was saved from, or delete the file to start afresh."
            )


def rng_states() -> dict[str, object]:
    """The states of the random generators a run draws from: the CPU's and, when initialised, every CUDA GPU's."""
    states: dict[str, object] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, object] | torch.Tensor) -> None:
    """Put the generators back as `rng_states` saw them (a bare tensor: an older checkpoint's CPU state)."""
    if isinstance(states, torch.Tensor):
        states = {"cpu": states}
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, net: nn.Module, optimizer: torch.optim.Optimizer, settings, history,
                    scaler: torch.amp.GradScaler | None = None, snapshots=None) -> None:
    """Write the state after an epoch atomically (a crash mid-write never leaves a broken file), with the
    filters kept so far when there are `snapshots` (a `snapshots.FilterSnapshots`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "settings": asdict(settings),
        "history": asdict(history),
        "rng": rng_states(),
        "snapshots": snapshots.state_dict() if snapshots is not None else None,
    }
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, net: nn.Module, settings=None) -> dict:
    """Load a checkpoint's weights into `net` after checking that they fit (and, when `settings` are
    given, that they come from a run with the same settings); returns the whole checkpoint."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if settings is not None and checkpoint["settings"] != asdict(settings):
        now = asdict(settings)
        changed = {k: (checkpoint["settings"].get(k), now.get(k)) for k in now.keys() | checkpoint["settings"].keys()
                   if checkpoint["settings"].get(k) != now.get(k)}
        raise TrainingError(
            f"{path} comes from a run with other settings (saved, now): {dict(sorted(changed.items()))}. "
            f"Delete it to start afresh, or pass checkpoint=None."
        )
    check_state_fits(net, checkpoint["model"], str(path))
    net.load_state_dict(checkpoint["model"])
    return checkpoint


def save_results(folder: Path, net: nn.Module, history, settings, extra: dict, snapshots=None) -> Path:
    """Save the trained weights (and the `snapshots` of its filters, if any) and a JSON summary that later notebooks read."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kept = snapshots.state_dict() if snapshots is not None else None
    torch.save({"model": net.state_dict(), "settings": asdict(settings), "snapshots": kept}, folder / "model.pt")
    summary = {"settings": asdict(settings), "history": asdict(history), **extra}
    (folder / "results.json").write_text(json.dumps(summary, indent=1))
    return folder


def load_results(run_name: str) -> dict | None:
    """The summary a finished run saved with `save_results` (<results dir>/<run_name>/results.json), or None."""
    path = results_folder(run_name) / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None
