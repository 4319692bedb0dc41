"""Fashion-MNIST found offline, verified, and loaded as uint8 tensors.

Introduced in notebook 00 (start here). The four IDX files are looked for, in order, in the folder
named by $FASHION_MNIST_DIR, in the data folder (`paths.default_data_dir()`: the checkout's git-ignored `data/`), and in
/usr/share/datasets/fashion-mnist (Debian's `dataset-fashion-mnist`); torchvision's download comes
last. Files are verified by the MD5 of their *decompressed* content, since Debian recompresses the
.gz files, and copied into torchvision's layout, `data/FashionMNIST/raw/`, so that the book's
`d2l.load_data_fashion_mnist` (which reads `../data` from `notebooks/`) also works offline.

Run `python -m d2lhelpers` to prepare the data and print where it came from (`--offline`: never download).
"""

from __future__ import annotations

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

from d2lhelpers.paths import default_data_dir, display_path

SOURCE_ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# MD5 and size of each decompressed IDX file: the same whatever the source.
IDX_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte": ("f4a8712d7a061bf5bd6d2ca38dc4d50a", 47_040_016),
    "train-labels-idx1-ubyte": ("9018921c3c673c538a1fc5bad174d6f9", 60_008),
    "t10k-images-idx3-ubyte": ("8181f5470baa50b63fa0f6fddb340f0a", 7_840_016),
    "t10k-labels-idx1-ubyte": ("15d484375f8d13e6eb1aabb0c3f46965", 10_008),
}

CLASS_NAMES = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip

_STAMP = ".verified.json"


class FashionMNISTError(RuntimeError):
    """The data set is missing, incomplete or corrupted; the message says what to do."""


class FashionMNIST(NamedTuple):
    """The whole data set as tensors: images uint8 (N, 28, 28), labels int64 (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def raw_folder(data_dir: Path | None = None) -> Path:
    """Where torchvision (and so d2l) expects the decompressed files: data_dir/FashionMNIST/raw."""
    return Path(data_dir or default_data_dir()) / "FashionMNIST" / "raw"


def candidate_sources(data_dir: Path | None = None) -> list[Path]:
    """Folders searched for a copy, in order: $FASHION_MNIST_DIR, the data folder, Debian's."""
    data_dir = Path(data_dir or default_data_dir())
    folders = []
    if os.environ.get(SOURCE_ENV_VAR):
        env_dir = Path(os.environ[SOURCE_ENV_VAR]).expanduser()
        folders += [env_dir, env_dir / "FashionMNIST" / "raw"]
    folders += [raw_folder(data_dir), data_dir, DEBIAN_DIR]
    return folders


def how_to_get_the_data(data_dir: Path | None = None) -> str:
    """The ways to obtain the data set, for error messages."""
    return (
        "Ways to get Fashion-MNIST:\n"
        "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (no internet needed beyond apt)\n"
        f"  - put the four files (.gz or decompressed) in {Path(data_dir or default_data_dir())}\n"
        f"  - or point ${SOURCE_ENV_VAR} at a folder that holds them\n"
        "  - with internet access, they are downloaded automatically by torchvision\n"
        f"Files needed: {', '.join(IDX_FILES)} (each may end in .gz)."
    )


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_decompressed(path: Path, data_dir: Path | None) -> bytes:
    try:
        return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise FashionMNISTError(
            f"{path} cannot be read or decompressed ({error}); it is probably truncated or corrupted.\n"
            f"Delete it and get a fresh copy.\n{how_to_get_the_data(data_dir)}"
        ) from None


def verify_idx(
    name: str, content: bytes, path: Path, checksums: Mapping[str, tuple[str, int]], data_dir: Path | None
) -> None:
    """Raise FashionMNISTError unless `content` has the expected size and MD5."""
    expected_md5, expected_size = checksums[name]
    actual_md5 = hashlib.md5(content).hexdigest()
    if len(content) != expected_size or actual_md5 != expected_md5:
        raise FashionMNISTError(
            f"{path} is corrupted or truncated: its decompressed content has {len(content):,} bytes "
            f"and MD5 {actual_md5}; expected {expected_size:,} bytes and MD5 {expected_md5}.\n"
            f"Delete it and get a fresh copy.\n{how_to_get_the_data(data_dir)}"
        )


def _stamp_entry(path: Path, md5: str) -> list[object]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, md5]


def _stamp_is_current(raw: Path, checksums: Mapping[str, tuple[str, int]]) -> bool:
    """True when every file was verified against these checksums and is unchanged since (size, mtime)."""
    try:
        stamp = json.loads((raw / _STAMP).read_text())
        return all(stamp.get(name) == _stamp_entry(raw / name, md5) for name, (md5, _) in checksums.items())
    except (OSError, ValueError):
        return False


