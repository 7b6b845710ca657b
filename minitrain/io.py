"""Safe ``.npz`` files: atomic writes and pickle-free reads.

A write goes to a temporary file in the destination's folder, is flushed and
fsynced, then renamed over the destination with ``os.replace``, which is atomic
on POSIX: a reader (or a crash) sees the old file or the new one, never half of
one. A read uses ``allow_pickle=False``, so a crafted file cannot run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def check_npz_path(name: str, path: str | os.PathLike[str]) -> Path:
    """A destination path must end in ``.npz`` and must not name a folder."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a path ending in '.npz', got {type(path).__name__}")
    p = Path(path)
    if p.suffix != ".npz":
        raise ValueError(f"{name} must end in '.npz', got {str(path)!r}")
    if p.is_dir():
        raise ValueError(f"{name} must name a file, got the existing folder {str(path)!r}")
    return p


def atomic_write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (an ``.npz``) atomically, creating parent folders."""
    p = check_npz_path("path", path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes owner-only files; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException as err:
        # Whatever went wrong (no space, KeyboardInterrupt), the old file stays as it was.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and err.errno is not None and err.filename is None:
            # A failed write or fsync names no file ("No space left on device"): name ours.
            err.filename = str(p)
        raise
    _fsync_dir(p.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without unpickling anything.

    A missing, truncated or non-npz file, or one holding an object array,
    is a ``ValueError`` (``FileNotFoundError`` for a missing file) saying so.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    # np.load takes anything that is not a zip for a .npy or a pickle: check the kind first.
    if not zipfile.is_zipfile(p):
        raise ValueError(f"{str(path)!r} is not a readable .npz file: it is not a zip archive")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(
                f"{str(path)!r} holds an object (pickled) array; minitrain never unpickles, "
                "so the file is refused"
            ) from None
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {err}") from None
    except (OSError, EOFError, zipfile.BadZipFile, MemoryError) as err:
        # MemoryError: a header claiming a huge shape ("Unable to allocate 4.00 TiB").
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {err}") from None
    # A zip member that is not a .npy file comes back as raw bytes.
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise ValueError(
                f"{str(path)!r} is not a readable .npz file: entry {key!r} is not a .npy array"
            )
    return arrays


def json_array(obj: Any) -> np.ndarray:
    """Store a JSON-able object in an npz as a 0-d unicode array (no pickle)."""
    return np.array(json.dumps(obj))


def from_json_array(arr: np.ndarray, what: str) -> Any:
    if arr.dtype.kind != "U" or arr.ndim != 0:
        raise ValueError(f"{what} must be a JSON string, got an array of dtype {arr.dtype}")
    try:
        return json.loads(str(arr))
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from None
    except RecursionError:
        # A crafted "[[[[...]]]]" exhausts the parser's stack: a bad file, not a crash.
        raise ValueError(f"{what} is not valid JSON: nested too deeply") from None
