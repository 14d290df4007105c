"""Image data sets read from their official files, kept as uint8 tensors, batched by index.

Three data sets, read from local files only (nothing is downloaded):

* ``fashion-mnist`` and ``mnist``: the IDX files (``train-images-idx3-ubyte`` ...), gzipped or
  raw, in ``ROOT/fashion-mnist`` or ``ROOT/mnist``;
* ``cifar10``: the official python pickles in ``ROOT/cifar-10-batches-py``.

``ROOT`` is ``--data-dir``, else ``$MSANALYSIS_DATA_DIR``, else Debian's ``/usr/share/datasets``
(package ``dataset-fashion-mnist``). A root that is named is the only one looked in: a folder
that does not exist, or lacks the files, is an error, never a silent fall back to another.
:func:`find_dataset` says which folder a split is read from.

Images stay uint8 (N, C, H, W) in memory (a quarter of float32) and become floats in [0, 1]
one batch at a time, on the device. Every random choice (shuffling, augmentation) comes from
a generator seeded by (seed, epoch, stream), so an epoch's batches are a function of the seed
and the epoch number alone: a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import pickle
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..registry import lookup

__all__ = [
    "DataError",
    "ImageData",
    "DatasetSpec",
    "DATASETS",
    "DEBIAN_DATA_ROOT",
    "find_dataset",
    "load_dataset",
    "read_idx",
    "read_cifar_batch",
    "epoch_generator",
    "batch_indices",
    "eval_batches",
    "draw_crop_flip",
    "crop_flip",
    "to_float",
]

DEBIAN_DATA_ROOT = Path("/usr/share/datasets")
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (N, rows, cols)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (N,)


class DataError(InputError):
    """A data set is missing, truncated or not in the expected format (exit status 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the quoted error says


@dataclass(frozen=True)
class ImageData:
    """One split of an image data set.

    Attributes:
      images: uint8 tensor (N, C, H, W).
      labels: int64 tensor (N,), values in [0, num_classes).
      num_classes: number of classes.
      name: data set name, e.g. ``"fashion-mnist"``.
      split: ``"train"`` or ``"test"``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str
    split: str

    def __len__(self) -> int:
        return self.labels.shape[0]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def to(self, device: torch.device) -> ImageData:
        """A copy on ``device`` (through pinned memory when it is a GPU)."""
        images, labels = self.images, self.labels
        if device.type == "cuda":
            images, labels = images.pin_memory(), labels.pin_memory()
        return ImageData(
            images.to(device, non_blocking=True),
            labels.to(device, non_blocking=True),
            self.num_classes,
            self.name,
            self.split,
        )


# --------------------------------------------------------------------------------------
# File formats
# --------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the name ends in .gz; damage is a DataError."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"{path}: damaged gzip file ({err}); fetch the file again") from None


def read_idx(path: str | os.PathLike, *, magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the MNIST format), checking it fully.

    Format: a big-endian uint32 magic number 0x000008DD (0x08 = unsigned byte, DD = number
    of dimensions), DD big-endian uint32 sizes, then the bytes in row-major order.

    Args:
      path: the file, gzipped if its name ends in ``.gz``.
      magic: the expected magic number (0x00000803 for images, 0x00000801 for labels).

    Returns:
      A uint8 array with the file's dimensions.

    Raises:
      DataError: wrong magic number, truncated header or data, or trailing bytes.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{path}: IDX magic number is {found:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(shape)  # Python ints: np.prod wraps at 2**63
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DataError(
            f"{path}: IDX data {what}: {len(raw)} bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR batches: dicts, lists, bytes and numpy arrays, nothing callable."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")
        return super().find_class(module, name)


# What unpickling arbitrary bytes raises (tests/test_fuzz.py draws them): opcodes with missing
# operands (IndexError, KeyError), lengths past the end or past the address space (OverflowError).
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    MemoryError,
    RecursionError,
)


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (a pickled dict with b'data' and b'labels').

    Args:
      path: e.g. ``cifar-10-batches-py/data_batch_1``.

    Returns:
      images uint8 (N, 3, 32, 32) (the rows of b'data' are the R, G, B planes, row-major),
      labels int64 (N,).

    Raises:
      DataError: not a readable pickle, missing keys, or wrong shapes or types.
    """
    path = Path(path)
    try:
        # From memory: a length field read from a file makes the unpickler allocate that length.
        batch = _CifarUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except _UNPICKLING_ERRORS as err:
        raise DataError(
            f"{path}: not a CIFAR-10 python batch ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{path}: a CIFAR-10 batch is a dict with keys b'data' and b'labels'")
    data, labels = batch[b"data"], np.asarray(batch[b"labels"], dtype=np.int64)
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
    ):
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: b'data' must be a uint8 array (N, 3072), got {got}")
    if labels.shape != (data.shape[0],):
        raise DataError(f"{path}: {data.shape[0]} images but {labels.shape[0]} labels")
    return data.reshape(-1, 3, 32, 32), labels


