"""The data and results folders (two settings), and the Fashion-MNIST locator: search order, verification, clear
errors. No test uses the network."""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from d2lhelpers import data
from d2lhelpers.data import IDX_FILES, FashionMNISTError, load_fashion_mnist, prepare_fashion_mnist

SIZES = {"train": 6, "t10k": 4}  # a tiny synthetic data set with the real file names


def test_the_two_folders_are_separate_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "elsewhere" / "fmnist"))
    monkeypatch.delenv("D2L_RESULTS_DIR", raising=False)
    assert data.default_data_dir() == tmp_path / "elsewhere" / "fmnist"
    assert data.default_results_dir() == data.checkout() / "results"  # not beside the data
    monkeypatch.setenv("D2L_RESULTS_DIR", str(tmp_path / "runs"))
    assert data.results_folder("alexnet-cpu") == tmp_path / "runs" / "alexnet-cpu"


def test_without_a_checkout_the_defaults_follow_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("D2L_DATA_DIR", raising=False)
    monkeypatch.delenv("D2L_RESULTS_DIR", raising=False)
    monkeypatch.setattr(data, "checkout", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert data.default_data_dir() == tmp_path.parent / "data"  # the book's ../data
    assert data.default_results_dir() == tmp_path / "results"


@pytest.mark.parametrize("name", ["", "..", "a/b", "a\\b"])
def test_a_run_name_is_one_folder(name):
    with pytest.raises(ValueError, match="one folder name"):
        data.results_folder(name)


def test_display_path_hides_the_checkout_and_home():
    assert data.display_path(data.checkout() / "results" / "x") == str(Path("results") / "x")
    assert data.display_path(Path.home() / "somewhere-else-entirely") == str(Path("~") / "somewhere-else-entirely")


def idx_bytes(kind: str, n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "images":
        header = b"\x00\x00\x08\x03" + b"".join(v.to_bytes(4, "big") for v in (n, 28, 28))
        return header + rng.integers(0, 256, n * 28 * 28, dtype=np.uint8).tobytes()
    header = b"\x00\x00\x08\x01" + n.to_bytes(4, "big")
    return header + rng.integers(0, 10, n, dtype=np.uint8).tobytes()


@pytest.fixture
def synthetic(monkeypatch):
    """File name -> decompressed content, and the matching checksum table; a reader's $FASHION_MNIST_DIR, searched
    first, is set aside so that only the test's own folders are searched."""
    monkeypatch.delenv(data.SOURCE_ENV_VAR, raising=False)
    contents = {}
    for split, n in SIZES.items():
        contents[f"{split}-images-idx3-ubyte"] = idx_bytes("images", n, seed=n)
        contents[f"{split}-labels-idx1-ubyte"] = idx_bytes("labels", n, seed=n + 1)
    checksums = {name: (hashlib.md5(c).hexdigest(), len(c)) for name, c in contents.items()}
    return contents, checksums


def write_source(folder, contents, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return folder


def test_found_verified_and_copied_into_torchvision_layout(tmp_path, synthetic):
    contents, checksums = synthetic
    source = write_source(tmp_path / "debian", contents)
    raw, origin = prepare_fashion_mnist(tmp_path / "data", [tmp_path / "empty", source], False, checksums)
    assert origin == source
    assert raw == tmp_path / "data" / "FashionMNIST" / "raw"
    for name, content in contents.items():
        assert (raw / name).read_bytes() == content  # decompressed, as torchvision expects
    # second call: the cached verification is used, the source is not needed any more
    assert prepare_fashion_mnist(tmp_path / "data", [], False, checksums) == (raw, raw)


def test_search_order_takes_the_first_source(tmp_path, synthetic):
    contents, checksums = synthetic
    first = write_source(tmp_path / "first", contents, compress=False)
    second = write_source(tmp_path / "second", contents)
    _, origin = prepare_fashion_mnist(tmp_path / "data", [first, second], False, checksums)
    assert origin == first


def test_environment_variable_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "mine"))
    sources = data.candidate_sources(tmp_path / "data")
    assert sources[0] == tmp_path / "mine"
    assert sources.index(tmp_path / "data" / "FashionMNIST" / "raw") < sources.index(data.DEBIAN_DIR)
    assert sources[-1] == data.DEBIAN_DIR


def test_nothing_found_names_the_ways_to_get_it(tmp_path, synthetic):
    _, checksums = synthetic
    with pytest.raises(FashionMNISTError) as error:
        prepare_fashion_mnist(tmp_path / "data", [tmp_path / "nowhere"], False, checksums)
    message = str(error.value)
    assert "not found" in message and "nowhere" in message
    assert "apt-get install dataset-fashion-mnist" in message and "FASHION_MNIST_DIR" in message


def test_missing_file_is_named(tmp_path, synthetic):
    contents, checksums = synthetic
    source = write_source(tmp_path / "src", contents)
    (source / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FashionMNISTError, match="missing t10k-labels-idx1-ubyte"):
        prepare_fashion_mnist(tmp_path / "data", [source], False, checksums)
    assert not (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_corrupted_file_gives_a_clear_error(tmp_path, synthetic):
    contents, checksums = synthetic
    source = write_source(tmp_path / "src", contents)
    name = "train-images-idx3-ubyte"
    flipped = bytearray(contents[name])
    flipped[100] ^= 0xFF
    (source / f"{name}.gz").write_bytes(gzip.compress(bytes(flipped)))
    with pytest.raises(FashionMNISTError) as error:
        prepare_fashion_mnist(tmp_path / "data", [source], False, checksums)
    message = str(error.value)
    assert f"{name}.gz is corrupted" in message
    assert checksums[name][0] in message and hashlib.md5(flipped).hexdigest() in message


def test_truncated_gzip_gives_a_clear_error(tmp_path, synthetic):
    contents, checksums = synthetic
    source = write_source(tmp_path / "src", contents)
    path = source / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(FashionMNISTError, match="cannot be read or decompressed.*truncated"):
        prepare_fashion_mnist(tmp_path / "data", [source], False, checksums)


def test_a_file_changed_after_verification_is_checked_again(tmp_path, synthetic):
    contents, checksums = synthetic
    source = write_source(tmp_path / "src", contents)
    raw, _ = prepare_fashion_mnist(tmp_path / "data", [source], False, checksums)
    target = raw / "t10k-images-idx3-ubyte"
    target.write_bytes(target.read_bytes()[:-10])  # truncated in place
    with pytest.raises(FashionMNISTError, match="t10k-images-idx3-ubyte is corrupted or truncated"):
        prepare_fashion_mnist(tmp_path / "data", [raw, source], False, checksums)


def test_loads_tensors_with_the_right_shapes(tmp_path, synthetic):
    contents, checksums = synthetic
    write_source(tmp_path / "data" / "FashionMNIST" / "raw", contents, compress=False)
    loaded = load_fashion_mnist(tmp_path / "data", allow_download=False, checksums=checksums)
    assert loaded.train_images.shape == (6, 28, 28) and loaded.test_images.shape == (4, 28, 28)
    assert loaded.train_images.dtype == torch.uint8 and loaded.train_labels.dtype == torch.int64
    expected = np.frombuffer(contents["train-images-idx3-ubyte"], np.uint8, offset=16).reshape(6, 28, 28)
    assert (loaded.train_images.numpy() == expected).all()
    assert loaded.test_labels.tolist() == list(contents["t10k-labels-idx1-ubyte"][8:])


def real_data_dir():
    """The real data set, prepared by ./course; CI always has it (Debian's package)."""
    try:
        return prepare_fashion_mnist(allow_download=False)[0].parent.parent
    except FashionMNISTError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Fashion-MNIST is not available locally (run ./course setup)")


def test_a_stamp_for_other_checksums_is_not_trusted(tmp_path, synthetic):
    contents, checksums = synthetic
    write_source(tmp_path / "data" / "FashionMNIST" / "raw", contents, compress=False)
    prepare_fashion_mnist(tmp_path / "data", None, False, checksums)
    with pytest.raises(FashionMNISTError, match="corrupted or truncated"):
        prepare_fashion_mnist(tmp_path / "data", [tmp_path / "data" / "FashionMNIST" / "raw"], False)


def test_real_data_set_is_verified_and_loads():
    data_dir = real_data_dir()
    loaded = load_fashion_mnist(data_dir)
    assert loaded.train_images.shape == (60000, 28, 28) and loaded.test_images.shape == (10000, 28, 28)
    assert sorted(loaded.train_labels.bincount().tolist()) == [6000] * 10
    assert sorted(loaded.test_labels.bincount().tolist()) == [1000] * 10
    assert set(IDX_FILES) <= {p.name for p in (data_dir / "FashionMNIST" / "raw").iterdir()}
