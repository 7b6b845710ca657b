"""Safe ``.npz`` files: atomic writes and pickle-free reads.

A write goes to a temporary file in the destination's folder, is flushed and
fsynced, then renamed over the destination with ``os.replace``, which is atomic
on POSIX: a reader (or a crash) sees the old file or the new one, never half of
one. A read uses ``allow_pickle=False``, so a crafted file cannot run code, and
checks every header against the bytes behind it first, so a crafted file cannot
make it allocate more than the file holds.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

# Suffixes students bring from Keras and PyTorch, and the format each one names.
_FOREIGN_FORMATS = {
    ".keras": "the Keras .keras format",
    ".h5": "HDF5 (.h5)",
    ".hdf5": "HDF5 (.hdf5)",
    ".pt": "PyTorch's pickled .pt files",
    ".pth": "PyTorch's pickled .pth files",
}


def check_npz_path(name: str, path: str | os.PathLike[str]) -> Path:
    """A destination path must end in ``.npz`` and must not name a folder."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a path ending in '.npz', got {type(path).__name__}")
    p = Path(path)
    if p.suffix != ".npz":
        hint = ""
        if p.suffix in _FOREIGN_FORMATS:
            hint = (
                f": minitrain writes its own .npz files, not {_FOREIGN_FORMATS[p.suffix]}; "
                f"write {str(p.with_suffix('.npz'))!r}"
            )
        raise ValueError(f"{name} must end in '.npz', got {str(path)!r}{hint}")
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


# Deflate expands at most ~1032-fold: a compressed member cannot honestly hold more.
_MAX_DEFLATE_RATIO = 1032


def _check_members(path: str | os.PathLike[str], p: Path) -> None:
    """Read every member's ``.npy`` header (a few hundred bytes) and refuse the file
    before any array is allocated if a header promises more bytes than the member
    can hold, or declares an object dtype.

    ``np.load`` allocates the whole array a header declares before it reads the
    data, so without this a 1 KB file could ask for terabytes. What a member can
    hold is bounded by its size in the archive (times deflate's largest ratio for
    a compressed member), itself bounded by the archive's size.
    """
    archive_size = p.stat().st_size
    with zipfile.ZipFile(p) as z:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                continue
            key = info.filename[: -len(".npy")]
            capacity = info.compress_size
            if info.compress_type != zipfile.ZIP_STORED:
                capacity *= _MAX_DEFLATE_RATIO
            capacity = min(capacity, info.file_size)
            if info.compress_size > archive_size:
                raise ValueError(
                    f"{str(path)!r} is not a readable .npz file: entry {key!r} claims "
                    f"{info.compress_size:,} bytes in an archive of {archive_size:,}"
                )
            with z.open(info) as f:
                try:
                    version = np.lib.format.read_magic(f)
                except ValueError:
                    raise ValueError(
                        f"{str(path)!r} is not a readable .npz file: entry {key!r} is not "
                        "a .npy array"
                    ) from None
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
                header = f.tell()
            if dtype.hasobject:
                raise ValueError(
                    f"{str(path)!r} holds an object (pickled) array; minitrain never "
                    "unpickles, so the file is refused"
                )
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > capacity - header:
                raise ValueError(
                    f"{str(path)!r} is not a readable .npz file: entry {key!r} declares "
                    f"shape {shape} of {dtype} ({nbytes:,} bytes), but holds at most "
                    f"{max(capacity - header, 0):,} bytes"
                )


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without unpickling anything.

    A missing, truncated or non-npz file, one holding an object array, or one
    whose headers promise more data than it holds is a ``ValueError``
    (``FileNotFoundError`` for a missing file) saying so. The headers are read
    first, so the memory used is bounded by what the file really holds.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    # np.load takes anything that is not a zip for a .npy or a pickle: check the kind first.
    if not zipfile.is_zipfile(p):
        raise ValueError(f"{str(path)!r} is not a readable .npz file: it is not a zip archive")
    try:
        _check_members(path, p)
        with np.load(p, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except ValueError as err:
        message = str(err)
        if message.startswith(repr(str(path))):
            raise
        if "pickle" in message.lower():
            raise ValueError(
                f"{str(path)!r} holds an object (pickled) array; minitrain never unpickles, "
                "so the file is refused"
            ) from None
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {err}") from None
    except (OSError, EOFError, zipfile.BadZipFile, MemoryError) as err:
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
