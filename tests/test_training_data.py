"""Data loading: tiny files in the exact official formats, read back through the real code."""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from msanalysis.training.data import (
    DEBIAN_DATA_ROOT,
    DataError,
    batch_indices,
    crop_flip,
    draw_crop_flip,
    epoch_generator,
    eval_batches,
    find_dataset,
    load_dataset,
    read_idx,
)


@pytest.fixture
def write_mnist_like(write_idx):
    """``write_mnist_like(folder, n_train=12, n_test=5, gz=True, seed=0)``: random IDX files."""
    return functools.partial(_write_mnist_like, write_idx)


def _write_mnist_like(
    write_idx, folder: Path, *, n_train: int = 12, n_test: int = 5, gz: bool = True, seed: int = 0
) -> dict:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


def write_cifar(folder: Path, *, n: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, n).tolist(),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
        batches[name] = batch
    return batches


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_round_trip(write_mnist_like, tmp_path, gz):
    arrays = write_mnist_like(tmp_path / "mnist", gz=gz)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        data = load_dataset("mnist", split, data_dir=tmp_path)
        images, labels = arrays[prefix]
        assert data.images.dtype == torch.uint8 and data.images.shape == (len(labels), 1, 28, 28)
        assert data.labels.dtype == torch.int64
        np.testing.assert_array_equal(data.images[:, 0].numpy(), images)
        np.testing.assert_array_equal(data.labels.numpy(), labels)


def test_limit_keeps_the_first_samples(write_mnist_like, tmp_path):
    arrays = write_mnist_like(tmp_path / "fashion-mnist")
    data = load_dataset("fashion-mnist", "train", data_dir=tmp_path, limit=3)
    np.testing.assert_array_equal(data.labels.numpy(), arrays["train"][1][:3])


def test_cifar_pickles_are_rgb_planes(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    train = load_dataset("cifar10", "train", data_dir=tmp_path)
    assert train.images.shape == (20, 3, 32, 32) and len(train) == 20
    raw = batches["data_batch_2"][b"data"][1]  # the 6th training image
    # Pixel (channel c, row y, column x) is byte c*1024 + y*32 + x of the row.
    for c, y, x in [(0, 0, 0), (1, 5, 7), (2, 31, 30)]:
        assert train.images[5, c, y, x] == raw[c * 1024 + y * 32 + x]
    test = load_dataset("cifar10", "test", data_dir=tmp_path)
    assert test.labels.tolist() == batches["test_batch"][b"labels"]


def test_cifar_refuses_pickles_that_call_functions(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DataError, match="test_batch.*builtins.print"):
        load_dataset("cifar10", "test", data_dir=tmp_path)


def test_cifar_wrong_shape(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder)
    (folder / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    )
    with pytest.raises(DataError, match=r"test_batch: b'data' must be a uint8 array \(N, 3072\)"):
        load_dataset("cifar10", "test", data_dir=tmp_path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda raw: raw[:-10], "truncated: .* expected"),
        (lambda raw: raw + b"\0", "has trailing bytes"),
        (lambda raw: raw[:6], "truncated IDX header"),
        (
            lambda raw: bytes([0, 0, 8, 1]) + raw[4:],
            "magic number is 0x00000801, expected 0x00000803",
        ),
    ],
)
def test_damaged_idx_files_name_the_file_and_the_fault(write_mnist_like, tmp_path, damage, message):
    folder = tmp_path / "mnist"
    write_mnist_like(folder, gz=False)
    path = folder / "t10k-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=f"t10k-images-idx3-ubyte: .*{message}"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_truncated_gzip(write_mnist_like, tmp_path):
    folder = tmp_path / "mnist"
    write_mnist_like(folder)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: damaged gzip file"):
        load_dataset("mnist", "train", data_dir=tmp_path)