# --------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------


def _load_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(_idx_file(folder, f"{prefix}-images-idx3-ubyte"), magic=IDX_IMAGES_MAGIC)
    labels = read_idx(_idx_file(folder, f"{prefix}-labels-idx1-ubyte"), magic=IDX_LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{folder}: {split} split has {images.shape[0]} images but {labels.shape[0]} labels"
        )
    return images[:, None], labels.astype(np.int64)


def _idx_file(folder: Path, stem: str) -> Path:
    gz = folder / f"{stem}.gz"
    return gz if gz.exists() else folder / stem


def _load_cifar_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    parts = [read_cifar_batch(folder / name) for name in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _has_idx(folder: Path, split: str) -> bool:
    prefix = "train" if split == "train" else "t10k"
    kinds = ("images-idx3", "labels-idx1")
    return all(_idx_file(folder, f"{prefix}-{k}-ubyte").exists() for k in kinds)


def _has_cifar(folder: Path, split: str) -> bool:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    return all((folder / n).exists() for n in names)


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set lives, its files, its shape and how to get it."""

    name: str
    folder: str  # sub-folder of the data root
    shape: tuple[int, int, int]  # (C, H, W)
    num_classes: int
    files: str  # the expected files, for error messages
    howto: str  # how to get them
    present: Callable[[Path, str], bool]
    read: Callable[[Path, str], tuple[np.ndarray, np.ndarray]]


_IDX_FILES = (
    "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte (each .gz or raw)"
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "fashion-mnist",
            "fashion-mnist",
            (1, 28, 28),
            10,
            _IDX_FILES,
            "`apt-get install dataset-fashion-mnist` puts them in "
            "/usr/share/datasets/fashion-mnist",
            _has_idx,
            _load_idx_split,
        ),
        DatasetSpec(
            "mnist",
            "mnist",
            (1, 28, 28),
            10,
            _IDX_FILES,
            "copy the four MNIST IDX files (Y. LeCun's MNIST database) into that folder",
            _has_idx,
            _load_idx_split,
        ),
        DatasetSpec(
            "cifar10",
            "cifar-10-batches-py",
            (3, 32, 32),
            10,
            "data_batch_1 ... data_batch_5, test_batch",
            "extract https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz into the data root "
            "(`tar xzf cifar-10-python.tar.gz -C ROOT`)",
            _has_cifar,
            _load_cifar_split,
        ),
    )
}


def _data_root(data_dir: str | os.PathLike | None) -> tuple[Path, str]:
    """(root, how it was chosen): ``data_dir``, else $MSANALYSIS_DATA_DIR, else Debian's."""
    if data_dir is not None:
        return Path(data_dir), "--data-dir"
    env = os.environ.get("MSANALYSIS_DATA_DIR")
    if env:
        return Path(env), "$MSANALYSIS_DATA_DIR"
    return DEBIAN_DATA_ROOT, "the default root"


def find_dataset(name: str, split: str, *, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder that :func:`load_dataset` reads ``name``'s ``split`` from.

    Args:
      name: ``"fashion-mnist"``, ``"mnist"`` or ``"cifar10"``.
      split: ``"train"`` or ``"test"``.
      data_dir: the data root; None: ``$MSANALYSIS_DATA_DIR``, else ``/usr/share/datasets``.
        A root that is named is the only one looked in (no fall back to the default).

    Returns:
      ``ROOT/<the data set's sub-folder>``, holding the split's files.

    Raises:
      ValueError: unknown name or split.
      DataError: the root is not a folder, or the files are missing (the message says which,
        where, and how to get them).
    """
    spec = lookup(DATASETS, name, kind="dataset")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root, chosen_by = _data_root(data_dir)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DataError(f"data root {root} (from {chosen_by}) {what}")
    folder = root / spec.folder
    if not spec.present(folder, split):
        raise DataError(
            f"{name} ({split}) not found: expected {spec.files} in {folder}; {spec.howto} "
            "(set the root with --data-dir or MSANALYSIS_DATA_DIR)"
        )
    return folder


def load_dataset(
    name: str, split: str, *, data_dir: str | os.PathLike | None = None, limit: int | None = None
) -> ImageData:
    """Load one split of a data set from its official files.

    Args:
      name: ``"fashion-mnist"``, ``"mnist"`` or ``"cifar10"``.
      split: ``"train"`` or ``"test"``.
      data_dir: the data root holding ``fashion-mnist/``, ``mnist/`` or
        ``cifar-10-batches-py/``; None: ``$MSANALYSIS_DATA_DIR``, else ``/usr/share/datasets``
        (see :func:`find_dataset`).
      limit: keep only the first ``limit`` samples (small CPU runs); None keeps all.

    Returns:
      The split, images uint8 (N, C, H, W), labels int64 (N,).

    Raises:
      ValueError: unknown name or split, or limit < 1.
      DataError: root or files missing (see :func:`find_dataset`) or damaged.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit}")
    folder = find_dataset(name, split, data_dir=data_dir)
    spec = DATASETS[name]
    images, labels = spec.read(folder, split)
    if images.shape[1:] != spec.shape:
        raise DataError(f"{folder}: {name} images must be {spec.shape}, got {images.shape[1:]}")
    if labels.size and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise DataError(
            f"{folder}: {split} labels must lie in [0, {spec.num_classes}), "
            f"found {labels.min()}..{labels.max()}"
        )
    images, labels = images[:limit], labels[:limit]
    return ImageData(
        torch.from_numpy(images.copy()),
        torch.from_numpy(labels.copy()),
        spec.num_classes,
        name,
        split,
    )


# --------------------------------------------------------------------------------------
# Batches and augmentation
# --------------------------------------------------------------------------------------


def epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    """A CPU generator that depends on (seed, epoch, stream) only.

    The three numbers go through numpy's SeedSequence, so nearby seeds and epochs give
    unrelated streams (seed + epoch, as in DistributedSampler, would make seed 0 epoch 1
    equal seed 1 epoch 0). Stream 0 shuffles, stream 1 augments.
    """
    state = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def batch_indices(
    n: int,
    *,
    batch_size: int,
    seed: int,
    epoch: int,
    rank: int = 0,
    world_size: int = 1,
    drop_last: bool = False,
    device: torch.device | str = "cpu",
) -> Iterator[tuple[torch.Tensor, int]]:
    """One epoch's shuffled batches of range(n), for process ``rank`` of ``world_size``.

    The epoch's permutation is a function of (seed, epoch). It is cut into global batches of
    ``batch_size``; process ``rank`` takes every ``world_size``-th element of each (like
    DistributedSampler, per batch), so the processes together see each global batch once and
    a single process sees all of it. With several processes, a last batch smaller than
    ``world_size`` is dropped (some process would get nothing); with ``drop_last`` any last
    batch smaller than ``batch_size`` is (so that every step has one shape: torch.compile).

    The permutation is drawn on the CPU (the same numbers on every device) and copied to
    ``device`` once; the batches are views of it, so an epoch costs one host-to-device copy.

    Yields:
      (indices, global_size): this process's int64 indices on ``device``, and the global
      batch's size (to weight this process's mean loss so that the gradient is the global
      mean's).
    """
    if batch_size < world_size:
        raise ValueError(
            f"batch_size ({batch_size}) must be >= the number of processes ({world_size})"
        )
    order = torch.randperm(n, generator=epoch_generator(seed, epoch, 0)).to(device)
    smallest = batch_size if drop_last else world_size
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        if len(batch) >= smallest:
            yield batch[rank::world_size], len(batch)


def eval_batches(
    n: int,
    *,
    batch_size: int,
    rank: int = 0,
    world_size: int = 1,
    device: torch.device | str = "cpu",
) -> list[tuple[torch.Tensor, int]]:
    """Process ``rank``'s share of range(n) in batches of one shape, nothing dropped.

    Every process gets the same number of batches, each of exactly ``min(batch_size, share)``
    indices (share = ceil(n / world_size)): a batch is padded at its end with index 0, and
    ``valid`` says how many of its first indices are real. So every process runs the same
    forward passes (no process waits for one that has nothing to do, even with n <
    world_size) and a compiled model sees one shape.

    Returns:
      [(indices on ``device``, valid)], valid in [0, len(indices)].
    """
    share = -(-n // world_size)
    size = max(1, min(batch_size, share))
    mine = torch.arange(rank, max(rank, n), world_size)  # empty when rank >= n
    padded = torch.zeros(-(-share // size) * size, dtype=torch.long)
    padded[: len(mine)] = mine
    padded = padded.to(device)
    return [
        (padded[start : start + size], max(0, min(size, len(mine) - start)))
        for start in range(0, len(padded), size)
    ]


def draw_crop_flip(
    n: int, *, generator: torch.Generator, padding: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crop offsets (n, 2) in [0, 2 * padding] and flip flags (n,) for n images.

    Drawn for a whole epoch, one row per image index, so an image's augmentation does not
    depend on the batch it lands in or on the number of processes.
    """
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator)
    return offsets, torch.rand(n, generator=generator) < 0.5


def crop_flip(
    images: torch.Tensor, offsets: torch.Tensor, flip: torch.Tensor, *, padding: int = 4
) -> torch.Tensor:
    """Crop after zero padding, then flip horizontally, each image of a batch (CIFAR style).

    Batched gathers, so it runs on the batch's device (GPU included).

    Args:
      images: (N, C, H, W), any dtype (uint8 is cheapest).
      offsets: (N, 2) int (row, column) of each crop's corner in the padded image,
        in [0, 2 * padding] (see :func:`draw_crop_flip`).
      flip: (N,) bool, which images to mirror.
      padding: pixels of zero padding on each side; the crops are H x W.

    Returns:
      A tensor like ``images``.
    """
    n, c, h, w = images.shape
    offsets, flip = offsets.to(images.device), flip.to(images.device)
    padded = F.pad(images, (padding,) * 4)
    rows = (offsets[:, :1] + torch.arange(h, device=images.device)).view(n, 1, h, 1)
    out = padded.gather(2, rows.expand(-1, c, -1, padded.shape[3]))
    cols = (offsets[:, 1:] + torch.arange(w, device=images.device)).view(n, 1, 1, w)
    out = out.gather(3, cols.expand(-1, c, h, -1))
    return torch.where(flip.view(n, 1, 1, 1), out.flip(3), out)


def to_float(images: torch.Tensor, *, channels_last: bool = False) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1] (optionally in channels_last memory format)."""
    x = images.float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x
