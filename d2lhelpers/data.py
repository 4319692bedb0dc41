"""The data and results folders; Fashion-MNIST found offline, MD5-verified, copied where torchvision reads it (00)."""

import contextlib
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

SOURCE_ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_RAW = Path("FashionMNIST", "raw")  # inside a data folder, where torchvision and d2l read the files

IDX_FILES: dict[str, tuple[str, int]] = {  # MD5 and size of each decompressed IDX file, the same whatever the source
    "train-images-idx3-ubyte": ("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47_040_016),
    "train-labels-idx1-ubyte": ("9018921c3c673c538a1fc5bad174d6f9", 60_008),
    "t10k-images-idx3-ubyte": ("8181f5470baa50b63fa0f6fddb340f0a", 7_840_016),
    "t10k-labels-idx1-ubyte": ("15d484375f8d13e6eb1aabb0c3f46965", 10_008),
}
Checksums = Mapping[str, tuple[str, int]]

CLASS_NAMES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")

_STAMP = ".verified.json"  # size, mtime and MD5 of each verified file: unchanged files are not hashed again
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def checkout() -> Path | None:
    """The repository the package was installed from (editable install), or None for a plain install."""
    return _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").is_file() else None


def _setting(env_var: str, folder: str, fallback: Path) -> Path:
    if value := os.environ.get(env_var):
        return Path(value).expanduser()
    return fallback if (root := checkout()) is None else root / folder


def default_data_dir() -> Path:
    """$D2L_DATA_DIR, else the checkout's `data/`, else `../data` (the book's layout, seen from notebooks/)."""
    return _setting("D2L_DATA_DIR", "data", Path.cwd().parent / "data")


def default_results_dir() -> Path:
    """$D2L_RESULTS_DIR, else the checkout's `results/`, else `./results`."""
    return _setting("D2L_RESULTS_DIR", "results", Path.cwd() / "results")


def results_folder(run_name: str) -> Path:
    """Where one run keeps its checkpoint, weights and summary: <results dir>/<run_name>."""
    if not run_name or any(sep in run_name for sep in "/\\") or run_name in {".", ".."}:
        raise ValueError(f"a run name is one folder name, got {run_name!r}")
    return default_results_dir() / run_name


def display_path(path: Path | str) -> str:
    """`path` relative to the checkout when inside it, else with the home folder written ~."""
    path = Path(os.path.abspath(path))  # keep symbolic links: .venv/bin/python, not its target
    for base, shown in ((checkout(), ""), (Path.home(), "~")):
        if base is not None and path.is_relative_to(base):
            return str(Path(shown, path.relative_to(base)))
    return str(path)


class FashionMNISTError(RuntimeError):
    """The data set is missing, incomplete or corrupted; the message says what to do."""


class FashionMNIST(NamedTuple):
    """The whole data set as tensors: images uint8 (N, 28, 28), labels int64 (N,)."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def candidate_sources(data_dir: Path) -> list[Path]:
    """Folders searched for a copy, in order: $FASHION_MNIST_DIR, the data folder, Debian's."""
    own = Path(os.environ[SOURCE_ENV_VAR]).expanduser() if os.environ.get(SOURCE_ENV_VAR) else None
    return ([own, own / TORCHVISION_RAW] if own else []) + [data_dir / TORCHVISION_RAW, data_dir, DEBIAN_DIR]


def _error(message: str, data_dir: Path) -> FashionMNISTError:
    return FashionMNISTError(f"{message}\nWays to get Fashion-MNIST:\n"
                             "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (no internet needed beyond apt)\n"
                             f"  - put the four files (.gz or decompressed) in {data_dir}\n"
                             f"  - or point ${SOURCE_ENV_VAR} at a folder that holds them\n"
                             "  - with internet access, they are downloaded automatically by torchvision\n"
                             f"Files needed: {', '.join(IDX_FILES)} (each may end in .gz).")


def _find(folder: Path, name: str) -> Path | None:
    return next((path for path in (folder / name, folder / f"{name}.gz") if path.is_file()), None)


def _verified(path: Path, expected: tuple[str, int], data_dir: Path) -> bytes:
    try:
        content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise _error(f"{path} cannot be read or decompressed ({error}); it is probably truncated or corrupted.\n"
                     "Delete it and get a fresh copy.", data_dir) from None
    (md5, size), actual_md5 = expected, hashlib.md5(content).hexdigest()
    if len(content) != size or actual_md5 != md5:
        raise _error(f"{path} is corrupted or truncated: its decompressed content has {len(content):,} bytes "
                     f"and MD5 {actual_md5}; expected {size:,} bytes and MD5 {md5}.\n"
                     "Delete it and get a fresh copy.", data_dir)
    return content


def _stamp(raw: Path, checksums: Checksums) -> dict[str, list[object]]:
    return {name: [(raw / name).stat().st_size, (raw / name).stat().st_mtime_ns, md5]
            for name, (md5, _) in checksums.items()}


def _copy_verified(source: Path, raw: Path, checksums: Checksums, data_dir: Path) -> None:
    found = {name: _find(source, name) for name in checksums}
    if missing := [name for name, path in found.items() if path is None]:
        raise _error(f"{source} holds only part of Fashion-MNIST: missing {', '.join(missing)} "
                     "(looked for each name with and without .gz).", data_dir)
    contents = {name: _verified(path, checksums[name], data_dir) for name, path in found.items()}
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if found[name] != raw / name:  # written whole or not at all: a half-written file would be found next time
            (raw / f"{name}.part").write_bytes(content)
            os.replace(raw / f"{name}.part", raw / name)
    (raw / _STAMP).write_text(json.dumps(_stamp(raw, checksums), indent=1))  # written last: it vouches for the files


def prepare_fashion_mnist(data_dir: Path | None = None, sources: Sequence[Path] | None = None,
                          allow_download: bool = True, checksums: Checksums = IDX_FILES) -> tuple[Path, Path]:
    """Verified, decompressed files in torchvision's layout: (raw folder, the source used). The first source holding
    any of the files is used; a partial or corrupted copy there raises FashionMNISTError."""
    data_dir = Path(data_dir or default_data_dir())
    raw = data_dir / TORCHVISION_RAW
    with contextlib.suppress(OSError, ValueError):  # no stamp, or one for other files or checksums: verify again
        if json.loads((raw / _STAMP).read_text()) == _stamp(raw, checksums):
            return raw, raw
    search = list(sources) if sources is not None else candidate_sources(data_dir)
    for source in search:
        if any(_find(source, name) for name in checksums):
            _copy_verified(source, raw, checksums, data_dir)
            return raw, source
    looked = f"Looked in: {', '.join(str(p) for p in search)}."
    if not allow_download:
        raise _error(f"Fashion-MNIST was not found. {looked}", data_dir)
    import torchvision  # slow to import, and only needed to download

    try:
        for train in (True, False):
            torchvision.datasets.FashionMNIST(root=str(data_dir), train=train, download=True)
    except Exception as error:  # any network failure: urllib, socket, HTTP errors
        raise _error(f"Fashion-MNIST was not found locally and the download failed ({type(error).__name__}: {error}).\n"
                     f"{looked}", data_dir) from None
    _copy_verified(raw, raw, checksums, data_dir)
    return raw, Path("torchvision download")


def load_fashion_mnist(data_dir: Path | None = None, allow_download: bool = True,
                       checksums: Checksums = IDX_FILES) -> FashionMNIST:
    """The whole data set as tensors, from verified local files (about 0.1 s once prepared)."""
    raw, _ = prepare_fashion_mnist(data_dir, allow_download=allow_download, checksums=checksums)

    def read(name: str, dtype: type = np.uint8) -> torch.Tensor:  # IDX: a 4-byte magic, a 4-byte size per axis, data
        content = bytearray((raw / name).read_bytes())  # writable, so no copy later
        shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(content[3])]
        array = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * len(shape)).reshape(shape)
        return torch.from_numpy(array.astype(dtype, copy=False))

    return FashionMNIST(read("train-images-idx3-ubyte"), read("train-labels-idx1-ubyte", np.int64),
                        read("t10k-images-idx3-ubyte"), read("t10k-labels-idx1-ubyte", np.int64))