def test_label_count_and_range_are_checked(write_idx, write_mnist_like, tmp_path):
    folder = tmp_path / "mnist"
    write_mnist_like(folder, n_test=5)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="5 images but 4 labels"):
        load_dataset("mnist", "test", data_dir=tmp_path)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.full(5, 10, np.uint8))
    with pytest.raises(DataError, match=r"labels must lie in \[0, 10\)"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_missing_data_says_what_where_and_how(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", "train", data_dir=tmp_path)
    text = str(err.value)
    assert (
        "data_batch_1" in text
        and str(tmp_path / "cifar-10-batches-py") in text
        and "cifar-10-python.tar.gz" in text
    )
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.*mnist.*MNIST IDX files"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_a_named_root_is_the_only_one_looked_in(write_mnist_like, tmp_path, monkeypatch):
    """--data-dir (or $MSANALYSIS_DATA_DIR) that lacks the data is an error, never a silent
    fall back to /usr/share/datasets (which holds Fashion-MNIST on a Debian machine)."""
    monkeypatch.delenv("MSANALYSIS_DATA_DIR", raising=False)
    with pytest.raises(DataError, match=f"data root {tmp_path / 'nowhere'} .*does not exist"):
        load_dataset("fashion-mnist", "test", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist", "test", data_dir=tmp_path)
    assert str(tmp_path / "fashion-mnist") in str(err.value)
    assert str(DEBIAN_DATA_ROOT) not in str(err.value).split("; ")[0]
    monkeypatch.setenv("MSANALYSIS_DATA_DIR", str(tmp_path / "unset"))
    with pytest.raises(DataError, match=r"from \$MSANALYSIS_DATA_DIR\) does not exist"):
        load_dataset("fashion-mnist", "test")
    write_mnist_like(tmp_path / "fashion-mnist")
    assert find_dataset("fashion-mnist", "test", data_dir=tmp_path) == tmp_path / "fashion-mnist"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        load_dataset("svhn", "train")
    with pytest.raises(ValueError, match="split must be"):
        load_dataset("mnist", "val")


def test_idx_reader_rejects_a_label_file_read_as_images(write_idx, tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.arange(3, dtype=np.uint8))
    with pytest.raises(DataError, match="expected 0x00000803"):
        read_idx(path, magic=0x803)


@pytest.mark.skipif(
    not (DEBIAN_DATA_ROOT / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").exists(),
    reason="Debian's Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_test_split(monkeypatch):
    monkeypatch.delenv("MSANALYSIS_DATA_DIR", raising=False)
    data = load_dataset("fashion-mnist", "test")
    assert data.images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(data.labels).tolist() == [1000] * 10  # the test split is balanced
    assert data.images.max() == 255 and data.images.min() == 0


# ------------------------------------------------------------------------------ batches


def test_batches_are_a_permutation_fixed_by_seed_and_epoch():
    def epoch(seed, e):
        return [b for b, _ in batch_indices(10, batch_size=4, seed=seed, epoch=e)]

    batches = epoch(0, 3)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert all(torch.equal(a, b) for a, b in zip(batches, epoch(0, 3), strict=True))
    assert not torch.equal(torch.cat(batches), torch.cat(epoch(0, 4)))
    assert not torch.equal(torch.cat(epoch(1, 0)), torch.cat(epoch(0, 1)))  # no seed+epoch aliasing


def test_processes_share_each_global_batch():
    whole = list(batch_indices(11, batch_size=4, seed=5, epoch=2))
    parts = [
        list(batch_indices(11, batch_size=4, seed=5, epoch=2, rank=r, world_size=2))
        for r in range(2)
    ]
    assert len(parts[0]) == len(parts[1]) == 3
    for (full, size), (a, size_a), (b, size_b) in zip(whole, *parts, strict=True):
        assert size == size_a == size_b == len(full)
        assert sorted(torch.cat([a, b]).tolist()) == sorted(full.tolist())
    # A last batch smaller than the number of processes is dropped (9 = 4+4+1 over 3 processes).
    assert len(list(batch_indices(9, batch_size=4, seed=0, epoch=0, rank=2, world_size=3))) == 2
    assert len(list(batch_indices(9, batch_size=4, seed=0, epoch=0, drop_last=True))) == 2


@pytest.mark.parametrize("n,world_size", [(7, 2), (3, 4), (1, 3), (8, 1)])
def test_eval_batches_cover_each_image_once_in_one_shape(n, world_size):
    """Every process gets the same number of batches of one size (n < processes included)."""
    plans = [
        eval_batches(n, batch_size=2, rank=r, world_size=world_size) for r in range(world_size)
    ]
    assert len({len(plan) for plan in plans}) == 1
    assert len({len(idx) for plan in plans for idx, _ in plan}) == 1
    real = [int(i) for plan in plans for idx, valid in plan for i in idx[:valid]]
    assert sorted(real) == list(range(n))


def test_crop_flip_matches_a_per_image_reference():
    images = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    offsets, flip = draw_crop_flip(6, generator=epoch_generator(0, 0, 1), padding=2)
    out = crop_flip(images, offsets, flip, padding=2)
    for i in range(6):
        padded = np.pad(images[i].numpy(), ((0, 0), (2, 2), (2, 2)))
        dy, dx = offsets[i].tolist()
        crop = padded[:, dy : dy + 8, dx : dx + 8]
        np.testing.assert_array_equal(out[i].numpy(), crop[:, :, ::-1] if flip[i] else crop)
    assert offsets.min() >= 0 and offsets.max() <= 4