def _write_atomically(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _copy_verified(
    source: Path, raw: Path, checksums: Mapping[str, tuple[str, int]], data_dir: Path | None
) -> None:
    """Verify every file of `source` and write the decompressed copies into `raw`."""
    found = {name: _find(source, name) for name in checksums}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise FashionMNISTError(
            f"{source} holds only part of Fashion-MNIST: missing {', '.join(missing)} "
            f"(looked for each name with and without .gz).\n{how_to_get_the_data(data_dir)}"
        )
    contents = {}
    for name, path in found.items():
        contents[name] = _read_decompressed(path, data_dir)
        verify_idx(name, contents[name], path, checksums, data_dir)
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        target = raw / name
        if found[name] != target:
            _write_atomically(target, content)
    stamp = {name: _stamp_entry(raw / name, md5) for name, (md5, _) in checksums.items()}
    _write_atomically(raw / _STAMP, json.dumps(stamp, indent=1).encode())


def _download(data_dir: Path) -> None:
    import torchvision  # only needed here, and slow to import

    try:
        torchvision.datasets.FashionMNIST(root=str(data_dir), train=True, download=True)
        torchvision.datasets.FashionMNIST(root=str(data_dir), train=False, download=True)
    except Exception as error:  # any network failure: urllib, socket, HTTP errors
        raise FashionMNISTError(
            f"Fashion-MNIST was not found locally and the download failed ({type(error).__name__}: {error}).\n"
            f"Looked in: {', '.join(str(p) for p in candidate_sources(data_dir))}.\n"
            f"{how_to_get_the_data(data_dir)}"
        ) from None


def prepare_fashion_mnist(
    data_dir: Path | None = None,
    sources: Sequence[Path] | None = None,
    allow_download: bool = True,
    checksums: Mapping[str, tuple[str, int]] = IDX_FILES,
) -> tuple[Path, Path]:
    """Make verified, decompressed files available in torchvision's layout.

    Returns (raw folder, the source it came from). The first source holding any of the files is used:
    a partial or corrupted copy there raises FashionMNISTError rather than silently falling through.
    Verification is cached: files unchanged since their last check are not hashed again.
    """
    data_dir = Path(data_dir or default_data_dir())
    raw = raw_folder(data_dir)
    if _stamp_is_current(raw, checksums):
        return raw, raw
    search = list(sources) if sources is not None else candidate_sources(data_dir)
    for source in search:
        if any(_find(source, name) for name in checksums):
            _copy_verified(source, raw, checksums, data_dir)
            return raw, source
    if not allow_download:
        raise FashionMNISTError(
            f"Fashion-MNIST was not found. Looked in: {', '.join(str(p) for p in search)}.\n"
            f"{how_to_get_the_data(data_dir)}"
        )
    _download(data_dir)
    _copy_verified(raw, raw, checksums, data_dir)
    return raw, Path("torchvision download")


def _parse_idx(content: bytes, path: Path) -> np.ndarray:
    """Decode an IDX file of unsigned bytes: a 4-byte magic number, one 4-byte size per axis, data."""
    if len(content) < 4 or content[:3] != b"\x00\x00\x08":
        raise FashionMNISTError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = content[3]
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(content) - offset != int(np.prod(shape)):
        raise FashionMNISTError(f"{path}: header says shape {shape} but the file holds {len(content) - offset} values")
    return np.frombuffer(content, dtype=np.uint8, offset=offset).reshape(shape)


def load_fashion_mnist(
    data_dir: Path | None = None, allow_download: bool = True, checksums: Mapping[str, tuple[str, int]] = IDX_FILES
) -> FashionMNIST:
    """The whole data set as tensors, from verified local files (about 0.1 s once prepared)."""
    raw, _ = prepare_fashion_mnist(data_dir, allow_download=allow_download, checksums=checksums)

    def read(name: str) -> np.ndarray:
        path = raw / name
        return _parse_idx(bytearray(path.read_bytes()), path)  # bytearray: writable, so no copy later

    return FashionMNIST(
        train_images=torch.from_numpy(read("train-images-idx3-ubyte")),
        train_labels=torch.from_numpy(read("train-labels-idx1-ubyte").astype(np.int64)),
        test_images=torch.from_numpy(read("t10k-images-idx3-ubyte")),
        test_labels=torch.from_numpy(read("t10k-labels-idx1-ubyte").astype(np.int64)),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: prepare the data and say where it came from (--offline: never download)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m d2lhelpers", description="Find, verify and copy Fashion-MNIST.")
    parser.add_argument("--offline", action="store_true", help="fail instead of downloading")
    args = parser.parse_args(argv)
    try:
        raw, source = prepare_fashion_mnist(allow_download=not args.offline)
    except FashionMNISTError as error:
        raise SystemExit(f"error: {error}") from None
    origin = "already verified" if source == raw else f"verified and copied from {source}"
    print(f"Fashion-MNIST ready in {raw} ({origin})")
