"""Checkpoint files: written atomically, read back with errors that name the file.

A write goes to a temporary file in the target's folder and is renamed over the target with
:func:`os.replace` (atomic on POSIX within one file system), so a run killed at any moment
leaves either the old file or the new one, never half of one.

torch does not check the CRC-32 of the zip records it reads, so a flipped byte inside a
checkpoint can load as another value (a fuzzer finding, docs/reliability-fuzzing.md). Each
checkpoint therefore carries a SHA-256 digest of its contents, recomputed on every read.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from ..errors import InputError

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "atomic_write",
    "save_checkpoint",
    "read_checkpoint",
    "content_digest",
]

CHECKPOINT_FORMAT = "msanalysis-checkpoint/1"


class CheckpointError(InputError):
    """A checkpoint is missing, damaged or not one of ours (exit status 1).

    The message is one line: runs of white space, such as the newlines of torch's
    load_state_dict errors that callers quote, become single spaces.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file through ``write(file)`` so that ``path`` is never seen half-written.

    The data goes to a temporary file in the same folder, is flushed and fsync'ed, then
    renamed over ``path``; on any error the temporary file is removed and ``path`` is as it
    was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it an ordinary file's mode
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, checkpoint: dict[str, Any]) -> None:
    """Save a checkpoint dict atomically, tagged with :data:`CHECKPOINT_FORMAT` and the
    :func:`content_digest` of its contents."""
    body = {"format": CHECKPOINT_FORMAT, **{k: v for k, v in checkpoint.items() if k != "digest"}}
    atomic_write(path, lambda f: torch.save({**body, "digest": content_digest(body)}, f))


def content_digest(value: Any) -> str:
    """SHA-256 of a checkpoint's contents: every tensor's dtype, shape and bytes, every other
    value's repr, in the dicts' own order (what torch.load gives back)."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous().reshape(-1)
        h.update(f"tensor {t.dtype} {tuple(value.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        h.update(f"dict {len(value)};".encode())
        for k, v in value.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__} {len(value)};".encode())
        for v in value:
            _feed(h, v)
    else:
        h.update(f"{type(value).__name__} {value!r};".encode())


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint dict on the CPU (tensors, numbers, strings only: weights_only).

    Raises:
      CheckpointError: the file is missing (or a folder: the message names the best.pt and
        last.pt in it), truncated, damaged, or not an msanalysis checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        inside = [str(path / n) for n in ("best.pt", "last.pt") if (path / n).is_file()]
        hint = f"; did you mean {' or '.join(inside)}?" if inside else ""
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file{hint}")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        EOFError,
        OSError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        IndexError,  # torch's weights-only unpickler on opcodes without operands (fuzzed)
        struct.error,  # ... and on an opcode whose operand bytes are missing (fuzzed)
        TypeError,
        AttributeError,
        OverflowError,
        MemoryError,
        RecursionError,
    ) as err:
        # Only the error's type: torch's text for a bad pickle advises weights_only=False (wrong).
        raise CheckpointError(
            f"{path}: damaged or truncated checkpoint, or not a torch file ({type(err).__name__})"
        ) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not an msanalysis checkpoint (expected format {CHECKPOINT_FORMAT!r})"
        )
    stored = checkpoint.pop("digest", None)
    if stored is None:  # written before checkpoints carried a digest: nothing to compare
        return checkpoint
    if stored != content_digest(checkpoint):
        raise CheckpointError(
            f"{path}: damaged checkpoint: its contents do not match the SHA-256 digest saved "
            "with it"
        )
    return checkpoint
